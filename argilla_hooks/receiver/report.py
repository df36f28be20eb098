"""What the receiver did with one request, handed to `on_report` for the CLI to print."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Optional

from argilla_hooks.payloads import format_event_timestamp


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
            "url": self.url,
            "status": self.status,
            "ok": self.ok,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass(slots=True)
class DeliveryReport:
    """One request's outcome: an accepted `event` (whatever its handlers did) or a `rejected` request.

    `duplicate` is True (and `handlers`/`forwards` empty) for an event already handled; `reason` says why a request
    was rejected or, for an event, why it was not run again.
    """

    kind: Literal["event", "rejected"]
    status: int
    webhook_id: Optional[str] = None
    type: Optional[str] = None
    timestamp: Optional[datetime] = None
    verified: bool = False
    handlers: list[HandlerResult] = field(default_factory=list)
    forwards: list[ForwardResult] = field(default_factory=list)
    data: Optional[dict[str, Any]] = None
    headers: dict[str, str] = field(default_factory=dict)
    reason: Optional[str] = None
    duplicate: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        if self.kind == "rejected":
            return {"kind": "rejected", "status": self.status, "reason": self.reason}
        return {
            "kind": "event",
            "webhook_id": self.webhook_id,
            "type": self.type,
            "timestamp": None if self.timestamp is None else format_event_timestamp(self.timestamp),
            "verified": self.verified,
            "status": self.status,
            "handlers": [h.to_json() for h in self.handlers],
            "forwards": [f.to_json() for f in self.forwards],
            "data": self.data,
        }


def elapsed_ms(started: float) -> float:
    """Milliseconds since a `time.perf_counter()` reading, to the microsecond."""
    return round((time.perf_counter() - started) * 1000, 3)


def describe_error(exc: BaseException) -> str:
    """`ValueError: bad value`, or just the type name when the exception has no message."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
