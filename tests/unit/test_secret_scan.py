"""The scan every deployment's teardown runs (tests/support/secret_scan.py) does find secrets."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support import secret_scan


def test_a_remembered_secret_is_found_in_text_and_in_any_table_row(tmp_path: Path) -> None:
    secret = "scan-me-if-you-can-0123456789"
    secret_scan.remember(secret, "short")
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body JSON)"))
        conn.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), {"body": f'{{"k": "{secret}"}}'}
        )
    engine.dispose()
    assert secret_scan.found_in(secret_scan.database_text(url)) == ["scan…89 (29 chars)"]
    assert secret_scan.found_in(f"log line: Bearer {secret}") == ["scan…89 (29 chars)"]
    assert secret_scan.found_in("a short word and nothing else") == []
