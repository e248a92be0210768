"""The dashboard's routes over plain HTTP: sessions, scoping, CSRF, live fragments and charts,
on both deployments (the charts count events in SQL, which differs between the databases)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.conftest import SIGNING_SECRET
from tests.e2e.dashboard_support import csrf_of, http_sign_in
from tests.e2e.deployments import Deployment, eventually
from tests.e2e.seeds import connected_slack_channel
from tests.support import slack as slack_webhooks

pytestmark = pytest.mark.e2e

READ = ["channels:read", "connections:read", "events:read"]


@pytest.fixture(scope="module")
def acme(api: httpx.Client) -> dict[str, Any]:
    """Acme's Slack channel, connected."""
    return connected_slack_channel(api, "Acme")


@pytest.fixture(scope="module")
def globex(api: httpx.Client) -> dict[str, Any]:
    """Globex's Telegram channel, never connected."""
    instance = api.post("/v1/instances", json={"name": "Globex"}).json()["id"]
    response = api.post(f"/v1/instances/{instance}/channels", json={"channel_type": "telegram"})
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel


def _token(api: httpx.Client, **body: Any) -> dict[str, Any]:
    response = api.post("/v1/tokens", json=body)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


@pytest.fixture
def browser(deployment: Deployment) -> Iterator[httpx.Client]:
    """A cookie jar, and redirects left for the tests to see."""
    with httpx.Client(base_url=deployment.base_url, timeout=10) as client:
        yield client


@contextmanager
def _signed_in(deployment: Deployment, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=deployment.base_url, timeout=10) as client:
        response = http_sign_in(client, token)
        assert (response.status_code, response.headers["location"]) == (303, "/"), response.text
        yield client


def _page(acme: dict[str, Any]) -> str:
    return f"/dashboard/instances/{acme['instance_id']}/channels/{acme['id']}"


