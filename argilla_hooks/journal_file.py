"""The delivery journal's SQLite file: its schema, opening it, and the process that writes it.

The receiver (receiver/journal.py) sends its rows here, to a process of their own (`python -m
argilla_hooks.journal_file PATH KEEP`): SQLite's calls give up the interpreter lock and take it back twice each, and
in the receiver's process every one of those handoffs came at the event loop's expense (a commit of an empty
transaction a batch cost `hooks listen` a tenth of its deliveries per second). Here they cost nothing to anyone.

The protocol, on the process's stdin and stdout: `listener LENGTH\\n` and that many bytes of JSON (the listener's
url, webhook_id and fingerprints), once, before its first rows; then batches: `batch ROWS-LENGTH BODIES-LENGTH\\n`,
the rows as one JSON array of arrays (each the columns of ROW_COLUMNS, `handlers`, `forwards` and `headers` as JSON
values, then the length of its body, -1 for none), then the bodies one after the other. Each batch is one transaction, which also deletes the rows older than the newest KEEP;
once it is committed the process answers `ok\\n`, or `error MESSAGE\\n`. It stops at the end of its input, an
incomplete batch (the receiver died while sending) included.

The standard library and orjson only: the process starts in about 40 ms.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
from typing import IO, Any, Optional, Union

PathLike = Union[str, "os.PathLike[str]"]
SCHEMA_VERSION = 1
BUSY_TIMEOUT = 10.0  # seconds a write waits for another process's
CHECKPOINT_EVERY = 0.5  # seconds
WAL_PAGES_BEFORE_THE_WRITER_CHECKPOINTS = 16384  # 64 MiB
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
    body_truncated INTEGER NOT NULL,
    body BLOB
);
"""
# The columns a row is sent with, in order, before its body.
ROW_COLUMNS = (
    "id", "received_at", "status", "verdict", "reason", "cause", "type", "event_timestamp", "resource_id",
    "webhook_id", "replay", "verified", "error", "handlers", "forwards", "headers", "body_truncated",
)  # fmt: skip
_JSON_COLUMNS = tuple(ROW_COLUMNS.index(name) for name in ("handlers", "forwards", "headers"))
_PLACEHOLDERS = f"(?, {', '.join('?' * len(ROW_COLUMNS))}, ?)"
_INSERT = f"INSERT INTO deliveries (listener, {', '.join(ROW_COLUMNS)}, body) VALUES "
MAX_ROWS_PER_INSERT = 500  # (SQLite takes up to 32,766 parameters a statement)


class JournalError(Exception):
    """A journal that cannot be opened, written or read (a path that is not a writable file, not a journal)."""


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
    """A connection to the journal at `path` in WAL mode, its tables made when `create`; JournalError when it cannot.

    WAL with `synchronous=NORMAL`: a commit is in the WAL file when it returns, which no crash of a process undoes;
    an operating-system crash or a power cut may lose the last commits (`FULL` would cost an fsync a commit).
    """
    path = Path(path).expanduser()
    try:
        if create:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private from the start: it holds bodies
        elif not path.exists():
            raise NoJournal(f"no journal at {path}: `hooks listen` writes one (unless --no-journal)")
        elif not path.is_file():
            raise JournalError(f"{path} is not a journal: it is not a file")
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    except OSError as exc:
        raise JournalError(f"cannot open the journal {path}: {exc.strerror or exc}") from None
    except sqlite3.Error as exc:
        raise JournalError(f"cannot open the journal {path}: {exc}") from None
    try:
        _use_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA journal_size_limit=16777216")
        db.execute("PRAGMA secure_delete=FAST")  # (this SQLite zeroes freed pages by default: a page write a pruned row)
        if create:
            _create_schema(db)
        elif db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            raise JournalError(f"{path} is not a journal of this version of argilla-hooks")
    except sqlite3.Error as exc:
        db.close()
        raise JournalError(f"cannot use the journal {path}: {exc}") from None
    except JournalError:
        db.close()
        raise
    return db


