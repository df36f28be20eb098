"""Small wording helpers for messages: the ` (did you mean 'x'?)` hint that every "unknown name" message ends with,
and "a"/"an"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'name'?)` for the choice closest to a misspelt word, or "" when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""


def a_or_an(word: str) -> str:
    """`an int`, `a str`: the word with its article (by its first letter, which is enough for type and role names)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"
