"""How `hooks listen` treats Ctrl-C and the signals that ask a process to stop around its start-up, registration and
shutdown: SIGTERM (`kill`), SIGHUP (the terminal closed, an SSH connection dropped) and SIGQUIT (Ctrl-\\) all stop it
as Ctrl-C does, clean-up included (a registered webhook deleted)."""

from __future__ import annotations

import contextlib
import signal
from typing import Any, Callable, Iterator

# Those uvicorn does not handle itself while it serves (it takes SIGINT and SIGTERM); absent on Windows.
ALSO_STOPPING = tuple(getattr(signal, name) for name in ("SIGHUP", "SIGQUIT") if hasattr(signal, name))
STOPPING = (signal.SIGTERM, *ALSO_STOPPING)


@contextlib.contextmanager
def handled_by(handler: Callable[[int, Any], Any], *signals: signal.Signals) -> Iterator[None]:
    """`handler` for `signals` during the block, the previous handlers restored after it. Outside the main thread
    (a test runner's thread), where Python cannot handle signals, it changes nothing."""
    previous = {}
    with contextlib.suppress(ValueError):
        for sig in signals:
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, before in previous.items():
            signal.signal(sig, before)


def stopping_interrupts() -> contextlib.AbstractContextManager[None]:
    """SIGTERM, SIGHUP and SIGQUIT raise KeyboardInterrupt, as Ctrl-C does, from the start: a `kill` or a closed
    terminal while the listener starts up then still runs the clean-up (deleting a registered webhook) instead of
    ending the process on the spot."""
    return handled_by(signal.default_int_handler, *STOPPING)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C and the stopping signals until the block is done, then raise KeyboardInterrupt if one came.

    Python-level handlers rather than a signal mask: a mask holds signals for one thread only, and the kernel gives
    a process signal to any thread that does not block it.
    """
    caught: list[int] = []
    try:
        with handled_by(lambda signum, frame: caught.append(signum), signal.SIGINT, *STOPPING):
            yield
    finally:
        if caught:
            raise KeyboardInterrupt
