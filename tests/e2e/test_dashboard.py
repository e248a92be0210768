"""The dashboard in a real headless Chromium: sign in, watch a Whapi channel pair without a
reload, a scoped token's view, a refused token, signing out, and a revoked token's session."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e import dashboard_support as support
from tests.e2e.deployments import Deployment, embedded
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.support.services import services_required

pytestmark = pytest.mark.e2e

WHAPI_TOKEN = "whapi-dashboard-token-0001"
WHAPI_CHANNEL = "DASHBOARD-P41R"
LIVE = support.LIVE_TIMEOUT_MS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with ExitStack() as stack:
        try:
            launched = stack.enter_context(support.chromium())
        except (FileNotFoundError, ImportError) as exc:
            message = f"the dashboard's browser tests need Chromium and Playwright ({exc})"
            if services_required():  # as for PostgreSQL and Redis: CI never passes by skipping
                pytest.fail(
                    f"{message}; CI=true/REQUIRE_SERVICES=1 forbids skipping", pytrace=False
                )
            pytest.skip(f"SKIPPED LOUDLY: {message}")
        yield launched


@pytest.fixture(scope="module")
def fake_whapi() -> Iterator[FakeWhapiAPI]:
    with FakeWhapiAPI() as fake:
        fake.add_channel(WHAPI_TOKEN, channel_id=WHAPI_CHANNEL)
        yield fake


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, fake_whapi: FakeWhapiAPI
) -> Iterator[Deployment]:
    # The browser sees the same pages on either deployment; test_dashboard_routes covers both.
    cwd: Path = tmp_path_factory.mktemp("dashboard-browser")
    with embedded(cwd, WHAPI_GATE_URL=fake_whapi.url) as deployment:
        yield deployment


@pytest.fixture(scope="module")
def org_token(deployment: Deployment) -> str:
    return deployment.org_token()


@pytest.fixture(scope="module")
def whatsapp(api: httpx.Client) -> dict[str, Any]:
    """Acme's WhatsApp channel, connected and waiting for its QR code to be scanned."""
    instance = api.post("/v1/instances", json={"name": "Acme"}).json()["id"]
    url = f"/v1/instances/{instance}/channels/whatsapp/connect"
    response = api.post(url, json={"config": {"token": WHAPI_TOKEN}})
    assert response.status_code == 200, response.text
    channel: dict[str, Any] = response.json()["channel"]
    assert channel["status"] == "awaiting_scan"
    return channel


@pytest.fixture(scope="module")
def slack(api: httpx.Client) -> dict[str, Any]:
    """Globex's Slack channel, never connected."""
    instance = api.post("/v1/instances", json={"name": "Globex"}).json()["id"]
    response = api.post(f"/v1/instances/{instance}/channels", json={"channel_type": "slack"})
    assert response.status_code == 201, response.text
    channel: dict[str, Any] = response.json()
    return channel


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in(page: Any, deployment: Deployment, token: str) -> None:
    page.goto(deployment.base_url + "/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_a_whapi_channel_goes_from_its_qr_code_to_connected_without_a_reload(
    page: Any,
    deployment: Deployment,
    api: httpx.Client,
    org_token: str,
    whatsapp: dict[str, Any],
    fake_whapi: FakeWhapiAPI,
) -> None:
    from playwright.sync_api import expect

    page.goto(deployment.base_url + "/")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    page.get_by_label("API token").fill(org_token)
    page.get_by_role("button", name="Sign in").click()
    row = page.locator(f'tr[data-channel-id="{whatsapp["id"]}"]')
    expect(row.locator(".badge")).to_have_text("Awaiting scan")
    row.get_by_role("link", name="WhatsApp").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("WhatsApp channel")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.get_by_role("textbox", name="Webhook URL")).to_have_value(whatsapp["webhook_url"])
    code = page.locator("figure.qr")
    first_code = code.get_attribute("data-qr-version")
    page.evaluate("window.stillTheSamePage = true")

    token = support.webhook_token(fake_whapi, WHAPI_TOKEN, whatsapp)
    support.first_sync_done(api, whatsapp)
    support.send_whapi(deployment, whatsapp, WHAPI_CHANNEL, token, support.new_qr("2@fresh-code"))
    expect(code).not_to_have_attribute("data-qr-version", first_code or "", timeout=LIVE)
    expect(page.locator(".qr-drawn svg")).to_be_visible()  # drawn from the code's text

    support.send_whapi(deployment, whatsapp, WHAPI_CHANNEL, token, support.user_logged_in())
    summary = page.locator("#channel-summary")
    expect(summary.locator(".badge")).to_have_text("Connected", timeout=LIVE)
    expect(page.locator("figure.qr")).to_have_count(0)
    expect(page.locator("#channel-pairing")).to_contain_text("A phone is linked")
    activity = page.locator("#channel-activity")
    expect(activity).to_contain_text("whapi.users.post", timeout=LIVE)
    expect(activity).to_contain_text("whapi.channel.patch")
    expect(summary.locator("time").first).to_have_text(re.compile(r"^\d+ s ago$"))
    assert page.evaluate("window.stillTheSamePage") is True, "the page reloaded"

    page.get_by_role("link", name="Acme").click()
    expect(row.locator(".badge")).to_have_text("Connected")


