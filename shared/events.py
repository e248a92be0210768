"""The normalised event: what every provider's webhook becomes before it is stored."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

# Seconds since the epoch outside this range are not event times (2001..2100).
_MIN_EPOCH, _MAX_EPOCH = 1_000_000_000, 4_102_444_800


@dataclass(frozen=True)
class NormalizedEvent:
    type: str  # `provider.kind[.subkind]`, e.g. `slack.event_callback.message`
    dedup_key: str
    payload: dict[str, Any]
    occurred_at: datetime | None = None  # the provider's own time, when it gives one


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def epoch_to_datetime(value: Any) -> datetime | None:
    """A provider's epoch seconds as UTC, or None when it is missing or implausible."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    if not _MIN_EPOCH <= seconds <= _MAX_EPOCH:
        return None
    return datetime.fromtimestamp(seconds, UTC)


def plausible_time(when: datetime) -> datetime | None:
    """A provider's parsed time, or None when it has no offset or is implausible: an event dated
    9999 would outrank every later status change (the ordering rule), and year 1 less an offset
    is year 0, which Python cannot read back."""
    if when.tzinfo is None:
        return None
    return when if _MIN_EPOCH <= when.timestamp() <= _MAX_EPOCH else None


_UNSAFE_IN_TYPE = re.compile(r"[^A-Za-z0-9_-]")


def type_part(value: Any) -> str:
    """A provider-supplied name made safe to use inside an event type."""
    text = str(value) if isinstance(value, str | int) else "unknown"
    return _UNSAFE_IN_TYPE.sub("_", text[:40]) or "unknown"
