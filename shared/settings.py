"""Configuration from the environment (or a `.env` file), validated once at start.

`get_settings()` builds the object lazily and caches it, so importing a module never reads the
environment; a bad value raises `ConfigError` naming the variable, which the CLI prints and exits.
"""

from __future__ import annotations

import functools
import logging
import secrets
from pathlib import Path
from typing import Annotated

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)

MIN_SECRET_KEY_LENGTH = 32
PLACEHOLDER_SECRETS = {"changeme", "secret", "change-me", "your-secret-key"}


class ConfigError(Exception):
    """The environment holds a value Switchboard cannot start with."""


HttpUrl = Annotated[str, AnyHttpUrl]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = "sqlite:///./switchboard.db"
    redis_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path(".switchboard-secret-key")

    slack_api_url: str = "https://slack.com/api"
    discord_api_url: str = "https://discord.com/api/v10"
    whapi_gate_url: str = "https://gate.whapi.cloud"
    twilio_api_url: str = "https://api.twilio.com"
    telegram_api_url: str = "https://api.telegram.org"

    max_webhook_bytes: int = Field(default=1_048_576, gt=0)
    relay_lease_seconds: int = Field(default=60, gt=0)
    sync_check_seconds: float = Field(default=30.0, gt=0)
    provider_rate_limits: str = ""  # overrides of shared.providers.rate_limits budgets
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        # Hosting platforms hand out `postgres://`; SQLAlchemy wants an explicit driver.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator(
        "public_base_url",
        "slack_api_url",
        "discord_api_url",
        "whapi_gate_url",
        "twilio_api_url",
        "telegram_api_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        AnyHttpUrl(value)  # raises with a precise message
        return value.rstrip("/")

    @field_validator("provider_rate_limits")
    @classmethod
    def _provider_rate_limits(cls, value: str) -> str:
        from shared.providers.rate_limits import parse_budgets  # it reads these settings

        parse_budgets(value)  # raises ValueError with the reason
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        raw = value.get_secret_value()
        if raw.lower() in PLACEHOLDER_SECRETS or len(raw) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(
                f"must be a random string of at least {MIN_SECRET_KEY_LENGTH} characters"
            )
        return value

    @property
    def secret(self) -> str:
        """The secret key, read or generated on first use."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _local_secret_key(self.secret_key_file)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@functools.cache
def _local_secret_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    log.warning(
        "SECRET_KEY is not set: generated one into %s. Set SECRET_KEY in production, and keep it: "
        "it encrypts stored credentials.",
        path,
    )
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


@functools.cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        variable = "_".join(str(part) for part in error["loc"]).upper() or "configuration"
        problems.append(f"{variable}: {error['msg']}")
    return "invalid configuration: " + "; ".join(problems)