def test_a_scoped_token_sees_only_its_instance_even_at_phone_width(
    browser: Any,
    deployment: Deployment,
    api: httpx.Client,
    whatsapp: dict[str, Any],
    slack: dict[str, Any],
) -> None:
    from playwright.sync_api import expect

    scopes = ["channels:read", "connections:read", "events:read"]
    issued = api.post("/v1/tokens", json={"instance_id": slack["instance_id"], "scopes": scopes})
    assert issued.status_code == 201, issued.text
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        _sign_in(page, deployment, issued.json()["token"])
        expect(page.get_by_role("heading", level=2)).to_have_text(re.compile("^Globex"))
        expect(page.locator(f'tr[data-channel-id="{slack["id"]}"]')).to_be_visible()
        expect(page.locator(f'tr[data-channel-id="{whatsapp["id"]}"]')).to_have_count(0)
        expect(page.get_by_text("Acme")).to_have_count(0)
        fits = "document.documentElement.scrollWidth <= window.innerWidth"
        assert page.evaluate(fits), "the overview scrolls sideways at phone width"

        other = f"/dashboard/instances/{whatsapp['instance_id']}/channels/{whatsapp['id']}"
        response = page.goto(deployment.base_url + other)
        assert response is not None and response.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    finally:
        context.close()


def test_a_bad_token_is_refused_clearly_and_signing_out_ends_the_session(
    page: Any, deployment: Deployment, org_token: str
) -> None:
    from playwright.sync_api import expect

    _sign_in(page, deployment, "sb_not-a-real-token")
    expect(page.get_by_role("alert")).to_contain_text("That token was not accepted")
    expect(page.get_by_label("API token")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("API token").fill(org_token)
    page.keyboard.press("Enter")  # the form works from the keyboard alone
    expect(page.get_by_role("heading", name="Channels", level=1)).to_be_visible()
    cookies = page.context.cookies()
    assert [c["httpOnly"] for c in cookies] == [True]
    assert org_token not in cookies[0]["value"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out")
    page.goto(deployment.base_url + "/")
    expect(page).to_have_url(re.compile(r"/dashboard/login$"))


def test_revoking_the_token_signs_an_open_page_out(
    page: Any, deployment: Deployment, api: httpx.Client
) -> None:
    from playwright.sync_api import expect

    issued = api.post("/v1/tokens", json={"scopes": ["channels:read"]}).json()
    _sign_in(page, deployment, issued["token"])
    expect(page.get_by_role("heading", name="Channels", level=1)).to_be_visible()
    assert api.delete(f"/v1/tokens/{issued['id']}").status_code == 204
    # The next live update finds the token revoked and the page goes to the sign-in form.
    expect(page).to_have_url(re.compile(r"/dashboard/login$"), timeout=LIVE)
    expect(page.get_by_role("status")).to_contain_text("Your session has ended")
