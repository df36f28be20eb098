"""The delivery journal: every answered request recorded before its answer, bounded, shared, never an API key."""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3

import anyio
import httpx
import pytest
from receiver_samples import event_body, new_secret, signed_headers

from argilla_hooks import create_app
from argilla_hooks.journal_file import JournalError, ListenerInfo, connect
from argilla_hooks.receiver import journal as journal_module
from argilla_hooks.receiver.journal import Journal
from argilla_hooks.receiver.journal_reader import AmbiguousDeliveryId, DeliveryNotFound, JournalReader

pytestmark = pytest.mark.anyio


def entries(path, n=100, **filters):
    with JournalReader(path) as reader:
        return reader.newest(n, **filters)


async def test_an_event_is_recorded_with_its_outcome_body_and_headers(secret, deliver, tmp_path):
    path = tmp_path / "journal.sqlite3"

    def fails(type):
        raise RuntimeError("boom")

    app = create_app(handlers=[lambda type: None, fails], secrets=[secret], journal=path)
    body = event_body("record.completed")
    assert (await deliver(app, body, msg_id="msg_one")).status_code == 500
    [entry] = entries(path)
    assert (entry.status, entry.verdict, entry.type, entry.webhook_id, entry.verified) == (500, "failed", "record.completed", "msg_one", True)
    assert entry.resource_id == httpx.Response(200, content=body).json()["data"]["id"]
    assert [h["ok"] for h in entry.handlers] == [True, False] and entry.error == "RuntimeError: boom"
    with JournalReader(path) as reader:
        full = reader.get(entry.id[:6])
    assert full.body == body and dict(full.headers)["webhook-id"] == "msg_one"
    await app.aclose()


async def test_the_row_is_committed_before_the_answer_is_sent(secret, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    body = event_body()
    headers = [(k.encode(), v.encode()) for k, v in signed_headers(secret, body).items()]
    seen_at_answer = []
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive():
        return next(messages)

    async def send(message):
        if message["type"] == "http.response.start":
            # Another connection, as another process would read it: the row is there already.
            with sqlite3.connect(path) as other:
                seen_at_answer.append(other.execute("SELECT status FROM deliveries").fetchall())

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    await app(scope, receive, send)
    assert seen_at_answer == [[(204,)]]
    await app.aclose()


async def test_refusals_and_duplicates_are_recorded_too(secret, deliver, request_to, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    body = event_body()
    await deliver(app, body)
    await deliver(app, body)  # Argilla's retry: a new webhook-id, the same event
    await deliver(app, body, key=new_secret())
    await request_to(app, "GET", "/nowhere")
    newest_first = [(e.status, e.verdict, e.cause) for e in entries(path)]
    assert newest_first == [(404, "rejected", None), (401, "rejected", "wrong-secret"), (200, "duplicate", None), (204, "handled", None)]
    [refused] = entries(path, status=(401, 401))
    assert refused.type == "dataset.created" and refused.resource_id  # read from the refused body, to replay it
    assert [e.status for e in entries(path, rejected=True)] == [404, 401]
    assert [e.type for e in entries(path, type_glob="dataset.*")] == ["dataset.created"] * 3
    await app.aclose()


async def test_the_body_of_a_verified_request_refused_after_is_kept(secret, deliver, tmp_path):
    # A 400 (not an event: here, not UTF-8) and a 503 (past max_events) kept no body, so they could not be replayed.
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path, max_events=1)
    await deliver(app, event_body())
    not_text, one_too_many = b"\xff\xfe\x00binary", event_body("record.created")
    assert (await deliver(app, not_text)).status_code == 400
    assert (await deliver(app, one_too_many)).status_code == 503
    with JournalReader(path) as reader:
        kept = [reader.get(e.id).body for e in entries(path, rejected=True)]
    assert kept == [one_too_many, not_text]
    await app.aclose()


async def test_a_replay_runs_the_handlers_again_where_a_retry_does_not(secret, deliver, tmp_path):
    calls = []
    app = create_app(handlers=[lambda type: calls.append(type)], secrets=[secret], journal=tmp_path / "j.sqlite3")
    body = event_body()
    statuses = [(await deliver(app, body, msg_id=msg_id)).status_code for msg_id in ("msg_a", "msg_b", "replay_c")]
    assert statuses == [204, 200, 204] and len(calls) == 2
    assert [e.replay for e in entries(tmp_path / "j.sqlite3")] == [True, False, False]
    await app.aclose()


async def test_a_replay_marker_needs_a_valid_signature(secret, request_to, tmp_path):
    calls = []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret])
    body = event_body()
    headers = signed_headers(secret, body, msg_id="msg_a")
    assert (await request_to(app, "POST", content=body, headers=headers)).status_code == 204
    forged = {**headers, "webhook-id": "replay_a"}  # the id is signed: changing it breaks the signature
    assert (await request_to(app, "POST", content=body, headers=forged)).status_code == 401
    assert calls == [1]


