"""Text in and out whatever the locale: arguments and stdin read as UTF-8, stdout escaping what it cannot encode.

Under `LC_ALL=C` (or `PYTHONIOENCODING=ascii`) Python decodes arguments as ASCII and makes stdout ASCII-only, so a
description `é` became lone surrogates that no request can carry, and any non-ASCII text on stdout (a description in
`list --json`, the `✓` of a `listen` line) raised UnicodeEncodeError half-way through a command.
"""

from __future__ import annotations

import codecs
import os
import sys

ESCAPE = "argilla-hooks-escape"


def _escape(error: UnicodeError) -> tuple[str, int]:
    """`\\u00e9` for each character the stream cannot encode: valid inside a JSON string, and readable in text."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    units = error.object[error.start : error.end].encode("utf-16-be", "surrogatepass")
    escaped = "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    return escaped, error.end


codecs.register_error(ESCAPE, _escape)


def use_utf8_whatever_the_locale() -> None:
    """Call once, first thing: re-reads the arguments as UTF-8 and lets stdout escape what its encoding lacks."""
    if not sys.flags.utf8_mode and codecs.lookup(sys.getfilesystemencoding()).name != "utf-8":
        # The bytes the shell passed, as UTF-8 (what terminals and scripts send), not as the locale's ASCII.
        sys.argv = [os.fsencode(arg).decode("utf-8", "surrogateescape") for arg in sys.argv]
    if sys.stdout is not None and codecs.lookup(sys.stdout.encoding or "ascii").name != "utf-8":
        sys.stdout.reconfigure(errors=ESCAPE)  # type: ignore[union-attr]  # sys.stdout is a TextIOWrapper


def read_stdin() -> str:
    """All of stdin as UTF-8 text, whatever the locale says; ValueError when it is closed or not UTF-8."""
    if sys.stdin is None:
        raise ValueError("stdin is closed")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"stdin is not UTF-8 text (byte {exc.start})") from None