def _use_wal(db: sqlite3.Connection) -> None:
    """WAL mode. Turning a new file to WAL needs it alone, and SQLite does not wait for that (no busy handler):
    when several listeners open a new journal at once, all but one are refused "database is locked" for a moment."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _create_schema(db: sqlite3.Connection) -> None:
    """The tables, made once however many listeners open a new file at the same moment. The write lock is taken
    first (BEGIN IMMEDIATE, which waits for it): a statement that read the file, then found another process had
    written it when it came to write, would fail at once, "database is locked", without waiting."""
    if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class _Checkpoints:
    """Copies the WAL into the database file every CHECKPOINT_EVERY seconds, in a thread and connection of its own,
    so that no commit (and no delivery waiting for one) waits for a checkpoint's fsyncs; SQLite's own checkpoints
    run inside the commit that fills the WAL, which the writer then does only past a large WAL."""

    def __init__(self, path: PathLike) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: PathLike) -> None:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(CHECKPOINT_EVERY):
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for the writer, nor it for this
        finally:
            db.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def write(path: PathLike, keep: int, requests: IO[bytes], answers: IO[bytes]) -> None:
    """The writer process's work: batches from `requests` into the journal at `path`, an answer for each."""
    db = connect(path, create=True)
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_BEFORE_THE_WRITER_CHECKPOINTS}")
    checkpoints = _Checkpoints(path)
    listener: Optional[int] = None
    try:
        while header := requests.readline():
            kind, _, count = header.partition(b" ")
            if kind == b"listener":
                listener = _add_listener(db, json.loads(requests.read(int(count))))
                continue
            rows = _read_batch(requests, header)
            if rows is None:
                return  # the receiver died while sending: nothing of this batch was answered
            try:
                _store(db, listener, rows, keep)
                answers.write(b"ok\n")
            except sqlite3.Error as exc:
                answers.write(b"error " + " ".join(str(exc).split()).encode() + b"\n")
            answers.flush()
    finally:
        checkpoints.stop()
        db.close()


def _read_batch(requests: IO[bytes], header: bytes) -> Optional[list[list[Any]]]:
    """The rows of a batch, each its columns then its body; None when the input ends before the batch does."""
    rows_length, bodies_length = (int(n) for n in header.split()[1:])
    encoded, bodies = requests.read(rows_length), requests.read(bodies_length)
    if len(encoded) != rows_length or len(bodies) != bodies_length:
        return None
    rows, start = _loads(encoded), 0
    for row in rows:
        for index in _JSON_COLUMNS:  # stored as JSON text (encoded here: the receiver has better to do)
            row[index] = _json_text(row[index])
        length = row[-1]
        row[-1] = None if length < 0 else bodies[start : start + length]
        start += max(length, 0)
    return rows


def _loads(encoded: bytes) -> Any:
    # orjson reads several times faster; what it refuses (a lone surrogate "\ud800", which json.dumps wrote for the
    # receiver) json reads.
    try:
        return orjson.loads(encoded)
    except orjson.JSONDecodeError:
        return json.loads(encoded)


def _json_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # (as above, and integers beyond 64 bits)
        return json.dumps(value, ensure_ascii=False)


def _add_listener(db: sqlite3.Connection, info: dict[str, Any]) -> Optional[int]:
    return db.execute(
        "INSERT INTO listeners (started_at, pid, hostname, url, webhook_id, fingerprints) VALUES (?, ?, ?, ?, ?, ?)",
        (time.time(), os.getppid(), socket.gethostname(), info.get("url"), info.get("webhook_id"), ",".join(info.get("fingerprints", []))),
    ).lastrowid


def _store(db: sqlite3.Connection, listener: Optional[int], rows: list[list[Any]], keep: int) -> None:
    """One transaction: the rows, in one INSERT, and as many of the oldest deleted as keep the newest `keep`."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
            chunk = rows[start : start + MAX_ROWS_PER_INSERT]
            db.execute(_INSERT + ", ".join([_PLACEHOLDERS] * len(chunk)), [v for row in chunk for v in (listener, *row)])
        db.execute("DELETE FROM deliveries WHERE seq <= last_insert_rowid() - ?", (keep,))
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # (SQLite has rolled back itself after some errors, a full disk among them)
            db.execute("ROLLBACK")
        raise


if __name__ == "__main__":
    try:
        write(sys.argv[1], int(sys.argv[2]), sys.stdin.buffer, sys.stdout.buffer)
    except (JournalError, KeyboardInterrupt) as exc:
        sys.exit(f"journal writer: {exc}")
