"""Taking a request in: refused on its head when the head condemns it, else its body read within limits and verified.

The limits bound what any client, signed or not, can make the receiver hold: `max_body` one body, a BodyBudget the
bodies of all requests in flight together, `timeout` the time one body may take to arrive. A refusal made before the
body was read in full asks the server to close the connection (`connection: close`), so the rest is never taken in.
"""

from __future__ import annotations

from collections.abc import Awaitable, MutableMapping
from typing import Any, Callable, Optional

import anyio

from argilla_hooks.receiver.verify import VerificationError, Verifier

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class Rejected(Exception):
    """A request answered with an error status (4xx, or 503/508) before any handler ran; `close` when its body was
    not read in full."""

    def __init__(self, status: int, reason: str, allow: Optional[bytes] = None, close: bool = False) -> None:
        self.status = status
        self.reason = reason
        self.allow = allow  # the methods a 405's path takes
        self.close = close


class Disconnected(Exception):
    """The client went away before sending the whole body; there is no one to answer."""


class BodyBudget:
    """The body bytes that the requests in flight may hold together; each request takes its share with a BodyClaim."""

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit


class BodyClaim:
    """The share of a BodyBudget one request holds, grown as its body arrives and given back by `release`."""

    __slots__ = ("budget", "size")

    def __init__(self, budget: BodyBudget) -> None:
        self.budget = budget
        self.size = 0

    def grow_to(self, size: int) -> None:
        more = size - self.size
        if more > 0:
            if more > self.budget.left:
                raise Rejected(503, f"request bodies in flight would exceed {self.budget.limit} bytes; send it again", close=True)
            self.budget.left -= more
            self.size = size

    def release(self) -> None:
        self.budget.left += self.size
        self.size = 0


async def read_verified(
    receive: Receive, headers: dict[bytes, bytes], verifier: Optional[Verifier], max_body: int, timeout: float, claim: BodyClaim
) -> bytes:
    """The body of a request that passed the size, budget, time and signature checks, else Rejected (Disconnected when
    the client went away); `claim` holds the body's bytes."""
    length = headers.get(b"content-length")
    declared = int(length) if length is not None and length.isdigit() else 0
    if declared > max_body:
        raise Rejected(413, f"body of {declared} bytes exceeds the {max_body}-byte limit", close=True)
    signed = None
    if verifier is not None:
        try:
            signed = verifier.check_head(headers.get(b"webhook-id"), headers.get(b"webhook-timestamp"), headers.get(b"webhook-signature"))
        except VerificationError as exc:
            raise Rejected(401, str(exc), close=True) from None
    claim.grow_to(declared)
    body = None
    with anyio.move_on_after(timeout):
        body = await _read_body(receive, max_body, claim)
    if body is None:
        raise Rejected(408, f"the body was not complete within {timeout:g} s", close=True)
    if verifier is not None and signed is not None:
        try:
            verifier.check_body(signed, body)
        except VerificationError as exc:
            raise Rejected(401, str(exc)) from None
    return body


async def _read_body(receive: Receive, max_body: int, claim: BodyClaim) -> bytes:
    """The whole body, counted against `max_body` and the budget as it arrives (no Content-Length is trusted)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise Rejected(413, f"body exceeds the {max_body}-byte limit", close=True)
        claim.grow_to(size)
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
