"""The delivery journal: every request a receiver answers, in a local SQLite database, to list, show and replay later.

Durable before the answer: `record()` returns once the row is committed, and the receiver answers after it. The file
is in WAL mode with `synchronous=NORMAL` (see journal_file.connect): a process that dies the moment after the answer
(SIGKILL, a crash) loses nothing.

Off the event loop, batched, out of the way: rows go to a writer process of their own (journal_file.py says why),
one transaction for all the rows that arrived while the previous batch was written (group commit); the event loop
only sends them through a pipe and waits, without blocking, for the writer's answer. Checkpoints run in a thread of
the writer, so no commit waits for their fsyncs. Bounded: each commit also deletes the rows older than the newest
`keep`, about as many as it added, so pruning never comes as one long pause. Several processes may write the same
file: SQLite locks it. bench/journal_throughput.py measures what this costs `hooks listen`.

Never stored: an API key (the values of headers that carry credentials are masked); bodies of refused requests past
MAX_REFUSED_BODY bytes (kept truncated).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import anyio
import anyio.lowlevel
import anyio.to_thread
import orjson

from argilla_hooks.journal_file import JournalError, ListenerInfo, NoJournal, PathLike, connect
from argilla_hooks.settings import DEFAULT_JOURNAL_KEEP

if TYPE_CHECKING:
    from argilla_hooks.receiver.report import DeliveryReport

__all__ = ["DEFAULT_KEEP", "Journal", "JournalError", "ListenerInfo", "NoJournal", "PathLike"]

DEFAULT_KEEP = DEFAULT_JOURNAL_KEEP
MAX_REFUSED_BODY = 64 * 1024
GATHERING_TURNS = 3
# After its writer process stopped (killed, crashed), a new one is started for the batches that come this many seconds
# later; those in between go unrecorded. (A writer that cannot start would otherwise cost a process a batch.)
RESTART_AFTER = 5.0
PIPE_SIZE = 1024 * 1024
# Header values never written to the journal: a client may send its credentials along (a proxy, a misconfigured tool).
MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-argilla-api-key", "x-api-key"})

logger = logging.getLogger("argilla_hooks.receiver")
_ids = random.Random()  # ids tell rows apart, no more: no need for os.urandom's system call a row


@dataclass
class _Batch:
    """Rows committed together. The task that adds the first row writes it, once the batch before is written."""

    rows: list[tuple[list[Any], Optional[bytes]]] = field(default_factory=list)
    written: anyio.Event = field(default_factory=anyio.Event)
    failed: Optional[BaseException] = None


class Journal:
    """Writes a receiver's deliveries to the SQLite file at `path`, keeping the newest `keep` (of all its writers).

    `open()` (optional: the first `record()` opens it) raises JournalError when the file cannot be used; `listener`
    may be set until the first row is written.
    """

    def __init__(self, path: PathLike, keep: int = DEFAULT_KEEP, listener: ListenerInfo = ListenerInfo()) -> None:
        if keep < 1:
            raise ValueError("keep must be a positive number of deliveries")
        self.path = Path(path).expanduser()
        self.keep = keep
        self.listener = listener
        self._writer: Optional[subprocess.Popen[bytes]] = None
        self._introduced = False  # the listener was sent to the writer
        self._answers = b""
        self._open: Optional[_Batch] = None  # the batch rows join; made by the first row (in the event loop)
        self._last: Optional[_Batch] = None  # the newest batch taken to be written
        self._warned = False  # that rows go unrecorded (said once until a batch is written again)
        self._stopped_at: Optional[float] = None  # when the writer process was found stopped

    def check(self) -> None:
        """JournalError unless the file can be a journal (made, empty, when it does not exist)."""
        connect(self.path, create=True).close()

    def open(self) -> None:
        """Check that the file can be a journal, then start its writer process."""
        if self._writer is not None:
            return
        self.check()
        # A session of its own: a Ctrl-C at the terminal must not stop it while the receiver finishes its deliveries.
        # It stops at the end of its input: when the receiver closes it, or dies.
        self._writer = subprocess.Popen(
            [sys.executable, "-m", "argilla_hooks.journal_file", str(self.path), str(self.keep)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, start_new_session=True,
        )  # fmt: skip
        assert self._writer.stdin is not None and self._writer.stdout is not None
        with contextlib.suppress(OSError):  # a batch in one write, not several and a wait (Linux only; 2 us a row)
            fcntl.fcntl(self._writer.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
        os.set_blocking(self._writer.stdin.fileno(), False)
        os.set_blocking(self._writer.stdout.fileno(), False)

    async def record(self, report: "DeliveryReport", body: Optional[bytes]) -> None:
        """Store one answered request; returns once it is committed. A journal that cannot be written is reported
        once (a warning on the `argilla_hooks.receiver` logger) and deliveries go on unrecorded; when it is written
        again (a new writer process after RESTART_AFTER), that is reported too."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch()
            batch.rows.append(_row(report, body))
            await self._write(batch)
        else:
            batch.rows.append(_row(report, body))
            await batch.written.wait()  # (each delivery waits for one event, once)
        if batch.failed is not None and not self._warned:
            self._warned = True
            logger.warning("the delivery journal %s cannot be written (%s); deliveries go on unrecorded", self.path, batch.failed)
        elif batch.failed is None and self._warned:
            self._warned = False
            logger.warning("the delivery journal %s is written again", self.path)

    async def _write(self, batch: _Batch) -> None:
        """Write `batch` once the batch before it is written; the rows that arrive until then join it. Shielded from
        cancellation (a server's shutdown): every later batch waits for this one, and the writer's answer to it must
        be read before the next one's."""
        with anyio.CancelScope(shield=True):
            before, self._last = self._last, batch
            if before is not None and not before.written.is_set():
                await before.written.wait()  # (meanwhile, the deliveries that came joined this batch)
            else:
                # The writer is idle: still, let the deliveries that are ready to be recorded join first, as a commit
                # costs about as much for 20 rows as for 2. Under load this made batches of 11-28 rows instead of 3-6
                # (median), for more deliveries per second; alone, a delivery waits three turns of the event loop.
                for _ in range(GATHERING_TURNS):
                    await anyio.lowlevel.checkpoint()
            self._open = None
            try:
                if self._writer is None:
                    if self._stopped_at is not None and time.monotonic() - self._stopped_at < RESTART_AFTER:
                        raise JournalError("its writer process stopped; a new one starts shortly")
                    await anyio.to_thread.run_sync(self.open)  # (starting a process takes milliseconds)
                await self._exchange(_encoded(batch.rows))
            except Exception as exc:  # noqa: BLE001 - JournalError, OSError: see record()
                batch.failed = exc
                if self._writer is not None and self._writer.poll() is not None:
                    self._stopped_at = time.monotonic()
                    await anyio.to_thread.run_sync(self.close)  # (the next batch starts a new writer)
            finally:
                batch.written.set()

    async def _exchange(self, batch: bytes) -> None:
        """Send a batch to the writer and wait for its answer, without blocking the event loop."""
        assert self._writer is not None and self._writer.stdin is not None and self._writer.stdout is not None
        if not self._introduced:
            info = orjson.dumps({"url": self.listener.url, "webhook_id": self.listener.webhook_id, "fingerprints": self.listener.fingerprints})
            batch = b"listener %d\n%s%s" % (len(info), info, batch)
            self._introduced = True
        pending = memoryview(batch)
        sink, source = self._writer.stdin.fileno(), self._writer.stdout.fileno()
        while pending:
            try:
                pending = pending[os.write(sink, pending) :]
            except BlockingIOError:
                await anyio.wait_writable(sink)
            except BrokenPipeError:
                raise JournalError(f"its writer process stopped (exit code {self._writer.wait()})") from None
        while b"\n" not in self._answers:
            await anyio.wait_readable(source)
            chunk = os.read(source, 4096)
            if not chunk:
                raise JournalError(f"its writer process stopped (exit code {self._writer.wait()})")
            self._answers += chunk
        answer, _, self._answers = self._answers.partition(b"\n")
        if answer != b"ok":
            raise JournalError(answer.decode(errors="replace").removeprefix("error "))

    def close(self) -> None:
        """Stop the writer once it has written what it was sent."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            self._introduced, self._answers = False, b""  # (a new writer is told who writes, and answers afresh)
            assert writer.stdin is not None and writer.stdout is not None
            writer.stdin.close()
            try:
                writer.wait(10)
            except subprocess.TimeoutExpired:
                writer.kill()
                writer.wait()
            writer.stdout.close()

    async def aclose(self) -> None:
        if self._last is not None:
            await self._last.written.wait()
        await anyio.to_thread.run_sync(self.close)


def _encoded(rows: list[tuple[list[Any], Optional[bytes]]]) -> bytes:
    """A batch as the writer reads it (journal_file.py): its rows as one JSON array, then their bodies."""
    encoded = _dumps([[*columns, -1 if body is None else len(body)] for columns, body in rows])
    bodies = b"".join(body for _, body in rows if body is not None)
    return b"batch %d %d\n%s%s" % (len(encoded), len(bodies), encoded, bodies)


def _row(report: "DeliveryReport", body: Optional[bytes]) -> tuple[list[Any], Optional[bytes]]:
    """One delivery's columns (journal_file.ROW_COLUMNS), and its body."""
    headers = [[name, "***" if name in MASKED_HEADERS else value] for name, value in report.all_headers().items()]
    truncated = False
    if report.kind == "event":
        delivery = report.delivery
        raw = delivery.raw if delivery is not None else {}
        data_id = raw.get("data", {}).get("id")
        # (queued: stored for `hooks work` by a `--queue` receiver, which runs no handler itself)
        verdict = "duplicate" if report.duplicate else "queued" if report.queued else "handled" if report.ok else "failed"
        kind, stamp = report.type, raw.get("timestamp")
    else:
        verdict, kind, stamp, data_id = "rejected", None, None, None
        if body is not None and len(body) > MAX_REFUSED_BODY:
            body, truncated = body[:MAX_REFUSED_BODY], True
        elif body is not None:
            kind, stamp, data_id = _peek(body)
    failures = [h.error for h in report.handlers if not h.ok] + [f.error for f in report.forwards if not f.ok]
    columns = [
        f"{_ids.getrandbits(64):016x}", time.time(), report.status, verdict, report.reason, report.cause, kind, stamp,
        None if data_id is None else str(data_id), report.webhook_id, int(report.replay), int(report.verified),
        failures[0] if failures else None, [h.to_json() for h in report.handlers], [f.to_json() for f in report.forwards],
        headers, int(truncated),
    ]  # fmt: skip
    return columns, body


def _dumps(columns: Any) -> bytes:
    """`columns` as JSON, whatever text a sender put in them: orjson refuses a lone surrogate ("\\ud800", which a
    JSON parser accepts and no UTF-8 can carry) and integers beyond 64 bits; json writes them, the surrogate as "?"."""
    try:
        return orjson.dumps(columns)
    except orjson.JSONEncodeError:
        return json.dumps(columns, ensure_ascii=False, default=str).encode("utf-8", "replace")


def _peek(body: bytes) -> tuple[Optional[str], Optional[str], Any]:
    """The type, timestamp and data.id of a refused body, when it reads as an event (to list and replay it)."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        return None, None, None
    kind, stamp = event.get("type"), event.get("timestamp")
    return (kind if isinstance(kind, str) else None), (stamp if isinstance(stamp, str) else None), event["data"].get("id")
