"""How values read on the page: labels, badge tones and times ("12 s ago")."""

from __future__ import annotations

from datetime import UTC, datetime

TYPE_LABELS = {
    "whatsapp": "WhatsApp",
    "sms": "SMS",
    "voice": "Voice",
    "slack": "Slack",
    "discord": "Discord",
    "telegram": "Telegram",
}
PROVIDER_LABELS = {
    "whapi": "Whapi.Cloud",
    "twilio": "Twilio",
    "slack": "Slack",
    "discord": "Discord",
    "telegram": "Telegram",
}
STATUS_LABELS = {
    "pending": "Pending",
    "connecting": "Connecting",
    "awaiting_scan": "Awaiting scan",
    "connected": "Connected",
    "disconnected": "Disconnected",
    "error": "Error",
    "disabled": "Disabled",
    # Events and dead letters.
    "processed": "Processed",
    "failed": "Failed",
    "ignored": "Ignored",
}
# Badge colours (static/dashboard.css): the label always says the same in words.
_TONES = {
    "connected": "good",
    "processed": "good",
    "awaiting_scan": "waiting",
    "connecting": "waiting",
    "pending": "waiting",
    "error": "bad",
    "failed": "bad",
    "disconnected": "off",
    "disabled": "off",
    "ignored": "off",
}


def label(value: str | None, labels: dict[str, str]) -> str:
    if value is None:
        return "—"
    return labels.get(value, value.replace("_", " ").capitalize())


def tone(status: str | None) -> str:
    return _TONES.get(status or "", "off")


def ago(moment: datetime | None, now: datetime) -> str:
    """`12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`; `in 4 s` for a clock ahead of ours.

    static/dashboard.js holds the same rules, to keep the text ticking between updates.
    """
    if moment is None:
        return "never"
    seconds = round((now - moment).total_seconds())
    span = _span(abs(seconds))
    return f"in {span}" if seconds < 0 else f"{span} ago"


def _span(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else ""


def clock(moment: datetime | None) -> str:
    """The absolute time, shown as a tooltip beside relative ones."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""
