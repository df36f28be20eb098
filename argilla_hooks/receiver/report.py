"""What the receiver did with one request, handed to `on_report` for the CLI to print."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Optional

from argilla_hooks.urls import hide_userinfo
from argilla_hooks.receiver.payloads import format_event_timestamp
from argilla_hooks.receiver.handlers import Delivery, NotAnEvent


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
    was rejected or, for an event, why it was not run again. `data` is parsed from the body only when read.
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

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def data(self) -> Optional[dict[str, Any]]:
        """The event's `data`; None for a rejected request (or a signed body that turns out not to be JSON)."""
        if self.delivery is None:
            return None
        try:
            return self.delivery.data
        except NotAnEvent:
            return None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "rejected":
            return {"kind": "rejected", "status": self.status, "reason": self.reason}
        return {**self._event_json(), "data": self.data}

    def all_headers(self) -> dict[str, str]:
        """The request's headers; decoding them is left until asked, since only verbose output shows them."""
        return self.delivery.headers if self.delivery is not None else self.headers

    def to_json_line(self) -> str:
        """`to_json()` as one line of JSON text (no newline).

        For a verified body that Argilla wrote, the line is assembled from the body's own text: its `data` copied as
        sent (non-ASCII text stays \\u-escaped, as Argilla sent it) and its timestamp as written, which is the form
        `format_event_timestamp` gives. Parsing and re-encoding them is the largest cost of a JSON-lines listener.
        """
        delivery = self.delivery
        raw = delivery.data_text() if self.kind == "event" and self.verified and delivery is not None else None
        if raw is None or delivery is None:
            return _ENCODER.encode(self.to_json())
        handlers = ", ".join(
            f'{{"name": {_string(h.name)}, "ok": true, "duration_ms": {h.duration_ms!r}, "error": null}}'
            if h.ok
            else _ENCODER.encode(h.to_json())
            for h in self.handlers
        )
        forwards = _ENCODER.encode([f.to_json() for f in self.forwards]) if self.forwards else "[]"
        return (
            f'{{"kind": "event", "webhook_id": {_ENCODER.encode(self.webhook_id)}, "type": "{self.type}", '
            f'"timestamp": "{delivery.stamp}", "verified": true, "status": {self.status}, "handlers": [{handlers}], '
            f'"forwards": {forwards}, "data": {raw}}}'
        )

    def _event_json(self) -> dict[str, Any]:
        return {
            "kind": "event",
            "webhook_id": self.webhook_id,
            "type": self.type,
            "timestamp": None if self.timestamp is None else format_event_timestamp(self.timestamp),
            "verified": self.verified,
            "status": self.status,
            "handlers": [h.to_json() for h in self.handlers],
            "forwards": [f.to_json() for f in self.forwards],
        }


# Made once: json.dumps with options builds a new encoder on every call, a measurable cost per delivery.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)
_string = json.encoder.encode_basestring  # a str as JSON text, like _ENCODER (ensure_ascii=False)


def elapsed_ms(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, to the microsecond."""
    return int((time.perf_counter() - started) * 1e6) / 1000  # int() is several times cheaper than round()


def describe_error(exc: BaseException) -> str:
    """`ValueError: bad value`, or just the type name when the exception has no message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
