"""Identifiers: prefixed, time-ordered, unique."""

from __future__ import annotations

import re
import time

from shared.ids import new_id, new_ids

SHAPE = re.compile(r"evt_[0-9a-f]{28}")


def test_ids_made_together_look_like_single_ones_and_are_distinct() -> None:
    before = new_id("evt")
    time.sleep(0.002)
    batch = new_ids("evt", 500)
    time.sleep(0.002)
    after = new_id("evt")
    assert all(SHAPE.fullmatch(i) for i in [before, *batch, after])
    assert len(set(batch)) == 500
    assert before < min(batch) and max(batch) < after  # ids sort by creation time
    assert new_ids("evt", 0) == []
