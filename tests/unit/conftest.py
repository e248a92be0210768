"""A migrated SQLite database for in-process tests of code that uses `shared.db`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import db, settings
from tests.support.processes import environment, run


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings, engine and sessions point at a fresh database for the test's duration."""
    url = f"sqlite:///{tmp_path / 'p.db'}"
    assert run(["migrate"], environment(DATABASE_URL=url), tmp_path).returncode == 0
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    caches = (settings.get_settings, db.get_engine, db._session_factory)
    for cache in caches:
        cache.cache_clear()
    yield
    db.get_engine().dispose()
    for cache in caches:
        cache.cache_clear()
