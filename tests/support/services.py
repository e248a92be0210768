"""Reaching the real PostgreSQL and Redis the integration tests need.

Locally a missing service skips its tests with a loud reason; with CI=true or
REQUIRE_SERVICES=1 it fails them instead, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from sqlalchemy import make_url

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def services_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("REQUIRE_SERVICES") == "1"


def unavailable(what: str, exc: Exception) -> None:
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if services_required():
        pytest.fail(f"{message}; CI=true/REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}. Start it, or set TEST_DATABASE_URL/TEST_REDIS_URL.")


def libpq(url: str) -> str:
    """A SQLAlchemy URL as psycopg takes it."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    base = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = f"switchboard_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(libpq(base), autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        unavailable("PostgreSQL", exc)
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(libpq(base), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    """The test Redis, flushed: tests own the database index they are given."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=3)
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        unavailable("Redis", exc)
    return url


def unix_socket_directory(url: str) -> str | None:
    """The directory of the Unix socket of the PostgreSQL server `url` names, as the server
    reports it; None if it has none on this machine."""
    with psycopg.connect(libpq(url), connect_timeout=3) as conn:
        row = conn.execute("SHOW unix_socket_directories").fetchone()
    port = make_url(url).port or 5432
    for directory in str(row[0]).split(",") if row else []:
        if (Path(directory.strip()) / f".s.PGSQL.{port}").exists():
            return directory.strip()
    return None