async def test_the_newest_keep_are_kept(secret, deliver, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=Journal(path, keep=5))
    bodies = [event_body() for _ in range(12)]
    for body in bodies:
        await deliver(app, body)
    kept = entries(path)
    assert len(kept) == 5
    assert [e.event_timestamp for e in kept] == [httpx.Response(200, content=b).json()["timestamp"] for b in reversed(bodies[-5:])]
    await app.aclose()


async def test_credentials_in_headers_are_never_stored(secret, request_to, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    body = event_body()
    headers = {**signed_headers(secret, body), "x-argilla-api-key": "owner.apikey", "authorization": "Bearer sekrit"}
    assert (await request_to(app, "POST", content=body, headers=headers)).status_code == 204
    await app.aclose()
    wal = path.with_name(path.name + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"owner.apikey" not in raw and b"sekrit" not in raw
    with JournalReader(path) as reader:
        stored = dict(reader.get(entries(path)[0].id).headers)
    assert stored["x-argilla-api-key"] == "***" and stored["authorization"] == "***"


async def test_a_large_refused_body_is_kept_truncated(secret, request_to, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    body = b'{"junk": "' + b"x" * 200_000 + b'"}'
    assert (await request_to(app, "POST", content=body, headers=signed_headers(new_secret(), body))).status_code == 401
    with JournalReader(path) as reader:
        stored = reader.get(entries(path)[0].id)
    assert stored.body_truncated and len(stored.body) == 64 * 1024
    await app.aclose()


async def test_concurrent_deliveries_share_commits_and_two_receivers_share_one_file(secret, tmp_path):
    path = tmp_path / "journal.sqlite3"
    apps = [create_app(secrets=[secret], journal=Journal(path, listener=ListenerInfo(url=f"http://127.0.0.1:{i}/"))) for i in (1, 2)]

    async def send(app, client):
        body = event_body()
        assert (await client.post("/", content=body, headers=signed_headers(secret, body))).status_code == 204

    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") for app in apps]
    async with anyio.create_task_group() as group:
        for i in range(400):
            group.start_soon(send, apps[i % 2], clients[i % 2])
    for app, client in zip(apps, clients):
        await client.aclose()
        await app.aclose()
    recorded = entries(path, 1000)
    assert len(recorded) == 400
    assert {e.listener.url for e in recorded} == {"http://127.0.0.1:1/", "http://127.0.0.1:2/"}


async def test_a_journal_whose_writer_stopped_is_said_once_and_written_again_by_a_new_one(secret, deliver, tmp_path, caplog, monkeypatch):
    # The writer stayed dead for the rest of the session: every later delivery went unrecorded.
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path)
    app = create_app(secrets=[secret], journal=journal)
    await deliver(app, event_body())
    journal._writer.kill()  # killed (the OOM killer, a stray kill): the batches until a new one starts are lost
    journal._writer.wait()
    with caplog.at_level(logging.WARNING, "argilla_hooks.receiver"):
        assert (await deliver(app, event_body())).status_code == 204
        assert (await deliver(app, event_body())).status_code == 204  # within RESTART_AFTER: no new writer yet
        monkeypatch.setattr(journal_module, "RESTART_AFTER", 0.0)
        for _ in range(2):
            assert (await deliver(app, event_body())).status_code == 204
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "cannot be written (its writer process stopped" in messages[0], messages
    assert messages[1] == f"the delivery journal {path} is written again"
    assert len(entries(path)) == 3  # the first and the last two
    await app.aclose()


def test_a_path_that_cannot_be_a_journal_is_one_clear_error(tmp_path):
    (tmp_path / "dir.sqlite3").mkdir()
    with pytest.raises(JournalError, match="cannot open the journal"):
        Journal(tmp_path / "dir.sqlite3").open()
    (tmp_path / "text.sqlite3").write_text("not a database, but text long enough to be read as a header of one\n" * 20)
    with pytest.raises(JournalError, match="cannot use the journal"):
        Journal(tmp_path / "text.sqlite3").open()
    with pytest.raises(JournalError, match="no journal at"):
        JournalReader(tmp_path / "missing.sqlite3")


def test_the_journal_file_is_private(tmp_path):
    Journal(tmp_path / "state" / "journal.sqlite3").open()
    assert (tmp_path / "state" / "journal.sqlite3").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700


async def test_ids_resolve_by_prefix(secret, deliver, tmp_path):
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    for _ in range(40):
        await deliver(app, event_body())
    ids = [e.id for e in entries(path)]
    with JournalReader(path) as reader:
        assert reader.get(ids[3][:10].upper()).id == ids[3]
        assert reader.last_event().id == ids[0]
        prefix = _common_prefix(ids)
        with pytest.raises(AmbiguousDeliveryId) as ambiguous:
            reader.get(prefix)
        candidates = sorted(i for i in ids if i.startswith(prefix))
        assert str(ambiguous.value) == (
            f"delivery id prefix {prefix!r} is ambiguous; it matches {', '.join(candidates[:5])}" + (", ..." if len(candidates) > 5 else "")
        )
        with pytest.raises(DeliveryNotFound):
            reader.get("zz")
    await app.aclose()


def _common_prefix(ids):
    """A one-digit prefix that several of 40 random hex ids share."""
    counts = {}
    for i in ids:
        counts[i[0]] = counts.get(i[0], 0) + 1
    return max(counts, key=counts.get)


async def test_text_no_utf8_can_carry_is_journaled_all_the_same(secret, deliver, tmp_path):
    # A lone surrogate ("\ud800"), which JSON parsers accept and orjson refuses to write, in the resource id.
    path = tmp_path / "journal.sqlite3"
    app = create_app(secrets=[secret], journal=path)
    body = event_body("record.created", data={"id": "\\ud800"}).replace(b"\\\\ud800", b"\\ud800")
    assert b'"id": "\\ud800"' in body
    assert (await deliver(app, body)).status_code == 204
    await app.aclose()
    assert [e.resource_id for e in entries(path)] == ["?"]


def _open_at_once(path, barrier, results):
    barrier.wait()
    try:
        connect(path, create=True).close()
        results.put("ok")
    except JournalError as exc:
        results.put(str(exc))


def test_listeners_that_open_a_new_journal_at_the_same_moment_all_get_it(tmp_path):
    # Turning a new file to WAL is not waited for by SQLite's busy handler: before journal_file._use_wal, about one
    # open in twenty here failed "database is locked", and that listener's writer stopped, its deliveries unrecorded.
    context = multiprocessing.get_context("fork")
    failures = []
    for n in range(40):
        path, barrier, results = tmp_path / f"journal-{n}.sqlite3", context.Barrier(4), context.Queue()
        openers = [context.Process(target=_open_at_once, args=(path, barrier, results)) for _ in range(4)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(30)
        failures += [r for r in (results.get(timeout=5) for _ in openers) if r != "ok"]
    assert failures == []
