"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from shared.models import Base
from tests.support.processes import environment, run
from tests.support.services import fresh_postgres_database


def _assert_matches_models(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            assert set(inspect(conn).get_table_names()) >= set(Base.metadata.tables)
    finally:
        engine.dispose()


def test_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    result = run(["migrate"], environment(DATABASE_URL=url), tmp_path)
    assert result.returncode == 0, result.stderr
    _assert_matches_models(url)


@pytest.mark.postgres
def test_postgres(tmp_path: Path) -> None:
    with fresh_postgres_database() as url:
        result = run(["migrate"], environment(DATABASE_URL=url), tmp_path)
        assert result.returncode == 0, result.stderr
        _assert_matches_models(url)
        again = run(["migrate"], environment(DATABASE_URL=url), tmp_path)
        assert again.returncode == 0, again.stderr
