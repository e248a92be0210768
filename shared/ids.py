"""Identifiers: a type prefix, then a time-ordered random part, so ids sort by creation."""

import secrets
import time


def new_id(prefix: str) -> str:
    """`evt_0193a4f5c2d1a9f0c4e2b7d18a3f`: 12 hex digits of milliseconds, 16 of randomness."""
    return f"{prefix}_{time.time_ns() // 1_000_000:012x}{secrets.token_hex(8)}"
