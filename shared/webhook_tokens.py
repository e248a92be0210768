"""Per-channel webhook tokens for providers that do not sign (Whapi).

A token is the channel id and a version, signed with SECRET_KEY by itsdangerous: derived, so it
never has to be typed in, and versioned, so it can be rotated. During a rotation the channel
accepts its old and new tokens until the provider has been told the new one.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import Signer

_SALT = "switchboard.webhook-token"


def webhook_token(secret_key: str, channel_id: str, version: int) -> str:
    return Signer(secret_key, salt=_SALT).sign(f"{channel_id}.v{version}").decode()


def rotated(secret_key: str, channel_id: str, credentials: dict[str, Any]) -> dict[str, Any]:
    """Credentials with a new token version added; the previous token stays accepted."""
    version = credentials.get("webhook_token_version")
    following = version + 1 if isinstance(version, int) else 1
    previous = credentials.get("webhook_tokens")
    kept = previous[-1:] if isinstance(previous, list) else []
    return {
        **credentials,
        "webhook_token_version": following,
        "webhook_tokens": [*kept, webhook_token(secret_key, channel_id, following)],
    }


def settled(credentials: dict[str, Any], sent: str) -> dict[str, Any]:
    """Credentials no longer accepting tokens older than `sent`, which the provider now uses."""
    tokens = credentials.get("webhook_tokens")
    if not isinstance(tokens, list) or sent not in tokens:
        return credentials  # rotated again meanwhile: the next setup run settles it
    return {**credentials, "webhook_tokens": tokens[tokens.index(sent) :]}
