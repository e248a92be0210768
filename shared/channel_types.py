"""Channel types, the provider behind each, and what each can do."""

from __future__ import annotations

from typing import Any

PROVIDER_OF_TYPE = {
    "whatsapp": "whapi",
    "sms": "twilio",
    "voice": "twilio",
    "slack": "slack",
    "discord": "discord",
    "telegram": "telegram",
}
CHANNEL_TYPES = tuple(PROVIDER_OF_TYPE)
PROVIDERS = ("whapi", "twilio", "slack", "discord", "telegram")
STATUSES = (
    "pending",
    "connecting",
    "awaiting_scan",
    "connected",
    "disconnected",
    "error",
    "disabled",
)


def _caps(
    threads: bool,
    code: bool,
    highlight: bool,
    files: bool,
    reactions: bool,
    length: int,
    mention: str,
) -> dict[str, Any]:
    return {
        "threads": threads,
        "codeBlocks": code,
        "syntaxHighlighting": highlight,
        "fileAttachments": files,
        "reactions": reactions,
        "maxMessageLength": length,
        "mentionFormat": mention,
    }


# Limits from each platform's documentation: Slack text 40,000 chars; Discord 2,000;
# Telegram 4,096; WhatsApp 4,096; an SMS segment 1,600 chars concatenated.
CAPABILITIES: dict[str, dict[str, Any]] = {
    "slack": _caps(True, True, False, True, True, 40_000, "<@{user_id}>"),
    "discord": _caps(True, True, True, True, True, 2_000, "<@{user_id}>"),
    "telegram": _caps(True, True, True, True, True, 4_096, "@{username}"),
    "whatsapp": _caps(False, True, False, True, True, 4_096, "@{phone}"),
    "sms": _caps(False, False, False, False, False, 1_600, "none"),
    "voice": _caps(False, False, False, False, False, 0, "none"),
}
