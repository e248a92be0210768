"""Cursor pagination (receiver.api.schemas.Page): `?limit=` and `?cursor=`, the last id seen.

Ids grow with time (shared.ids), so paging by id is stable while rows are being added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from receiver.api.schemas import Page

Row = TypeVar("Row")


def listing(
    session: Session,
    query: Select[Row],
    id_column: InstrumentedAttribute[str],
    params: Page,
    name: str,
    out: Callable[[Row], dict[str, Any]],
) -> dict[str, Any]:
    """The page after `params.cursor` as a list answer: `{name: [...], count, next_cursor}`
    (`next_cursor` None: the last page)."""
    limit = params.limit
    if params.cursor:
        query = query.where(id_column > params.cursor)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    page = rows[:limit]
    next_cursor = getattr(page[-1], id_column.key) if len(rows) > limit else None
    return {name: [out(row) for row in page], "count": len(page), "next_cursor": next_cursor}
