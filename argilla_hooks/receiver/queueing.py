"""The receiver's queue step: with `create_app(queue=...)`, a verified delivery is stored for workers, then answered.

The queue (argilla_hooks.queue.RedisQueue, or anything with the same two methods) de-duplicates across receivers;
the receiver answers 202 once the delivery is stored, 200 for an event queued already, and 503 when the queue cannot
take it (nothing was stored: Argilla retries). Handlers then run in `hooks work`, not in the request. With a
journal, a stored delivery is journaled (status 202, its queue id) before it is answered, as every other request is.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Callable, Optional, Protocol

from argilla_hooks.receiver.asgi import DUPLICATE, Send
from argilla_hooks.receiver.dedup import is_replay
from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.receiver.intake import Rejected
from argilla_hooks.receiver.report import DeliveryReport, describe_error

if TYPE_CHECKING:
    from argilla_hooks.receiver.verify import Verifier


class DeliveryQueue(Protocol):
    async def enqueue(self, body: bytes, delivery: Delivery, verified: bool, replay_id: Optional[str] = None) -> Optional[str]:
        """Store the delivery: its id in the queue, or None when this event is queued already (a replay, named by its
        `replay_id`, is stored again); raise when not stored."""

    async def aclose(self) -> None: ...


class QueueStep:
    """ReceiverApp's part that queues deliveries instead of handling them (see create_app's `queue`)."""

    queue: Optional[DeliveryQueue]
    verifier: Optional["Verifier"]
    _slots: float
    _report: Callable[..., Optional[DeliveryReport]]
    _answer: Callable[..., Awaitable[None]]

    async def _store(self, send: Send, msg_id: Optional[bytes], body: bytes, delivery: Delivery) -> None:
        assert self.queue is not None
        if self._slots <= 0:
            raise Rejected(503, "this receiver has handled all the events it was asked to", body=body)
        self._slots -= 1  # taken before the wait, so that exactly `max_events` are queued however many arrive at once
        replay_id = msg_id.decode("latin-1") if msg_id is not None and is_replay(msg_id) else None
        try:
            queued = await self.queue.enqueue(body, delivery, self.verifier is not None, replay_id)
        except Exception as exc:  # whatever went wrong, the delivery was not stored: Argilla must send it again
            self._slots += 1
            raise Rejected(503, f"could not queue the delivery ({describe_error(exc)}); send it again", body=body) from None
        if queued is None:
            self._slots += 1
            report = self._report(200, msg_id, delivery, [], [], reason="already queued", duplicate=True)
            await self._answer(send, 200, DUPLICATE, report, body)
            return
        await self._answer(send, 202, b"", self._report(202, msg_id, delivery, [], [], queued=queued, replay=replay_id is not None), body)
