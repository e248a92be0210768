"""Tokens issued and revoked through the API by org-wide tokens; the audit trail of an instance."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.deployments import Deployment, deployed

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    cwd: Path = tmp_path_factory.mktemp("tokens")
    with deployed("embedded", request, cwd) as deployment:
        yield deployment


@pytest.fixture
def instance(api: httpx.Client) -> str:
    instance_id: str = api.post("/v1/instances", json={"name": "Tokens"}).json()["id"]
    return instance_id


def _issue(api: httpx.Client, **body: Any) -> httpx.Response:
    return api.post("/v1/tokens", json=body)


def test_a_scoped_token_reaches_its_instance_and_scopes_only(
    api: httpx.Client, instance: str, deployment: Deployment
) -> None:
    other = api.post("/v1/instances", json={"name": "Other"}).json()["id"]
    issued = _issue(api, instance_id=instance, scopes=["channels:read"], expires_in=3600)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["instance_id"] == instance and body["scopes"] == ["channels:read"]
    assert body["expires_at"] and body["revoked_at"] is None
    with deployment.client(body["token"]) as scoped:
        assert scoped.get(f"/v1/instances/{instance}/channels").status_code == 200
        assert scoped.get(f"/v1/instances/{other}/channels").status_code == 403
        created = scoped.post(f"/v1/instances/{instance}/channels", json={"channel_type": "sms"})
        assert created.status_code == 403
        assert scoped.get("/v1/tokens").status_code == 403  # org-wide tokens only
        assert _issue(scoped, scopes=["channels:read"]).status_code == 403

    listed = api.get("/v1/tokens", params={"instance_id": instance}).json()
    assert [t["id"] for t in listed["tokens"]] == [body["id"]]
    assert body["token"] not in str(listed) and "token_hash" not in str(listed)

    assert api.delete(f"/v1/tokens/{body['id']}").status_code == 204
    with deployment.client(body["token"]) as revoked:
        assert revoked.get(f"/v1/instances/{instance}/channels").status_code == 401
    again = api.delete(f"/v1/tokens/{body['id']}")
    assert (again.status_code, again.json()["code"]) == (409, "TOKEN_REVOKED")
    assert api.delete("/v1/tokens/tok_nope").status_code == 404
    shown = api.get("/v1/tokens", params={"instance_id": instance}).json()["tokens"][0]
    assert shown["revoked_at"] is not None


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"scopes": ["channels:admin"]}, ["scopes", 0]),
        ({"scopes": []}, ["scopes"]),
        ({"scopes": ["events:read"], "expires_in": 5}, ["expires_in"]),
        ({"scopes": ["events:read"], "owner": "me"}, ["owner"]),
    ],
)
def test_a_bad_token_request_is_refused_and_issues_nothing(
    api: httpx.Client, body: dict[str, Any], loc: list[Any]
) -> None:
    before = api.get("/v1/tokens", params={"limit": "200"}).json()["count"]
    refused = _issue(api, **body)
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["loc"] == loc
    assert api.get("/v1/tokens", params={"limit": "200"}).json()["count"] == before


def test_a_token_for_a_missing_instance_is_refused(api: httpx.Client) -> None:
    refused = _issue(api, instance_id="inst_nope", scopes=["events:read"])
    assert (refused.status_code, refused.json()["code"]) == (404, "INSTANCE_NOT_FOUND")


def test_the_audit_trail_names_the_acting_token(
    api: httpx.Client, instance: str, deployment: Deployment
) -> None:
    issued = _issue(api, instance_id=instance, scopes=["channels:write", "channels:read"]).json()
    with deployment.client(issued["token"]) as writer:
        created = writer.post(f"/v1/instances/{instance}/channels", json={"channel_type": "sms"})
        assert created.status_code == 201, created.text
        trail = writer.get(f"/v1/instances/{instance}/audit").json()
    actions = [(e["action"], e["token_id"]) for e in trail["entries"]]
    assert ("token.create", None) not in actions  # issued by the org token, which is named
    assert ("channel.create", issued["id"]) in actions
    token_entry = next(e for e in trail["entries"] if e["action"] == "token.create")
    assert token_entry["token_id"] is not None and token_entry["target_id"] == issued["id"]
    assert issued["token"] not in str(trail)
    only = api.get(f"/v1/instances/{instance}/audit", params={"action": "channel.create"}).json()
    assert [e["action"] for e in only["entries"]] == ["channel.create"]
    other = api.post("/v1/instances", json={"name": "Elsewhere"}).json()["id"]
    with deployment.client(issued["token"]) as writer:
        assert writer.get(f"/v1/instances/{other}/audit").status_code == 403
    assert httpx.get(f"{deployment.base_url}/v1/instances/{instance}/audit").status_code == 401
