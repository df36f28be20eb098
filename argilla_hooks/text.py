"""Text helpers every layer shares: the `(did you mean 'x'?)` hint, "a"/"an", and JSON that refuses a repeated key."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any, Union


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'name'?)` for the choice closest to a misspelt word, or "" when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def a_or_an(word: str) -> str:
    """`an int`, `a str`: the word with its article (by its first letter, which is enough for type and role names)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


class DuplicateKeyError(ValueError):
    """A key that appears twice in one JSON object; `key` is that key. Not a `json.JSONDecodeError` (no position)."""

    def __init__(self, key: str):
        self.key = key
        # JSON-quoted, so an empty or odd key is visible; a lone surrogate, which no stream can encode, stays escaped.
        quoted = json.dumps(key, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
        super().__init__(f"key {quoted} appears twice")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKeyError(key)
        document[key] = value
    return document


def loads_strict(text: Union[str, bytes, bytearray]) -> Any:
    """`json.loads(text)`, refusing a key repeated in one object (DuplicateKeyError), where `json.loads` silently keeps
    the last value: `{"name": "x", "name": "y"}` is almost always an edit that left the old line behind. TOML refuses
    it too. Invalid JSON raises `json.JSONDecodeError` as usual."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def first_line(text: str) -> str:
    """The first line of a message, with `…` when more follow (one line per item in a listing)."""
    lines = text.strip().splitlines() or [""]
    return lines[0] + (" …" if len(lines) > 1 else "")
