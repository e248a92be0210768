"""Text PostgreSQL cannot store though JSON can carry it: NUL, and surrogates not in a pair.

JSON decoding joins escaped surrogate pairs into one character, so any surrogate left in a str
is alone, and is not valid Unicode. The API refuses such text; webhooks, which a provider has
already sent and signed, store it with U+FFFD in place of each such character.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def is_storable(document: Any) -> bool:
    return not any(UNSTORABLE.search(text) for text in _strings(document))


def storable(document: Any) -> Any:
    """`document` with each character PostgreSQL refuses replaced by U+FFFD."""
    if isinstance(document, str):
        return UNSTORABLE.sub(REPLACEMENT, document)
    if isinstance(document, dict):
        return {storable(key): storable(value) for key, value in document.items()}
    if isinstance(document, list):
        return [storable(value) for value in document]
    return document


def _strings(document: Any) -> Iterator[str]:
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
