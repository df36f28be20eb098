"""JSON that refuses a key repeated in one object, where `json.loads` silently keeps the last value.

`{"name": "x", "name": "y"}` is almost always a mistake (an edit that left the old line behind); taking the last
value would silently drop the first. TOML refuses it, and so do the JSON inputs of `hooks` (`trigger --data`, and
`apply -f` files).
"""

from __future__ import annotations

import json
from typing import Any, Union

__all__ = ["DuplicateKeyError", "loads", "unique_keys"]


class DuplicateKeyError(ValueError):
    """A key that appears twice in one JSON object; `key` is that key. Not a `json.JSONDecodeError` (no position)."""

    def __init__(self, key: str):
        self.key = key
        # The key JSON-quoted, so an empty or odd key is visible (`key "" appears twice`); non-ASCII text is kept as
        # written, and a lone surrogate (`"\ud800"`), which no output stream can encode, stays an escape.
        quoted = json.dumps(key, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(f"key {quoted} appears twice")


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An `object_pairs_hook` for `json.loads` that raises DuplicateKeyError for a repeated key."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKeyError(key)
        document[key] = value
    return document


def loads(text: Union[str, bytes, bytearray]) -> Any:
    """`json.loads(text)`, but a key repeated in any object raises DuplicateKeyError (a ValueError naming it).

    Invalid JSON raises `json.JSONDecodeError` as usual. Both are ValueErrors, and neither is a subclass of the other.
    """
    return json.loads(text, object_pairs_hook=unique_keys)
