"""Cursor pagination: `?limit=` (1 to 200, default 50) and `?cursor=` (the last id seen).

Ids grow with time (shared.ids), so paging by id is stable while rows are being added.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from receiver.api.problems import ProblemError

DEFAULT_PAGE, MAX_PAGE = 50, 200
Row = TypeVar("Row")


def page_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ProblemError(422, "VALIDATION_ERROR", f"limit must be 1 to {MAX_PAGE}")
    return int(raw)


def one_page(
    session: Session,
    query: Select[Row],
    id_column: InstrumentedAttribute[str],
    params: Any,
) -> tuple[list[Row], str | None]:
    """The page after `params["cursor"]`, and the cursor of the next one (None: the last)."""
    limit = page_limit(params.get("limit"))
    cursor = params.get("cursor")
    if cursor:
        query = query.where(id_column > cursor)
    rows = list(session.scalars(query.order_by(id_column).limit(limit + 1)))
    page = rows[:limit]
    return page, (getattr(page[-1], id_column.key) if len(rows) > limit else None)
