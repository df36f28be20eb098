"""Replacing a file so that a reader, or a crash, sees the old content or the new one, never half of it."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Optional


def write_atomically(path: str | Path, data: bytes, *, mode: Optional[int] = None) -> Path:
    """Write `data` to a temporary file beside `path`, flush it to disk, then rename it over `path`.

    `mode` None keeps an existing file's permissions, or gives a new one what `open()` would (0o666 minus
    the umask); the temporary file is never readable by others before that mode is set. A symbolic link is
    followed, so its target gets the new content and the link stays (a dotfiles repository, say). Anything that is
    not a regular file (/dev/stdout, /dev/null, a named pipe) is written to as it is: replacing it would put a plain
    file where a device or a pipe was. Returns `path`.
    """
    given = Path(path)
    try:
        special = not stat.S_ISREG(os.stat(given).st_mode)
    except FileNotFoundError:
        special = False
    if special:
        with open(given, "wb") as handle:
            handle.write(data)
        return given
    path = Path(os.path.realpath(given))
    if mode is None:
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return given


def _umask() -> int:
    current = os.umask(0)  # the only way to read it is to set it
    os.umask(current)
    return current