def _audit(api: httpx.Client, instance_id: str, action: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = api.get(
        f"/v1/instances/{instance_id}/audit", params={"action": action}
    ).json()["entries"]
    return entries


def test_without_a_session_pages_go_to_sign_in_and_fragments_are_401(
    browser: httpx.Client, api: httpx.Client, acme: dict[str, Any]
) -> None:
    assert browser.get("/dashboard/").headers["location"] == "/"
    for path in ("/", _page(acme), "/?status=connected"):
        response = browser.get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/dashboard/login")
    for path in ("/dashboard/live/overview", "/dashboard/live" + _page(acme)[len("/dashboard") :]):
        response = browser.get(path)
        assert response.status_code == 401
        assert response.json() == {"signed_in": False, "login": "/dashboard/login"}
    reconnect = browser.post(_page(acme) + "/reconnect", data={"csrf": "anything"})
    assert (reconnect.status_code, reconnect.headers["location"]) == (303, "/dashboard/login")
    assert _audit(api, acme["instance_id"], "channel.reconnect") == []


def test_the_session_cookie_is_signed_http_only_and_never_holds_the_token(
    deployment: Deployment, api: httpx.Client, browser: httpx.Client
) -> None:
    token = deployment.org_token()
    response = http_sign_in(browser, token)
    cookie = response.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    value = browser.cookies["switchboard_session"]
    payload = base64.b64decode(value.split(".")[0] + "==").decode()
    assert token not in value and token not in payload
    assert token.split(".")[0][3:] not in payload  # not even the token's signed part
    page = browser.get("/")
    assert page.status_code == 200 and token not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    # A cookie edited by hand fails its signature: back to the sign-in form.
    browser.cookies.set("switchboard_session", "x" + value[1:])
    assert browser.get("/").status_code == 303
    # Webhooks and the API never get a cookie.
    assert "set-cookie" not in api.get("/v1/instances").headers
    assert "set-cookie" not in httpx.get(deployment.base_url + "/healthz").headers


def test_a_bad_token_is_refused_with_a_clear_message(browser: httpx.Client) -> None:
    for token in ("sb_not-a-token", "", "Bearer nothing"):
        response = http_sign_in(browser, token)
        assert response.status_code in (400, 401)
        assert re.search(
            r'role="alert">(That token was not accepted|Enter an API token)', response.text
        )
    assert browser.get("/").status_code == 303


def test_a_scoped_token_sees_only_its_instance(
    deployment: Deployment, api: httpx.Client, acme: dict[str, Any], globex: dict[str, Any]
) -> None:
    scoped = _token(api, instance_id=globex["instance_id"], scopes=READ)["token"]
    with _signed_in(deployment, scoped) as client:
        overview = client.get("/")
        assert "Globex" in overview.text and globex["id"] in overview.text
        assert "Acme" not in overview.text and acme["id"] not in overview.text
        regions = client.get("/dashboard/live/overview").json()["regions"]
        assert list(regions) == [f"instance-{globex['instance_id']}"]
        # Asking for the other instance by name shows nothing, not an error.
        filtered = client.get("/", params={"instance": acme["instance_id"]})
        assert filtered.status_code == 200 and acme["id"] not in filtered.text
        assert client.get(_page(acme)).status_code == 404
        live = "/dashboard/live" + _page(acme)[len("/dashboard") :]
        assert client.get(live).status_code == 404
        assert client.get(_page(globex)).status_code == 200


def test_forms_without_this_sessions_csrf_token_are_refused(
    deployment: Deployment, api: httpx.Client, acme: dict[str, Any]
) -> None:
    token = deployment.org_token()
    sync = f"/dashboard/instances/{acme['instance_id']}/connections/{acme['connection_id']}/sync"
    with _signed_in(deployment, token) as client, _signed_in(deployment, token) as other:
        theirs = csrf_of(other.get("/").text)
        for data in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": theirs}):
            refused = client.post(sync, data={**data, "back": "/"})
            assert refused.status_code == 403, data
        assert client.post("/dashboard/logout").status_code == 403
        assert _audit(api, acme["instance_id"], "connection.sync") == []

        ours = csrf_of(client.get(_page(acme)).text)
        done = client.post(sync, data={"csrf": ours, "back": "https://evil.example/"})
        assert (done.status_code, done.headers["location"]) == (303, "/")  # never off-site
        assert "Sync queued" in client.get("/").text
        assert len(_audit(api, acme["instance_id"], "connection.sync")) == 1
        assert client.get("/").status_code == 200  # still signed in


def test_actions_need_the_write_scope_and_the_page_offers_none_without_it(
    deployment: Deployment, api: httpx.Client, acme: dict[str, Any]
) -> None:
    reader = _token(api, instance_id=acme["instance_id"], scopes=READ)["token"]
    with _signed_in(deployment, reader) as client:
        page = client.get(_page(acme))
        assert "Reconnect" not in page.text and "Sync connection" not in page.text
        response = client.post(_page(acme) + "/reconnect", data={"csrf": csrf_of(page.text)})
        assert response.status_code == 303
        assert "lacks the channels:write scope" in client.get(response.headers["location"]).text
    assert _audit(api, acme["instance_id"], "channel.reconnect") == []


def test_reconnect_runs_the_apis_reconnect(
    deployment: Deployment, api: httpx.Client, acme: dict[str, Any]
) -> None:
    with _signed_in(deployment, deployment.org_token()) as client:
        csrf = csrf_of(client.get(_page(acme)).text)
        response = client.post(_page(acme) + "/reconnect", data={"csrf": csrf})
        assert (response.status_code, response.headers["location"]) == (303, _page(acme))
        assert "Slack workspace Acme connected" in client.get(_page(acme)).text
    assert len(_audit(api, acme["instance_id"], "channel.reconnect")) == 1


def test_revoking_the_token_ends_the_session(deployment: Deployment, api: httpx.Client) -> None:
    issued = _token(api, scopes=READ)
    with _signed_in(deployment, issued["token"]) as client:
        assert client.get("/").status_code == 200
        assert api.delete(f"/v1/tokens/{issued['id']}").status_code == 204
        assert client.get("/dashboard/live/overview").status_code == 401
        assert client.get("/").headers["location"] == "/dashboard/login"
        assert "Your session has ended" in client.get("/dashboard/login").text


def test_the_channel_page_shows_its_webhook_url_and_counts_its_events(
    deployment: Deployment, acme: dict[str, Any]
) -> None:
    for n in range(3):
        body = slack_webhooks.event_callback(f"EvDash{n}", slack_webhooks.message())
        headers = slack_webhooks.sign(SIGNING_SECRET, body)
        url = f"{deployment.base_url}/webhooks/slack/{acme['id']}"
        assert httpx.post(url, content=body, headers=headers).status_code == 200
    with _signed_in(deployment, deployment.org_token()) as client:
        page = client.get(_page(acme)).text
        assert f'value="{acme["webhook_url"]}"' in page
        assert "Event Subscriptions" in page  # where to paste it
        live = "/dashboard/live" + _page(acme)[len("/dashboard") :]

        def activity() -> str:
            region: str = client.get(live).json()["regions"]["channel-activity"]
            return region

        shown = eventually(activity, lambda html: html.count("processed") >= 3)
        assert "3 events, peak 3/min" in shown
        assert shown.count("slack.event_callback.message") == 3
        overview = client.get("/").text
        assert "3 events, peak 3/min" in overview  # the instance's chart
