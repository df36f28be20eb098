"""The delivery journal: every request a receiver answers, in a local SQLite database, to list, show and replay later.

Durable before the answer: `record()` returns once the row is committed, and the receiver answers after it. SQLite in
WAL mode with `synchronous=NORMAL` writes each commit into the WAL file before returning, so a process that dies the
moment after (SIGKILL, a crash) loses nothing; only an operating-system crash or a power cut may lose the last
commits, which `synchronous=FULL` would also cover at the price of an fsync per commit.

Off the event loop, batched: rows go to SQLite in a worker thread (anyio's), one transaction and one INSERT for all
the rows that arrived while the previous batch was written (group commit), so the loop never waits on the disk and a
busy receiver pays one thread hop and one commit per batch. Checkpoints (copying the WAL into the database, with their
fsyncs) run in a thread of their own, so no commit waits for them. Bounded: each commit also deletes the rows older
than the newest `keep`, about as many as it added, so pruning never comes as one long pause; with `secure_delete=FAST`
that costs next to nothing. Several processes may write the same file: SQLite locks it, and a writer waits up to
BUSY_TIMEOUT for another. bench/journal_throughput.py measures what this costs `hooks listen`.

Never stored: an API key (the values of headers that carry credentials are masked); bodies of refused requests past
MAX_REFUSED_BODY bytes (kept truncated).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Union

import anyio
import anyio.lowlevel
import anyio.to_thread
import orjson

from argilla_hooks.settings import DEFAULT_JOURNAL_KEEP

if TYPE_CHECKING:
    from argilla_hooks.receiver.report import DeliveryReport

DEFAULT_KEEP = DEFAULT_JOURNAL_KEEP
MAX_REFUSED_BODY = 64 * 1024
BUSY_TIMEOUT = 10.0  # seconds a write waits for another process's
CHECKPOINT_EVERY = 0.5  # seconds
WAL_PAGES_BEFORE_THE_WRITER_CHECKPOINTS = 16384  # 64 MiB
GATHERING_TURNS = 3
# Header values never written to the journal: a client may send its credentials along (a proxy, a misconfigured tool).
MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-argilla-api-key", "x-api-key"})
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS listeners (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    pid INTEGER NOT NULL,
    hostname TEXT NOT NULL,
    url TEXT,
    webhook_id TEXT,
    fingerprints TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    listener INTEGER,
    received_at REAL NOT NULL,
    status INTEGER NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT,
    cause TEXT,
    type TEXT,
    event_timestamp TEXT,
    resource_id TEXT,
    webhook_id TEXT,
    replay INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    error TEXT,
    handlers TEXT NOT NULL,
    forwards TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB,
    body_truncated INTEGER NOT NULL
);
"""
_COLUMNS = (
    "id, listener, received_at, status, verdict, reason, cause, type, event_timestamp, resource_id, webhook_id, replay, "
    "verified, error, handlers, forwards, headers, body, body_truncated"
)
_ROW_PLACEHOLDERS = f"({', '.join('?' * len(_COLUMNS.split(', ')))})"
_INSERT_ROWS = f"INSERT INTO deliveries ({_COLUMNS}) VALUES "
MAX_ROWS_PER_INSERT = 500  # (SQLite takes up to 32,766 parameters a statement)

logger = logging.getLogger("argilla_hooks.receiver")
PathLike = Union[str, "os.PathLike[str]"]


class JournalError(Exception):
    """A journal that cannot be opened or read (a path that is not a writable file, a file that is not a journal)."""


class NoJournal(JournalError):
    """No journal at the path read (nothing was journaled there yet)."""


@dataclass(frozen=True)
class ListenerInfo:
    """Who writes the rows, for `replay` to find its way back: the URL it listens on, the webhook it verifies with
    (--webhook, --register), and the fingerprints of its secrets."""

    url: Optional[str] = None
    webhook_id: Optional[str] = None
    fingerprints: tuple[str, ...] = ()


