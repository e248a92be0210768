"""Cursor pagination (receiver.api.schemas.Page): `?limit=` and `?cursor=`, the last id seen.

Ids grow with time (shared.ids), so paging by id is stable while rows are being added.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from receiver.api.schemas import Page

Row = TypeVar("Row")


def one_page(
    session: Session,
    query: Select[Row],
    id_column: InstrumentedAttribute[str],
    params: Page,
) -> tuple[list[Row], str | None]:
    """The page after `params.cursor`, and the cursor of the next one (None: the last)."""
    limit = params.limit
    if params.cursor:
        query = query.where(id_column > params.cursor)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    page = rows[:limit]
    return page, (getattr(page[-1], id_column.key) if len(rows) > limit else None)
