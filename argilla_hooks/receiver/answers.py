"""How the receiver answers a request: the ASGI messages of a status with a JSON body, or with none."""

from __future__ import annotations

import json
from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

DUPLICATE = b'{"ok":true,"duplicate":true}'
HEALTHY = b'{"status":"ok"}'


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