def connect(path: PathLike, *, create: bool) -> sqlite3.Connection:
    """A connection to the journal at `path` in WAL mode, its tables made when `create`; JournalError when it cannot."""
    path = Path(path).expanduser()
    try:
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private from the start: it holds bodies
        elif not path.is_file():
            raise NoJournal(f"no journal at {path}: `hooks listen` writes one (unless --no-journal)")
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    except OSError as exc:
        raise JournalError(f"cannot open the journal {path}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from None
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")  # durable against a process crash; see the module's docstring
        db.execute("PRAGMA journal_size_limit=16777216")
        db.execute("PRAGMA secure_delete=FAST")
        if create:
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        elif db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise JournalError(f"{path} is not a journal of this version of argilla-hooks")
    except sqlite3.Error as exc:
        db.close()
        raise JournalError(f"cannot use the journal {path}: {exc}") from None
    except JournalError:
        db.close()
        raise
    return db


class _Checkpoints:
    """Copies the WAL into the database file every CHECKPOINT_EVERY seconds, in a thread and connection of its own,
    so that no commit, and no delivery waiting for one, waits for the fsyncs of a checkpoint. (SQLite's automatic
    checkpoint runs inside the commit that fills the WAL: one delivery in a thousand waited some 10 ms.)"""

    def __init__(self, path: Path) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(path,), name="argilla-hooks journal checkpoints", daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for writers (nor they for it)
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class _Batch:
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    done: bool = False
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
        self._db: Optional[sqlite3.Connection] = None
        self._checkpoints: Optional[_Checkpoints] = None
        self._listener_id: Optional[int] = None
        self._open = _Batch()
        self._writing = False
        self._written: Optional[anyio.Event] = None  # set when the batch being written is done
        self._warned = False

    def open(self) -> None:
        if self._db is None:
            self._db = connect(self.path, create=True)
            # The writer checkpoints only past a large WAL: a writer that keeps _Checkpoints from ever catching up.
            self._db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BEFORE_THE_WRITER_CHECKPOINTS}")
            self._checkpoints = _Checkpoints(self.path)

    async def record(self, report: "DeliveryReport", body: Optional[bytes]) -> None:
        """Store one answered request; returns once it is committed. A journal that cannot be written is reported
        once (a warning on the `argilla_hooks.receiver` logger) and deliveries go on unrecorded."""
        batch = self._open
        batch.rows.append(_row(report, body))
        while not batch.done:
            if self._writing:
                assert self._written is not None
                await self._written.wait()
            else:
                await self._write()
        if batch.failed is not None and not self._warned:
            self._warned = True
            logger.warning("the delivery journal %s cannot be written (%s); deliveries go on unrecorded", self.path, batch.failed)

    async def _write(self) -> None:
        """Write the open batch (in a worker thread); rows that arrive meanwhile make the next one."""
        written = self._written = anyio.Event()
        self._writing = True
        # First let the deliveries that are ready to be recorded join the batch: a commit costs about as much for 20
        # rows as for 2. Under load this made batches of 11-28 rows instead of 3-6 (median), for more deliveries per
        # second; alone, a delivery waits three turns of the event loop, a few microseconds.
        for _ in range(GATHERING_TURNS):
            await anyio.lowlevel.checkpoint()
        batch, self._open = self._open, _Batch()
        try:
            await anyio.to_thread.run_sync(self._store, batch.rows)
        except Exception as exc:  # noqa: BLE001 - sqlite3.Error, OSError, JournalError: see record()
            batch.failed = exc
        finally:
            batch.done, self._writing = True, False
            written.set()

    def _store(self, rows: list[tuple[Any, ...]]) -> None:
        self.open()
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")  # one transaction for the batch and its share of the pruning
        try:
            if self._listener_id is None:  # (on the first write: `listener` may be set until then)
                info = self.listener
                self._listener_id = db.execute(
                    "INSERT INTO listeners (started_at, pid, hostname, url, webhook_id, fingerprints) VALUES (?, ?, ?, ?, ?, ?)",
                    (time.time(), os.getpid(), socket.gethostname(), info.url, info.webhook_id, ",".join(info.fingerprints)),
                ).lastrowid
            listener = self._listener_id
            # One statement for the batch: each statement gives up and takes back the interpreter lock, which the
            # event loop holds most of the time; a statement per row waited for it once per row.
            for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
                chunk = rows[start : start + MAX_ROWS_PER_INSERT]
                db.execute(_INSERT_ROWS + ", ".join([_ROW_PLACEHOLDERS] * len(chunk)), [v for row in chunk for v in (row[0], listener, *row[1:])])
            db.execute("DELETE FROM deliveries WHERE seq <= last_insert_rowid() - ?", (self.keep,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # (SQLite has rolled back itself after some errors, a full disk among them)
                db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        if self._db is not None:
            db, self._db = self._db, None
            db.close()  # (the last connection to close checkpoints the WAL and removes it)

    async def aclose(self) -> None:
        while self._writing:
            assert self._written is not None
            await self._written.wait()
        self.close()


def _row(report: "DeliveryReport", body: Optional[bytes]) -> tuple[Any, ...]:
    """The columns of one delivery but `listener` (the writer adds it), in _COLUMNS order."""
    headers = [[name, "***" if name in MASKED_HEADERS else value] for name, value in report.all_headers().items()]
    truncated = False
    if report.kind == "event":
        delivery = report.delivery
        raw = delivery.raw if delivery is not None else {}
        data_id = raw.get("data", {}).get("id")
        verdict = "duplicate" if report.duplicate else "handled" if report.ok else "failed"
        kind, stamp = report.type, raw.get("timestamp")
    else:
        verdict, kind, stamp, data_id = "rejected", None, None, None
        if body is not None and len(body) > MAX_REFUSED_BODY:
            body, truncated = body[:MAX_REFUSED_BODY], True
        elif body is not None:
            kind, stamp, data_id = _peek(body)
    failures = [h.error for h in report.handlers if not h.ok] + [f.error for f in report.forwards if not f.ok]
    return (
        secrets.token_hex(8), time.time(), report.status, verdict, report.reason, report.cause, kind, stamp,
        None if data_id is None else str(data_id), report.webhook_id, int(report.replay), int(report.verified),
        failures[0] if failures else None, orjson.dumps([h.to_json() for h in report.handlers]).decode(),
        orjson.dumps([f.to_json() for f in report.forwards]).decode(), orjson.dumps(headers).decode(), body, int(truncated),
    )  # fmt: skip


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
