"""Re-send a verified delivery, byte for byte and with its signature headers, to other URLs."""

from __future__ import annotations

import time
from typing import Optional

import anyio
import httpx

from argilla_hooks.receiver.report import ForwardResult, describe_error, elapsed_ms

# The most one forward may take, from connecting to the last byte of the answer: below Argilla's own 20 s delivery
# timeout, so that a slow target still gets us an answer back to Argilla in time.
FORWARD_TIMEOUT = 15.0
# The headers a target needs to verify the delivery itself.
FORWARDED_HEADERS = frozenset({b"content-type", b"webhook-id", b"webhook-timestamp", b"webhook-signature"})
# Each receiver that forwards a delivery adds its own random token to this header, and one that finds its token
# there refuses the delivery (508): a forward that comes back to where it started, whatever URL or other listeners it
# went through, is one failed delivery instead of a loop.
HOPS_HEADER = b"argilla-hooks-forwarded-by"
# Of a target's answer only the status matters: its body is read in chunks of this size and dropped, never held.
ANSWER_CHUNK = 64 * 1024


class Forwarder:
    """One shared httpx.AsyncClient, created on first use and closed by `aclose` (the app's lifespan shutdown).

    `timeout` is a deadline for each forward as a whole (connect, send, the whole answer), not per read: a target that
    answers a byte at a time cannot keep the delivery waiting past it.
    """

    def __init__(self, transport: Optional[httpx.AsyncBaseTransport] = None, timeout: float = FORWARD_TIMEOUT) -> None:
        self._transport = transport
        self._timeout = timeout
        self._client: Optional[httpx.AsyncClient] = None

    async def send(self, url: str, body: bytes, headers: list[tuple[bytes, bytes]]) -> ForwardResult:
        if self._client is None:
            # No per-operation timeouts: the deadline below covers the whole exchange.
            self._client = httpx.AsyncClient(transport=self._transport, timeout=None)
        started = time.perf_counter()
        response = None
        try:
            with anyio.move_on_after(self._timeout):
                async with self._client.stream("POST", url, content=body, headers=headers) as streamed:
                    if not streamed.is_stream_consumed:  # (a mock transport hands over an answer already read)
                        async for _ in streamed.aiter_raw(ANSWER_CHUNK):  # the whole answer, a chunk at a time
                            pass
                    response = streamed
        except httpx.HTTPError as exc:
            return ForwardResult(url, None, False, elapsed_ms(started), describe_error(exc))
        if response is None:
            return ForwardResult(url, None, False, elapsed_ms(started), f"no complete answer within {self._timeout:g} s")
        ok = response.is_success
        return ForwardResult(url, response.status_code, ok, elapsed_ms(started), None if ok else f"answered {response.status_code}")

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()


def forwarded_headers(raw_headers: list[tuple[bytes, bytes]], hop: bytes) -> list[tuple[bytes, bytes]]:
    """The headers to send on, each once, with its last value (the one that was verified, see _read_verified), and
    the receivers the delivery went through, `hop` (this one's token) last."""
    kept = {name: value for name, value in raw_headers if name in FORWARDED_HEADERS or name == HOPS_HEADER}
    before = kept.pop(HOPS_HEADER, b"")
    kept[HOPS_HEADER] = b"%s %s" % (before, hop) if before else hop
    return list(kept.items())
