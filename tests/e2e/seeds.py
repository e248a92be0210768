"""What many end-to-end modules start from, made through the public API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import GOOD_BOT_TOKEN, SIGNING_SECRET
from tests.support import slack


def connected_slack_channel(api: httpx.Client, instance_name: str) -> dict[str, Any]:
    """A new instance whose Slack channel is connected (against the fake Slack workspace)."""
    instance = api.post("/v1/instances", json={"name": instance_name}).json()["id"]
    config = {"bot_token": GOOD_BOT_TOKEN, "signing_secret": SIGNING_SECRET}
    connected = api.post(
        f"/v1/instances/{instance}/channels/slack/connect", json={"config": config}
    )
    assert connected.status_code == 200, connected.text
    channel: dict[str, Any] = connected.json()["channel"]
    return channel


def send_slack_event(channel: dict[str, Any], event_id: str, text: str = "hello") -> None:
    body = slack.event_callback(event_id, slack.message(text))
    sent = httpx.post(
        channel["webhook_url"], content=body, headers=slack.sign(SIGNING_SECRET, body)
    )
    assert sent.status_code == 200, sent.text
