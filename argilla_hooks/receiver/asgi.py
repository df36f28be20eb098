"""The receiver's ASGI plumbing: sending an answer, a path below a mount, a cancellation told from a handler's own."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

import anyio

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

DUPLICATE = b'{"ok":true,"duplicate":true}'
HEALTHY = b'{"status":"ok"}'


def is_cancellation(exc: BaseException) -> bool:
    """Whether `exc`, caught around a handler, is the delivery's task being cancelled, which must propagate.

    On asyncio a handler can raise CancelledError itself (or let one through from a future someone else cancelled):
    from Python 3.11 the task's `cancelling()` count tells that apart from a cancellation of the task itself (server
    shutdown, an anyio cancel scope). On Python 3.10, which has no such count, and on trio, whose Cancelled only the
    scheduler raises, an exception of the backend's cancellation class counts as a real one.
    """
    cancelled = anyio.get_cancelled_exc_class()
    if not isinstance(exc, cancelled):
        return False
    if cancelled is not asyncio.CancelledError:  # trio
        return True
    cancelling = getattr(asyncio.current_task(), "cancelling", None)
    return cancelling is None or cancelling() > 0


async def respond(send: Send, status: int, body: bytes, allow: Optional[bytes] = None, close: bool = False) -> None:
    # 204 has no body, so uvicorn writes the answer with one system call instead of two (head, then body); any other
    # status says its length, even 0, or the server would send it chunked.
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))] if body else []
    if not body and status != 204:
        headers.append((b"content-length", b"0"))
    if allow is not None:
        headers.append((b"allow", allow))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def error_body(reason: str) -> bytes:
    return json.dumps({"ok": False, "error": reason}).encode()


def path_below(root_path: str, path: str) -> str:
    """The request path below the prefix the app is mounted at (`uvicorn --root-path`, a Starlette Mount), which ASGI
    includes in `path`; a path outside it is left whole."""
    if path == root_path:
        return "/"
    if path.startswith(root_path) and path[len(root_path)] == "/":
        return path[len(root_path) :]
    return path
