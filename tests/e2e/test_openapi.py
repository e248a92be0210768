"""/openapi.json: it lists the whole contract, and a running server keeps every promise in it.

schemathesis generates requests from the document (valid and invalid ones) against a real
`web` + `worker` deployment on PostgreSQL and Redis, seeded with an instance, a connected
channel and its events, and checks that no answer is a 5xx and every answer matches its schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.e2e.deployments import Deployment, deployed, eventually
from tests.e2e.seeds import connected_slack_channel, send_slack_event
from tests.fakes.discord_api import FakeDiscordAPI
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.fakes.whapi_api import FakeWhapiAPI

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

# Contract §8, as users and scripts rely on it.
CONTRACT = {
    ("POST", "/v1/instances"),
    ("GET", "/v1/instances"),
    ("GET", "/v1/instances/{instance_id}"),
    ("DELETE", "/v1/instances/{instance_id}"),
    ("GET", "/v1/instances/{instance_id}/channels"),
    ("POST", "/v1/instances/{instance_id}/channels"),
    ("GET", "/v1/instances/{instance_id}/channels/{channel_id}"),
    ("PATCH", "/v1/instances/{instance_id}/channels/{channel_id}"),
    ("DELETE", "/v1/instances/{instance_id}/channels/{channel_id}"),
    ("POST", "/v1/instances/{instance_id}/channels/{channel}/connect"),
    ("POST", "/v1/instances/{instance_id}/channels/{channel}/reconnect"),
    ("GET", "/v1/capabilities"),
    ("GET", "/v1/instances/{instance_id}/connections"),
    ("POST", "/v1/instances/{instance_id}/connections"),
    ("GET", "/v1/instances/{instance_id}/connections/{connection_id}"),
    ("PUT", "/v1/instances/{instance_id}/connections/{connection_id}"),
    ("DELETE", "/v1/instances/{instance_id}/connections/{connection_id}"),
    ("POST", "/v1/instances/{instance_id}/connections/{connection_id}/validate"),
    ("GET", "/v1/instances/{instance_id}/connections/{connection_id}/channels"),
    ("PUT", "/v1/instances/{instance_id}/connections/{connection_id}/channels"),
    ("POST", "/v1/instances/{instance_id}/connections/{connection_id}/sync"),
    ("GET", "/v1/instances/{instance_id}/events"),
    ("GET", "/v1/instances/{instance_id}/events/{event_id}"),
    ("POST", "/v1/instances/{instance_id}/events/{event_id}/replay"),
    ("POST", "/v1/tokens"),
    ("GET", "/v1/tokens"),
    ("DELETE", "/v1/tokens/{token_id}"),
    ("GET", "/v1/instances/{instance_id}/audit"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
}


@pytest.fixture(scope="module")
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with ExitStack() as fakes:
        slack_api = fakes.enter_context(FakeSlackAPI())
        slack_api.add_workspace(GOOD_BOT_TOKEN, team_id="T0001", team="Acme")
        urls = {
            "SLACK_API_URL": slack_api.url,
            "DISCORD_API_URL": fakes.enter_context(FakeDiscordAPI()).url,
            "TELEGRAM_API_URL": fakes.enter_context(FakeTelegramAPI()).url,
            "TWILIO_API_URL": fakes.enter_context(FakeTwilioAPI()).url,
            "WHAPI_GATE_URL": fakes.enter_context(FakeWhapiAPI()).url,
        }
        cwd = tmp_path_factory.mktemp("openapi")
        with deployed("distributed", request, cwd, **urls) as deployment:
            yield deployment


@pytest.fixture(scope="module")
def seeded(api: httpx.Client) -> dict[str, str]:
    """Ids for every path parameter: one set to read and change, one to delete."""
    channel = connected_slack_channel(api, "Fuzzed")
    instance = channel["instance_id"]
    send_slack_event(channel, "EvFUZZ1")
    spare = api.post("/v1/instances", json={"name": "Deleted by the fuzzer"}).json()["id"]
    config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
    events = eventually(
        lambda: api.get(f"/v1/instances/{instance}/events").json()["events"],
        lambda found: bool(found),
    )
    # Deletions get their own targets, each in an instance the fuzzer does not otherwise touch.
    doomed = api.post("/v1/instances", json={"name": "Doomed parts"}).json()["id"]
    doomed_channel = api.post(
        f"/v1/instances/{doomed}/channels", json={"channel_type": "telegram"}
    ).json()["id"]
    doomed_connection = api.post(
        f"/v1/instances/{doomed}/connections",
        json={"platform": "slack", "credentials": config},
    ).json()["id"]
    doomed_token = api.post("/v1/tokens", json={"scopes": ["channels:read"]}).json()["id"]
    return {
        "instance_id": instance,
        "channel_id": channel["id"],
        "channel": channel["id"],
        "connection_id": channel["connection_id"],
        "event_id": events[0]["id"],
        "spare_instance_id": spare,
        "doomed_instance_id": doomed,
        "doomed_channel_id": doomed_channel,
        "doomed_connection_id": doomed_connection,
        "doomed_token_id": doomed_token,
    }


def test_the_document_lists_every_endpoint_of_the_contract(deployment: Deployment) -> None:
    document = httpx.get(deployment.base_url + "/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    listed = {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}
    assert CONTRACT <= listed, sorted(CONTRACT - listed)
    listing = document["paths"]["/v1/instances/{instance_id}/channels"]["get"]
    filters = {p["name"] for p in listing["parameters"] if p["in"] == "query"}
    assert filters == {"status", "channel_type", "provider", "limit", "cursor"}


def test_credentials_are_write_only_in_the_document(deployment: Deployment) -> None:
    schemas = httpx.get(deployment.base_url + "/openapi.json").json()["components"]["schemas"]
    assert "credentials" in schemas["ConnectionIn"]["properties"]
    assert "credentials" not in schemas["ConnectionOut"]["properties"]
    assert "token" not in schemas["TokenOut"]["properties"]


def _config(seeded: dict[str, str], token: str) -> str:
    """schemathesis.toml: the seeded ids, doomed ones for deletions, the org token."""
    fixed = ("instance_id", "channel_id", "channel", "connection_id", "event_id")
    lines = [f'headers = {{ Authorization = "Bearer {token}" }}', "[parameters]"]
    lines += [f'"path.{name}" = "{seeded[name]}"' for name in fixed]
    doomed = {
        "DELETE /v1/instances/{instance_id}": {"instance_id": seeded["spare_instance_id"]},
        "DELETE /v1/instances/{instance_id}/channels/{channel_id}": {
            "instance_id": seeded["doomed_instance_id"],
            "channel_id": seeded["doomed_channel_id"],
        },
        "DELETE /v1/instances/{instance_id}/connections/{connection_id}": {
            "instance_id": seeded["doomed_instance_id"],
            "connection_id": seeded["doomed_connection_id"],
        },
        "DELETE /v1/tokens/{token_id}": {"token_id": seeded["doomed_token_id"]},
    }
    for operation, ids in doomed.items():
        values = ", ".join(f'"path.{name}" = "{value}"' for name, value in ids.items())
        lines += ["[[operations]]", f'include-name = "{operation}"', f"parameters = {{ {values} }}"]
    # Whapi credentials may name their own gate (`api_url`); a made-up one is unreachable,
    # which is the documented 502 NETWORK_ERROR. Every provider the server is configured with
    # is a fake that answers, so nothing else may give a 5xx.
    gates = ["2XX", "3XX", "4XX", 502]
    for operation in (
        "POST /v1/instances/{instance_id}/channels/{channel}/connect",
        "POST /v1/instances/{instance_id}/connections",
        "PUT /v1/instances/{instance_id}/connections/{connection_id}",
    ):
        lines += [
            "[[operations]]",
            f'include-name = "{operation}"',
            f"checks = {{ not_a_server_error = {{ expected-statuses = {gates!r} }} }}",
        ]
    return "\n".join(lines) + "\n"


def test_schemathesis_finds_no_server_error_and_no_answer_off_schema(
    deployment: Deployment, seeded: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(seeded, deployment.org_token()))
    checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
    ]
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        deployment.base_url + "/openapi.json",
        "--checks",
        ",".join(checks),
        "--exclude-path-regex",
        "^/webhooks/",  # signed by providers: the webhook tests cover them
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"),
        "--seed",
        "1",
        "--workers",
        "2",
        "--no-color",
        "--generation-database",
        "none",
        *os.environ.get("SCHEMATHESIS_EXTRA", "").split(),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
