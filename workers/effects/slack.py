"""Slack events → channel effects (contract §6).

https://api.slack.com/events/tokens_revoked, /app_uninstalled, /team_access_revoked,
https://api.slack.com/apis/events-api#rate_limiting (`app_rate_limited`).
"""

from __future__ import annotations

from typing import Any

from workers.effects import ALIVE, Effect

_AUTH_EXPIRED = "AUTH_EXPIRED"


def _lost(message: str) -> Effect:
    return Effect(
        status="disconnected",
        message=message,
        connection_error={"code": _AUTH_EXPIRED, "message": message},
    )


def effect_of(event_type: str, payload: dict[str, Any]) -> Effect:
    if event_type == "slack.app_rate_limited":
        return Effect(note="Slack is rate limiting event delivery to this app")
    inner = payload.get("event") if isinstance(payload.get("event"), dict) else {}
    assert isinstance(inner, dict)
    kind = inner.get("type")
    if kind == "tokens_revoked":
        tokens = inner.get("tokens") if isinstance(inner.get("tokens"), dict) else {}
        # Only the bot token matters: revoked user tokens leave the bot working.
        if isinstance(tokens, dict) and tokens.get("bot"):
            return _lost("Slack revoked the bot token")
        return ALIVE
    if kind == "app_uninstalled":
        return _lost("The Slack app was uninstalled from the workspace")
    if kind == "team_access_revoked" or event_type == "slack.team_access_revoked":
        return _lost("The workspace revoked the app's access")
    return ALIVE
