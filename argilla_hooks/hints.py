"""The ` (did you mean 'x'?)` hint that every "unknown name" message ends with."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'name'?)` for the choice closest to a misspelt word, or "" when none is close."""
    matches = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
