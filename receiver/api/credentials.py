"""Credentials as the API receives them: parsed per platform, and the provider's verdict.

A provider that refuses credentials is a 400 carrying the connection error code (contract
§8); one that cannot answer right now is not the user's fault, so it gets a retryable status.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ValidationError

from receiver.api.endpoint import Call
from receiver.api.problems import ProblemError, validation_problem
from receiver.api.schemas import CREDENTIALS
from shared.crypto import encrypt_json
from shared.models import Connection, utcnow
from shared.providers.accounts import Account
from shared.providers.errors import FinalError, ProviderError, RateLimited


def parse_credentials(
    platform: str, document: dict[str, Any], loc: tuple[str, ...] = ("config",)
) -> BaseModel:
    schema = CREDENTIALS.get(platform)
    if schema is None:
        raise ProblemError(422, "INVALID_CHANNEL", f"Connecting {platform} is not supported")
    try:
        return schema.model_validate(document)
    except ValidationError as exc:
        raise validation_problem(exc, loc) from None


@contextmanager
def provider_problems() -> Iterator[None]:
    """Turn a provider's error into the problem the API answers."""
    try:
        yield
    except FinalError as exc:
        raise ProblemError(
            400, exc.code, "The provider refused the credentials", exc.message, error=exc.as_dict()
        ) from None
    except RateLimited as exc:
        raise ProblemError(
            429,
            exc.code,
            "The provider is rate limiting us; try again later",
            exc.message,
            headers={"Retry-After": str(math.ceil(exc.retry_after))},
            error=exc.as_dict(),
        ) from None
    except ProviderError as exc:
        raise ProblemError(
            502, exc.code, "The provider could not be reached", exc.message, error=exc.as_dict()
        ) from None


# Secrets Switchboard issued to a provider, not the user's: a provider may still be sending
# them, so new credentials from the user never drop them.
ISSUED_SECRETS = ("webhook_secret", "webhook_tokens", "webhook_token_version")


def carried_over(previous: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {**new, **{k: previous[k] for k in ISSUED_SECRETS if previous.get(k)}}


def store_checked(
    call: Call[Any, Any], connection: Connection, credentials: dict[str, Any], account: Account
) -> None:
    """Keep credentials the provider just accepted (encrypted), and what it said about them."""
    connection.name = account.name
    connection.credentials_encrypted = encrypt_json(call.settings.secret, credentials)
    connection.credentials_hint = account.hint
    connection.account = account.details
    connection.status, connection.error, connection.validated_at = "connected", None, utcnow()
