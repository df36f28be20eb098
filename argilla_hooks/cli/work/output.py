"""What `hooks work` prints: a banner, one line per entry settled, and on a terminal a status line kept at the bottom;
or, with --json, one JSON object per line (ready, entry, redis, stopped)."""

from __future__ import annotations

import json
import sys
import traceback
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, Callable, Optional

from argilla_hooks.cli import output
from argilla_hooks.cli.listen.output import describe_resource
from argilla_hooks.text import first_line
from argilla_hooks.urls import hide_userinfo

if TYPE_CHECKING:
    from rich.live import Live

    from argilla_hooks.cli.work.command import WorkConfig
    from argilla_hooks.queue.connection import Check
    from argilla_hooks.queue.reports import EntryReport, Tally

_MARKS = {"done": "✓", "skipped": "·", "retry": "✗", "dead": "✗", "given_back": "↩", "lost": "!", "trimmed": "!"}


class WorkPrinter:
    """Renders worker output on `stream` (the real stdout: in JSON mode handlers' prints go to stderr)."""

    def __init__(self, stream: IO[str], *, as_json: bool, verbose: bool) -> None:
        self.stream, self.as_json, self.verbose = stream, as_json, verbose
        self.terminal = not as_json and stream.isatty()
        self.closed = False  # the reader of stdout went away
        self.on_closed: Callable[[], None] = lambda: None
        self._live: Optional["Live"] = None
        self._redis_error: Optional[str] = None

    def ready(self, config: "WorkConfig", consumer: str, handlers: list[str], checks: list["Check"]) -> None:
        if self.as_json:
            self._json({
                "kind": "ready", "redis": hide_userinfo(config.url), "group": config.group, "consumer": consumer,
                "handlers": handlers, "concurrency": config.concurrency, "max_attempts": config.max_attempts,
                "claim_idle": config.claim_idle, "checks": [c.to_json() for c in checks],
            })  # fmt: skip
            return
        self._line(f"hooks work on {hide_userinfo(config.url)}  group {config.group} as {consumer}")
        self._line(f"  handlers: {', '.join(handlers)}")
        self._line(f"  {config.concurrency} at a time, up to {config.max_attempts} attempts, takes over entries idle {config.claim_idle:g} s")
        if self.terminal and not output.no_escape_codes():  # (the status line is redrawn with cursor escapes)
            from rich.live import Live
            from rich.text import Text

            waiting = Text("waiting for entries · Redis ok", style="dim")  # until the first one changes the tally
            self._live = Live(waiting, console=output.new_console(file=self.stream), refresh_per_second=4, transient=True)
            self._live.start()

    def entry(self, report: "EntryReport") -> None:
        if self.verbose:
            for handler in report.handlers:
                if handler.exception is not None:
                    exc = handler.exception
                    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        if self.as_json:
            self._write(report.to_json_line() + "\n")
            return
        now = output.local_time(datetime.now(timezone.utc), "%H:%M:%S")
        parts = [now, _MARKS[report.outcome], report.outcome.replace("_", " "), report.type or "?", describe_resource(report.type, report.data)]
        if report.outcome in ("retry", "dead", "done") and report.attempt > 1:
            parts.append(f"attempt {report.attempt}")
        parts += [f"{h.name} {'ok' if h.ok else 'FAILED'} {h.duration_ms:.1f}ms" for h in report.handlers]
        if report.delay is not None:
            parts.append(f"next attempt in {report.delay:g} s")
        if report.error and report.outcome != "retry":
            parts.append(first_line(report.error))
        self._line("  ".join(output.visible(p) for p in parts if p))

    def status(self, tally: "Tally") -> None:
        if (tally.redis_error is None) != (self._redis_error is None):  # Redis went away, or came back
            self._redis_error = tally.redis_error
            if self.as_json:
                self._json({"kind": "redis", "ok": tally.redis_error is None, "error": tally.redis_error})
            elif tally.redis_error is not None:
                output.warn(f"{tally.redis_error} (trying again)")
            else:
                output.info("Redis is back")
        if self._live is not None:
            from rich.text import Text

            redis = f"Redis: {tally.redis_error}" if tally.redis_error else "Redis ok"
            line = f"{tally.in_flight} running · {tally.done} done · {tally.retries} retries · {tally.dead} dead · {redis}"
            self._live.update(Text(line, style="red" if tally.redis_error else "dim"))

    def stopped(self, tally: "Tally") -> None:
        self.close()
        if self.as_json:
            self._json({"kind": "stopped", **tally.to_json()})
        else:
            self._line(f"stopped: {tally.done} done, {tally.retries} retries, {tally.dead} dead, {tally.given_back} given back")

    def close(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _json(self, data: dict[str, Any]) -> None:
        self._write(json.dumps(data, ensure_ascii=False) + "\n")

    def _line(self, text: str) -> None:
        if self._live is not None:
            self._live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self._write(text + "\n")

    def _write(self, text: str) -> None:
        if self.closed:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (BrokenPipeError, ValueError):
            self.closed = True
            self.on_closed()
