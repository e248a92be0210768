"""Identifiers: a type prefix, then a time-ordered random part, so ids sort by creation."""

import secrets
import time


def new_id(prefix: str) -> str:
    """`evt_0193a4f5c2d1a9f0c4e2b7d18a3f`: 12 hex digits of milliseconds, 16 of randomness."""
    return _stamp(prefix) + secrets.token_hex(8)


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` ids as `new_id` makes them, sharing one clock read and one call for randomness."""
    stamp = _stamp(prefix)
    randomness = secrets.token_hex(8 * count)
    return [stamp + randomness[i : i + 16] for i in range(0, 16 * count, 16)]


def _stamp(prefix: str) -> str:
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}"
