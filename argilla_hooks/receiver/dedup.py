"""Remember which events this process already handled, so that a retried or repeated delivery runs nothing twice.

Argilla retries with a new `webhook-id`, so an event is keyed on its body: (`type`, `timestamp`, `data.id`), see
`Delivery.key`. Two webhooks subscribed to the same event send the same body, so they are handled once as well.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Optional

import anyio

DEFAULT_CAPACITY = 10_000
# A delivery whose (signed) webhook-id starts with this was re-sent by `hooks deliveries replay`, which asks for the
# handlers to run again. Argilla's ids start with `msg_`, and the id is signed: only a holder of the secret can ask.
REPLAY_PREFIX = b"replay_"
EventKey = tuple[Any, ...]
_COMPLETE = None  # stored for a key whose every step succeeded
_NOTHING_DONE: frozenset[int] = frozenset()


def is_replay(msg_id: Optional[bytes]) -> bool:
    """Whether a verified delivery's webhook-id asks for its handlers to run again (see REPLAY_PREFIX)."""
    return msg_id is not None and msg_id.startswith(REPLAY_PREFIX)


class DeliveryLog:
    """The most recent `capacity` events and the steps (handlers, forwards) that succeeded for each.

    `begin` waits while an identical event is in flight, then returns the steps to skip, or None when the event
    was already handled completely (`again`: none to skip, whatever was done, for a replay); `end` must follow every
    `begin` that returned steps.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self._done: OrderedDict[EventKey, Optional[frozenset[int]]] = OrderedDict()
        # key -> None while one delivery runs, or the Event that later identical deliveries wait on.
        self._in_flight: dict[EventKey, Optional[anyio.Event]] = {}

    async def begin(self, key: EventKey, again: bool = False) -> Optional[frozenset[int]]:
        while key in self._in_flight:
            waiter = self._in_flight[key]
            if waiter is None:
                waiter = self._in_flight[key] = anyio.Event()
            await waiter.wait()
        done = _NOTHING_DONE if again else self._done.get(key, _NOTHING_DONE)
        if done is _COMPLETE:
            self._done.move_to_end(key)
            return None
        self._in_flight[key] = None
        return done

    def end(self, key: EventKey, done: frozenset[int], complete: bool) -> None:
        waiter = self._in_flight.pop(key)
        if complete or done:
            self._done[key] = _COMPLETE if complete else done
            self._done.move_to_end(key)
            if len(self._done) > self.capacity:
                self._done.popitem(last=False)
        else:
            self._done.pop(key, None)
        if waiter is not None:
            waiter.set()

    def __len__(self) -> int:
        return len(self._done)
