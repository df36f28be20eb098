"""Taking a request in: refused on its head when the head condemns it, else its body read within limits and verified.

The limits bound what any client, signed or not, can make the receiver hold: `max_body` one body, a BodyBudget the
bodies of all requests being read together, `timeout` the time one body may take to arrive. A refusal made before the
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
    not read in full. A 401 names its `cause` (VerificationError's); `body`, when it was read, is journaled (and a
    401's explained)."""

    def __init__(
        self, status: int, reason: str, allow: Optional[bytes] = None, close: bool = False, cause: Optional[str] = None, body: Optional[bytes] = None
    ) -> None:
        self.status = status
        self.reason = reason
        self.allow = allow  # the methods a 405's path takes
        self.close = close
        self.cause = cause
        self.body = body


class Disconnected(Exception):
    """The client went away before sending the whole body; there is no one to answer."""


class BodyBudget:
    """The body bytes that the requests being read may hold together."""

    def __init__(self, limit: int) -> None:
        self.limit = self.left = limit

    def take(self, size: int) -> None:
        if size > self.left:
            raise Rejected(503, f"request bodies being read would exceed {self.limit} bytes; send it again", close=True)
        self.left -= size


async def read_verified(
    receive: Receive, headers: dict[bytes, bytes], verifier: Optional[Verifier], max_body: int, timeout: Optional[float], budget: BodyBudget
) -> bytes:
    """The body of a request that passed the size, budget, time and signature checks, else Rejected (Disconnected when
    the client went away). Its declared size is taken from `budget` before it is read, or its bytes as they arrive when
    it declares none, and given back once it is verified or refused."""
    length = headers.get(b"content-length")
    declared = int(length) if length is not None and length.isdigit() else 0
    if declared > max_body:
        raise Rejected(413, f"body of {declared} bytes exceeds the {max_body}-byte limit", close=True)
    signed = None
    if verifier is not None:
        try:
            signed = verifier.check_head(headers.get(b"webhook-id"), headers.get(b"webhook-timestamp"), headers.get(b"webhook-signature"))
        except VerificationError as exc:
            raise Rejected(401, str(exc), close=True, cause=exc.cause) from None
    budget.take(declared)
    held = [declared]  # what this request has taken from the budget, given back below whatever happens
    try:
        chunks: list[bytes] = []
        if timeout is None:  # the server bounds the time a request takes to arrive (`hooks listen` does)
            complete = await _read(receive, chunks, max_body, budget, held)
        else:
            complete = False
            with anyio.move_on_after(timeout):
                complete = await _read(receive, chunks, max_body, budget, held)
        if not complete:
            raise Rejected(408, f"the body was not complete within {timeout:g} s", close=True)
        body = b"".join(chunks)
        if verifier is not None and signed is not None:
            try:
                verifier.check_body(signed, body)
            except VerificationError as exc:
                raise Rejected(401, str(exc), cause=exc.cause, body=body) from None
        return body
    finally:
        budget.left += held[0]


async def _read(receive: Receive, chunks: list[bytes], max_body: int, budget: BodyBudget, held: list[int]) -> bool:
    """The body into `chunks`, counted as it arrives (no Content-Length is trusted): True once it is whole. What it
    takes from `budget` beyond the declared size is added to `held[0]`."""
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            raise Rejected(413, f"body exceeds the {max_body}-byte limit", close=True)
        if size > held[0]:
            budget.take(size - held[0])
            held[0] = size
        chunks.append(chunk)
        if not message.get("more_body"):
            return True
