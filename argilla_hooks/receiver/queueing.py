"""The receiver's queue step: with `create_app(queue=...)`, a verified delivery is stored for workers, then answered.

The queue (argilla_hooks.queue.RedisQueue, or anything with the same two methods) de-duplicates across receivers;
the receiver answers 202 once the delivery is stored, 200 for an event queued already, and 503 when the queue cannot
take it (nothing was stored: Argilla retries). Handlers then run in `hooks work`, not in the request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Optional, Protocol

from argilla_hooks.receiver.answers import DUPLICATE, Send, respond
from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.receiver.intake import Rejected
from argilla_hooks.receiver.report import describe_error

if TYPE_CHECKING:
    from argilla_hooks.receiver.verify import Verifier


class DeliveryQueue(Protocol):
    async def enqueue(self, body: bytes, delivery: Delivery, verified: bool) -> Optional[str]:
        """Store the delivery: its id in the queue, or None when this event is queued already; raise when not stored."""

    async def aclose(self) -> None: ...


class QueueStep:
    """ReceiverApp's part that queues deliveries instead of handling them (see create_app's `queue`)."""

    queue: Optional[DeliveryQueue]
    verifier: Optional["Verifier"]
    _slots: float
    _report: Callable[..., None]

    async def _store(self, send: Send, msg_id: Optional[bytes], body: bytes, delivery: Delivery) -> None:
        assert self.queue is not None
        if self._slots <= 0:
            raise Rejected(503, "this receiver has handled all the events it was asked to")
        self._slots -= 1  # taken before the wait, so that exactly `max_events` are queued however many arrive at once
        try:
            queued = await self.queue.enqueue(body, delivery, self.verifier is not None)
        except Exception as exc:  # whatever went wrong, the delivery was not stored: Argilla must send it again
            self._slots += 1
            raise Rejected(503, f"could not queue the delivery ({describe_error(exc)}); send it again") from None
        if queued is None:
            self._slots += 1
            await respond(send, 200, DUPLICATE)
            self._report(200, msg_id, delivery, [], [], reason="already queued", duplicate=True)
            return
        await respond(send, 202, b"")
        self._report(202, msg_id, delivery, [], [], queued=queued)
