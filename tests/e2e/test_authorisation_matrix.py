"""Who may call what: every /v1 operation, by every scope, in its own instance and another's.

Each scoped token holds exactly one scope and belongs to instance A. Requests name objects that
do not exist and send empty bodies, so an authorised call ends in a 404 or 422 (or a 200 for a
list) and changes nothing, while a refused one is a 403 before anything is looked up. The table
below is the contract (§8), written out by hand: it is not read from /openapi.json.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from shared.api_tokens import SCOPES
from tests.e2e.deployments import Deployment, embedded

pytestmark = pytest.mark.e2e

ORG = "org-wide token"
ANY = "any token in reach"
NOBODYS = "inst_01nonexistent000000000000"

# (method, path under /v1 with {i} for the instance, what it needs)
OPERATIONS = [
    ("POST", "/instances", ORG),
    ("GET", "/instances", ANY),
    ("GET", "/instances/{i}", ANY),
    ("DELETE", "/instances/{i}", ORG),
    ("GET", "/capabilities", ANY),
    ("GET", "/instances/{i}/channels", "channels:read"),
    ("POST", "/instances/{i}/channels", "channels:write"),
    ("GET", "/instances/{i}/channels/ch_missing", "channels:read"),
    ("PATCH", "/instances/{i}/channels/ch_missing", "channels:write"),
    ("DELETE", "/instances/{i}/channels/ch_missing", "channels:write"),
    ("POST", "/instances/{i}/channels/ch_missing/connect", "channels:write"),
    ("POST", "/instances/{i}/channels/ch_missing/reconnect", "channels:write"),
    ("GET", "/instances/{i}/connections", "connections:read"),
    ("POST", "/instances/{i}/connections", "connections:write"),
    ("GET", "/instances/{i}/connections/conn_missing", "connections:read"),
    ("PUT", "/instances/{i}/connections/conn_missing", "connections:write"),
    ("DELETE", "/instances/{i}/connections/conn_missing", "connections:write"),
    ("POST", "/instances/{i}/connections/conn_missing/validate", "connections:write"),
    ("GET", "/instances/{i}/connections/conn_missing/channels", "connections:read"),
    ("PUT", "/instances/{i}/connections/conn_missing/channels", "connections:write"),
    ("POST", "/instances/{i}/connections/conn_missing/sync", "connections:write"),
    ("GET", "/instances/{i}/events", "events:read"),
    ("GET", "/instances/{i}/events/evt_missing", "events:read"),
    ("POST", "/instances/{i}/events/evt_missing/replay", "events:write"),
    ("GET", "/instances/{i}/dead-letters", "events:read"),
    ("GET", "/instances/{i}/dead-letters/dl_missing", "events:read"),
    # The scope a redrive needs depends on the letter's kind (tests/e2e/test_dead_letters.py).
    ("POST", "/instances/{i}/dead-letters/dl_missing/redrive", ANY),
    ("GET", "/instances/{i}/audit", ANY),
    ("POST", "/tokens", ORG),
    ("GET", "/tokens", ORG),
    ("DELETE", "/tokens/tok_missing", ORG),
]
BODY_METHODS = {"POST", "PUT", "PATCH"}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with embedded(tmp_path_factory.mktemp("matrix")) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def instances(api: httpx.Client) -> tuple[str, str]:
    own = api.post("/v1/instances", json={"name": "A"}).json()["id"]
    other = api.post("/v1/instances", json={"name": "B"}).json()["id"]
    return own, other


@pytest.fixture(scope="module")
def tokens(deployment: Deployment, instances: tuple[str, str]) -> dict[str, str]:
    """One token of instance A per scope, and an org-wide one."""
    own, _ = instances
    made = {
        scope: deployment.cli("tokens", "create", "--instance", own, "--scopes", scope)
        for scope in SCOPES
    }
    return {**{s: t.strip() for s, t in made.items()}, ORG: deployment.org_token()}


def _call(deployment: Deployment, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = b"{}" if method in BODY_METHODS else None
    return httpx.request(method, deployment.base_url + "/v1" + path, headers=headers, content=body)


def _allowed(needs: str, holder: str, where: str) -> bool:
    if holder == ORG:
        return True
    if needs == ORG or where not in ("own", "none"):
        return False  # a scoped token never reaches another instance
    return needs in (ANY, holder)


@pytest.mark.parametrize(("method", "path", "needs"), OPERATIONS, ids=str)
def test_each_token_reaches_exactly_what_its_scope_and_instance_allow(
    deployment: Deployment,
    instances: tuple[str, str],
    tokens: dict[str, str],
    method: str,
    path: str,
    needs: str,
) -> None:
    own, other = instances
    if "{i}" not in path:
        targets = {"none": path}
    elif (method, path) == ("DELETE", "/instances/{i}"):
        # Deleting a real instance would spoil the rest: this names one nobody has.
        targets = {"nobody's": path.replace("{i}", NOBODYS)}
    else:
        targets = {"own": path.replace("{i}", own), "other": path.replace("{i}", other)}
    wrong = []
    for where, url in targets.items():
        assert _call(deployment, method, url, None).status_code == 401
        for holder, token in tokens.items():
            response = _call(deployment, method, url, token)
            refused = response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
            if response.status_code == 401 or refused == _allowed(needs, holder, where):
                wrong.append(f"{holder} on {where}: {response.status_code} {response.text[:150]}")
    assert not wrong, "\n".join(wrong)


def test_a_scoped_token_lists_only_its_own_instance(
    deployment: Deployment, instances: tuple[str, str], tokens: dict[str, str]
) -> None:
    own, _ = instances
    for scope in SCOPES:
        listed = _call(deployment, "GET", "/instances", tokens[scope]).json()["instances"]
        assert [i["id"] for i in listed] == [own]
    everything = _call(deployment, "GET", "/instances", tokens[ORG]).json()["instances"]
    assert set(instances) <= {i["id"] for i in everything}
