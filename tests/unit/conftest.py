"""A migrated SQLite database for in-process tests of code that uses `shared.db`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from shared import db, settings
from tests.support.processes import environment, run


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database migrated through the real CLI (0.6 s); tests get copies of it."""
    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "p.db"
    assert run(["migrate"], environment(DATABASE_URL=f"sqlite:///{path}"), folder).returncode == 0
    return path


@pytest.fixture
def database(migrated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings, engine and sessions point at a fresh database for the test's duration."""
    path = tmp_path / "p.db"
    with closing(sqlite3.connect(migrated)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    caches = (settings.get_settings, db.get_engine, db._session_factory)
    for cache in caches:
        cache.cache_clear()
    yield
    db.get_engine().dispose()
    for cache in caches:
        cache.cache_clear()
