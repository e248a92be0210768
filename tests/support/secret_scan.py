"""Every secret the tests give Switchboard, or that Switchboard issues, remembered so that each
deployment's logs and raw database rows can be searched for them when it stops.

The fake providers remember the credentials they accept and the webhook secrets Switchboard sets
on them; deployments remember the API tokens they print. A secret found in clear anywhere in a
deployment's output or database fails that deployment's tests (tests/e2e/deployments.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import MetaData, create_engine, select

_KNOWN: set[str] = set()
MIN_LENGTH = 8  # shorter strings would match by chance


def remember(*secrets: str | None) -> None:
    _KNOWN.update(s for s in secrets if s and len(s) >= MIN_LENGTH)


def found_in(text: str) -> list[str]:
    """The remembered secrets that `text` holds, masked for the failure message."""
    return sorted(_masked(s) for s in _KNOWN if s in text)


def database_text(database_url: str) -> str:
    """Every row of every table, as text, the way someone reading the database would see it."""
    engine = create_engine(database_url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return "\n".join(
                _row_text(row)
                for table in metadata.sorted_tables
                for row in conn.execute(select(table))
            )
    finally:
        engine.dispose()


def _row_text(values: Iterable[object]) -> str:
    return "\t".join(str(v) for v in values)


def _masked(secret: str) -> str:
    return f"{secret[:4]}…{secret[-2:]} ({len(secret)} chars)"
