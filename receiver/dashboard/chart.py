"""Events per minute: counted in the database, drawn as bars in an inline SVG.

Counting happens in SQL (one grouped query on the `received_at` indexes), so a busy channel
costs thirty rows, not one per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, cast, extract, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shared.models import Event

MINUTES = 30
WIDTH, HEIGHT = 300, 60  # the SVG's viewBox; CSS scales it to the column
_SLOT = WIDTH / MINUTES
_GAP = 2.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    count: int
    minute: datetime


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    total: int
    peak: int
    minutes: int = MINUTES
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def summary(self) -> str:
        """What the chart shows, in words: its accessible name."""
        return (
            f"Events per minute over the last {self.minutes} minutes: {self.total} in all, "
            f"at most {self.peak} in one minute"
        )


def first_minute(now: datetime, minutes: int = MINUTES) -> datetime:
    return now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)


def _minute_number(session: Session) -> ColumnElement[int]:
    """Minutes since the epoch, in the database's own dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", Event.received_at) / 60), Integer)
    # SQLite stores UTC as 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime('%s') reads that as UTC.
    return cast(cast(func.strftime("%s", Event.received_at), Integer) / 60, Integer)


def per_minute(
    session: Session,
    now: datetime,
    *,
    instance_id: str,
    channel_id: str | None = None,
    minutes: int = MINUTES,
) -> list[int]:
    """Events received in each of the last `minutes` minutes, oldest first, this one last."""
    start = first_minute(now, minutes)
    minute = _minute_number(session).label("minute")
    query = select(minute, func.count()).where(Event.received_at >= start)
    # Either filter matches an index of (owner, received_at).
    if channel_id is not None:
        query = query.where(Event.channel_id == channel_id)
    else:
        query = query.where(Event.instance_id == instance_id)
    first = int(start.timestamp()) // 60
    counts = [0] * minutes
    for number, count in session.execute(query.group_by(minute)):
        index = int(number) - first
        if 0 <= index < minutes:
            counts[index] = int(count)
    return counts


def draw(counts: list[int], now: datetime) -> Chart:
    start = first_minute(now, len(counts))
    peak = max(counts, default=0)
    bars = []
    for index, count in enumerate(counts):
        # A minute with any event shows at least a sliver, so one event among hundreds is seen.
        height = 0.0 if peak == 0 or count == 0 else max(1.5, count / peak * (HEIGHT - 2))
        bars.append(
            Bar(
                x=round(index * _SLOT + _GAP / 2, 2),
                y=round(HEIGHT - height, 2),
                width=_SLOT - _GAP,
                height=round(height, 2),
                count=count,
                minute=start + timedelta(minutes=index),
            )
        )
    return Chart(bars=bars, total=sum(counts), peak=peak, minutes=len(counts))


def chart(
    session: Session, now: datetime, *, instance_id: str, channel_id: str | None = None
) -> Chart:
    return draw(per_minute(session, now, instance_id=instance_id, channel_id=channel_id), now)
