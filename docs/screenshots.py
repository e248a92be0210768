"""Screenshots of the dashboard for the README, taken from a real deployment.

Run from the repository root (it starts `switchboard serve` with fake providers, fills it
with a few channels and webhooks, and drives a headless Chromium):

    .venv/bin/python -m docs.screenshots

It writes docs/dashboard-overview.png, docs/dashboard-channel-qr.png and docs/dashboard-phone.png.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert

from shared.ids import new_id
from shared.models import Event, utcnow
from tests.e2e import dashboard_support as support
from tests.e2e.deployments import Deployment, embedded, eventually
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.whapi_api import FakeWhapiAPI
from tests.support import slack as slack_webhooks

DOCS = Path(__file__).resolve().parent
SLACK_TOKEN, SLACK_SECRET = "xoxb-1111-docs-bot-token", "8f742231b10e8888abcd99yyyzzz85a5-docs"
TELEGRAM_TOKEN = "7000001:AAH-docs_telegram-bot-token"
WHAPI_ACME, WHAPI_GLOBEX = "whapi-docs-acme", "whapi-docs-globex"
# What Whapi's QR codes hold: WhatsApp's pairing reference, keys and a device id.
PAIRING = (
    "2@Xk8zQvN4w1L0pR7sYtU3bJ6mC9dF2hG5aE8iK1oP4qS7uV0xZ3,9fKqLm2Tn8Rv5Yw1Zx4Cb7Nd0=,Ab3De6=,1"
)


def _post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = api.post(path, json=body)
    assert response.is_success, response.text
    return response.json()


def _backfill(deployment: Deployment, channel: dict[str, Any], per_minute: float) -> None:
    """Thirty minutes of processed events, so the charts have a shape."""
    rng, now, rows = random.Random(channel["id"]), utcnow(), []
    for minute in range(30):
        for n in range(max(0, round(rng.gauss(per_minute, per_minute / 2)))):
            at = now - timedelta(minutes=minute, seconds=rng.uniform(0, 59))
            rows.append(
                {
                    "id": new_id("evt"),
                    "instance_id": channel["instance_id"],
                    "channel_id": channel["id"],
                    "provider": channel["provider"],
                    "type": f"{channel['provider']}.backfill",
                    "dedup_key": f"backfill-{minute}-{n}",
                    "received_at": at,
                    "occurred_at": at,
                    "status": "processed",
                    "attempts": 1,
                    "payload": {},
                    "processed_at": at,
                }
            )
    engine = create_engine(deployment.database_url)
    with engine.begin() as conn:
        conn.execute(insert(Event), rows)
    engine.dispose()


def _acme(deployment: Deployment, api: httpx.Client, whapi: FakeWhapiAPI) -> dict[str, Any]:
    acme = _post(api, "/v1/instances", {"name": "Acme"})["id"]
    base = f"/v1/instances/{acme}/channels"
    whatsapp = _post(api, f"{base}/whatsapp/connect", {"config": {"token": WHAPI_ACME}})
    config = {"bot_token": SLACK_TOKEN, "signing_secret": SLACK_SECRET}
    slack = _post(api, f"{base}/slack/connect", {"config": config})["channel"]
    _post(api, base, {"channel_type": "sms", "external_identifier": "+15555550123"})
    _backfill(deployment, slack, 4)
    for n in range(3):
        body = slack_webhooks.event_callback(f"EvDocs{n}", slack_webhooks.message("hi"))
        headers = slack_webhooks.sign(SLACK_SECRET, body)
        httpx.post(
            f"{deployment.base_url}/webhooks/slack/{slack['id']}", content=body, headers=headers
        )
    channel: dict[str, Any] = whatsapp["channel"]
    token = support.webhook_token(whapi, WHAPI_ACME, channel)
    support.first_sync_done(api, channel)
    support.send_whapi(deployment, channel, "ACME-WA1", token, support.new_qr(PAIRING))
    return channel


def _globex(
    deployment: Deployment, api: httpx.Client, telegram: FakeTelegramAPI, whapi: FakeWhapiAPI
) -> None:
    globex = _post(api, "/v1/instances", {"name": "Globex"})["id"]
    base = f"/v1/instances/{globex}/channels"
    bot = _post(api, f"{base}/telegram/connect", {"config": {"bot_token": TELEGRAM_TOKEN}})
    channel = bot["channel"]
    _backfill(deployment, channel, 1.5)
    hook = eventually(lambda: telegram.webhook(TELEGRAM_TOKEN), lambda h: h is not None)
    assert hook is not None
    update = {"update_id": 1, "message": {"message_id": 1, "date": int(time.time()), "text": "hi"}}
    httpx.post(
        f"{deployment.base_url}/webhooks/telegram/{channel['id']}",
        content=json.dumps(update).encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": hook["secret_token"]},
    )
    whatsapp = _post(api, f"{base}/whatsapp/connect", {"config": {"token": WHAPI_GLOBEX}})
    wa = whatsapp["channel"]
    token = support.webhook_token(whapi, WHAPI_GLOBEX, wa)
    support.first_sync_done(api, wa)
    health = {"start_at": int(time.time()), "uptime": 5, "status": {"code": 5, "text": "ERROR"}}
    payload = {"health": health, "event": {"type": "channel", "event": "post"}}
    support.send_whapi(deployment, wa, "GLOBEX-WA1", token, payload)


def _shoot(deployment: Deployment, token: str, channel: dict[str, Any]) -> None:
    with support.chromium() as browser:
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, device_scale_factor=1
        )
        page = context.new_page()
        page.goto(deployment.base_url + "/")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("[data-live-state]:not([hidden])")  # one live update done
        page.screenshot(path=str(DOCS / "dashboard-overview.png"), full_page=True)
        page.goto(
            f"{deployment.base_url}/dashboard/instances/{channel['instance_id']}"
            f"/channels/{channel['id']}"
        )
        page.wait_for_selector("[data-live-state]:not([hidden])")
        page.screenshot(path=str(DOCS / "dashboard-channel-qr.png"), full_page=True)
        phone = browser.new_context(
            viewport={"width": 390, "height": 844}, storage_state=context.storage_state()
        )
        small = phone.new_page()
        small.goto(deployment.base_url + "/?instance=" + channel["instance_id"])
        small.wait_for_selector("[data-live-state]:not([hidden])")
        small.screenshot(path=str(DOCS / "dashboard-phone.png"), full_page=True)


def main() -> None:
    with (
        FakeWhapiAPI() as whapi,
        FakeSlackAPI() as slack,
        FakeTelegramAPI() as telegram,
        tempfile.TemporaryDirectory() as tmp,
    ):
        whapi.add_channel(WHAPI_ACME, channel_id="ACME-WA1")
        whapi.add_channel(WHAPI_GLOBEX, channel_id="GLOBEX-WA1")
        slack.add_workspace(SLACK_TOKEN, team_id="T0DOCS", team="Acme")
        telegram.add_bot(TELEGRAM_TOKEN, username="globex_bot")
        urls = {
            "WHAPI_GATE_URL": whapi.url,
            "SLACK_API_URL": slack.url,
            "TELEGRAM_API_URL": telegram.url,
            "PUBLIC_BASE_URL": "https://switchboard.example.com",
        }
        with (
            embedded(Path(tmp), **urls) as deployment,
            deployment.client(deployment.org_token()) as api,
        ):
            channel = _acme(deployment, api, whapi)
            _globex(deployment, api, telegram, whapi)
            time.sleep(1.5)  # the workers apply the last webhooks
            _shoot(deployment, deployment.org_token(), channel)
    sys.stderr.write(f"screenshots written to {DOCS}\n")


if __name__ == "__main__":
    main()
