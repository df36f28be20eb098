"""Senders for the soak test: many clients on kept-alive connections sending signed Argilla deliveries to a listener,
and behaving as Argilla and the internet do meanwhile: retrying until a 2xx (with a new webhook-id each time), sending
again what was answered already, giving up half-way through a body, and forging."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from argilla_hooks.events import SUBSCRIBABLE
from argilla_hooks.receiver import sign
from argilla_hooks.trigger.samples import build_event

MAX_TRIES = 20


@dataclass
class Tally:
    requests: int = 0  # every request sent (forged, repeated and cut ones included)
    statuses: Counter = field(default_factory=Counter)  # answers by status; "reset" for none
    acknowledged: set = field(default_factory=set)  # keys of deliveries answered 2xx
    forged: set = field(default_factory=set)  # keys of forged deliveries, which must never be handled
    repeats: int = 0  # deliveries sent again after a 2xx, as Argilla does when an answer came too late
    cut: int = 0  # bodies given up half-way (then sent again whole)
    gave_up: int = 0  # deliveries never answered 2xx in MAX_TRIES


class Templates:
    """One realistic body per event type, and the key and text of a new delivery made from one."""

    def __init__(self) -> None:
        self.bodies = []
        for event_type in SUBSCRIBABLE:
            body = build_event(event_type)
            self.bodies.append((event_type, body, json.loads(body)["data"]["id"].encode()))

    def new(self, rng: random.Random, prefix: str = "") -> tuple[str, bytes]:
        event_type, body, old_id = rng.choice(self.bodies)
        new_id = (prefix + str(uuid.uuid4()))[:36].encode()
        return f"{event_type} {new_id.decode()}", body.replace(old_id, new_id, 1)  # data.id comes first in the body


class Sender:
    def __init__(self, port: int, secret: str, other_secret: str, templates: Templates, tally: Tally, seed: int) -> None:
        self.port, self.secret, self.other = port, secret, other_secret
        self.templates, self.tally, self.rng = templates, tally, random.Random(seed)
        self.recent: list[tuple[str, bytes]] = []  # the last deliveries answered 2xx
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, until: float) -> None:
        try:
            while time.monotonic() < until:
                roll = self.rng.random()
                if roll < 0.01:
                    await self.forged()
                elif roll < 0.03 and self.recent:
                    self.tally.repeats += 1
                    await self.deliver(*self.rng.choice(self.recent[-50:]))  # within the receiver's 10,000 keys
                else:
                    await self.deliver(*self.templates.new(self.rng), cut_first=roll > 0.995)
        finally:
            await self.close()

    async def deliver(self, key: str, body: bytes, cut_first: bool = False) -> None:
        """Send until a 2xx, a new webhook-id each time, as Argilla retries."""
        for attempt in range(MAX_TRIES):
            if cut_first and attempt == 0:
                await self.cut(body)
                continue
            status = await self.post(body, self.secret)
            if status is not None and 200 <= status < 300:
                self.tally.acknowledged.add(key)
                self.recent.append((key, body))
                del self.recent[:-100]
                return
            await asyncio.sleep(0.01 * attempt)
        self.tally.gave_up += 1

    async def forged(self) -> None:
        key, body = self.templates.new(self.rng, prefix="f0f0f0f0-")
        self.tally.forged.add(key)
        await self.post(body, self.other)

    async def cut(self, body: bytes) -> None:
        """Half a body, then the connection closed: the receiver must handle nothing."""
        self.tally.cut += 1
        writer = await self.connected()
        writer.write(self.head(body, self.secret) + body[: len(body) // 2])
        await writer.drain()
        await self.close()

    def head(self, body: bytes, secret: str) -> bytes:
        msg_id, timestamp = f"msg_{uuid.uuid4().hex}", int(time.time())
        return (b"POST / HTTP/1.1\r\nHost: listener\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                b"webhook-id: %s\r\nwebhook-timestamp: %d\r\nwebhook-signature: %s\r\n\r\n"
                % (len(body), msg_id.encode(), timestamp, sign(secret, msg_id, timestamp, body).encode()))

    async def post(self, body: bytes, secret: str) -> int | None:
        self.tally.requests += 1
        try:
            writer = await self.connected()
            writer.write(self.head(body, secret) + body)
            await writer.drain()
            status, close = await self.answer()
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, close = None, True
        self.tally.statuses[status if status is not None else "reset"] += 1
        if close:
            await self.close()
        return status

    async def answer(self) -> tuple[int, bool]:
        assert self.reader is not None
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if length:
            await self.reader.readexactly(int(length.group(1)))
        return status, re.search(rb"(?i)\r\nconnection: *close", head) is not None

    async def connected(self) -> asyncio.StreamWriter:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self.writer

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


def send_for(port: int, secret: str, other_secret: str, senders: int, seconds: float) -> Tally:
    """`senders` clients sending to the listener on `port` for `seconds`; what they sent and were answered."""
    templates, tally = Templates(), Tally()

    async def run() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(Sender(port, secret, other_secret, templates, tally, seed).run(until) for seed in range(senders)))

    asyncio.run(run())
    return tally
