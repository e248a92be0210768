"""`type_part`: provider-supplied names made safe inside event types."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from shared.events import type_part

SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@given(st.text(max_size=60))
def test_every_unsafe_character_becomes_an_underscore(text: str) -> None:
    expected = "".join(c if c in SAFE else "_" for c in text[:40]) or "unknown"
    assert type_part(text) == expected


def test_examples() -> None:
    assert type_part("message") == "message"
    assert type_part("reaction_added") == "reaction_added"
    assert type_part("a.b/c é") == "a_b_c__"
    assert type_part(12) == "12"
    assert type_part(None) == "unknown"
    assert type_part("") == "unknown"
    assert type_part("x" * 50) == "x" * 40
