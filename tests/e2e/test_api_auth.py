"""Tokens, scopes and problem+json errors of the /v1 API, through a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.deployments import Deployment, embedded
from tests.fakes.slack_api import FakeSlackAPI

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, fake_slack: FakeSlackAPI
) -> Iterator[Deployment]:
    with embedded(tmp_path_factory.mktemp("auth"), SLACK_API_URL=fake_slack.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def org_token(deployment: Deployment) -> str:
    return deployment.org_token()


@pytest.fixture(scope="module")
def two_instances(deployment: Deployment, org_token: str) -> tuple[str, str]:
    with deployment.client(org_token) as api:
        return api.post("/v1/instances", json={"name": "A"}).json()["id"], api.post(
            "/v1/instances", json={"name": "B"}
        ).json()["id"]


def _problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope"},
        {"X-Api-Key": "sb_forged.sig"},
        {"Authorization": "Basic abc"},
    ],
)
def test_missing_or_invalid_token_is_401(deployment: Deployment, headers: dict[str, str]) -> None:
    _problem(httpx.get(deployment.base_url + "/v1/instances", headers=headers), 401, "UNAUTHORIZED")


def test_instances_are_listed_by_page_and_found_by_name(
    deployment: Deployment, org_token: str, two_instances: tuple[str, str]
) -> None:
    with deployment.client(org_token) as api:
        seen, cursor = [], None
        while True:
            page = api.get(
                "/v1/instances", params={"limit": 1, **({"cursor": cursor} if cursor else {})}
            ).json()
            assert page["count"] == len(page["instances"]) == 1
            seen.append(page["instances"][0]["id"])
            if (cursor := page["next_cursor"]) is None:
                break
        assert len(seen) == len(set(seen))
        assert [i for i in seen if i in two_instances] == list(two_instances)
        named = api.get("/v1/instances", params={"name": "B"}).json()["instances"]
        assert [i["id"] for i in named] == [two_instances[1]]
        refused = api.get("/v1/instances", params={"limit": 0, "colour": "red"})
        assert refused.status_code == 422
        assert {tuple(e["loc"]) for e in refused.json()["errors"]} == {
            ("query", "limit"),
            ("query", "colour"),
        }


def test_x_api_key_works_like_bearer(deployment: Deployment, org_token: str) -> None:
    response = httpx.get(deployment.base_url + "/v1/instances", headers={"X-Api-Key": org_token})
    assert response.status_code == 200


def test_scoped_token_sees_only_its_instance(
    deployment: Deployment, two_instances: tuple[str, str]
) -> None:
    own, other = two_instances
    token = deployment.cli(
        "tokens", "create", "--instance", own, "--scopes", "channels:read"
    ).strip()
    with deployment.client(token) as api:
        assert [i["id"] for i in api.get("/v1/instances").json()["instances"]] == [own]
        assert api.get(f"/v1/instances/{own}/channels").status_code == 200
        _problem(api.get(f"/v1/instances/{other}/channels"), 403, "FORBIDDEN")
        _problem(api.get(f"/v1/instances/{other}"), 403, "FORBIDDEN")
        _problem(
            api.post(f"/v1/instances/{own}/channels", json={"channel_type": "slack"}),
            403,
            "FORBIDDEN",
        )
        _problem(api.post("/v1/instances", json={"name": "mine"}), 403, "FORBIDDEN")


def test_revoked_and_expired_tokens_are_401(deployment: Deployment) -> None:
    token = deployment.cli("tokens", "create").strip()
    newest = deployment.sql("SELECT id FROM api_tokens ORDER BY created_at DESC LIMIT 1")[0][0]
    with deployment.client(token) as api:
        assert api.get("/v1/instances").status_code == 200
        deployment.cli("tokens", "revoke", newest)
        _problem(api.get("/v1/instances"), 401, "UNAUTHORIZED")
    expiring = deployment.cli("tokens", "create", "--expires-in", "1").strip()
    with deployment.client(expiring) as api:
        assert api.get("/v1/instances").status_code == 200
        time.sleep(1.1)
        _problem(api.get("/v1/instances"), 401, "UNAUTHORIZED")


def test_tokens_are_stored_hashed(deployment: Deployment, org_token: str) -> None:
    dump = str(deployment.sql("SELECT * FROM api_tokens"))
    assert org_token not in dump and org_token.split(".")[0] not in dump


def test_validation_errors_list_each_problem(
    deployment: Deployment, org_token: str, two_instances: tuple[str, str]
) -> None:
    with deployment.client(org_token) as api:
        response = api.post(
            f"/v1/instances/{two_instances[0]}/channels", json={"channel_type": "fax", "extra": 1}
        )
        _problem(response, 422, "VALIDATION_ERROR")
        locs = {tuple(e["loc"]) for e in response.json()["errors"]}
        assert locs == {("channel_type",), ("extra",)}
        _problem(api.post("/v1/instances", content=b"{broken"), 422, "VALIDATION_ERROR")
        before = api.get("/v1/instances").json()["count"]
        for unstorable in (b'{"name": "a\\u0000b"}', b'{"name": "a\\ud800b"}'):
            _problem(api.post("/v1/instances", content=unstorable), 422, "VALIDATION_ERROR")
        assert api.get("/v1/instances").json()["count"] == before
        _problem(
            api.post(
                f"/v1/instances/{two_instances[0]}/channels",
                json={"channel_type": "sms", "provider": "slack"},
            ),
            422,
            "INVALID_CHANNEL",
        )
        _problem(
            api.get(f"/v1/instances/{two_instances[0]}/channels/ch_missing"),
            404,
            "CHANNEL_NOT_FOUND",
        )
        _problem(
            api.get(f"/v1/instances/{two_instances[0]}/channels?status=bogus"),
            422,
            "VALIDATION_ERROR",
        )
        _problem(api.get("/v1/nothing-here"), 404, "NOT_FOUND")


def test_connect_with_missing_credentials_is_a_validation_error(
    deployment: Deployment, org_token: str, two_instances: tuple[str, str]
) -> None:
    with deployment.client(org_token) as api:
        response = api.post(
            f"/v1/instances/{two_instances[1]}/channels/slack/connect",
            json={"config": {"bot_token": "xoxb-x"}},
        )
        _problem(response, 422, "VALIDATION_ERROR")
        assert api.get(f"/v1/instances/{two_instances[1]}/channels").json()["count"] == 0


def test_channel_list_filters_and_paginates(
    deployment: Deployment, org_token: str, two_instances: tuple[str, str]
) -> None:
    instance = two_instances[1]
    with deployment.client(org_token) as api:
        for kind in ("sms", "voice", "telegram", "sms"):
            assert (
                api.post(
                    f"/v1/instances/{instance}/channels", json={"channel_type": kind}
                ).status_code
                == 201
            )
        sms = api.get(f"/v1/instances/{instance}/channels", params={"channel_type": "sms"}).json()
        assert sms["count"] == 2 and {c["provider"] for c in sms["channels"]} == {"twilio"}
        seen, cursor = [], None
        while True:
            params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
            page = api.get(f"/v1/instances/{instance}/channels", params=params).json()
            seen += [c["id"] for c in page["channels"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 4
        _problem(
            api.post(f"/v1/instances/{instance}/channels/sms/connect", json={"config": {}}),
            409,
            "AMBIGUOUS_CHANNEL",
        )


def test_healthz(deployment: Deployment) -> None:
    assert httpx.get(deployment.base_url + "/healthz").json() == {"status": "ok"}
    metrics = httpx.get(deployment.base_url + "/metrics").text
    assert "switchboard_webhooks_total" in metrics


def test_capabilities_are_listed_per_channel_type_as_channels_carry_them(
    deployment: Deployment, org_token: str, two_instances: tuple[str, str]
) -> None:
    with deployment.client(org_token) as api:
        capabilities = api.get("/v1/capabilities").json()
        assert set(capabilities) == {"whatsapp", "sms", "voice", "slack", "discord", "telegram"}
        assert capabilities["discord"]["maxMessageLength"] == 2000
        assert capabilities["sms"]["threads"] is False
        made = api.post(
            f"/v1/instances/{two_instances[0]}/channels", json={"channel_type": "telegram"}
        ).json()
        assert made["capabilities"] == capabilities["telegram"]
    assert httpx.get(deployment.base_url + "/v1/capabilities").status_code == 401
