"""What the receiver did with one request, handed to `on_report` for the CLI to print."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Literal, Optional

import orjson

from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.receiver.payloads import format_event_timestamp
from argilla_hooks.urls import hide_userinfo

Reporter = Callable[["DeliveryReport"], None]
logger = logging.getLogger("argilla_hooks.receiver")


@dataclass(slots=True)
class HandlerResult:
    name: str
    ok: bool
    duration_ms: float
    error: Optional[str] = None
    # The exception itself, for a traceback in verbose output; not part of the JSON.
    exception: Optional[BaseException] = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "duration_ms": self.duration_ms, "error": self.error}


@dataclass(slots=True)
class ForwardResult:
    url: str
    status: Optional[int]  # None when the target could not be reached
    ok: bool
    duration_ms: float
    error: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": hide_userinfo(self.url),  # a password in a target's URL is not output
            "status": self.status,
            "ok": self.ok,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass(slots=True)
class DeliveryReport:
    """One request's outcome: an accepted `event` (whatever its handlers did) or a `rejected` request.

    `duplicate` is True (and `handlers`/`forwards` empty) for an event already handled; `reason` says why a request
    was rejected or, for an event, why it was not run again, and `cause` names why a 401 was (see explain.py).
    `replay` is True for a delivery that `hooks deliveries replay` re-sent, which runs the handlers again.
    """

    kind: Literal["event", "rejected"]
    status: int
    webhook_id: Optional[str] = None
    type: Optional[str] = None
    timestamp: Optional[datetime] = None
    verified: bool = False
    handlers: list[HandlerResult] = field(default_factory=list)
    forwards: list[ForwardResult] = field(default_factory=list)
    # Only for a rejected request; an event's come from `delivery`, decoded when someone asks (see all_headers).
    headers: dict[str, str] = field(default_factory=dict)
    reason: Optional[str] = None
    duplicate: bool = False
    delivery: Optional[Delivery] = field(default=None, repr=False)
    queued: Optional[str] = None  # the delivery's id in the queue, when a queue took it (status 202)
    cause: Optional[str] = None
    replay: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Optional[dict[str, Any]]:
        """The event's `data`; None for a rejected request."""
        return None if self.delivery is None else self.delivery.data

    def all_headers(self) -> dict[str, str]:
        """The request's headers; decoding them is left until asked, since only verbose output shows them."""
        return self.delivery.headers if self.delivery is not None else self.headers

    def to_json(self) -> dict[str, Any]:
        if self.kind == "rejected":
            rejected = {"kind": "rejected", "status": self.status, "reason": self.reason}
            return rejected if self.cause is None else {**rejected, "cause": self.cause}
        event = {
            "kind": "event",
            "webhook_id": self.webhook_id,
            "type": self.type,
            "timestamp": None if self.timestamp is None else format_event_timestamp(self.timestamp),
            "verified": self.verified,
            "status": self.status,
            "duplicate": self.duplicate,
            "replay": self.replay,
            "handlers": [h.to_json() for h in self.handlers],
            "forwards": [f.to_json() for f in self.forwards],
            "data": self.data,
        }
        if self.queued is not None:
            event["queued"] = self.queued
        return event

    def to_json_line(self) -> str:
        """`to_json()` as one line of JSON text (no newline), whatever text the delivery carried; never raises."""
        report = self.to_json()
        try:
            return orjson.dumps(report).decode()
        except orjson.JSONEncodeError:
            pass
        # orjson refuses what JSON parsers accept and json.dumps writes: a lone surrogate ("\ud800", which no UTF-8
        # stream can take either, so the line is escaped to ASCII), an integer beyond 64 bits, deep nesting.
        try:
            return json.dumps(report, ensure_ascii=True)
        except (ValueError, RecursionError):
            return json.dumps({**report, "data": None}, ensure_ascii=True)  # nested deeper than json can write


def elapsed_ms(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, to the microsecond."""
    return int((time.perf_counter() - started) * 1e6) / 1000  # int() is several times cheaper than round()


def describe_error(exc: BaseException) -> str:
    """`ValueError: bad value`, or just the type name when the exception has no message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def guarded(on_report: Reporter) -> Reporter:
    """`on_report`, its exceptions logged rather than raised: whatever printing or counting a report does, it must fail
    neither the delivery (answered already) nor the reports after it, nor reach the server as an ASGI error."""

    def report(delivery_report: DeliveryReport) -> None:
        try:
            on_report(delivery_report)
        except Exception:
            logger.exception("reporting a delivery failed")

    return report
