"""Text PostgreSQL refuses: found anywhere in a document, and replaced without touching the rest."""

from __future__ import annotations

import json

from shared.storable_text import is_storable, storable

LONE_SURROGATE = json.loads('"x\\ud800"')
PAIRED = json.loads('"\\ud83d\\ude00"')  # one character once decoded: 😀


def test_nul_and_lone_surrogates_are_found_in_keys_values_and_lists() -> None:
    assert is_storable({"a": ["b", {"c": 1, "d": None}], "e": PAIRED})
    assert not is_storable({"a": ["b", {"c": "\x00"}]})
    assert not is_storable({LONE_SURROGATE: 1})
    assert not is_storable([1, [LONE_SURROGATE]])


def test_each_refused_character_becomes_a_replacement_character() -> None:
    document = {"t\x00": ["a\x00b", LONE_SURROGATE, PAIRED, 2**70, 1.5, None, True]}
    assert storable(document) == {
        "t\ufffd": ["a\ufffdb", "x\ufffd", PAIRED, 2**70, 1.5, None, True]
    }
    assert is_storable(storable(document))
