"""What a worker did with each entry, handed to `on_report` for the CLI to print, and its running totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional

import orjson

from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.receiver.report import HandlerResult

# done: every wanted handler succeeded, acknowledged; retry: a handler failed, the entry runs again after `delay`;
# dead: moved to the dead letters (after the last attempt, or unreadable); skipped: redriven for another group;
# given_back: left for another worker at a stop; lost: another worker reclaimed it meanwhile (this one went silent
# past the claim idle time); trimmed: gone from the stream before it could be read (past the stream's cap).
Outcome = Literal["done", "retry", "dead", "skipped", "given_back", "lost", "trimmed"]


@dataclass(slots=True)
class EntryReport:
    entry_id: str
    outcome: Outcome
    attempt: int = 0
    type: Optional[str] = None
    event_key: Optional[list[Any]] = None
    handlers: list[HandlerResult] = field(default_factory=list)
    error: Optional[str] = None  # why it failed, was dead-lettered, lost or given back
    delay: Optional[float] = None  # seconds until the next attempt (retry)
    delivery: Optional[Delivery] = field(default=None, repr=False)

    @property
    def data(self) -> Optional[dict[str, Any]]:
        return None if self.delivery is None else self.delivery.data

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "entry",
            "id": self.entry_id,
            "outcome": self.outcome,
            "attempt": self.attempt,
            "type": self.type,
            "key": self.event_key,
            "handlers": [h.to_json() for h in self.handlers],
            "error": self.error,
            "delay": self.delay,
        }

    def to_json_line(self) -> str:
        return orjson.dumps(self.to_json()).decode()


@dataclass
class Tally:
    """A worker's totals so far; `in_flight` are entries it holds (running, or waiting for their next attempt)."""

    done: int = 0
    retries: int = 0
    dead: int = 0
    given_back: int = 0
    lost: int = 0
    in_flight: int = 0
    cut_short: int = 0  # entries still running when the grace after a stop ran out (given back)
    redis_error: Optional[str] = None  # the last Redis failure, while Redis is failing

    def count(self, report: EntryReport) -> None:
        if report.outcome == "done":
            self.done += 1
        elif report.outcome == "retry":
            self.retries += 1
        elif report.outcome == "dead":
            self.dead += 1
        elif report.outcome == "given_back":
            self.given_back += 1
        elif report.outcome in ("lost", "trimmed"):
            self.lost += 1

    def to_json(self) -> dict[str, Any]:
        return {"done": self.done, "retries": self.retries, "dead": self.dead, "given_back": self.given_back, "lost": self.lost}
