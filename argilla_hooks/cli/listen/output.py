"""What `hooks listen` prints: a banner and one entry per delivery, as terminal lines, plain text or JSON lines."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import stat
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import IO, TYPE_CHECKING, Any, Callable, Optional

from argilla_hooks.cli.output import local_time, new_console, short_events, visible
from argilla_hooks.urls import hide_userinfo, http_url

if TYPE_CHECKING:
    from argilla_hooks.receiver.report import DeliveryReport


@dataclass(frozen=True)
class Ready:
    """What a listener that is ready does, for the banner and the `ready` JSON line."""

    host: str
    port: int
    path: str
    verify: bool
    secrets: int
    events: list[str]
    handlers: list[str]
    forward_to: list[str]
    webhook_id: Optional[str] = None
    registered: bool = False
    exit_after: Optional[int] = None
    secret_source: str = "--secret"  # where the secrets came from, for what a 401 should be compared with
    # Each `@rg.webhook_listener` served: handler, path, url, webhook_id (of the webhook its decorator registered), events
    sdk_listeners: list[dict[str, Any]] = field(default_factory=list)
    queue: Optional[str] = None  # the Redis URL events are stored in, with --queue

    @property
    def url(self) -> str:
        return http_url(self.host, self.port, self.path)

    @property
    def shown_forward_to(self) -> list[str]:
        """The forward targets as output shows them: a password in one is not."""
        return [hide_userinfo(url) for url in self.forward_to]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "ready",
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "verify": self.verify,
            "events": self.events,
            "handlers": self.handlers,
            "forward_to": self.shown_forward_to,
            "webhook_id": self.webhook_id,
            "registered": self.registered,
            "sdk_listeners": self.sdk_listeners,
            "queue": None if self.queue is None else hide_userinfo(self.queue),
        }


def describe_resource(event_type: Optional[str], data: Optional[dict[str, Any]]) -> str:
    """`my-dataset`, `record 1a2b3c4d in my-dataset`, `response 5e6f… by ann on record 1a2b…`, from the payload."""
    if not isinstance(data, dict):
        return ""
    kind = (event_type or "").split(".")[0]

    def short(value: Any) -> str:
        return str(value)[:8] if value else "?"

    def dataset_name(dataset: Any) -> str:
        return str(dataset.get("name", short(dataset.get("id")))) if isinstance(dataset, dict) else "?"

    if kind == "ping":
        return f"from {data.get('agent', '?')} {data.get('version', '')}".rstrip()
    if kind == "dataset":
        return f"{dataset_name(data)} ({short(data.get('id'))})"
    if kind == "record":
        return f"record {short(data.get('id'))} in {dataset_name(data.get('dataset'))}"
    if kind == "response":
        user, record = data.get("user"), data.get("record")
        user, record = (user if isinstance(user, dict) else {}), (record if isinstance(record, dict) else {})
        return f"response {short(data.get('id'))} by {user.get('username', '?')} on record {short(record.get('id'))}"
    return short(data.get("id"))


class Printer:
    """Renders listener output; `stream` is the real stdout (user handlers' prints are sent to stderr in JSON mode)."""

    def __init__(self, stream: IO[str], *, as_json: bool, verbose: bool, show_data: bool) -> None:
        self.stream = stream
        self.as_json = as_json
        self.verbose = verbose
        self.show_data = show_data
        self.terminal = not as_json and stream.isatty()
        self.closed = False  # the reader of stdout went away (`hooks listen --json | head -1`), or it cannot be written
        self.write_error: Optional[str] = None  # why not, when that is not a reader gone (a full disk)
        self.on_closed: Optional[Callable[[], None]] = None
        self._console = None
        self._pending: list[str] = []
        self._secret_source = "--secret"
        if self.terminal:
            self._console = new_console(file=stream)

    # --- lifecycle ----------------------------------------------------------------------------

    def ready(self, info: Ready) -> None:
        """The banner (or `ready` line), once the listener accepts deliveries; then watch for the reader of stdout."""
        self._secret_source = info.secret_source
        self.watch_reader()
        if self.as_json:
            self._json(info.to_json())
            return
        mode = f"verifying signatures ({info.secrets} secret{'s' if info.secrets != 1 else ''})" if info.verify else "NOT verifying signatures (--no-verify)"
        lines = [
            f"hooks listen on {info.url}  {mode}",
            f"  events:   {short_events(info.events) if info.events else 'none'}",
            f"  handlers: {', '.join(info.handlers) if info.handlers else 'built-in printer'}",
        ]
        if info.queue:
            lines[-1] = f"  queue:    {hide_userinfo(info.queue)} (handlers run in `hooks work`)"
        if info.forward_to:
            lines.append(f"  forward:  {', '.join(info.shown_forward_to)}")
        if info.webhook_id:
            how = "registered for this session, deleted on exit" if info.registered else "existing webhook"
            lines.append(f"  webhook:  {info.webhook_id} ({how})")
        for listener in info.sdk_listeners:
            webhook = f"webhook {listener['webhook_id'][:8]}, " if listener["webhook_id"] else ""
            lines.append(f"  sdk:      {listener['handler']} at {listener['url']} ({webhook}{short_events(listener['events'])})")
        if info.exit_after:
            lines.append(f"  exits after {info.exit_after} handled event{'s' if info.exit_after != 1 else ''}")
        lines.append("Press Ctrl-C to stop." if self.terminal else "")
        lines = [visible(line) for line in lines]  # names and paths as typed: a byte that is not UTF-8 included
        if self._console is not None:
            self._console.print(lines[0], style="bold", markup=False)
            for line in lines[1:]:
                self._console.print(line, markup=False)
        else:
            self._lines([line for line in lines if line])

    def watch_reader(self) -> None:
        """On the running loop: stop as soon as the reader of a pipe goes away (`hooks listen --json | head -1`), not
        at the next write, which may be hours away. The write-only end of a pipe polls as an error then, and as
        nothing else ever (a terminal, a socket or a named pipe opened for reading too may also have input, so they
        are left to the next write)."""
        try:
            fd = self.stream.fileno()
            if not stat.S_ISFIFO(os.fstat(fd).st_mode) or fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_WRONLY:
                return
        except (AttributeError, ValueError, OSError):  # a stream with no descriptor (a test runner's capture)
            return
        loop = asyncio.get_running_loop()

        def reader_gone() -> None:
            loop.remove_reader(fd)
            self._stop_writing(None)

        blocking = os.get_blocking(fd)
        loop.add_reader(fd, reader_gone)
        # uvloop (libuv) makes a watched descriptor non-blocking: our writes to it would then stop short with EAGAIN
        # (an 8 MiB line was cut at 64 KiB), and so would those of every other process sharing the pipe.
        os.set_blocking(fd, blocking)

    def stopped(self, handled: int) -> None:
        if self.as_json:
            self._json({"kind": "stopped", "handled": handled})
        else:
            self._lines([f"stopped after {handled} handled event{'s' if handled != 1 else ''}"])

    # --- deliveries ---------------------------------------------------------------------------

    def delivery(self, report: "DeliveryReport", secret_source: Optional[str] = None) -> None:
        """One delivery's line; `secret_source` says where the secret that refused a 401 came from, when not from
        the options (an SDK listener's webhook)."""
        if self.as_json:
            # Lines of one event-loop turn go out in one write after the answers: a write per line costs a system
            # call, and with `def` handlers each call also hands the interpreter lock to a handler thread.
            self._pending.append(report.to_json_line())
            if len(self._pending) == 1:
                try:
                    asyncio.get_running_loop().call_soon(self._flush_pending)
                except RuntimeError:  # no loop running (a direct call): write at once
                    self._flush_pending()
            if self.verbose:
                self._tracebacks(report)  # on stderr: stdout stays JSON lines
            return
        now = local_time(datetime.now(timezone.utc), "%H:%M:%S")
        if report.kind == "rejected":
            # A wrong secret's 401 says where ours came from, never a secret; `hooks show ID` prints a fingerprint.
            source = secret_source or self._secret_source
            hint = f" (this listener verifies with {source})" if report.cause in ("wrong-secret", "other-webhook-secret") else ""
            self._emit(f"{now} ✗ rejected {report.status}: {report.reason}{hint}", "red")
            return
        parts = [now, "✓" if report.ok else "✗", report.type or "?", describe_resource(report.type, report.data)]
        parts.append("verified" if report.verified else "UNVERIFIED")
        parts.append(str(report.status) + (" (already handled)" if report.duplicate else ""))
        for handler in report.handlers:
            # The first line of the error only: one delivery, one line (a pydantic error runs to dozens); -v shows all.
            outcome = "ok" if handler.ok else f"FAILED {_first_line(handler.error)}"
            parts.append(f"{handler.name} {outcome} {handler.duration_ms:.1f}ms")
        for forward in report.forwards:
            parts.append(f"→ {hide_userinfo(forward.url)} {forward.status if forward.status is not None else forward.error}")
        show_data = (self.verbose or self.show_data) and report.data is not None
        if not self.terminal:
            # Piped: -v's headers and the payload join the line as compact JSON, so each delivery is one line for grep.
            if self.verbose:
                parts.append(json.dumps(report.all_headers(), ensure_ascii=False))
            if show_data:
                parts.append(json.dumps(report.data, ensure_ascii=False, default=str))
            show_data = False
        style = None if report.ok else "red"
        self._emit("  ".join(visible(p) for p in parts if p), style)  # visible: one line, whatever the sender wrote
        if self.verbose and self.terminal:
            for name, value in report.all_headers().items():
                self._emit(f"    {name}: {value}", "dim")
        if show_data:
            body = json.dumps(report.data, indent=2, ensure_ascii=False, default=str)
            self._emit("\n".join("    " + line for line in body.splitlines()), "dim" if self.verbose else None)
        if self.verbose:
            self._tracebacks(report)

    # --- plumbing -----------------------------------------------------------------------------

    def _flush_pending(self) -> None:
        if self._pending:
            lines, self._pending = self._pending, []
            self._write("\n".join(lines) + "\n")

    def _json(self, data: dict[str, Any]) -> None:
        self._flush_pending()
        self._write(json.dumps(data, ensure_ascii=False, default=str) + "\n")

    def _emit(self, text: str, style: Optional[str]) -> None:
        text = visible(text, multiline=True)  # names, reasons and headers come from whoever sent the request
        if self._console is not None:
            self._console.print(text, style=style, markup=False)
        else:
            self._lines([text])

    def _lines(self, lines: list[str]) -> None:
        self._write("".join(line + "\n" for line in lines))

    def _write(self, text: str) -> None:
        """Write and flush; once the reader is gone, stop writing and tell `on_closed` (the listener then stops)."""
        if self.closed:
            return
        try:
            try:
                self.stream.write(text)
            except UnicodeEncodeError:  # what this stream's encoding lacks, or no encoding has: escaped, still said
                self.stream.write(text.encode("ascii", "backslashreplace").decode("ascii"))
            self.stream.flush()
        except OSError as exc:
            self._stop_writing(None if isinstance(exc, BrokenPipeError) else exc.strerror or str(exc))

    def _stop_writing(self, error: Optional[str]) -> None:
        """The reader went away (`error` None), or stdout cannot be written (why): write no more, and tell on_closed."""
        if self.closed:
            return
        self.closed = True
        self.write_error = error
        # The buffered rest would fail again when Python flushes at exit, with a traceback: send it to /dev/null.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        if self.on_closed is not None:
            self.on_closed()

    @staticmethod
    def _tracebacks(report: "DeliveryReport") -> None:
        import traceback

        for handler in report.handlers:
            if handler.exception is not None:
                exc = handler.exception
                traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _first_line(text: Optional[str]) -> str:
    lines = (text or "").strip().splitlines() or [""]
    return lines[0] + (" …" if len(lines) > 1 else "")
