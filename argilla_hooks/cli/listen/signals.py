"""How `hooks listen` treats Ctrl-C and SIGTERM around its start-up, registration and shutdown."""

from __future__ import annotations

import contextlib
import signal
from typing import Any, Callable, Iterator


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


def sigterm_interrupts() -> contextlib.AbstractContextManager[None]:
    """SIGTERM raises KeyboardInterrupt, as Ctrl-C does, from the start: a `kill` while the listener starts up then
    still runs the clean-up (deleting a registered webhook) instead of ending the process on the spot."""
    return handled_by(signal.default_int_handler, signal.SIGTERM)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, then raise KeyboardInterrupt if one came.

    Python-level handlers rather than a signal mask: a mask holds signals for one thread only, and the kernel gives
    a process signal to any thread that does not block it.
    """
    caught: list[int] = []
    try:
        with handled_by(lambda signum, frame: caught.append(signum), signal.SIGINT, signal.SIGTERM):
            yield
    finally:
        if caught:
            raise KeyboardInterrupt

