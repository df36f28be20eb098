"""The receiver app end to end in-process: what reaches handlers, what is answered, what is reported."""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime

import anyio
import httpx
import pytest
from receiver_samples import event_body, malformed, new_secret, signed_headers

from argilla_hooks import create_app, on
from argilla_hooks.receiver.payloads import Dataset, Event, Record, Response
from argilla_hooks.receiver import HandlerLoadError

pytestmark = pytest.mark.anyio


async def test_a_valid_delivery_reaches_sync_and_async_handlers_with_typed_arguments(secret, deliver):
    calls = []

    async def on_async(type, timestamp, data, event, dataset, record, response, headers):
        calls.append(("async", type, timestamp, data, event, dataset, record, response, headers))

    def on_sync(response, record, dataset):
        calls.append(("sync", threading.current_thread() is threading.main_thread(), response, record, dataset))

    app = create_app(handlers=[on_async, on_sync], secrets=[secret])
    body = event_body("response.created")
    answer = await deliver(app, body)

    assert answer.status_code == 204 and answer.content == b""
    (_, type_, timestamp, data, event, dataset, record, response, headers), sync = calls
    assert type_ == "response.created"
    assert isinstance(timestamp, datetime) and timestamp.tzinfo is not None
    assert data == json.loads(body)["data"]
    assert isinstance(event, Event) and isinstance(response, Response)
    assert isinstance(record, Record) and record is response.record
    assert isinstance(dataset, Dataset) and dataset is response.record.dataset
    assert headers["webhook-id"].startswith("msg_")
    assert sync[0] == "sync" and sync[1] is False  # ran in a worker thread, not on the loop's
    assert isinstance(sync[2], Response) and isinstance(sync[4], Dataset)


async def test_the_argilla_sdk_keyword_style_works_unchanged(secret, deliver):
    seen = []

    async def sdk_style(dataset, type, timestamp):
        seen.append((dataset.name, type))

    await deliver(create_app(handlers=[sdk_style], secrets=[secret]), event_body("dataset.created"))
    assert seen == [("reviews", "dataset.created")]


async def test_a_sync_handler_does_not_block_other_deliveries(secret, deliver):
    started, release = threading.Event(), threading.Event()

    @on("dataset.created")
    def slow():
        started.set()
        release.wait(5)

    @on("record.created")
    async def fast():
        pass

    app = create_app(handlers=[slow, fast], secrets=[secret])
    async with anyio.create_task_group() as group:
        group.start_soon(deliver, app, event_body("dataset.created"))
        await anyio.to_thread.run_sync(started.wait, 5)
        with anyio.fail_after(2):
            assert (await deliver(app, event_body("record.created"))).status_code == 204
        release.set()


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_sync_handlers_run_side_by_side_in_at_most_40_threads(secret, deliver):
    running, peak, lock, release = [0], [0], threading.Lock(), threading.Event()

    def blocking(data):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        release.wait(10)
        with lock:
            running[0] -= 1

    app = create_app(handlers=[blocking], secrets=[secret])
    answers = []

    async def send_one():
        answers.append((await deliver(app, event_body("record.created"))).status_code)

    async with anyio.create_task_group() as group:
        for _ in range(45):
            group.start_soon(send_one)
        with anyio.fail_after(10):
            while peak[0] < 40:
                await anyio.sleep(0.01)
        await anyio.sleep(0.1)
        assert peak[0] == 40  # the other 5 wait for a thread
        release.set()
    assert answers == [204] * 45


async def test_on_filters_events_and_ping_reaches_only_handlers_that_ask(secret, deliver):
    seen = []

    @on("dataset.*")
    def datasets(type):
        seen.append(("datasets", type))

    def everything(type):
        seen.append(("everything", type))

    @on("ping")
    def pings(type, data):
        seen.append(("pings", data["agent"]))

    app = create_app(handlers=[datasets, everything, pings], secrets=[secret])
    for event_type in ("dataset.published", "record.deleted", "ping"):
        assert (await deliver(app, event_body(event_type))).status_code == 204
    assert seen == [
        ("datasets", "dataset.published"),
        ("everything", "dataset.published"),
        ("everything", "record.deleted"),
        ("pings", "argilla-server"),
    ]


async def test_a_delivery_signed_with_any_rotated_secret_is_accepted(deliver):
    old, new = new_secret(), new_secret()
    app = create_app(handlers=[], secrets=[old, new])
    assert (await deliver(app, event_body(), key=old)).status_code == 204
    assert (await deliver(app, event_body(), key=new)).status_code == 204
    assert (await deliver(app, event_body(), key=new_secret())).status_code == 401


@pytest.mark.parametrize(
    ("change", "cause"),
    [
        ("without webhook-id", "missing-header"),
        ("without webhook-timestamp", "missing-header"),
        ("without webhook-signature", "missing-header"),
        ("v1 without comma", "malformed-signature"),
        ("bad base64", "malformed-signature"),
        ("only v2", "malformed-signature"),
        ("non-integer timestamp", "malformed-timestamp"),
        ("stale", "timestamp-skew"),
        ("future", "timestamp-skew"),
        ("wrong secret", "wrong-secret"),
    ],
)
async def test_bad_signatures_answer_401_and_never_reach_a_handler(secret, request_to, change, cause):
    calls, reports = [], []
    app = create_app(handlers=[lambda type: calls.append(type)], secrets=[secret], on_report=reports.append)
    body = event_body()
    answer = await request_to(app, "POST", content=body, headers=malformed(secret, body, change))
    assert answer.status_code == 401
    assert answer.json()["ok"] is False
    assert calls == []
    # The answer says what failed; the report (terminal, --json, journal) also explains it (tests/unit/receiver/test_explain.py).
    [report] = [r.to_json() for r in reports]
    assert report["kind"] == "rejected" and report["status"] == 401 and report["cause"] == cause
    assert report["reason"].startswith(answer.json()["error"]) or cause == "malformed-signature"


async def test_a_body_changed_after_signing_answers_401(secret, request_to):
    calls = []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret])
    body = event_body()
    tampered = body.replace(b'"reviews"', b'"hacked!"')
    answer = await request_to(app, "POST", content=tampered, headers=signed_headers(secret, body))
    assert answer.status_code == 401 and calls == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"type": "\xff"}', "UTF-8"),
        (b"not json", "JSON"),
        (b"[1, 2]", "not an Argilla event"),
        (b'{"type": "ping", "timestamp": "2026-11-27T21:30:19Z"}', "not an Argilla event"),
        (b'{"type": 5, "timestamp": "2026-11-27T21:30:19Z", "data": {}}', "not an Argilla event"),
        (b'{"type": "ping", "timestamp": "noon", "data": {}}', "ISO 8601"),
        (b"[" * 100_000, "JSON"),
    ],
    ids=["non-utf8", "not-json", "list", "no-data", "type-not-str", "bad-timestamp", "deeply-nested"],
)
async def test_a_verified_body_that_is_not_an_event_answers_400(secret, deliver, body, reason):
    calls = []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret])
    answer = await deliver(app, body)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert calls == []


async def test_a_body_over_max_body_answers_413_from_its_content_length(secret, deliver):
    calls = []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret], max_body=1000)
    body = event_body("record.created", data={"id": "r", "padding": "x" * 2000})
    answer = await deliver(app, body)
    assert answer.status_code == 413 and calls == []


@pytest.mark.parametrize("content_length", [None, b"5000"], ids=["no Content-Length", "a Content-Length"])
async def test_a_body_over_max_body_in_one_piece_answers_413(secret, content_length):
    # With a Content-Length the body is refused before it is read; without one (any ASGI server may pass a whole body
    # in one message), once it is.
    calls, sent, reads = [], [], []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret], max_body=1000)

    async def receive():
        reads.append(1)
        return {"type": "http.request", "body": b"x" * 5000, "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [(k.encode(), v.encode()) for k, v in signed_headers(secret, b"x" * 5000).items()]
    headers += [(b"content-length", content_length)] if content_length else []
    await app({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send)
    assert sent[0]["status"] == 413 and calls == []
    assert len(reads) == (0 if content_length else 1)


@pytest.mark.parametrize("handlers", [[lambda type: None], []], ids=["handler of type only", "no handler"])
async def test_a_signed_body_that_is_broken_after_argillas_prefix_answers_400(secret, deliver, handlers):
    # Such a body was keyed from its prefix and answered 204 when no handler asked for `data`.
    reports = []
    app = create_app(handlers=handlers, secrets=[secret], on_report=reports.append)
    body = (b'{"type": "dataset.created", "version": 1, "timestamp": "2026-11-27T21:30:19.154092Z", '
            b'"data": {"id": "6a2a4e4e-0000-4000-8000-000000000000", not json}}')
    answer = await deliver(app, body)
    assert answer.status_code == 400 and answer.json()["error"] == "body is not JSON"
    assert [r.kind for r in reports] == ["rejected"]


async def test_a_streamed_body_over_max_body_answers_413_without_a_content_length(secret):
    calls, sent = [], []
    app = create_app(handlers=[lambda: calls.append(1)], secrets=[secret], max_body=1000)
    chunks = [{"type": "http.request", "body": b"x" * 400, "more_body": True} for _ in range(10)]
    body_read = []

    async def receive():
        body_read.append(1)
        return chunks.pop(0)

    async def send(message):
        sent.append(message)

    headers = [(k.encode(), v.encode()) for k, v in signed_headers(secret, b"x" * 4000).items()]
    await app({"type": "http", "method": "POST", "path": "/", "headers": headers}, receive, send)
    assert sent[0]["status"] == 413
    assert len(body_read) == 3  # stopped reading as soon as the limit was passed
    assert calls == []


async def test_healthz_other_paths_and_other_methods(secret, request_to):
    app = create_app(handlers=[], secrets=[secret], path="/hooks")
    assert (await request_to(app, "GET", "/healthz")).json() == {"status": "ok"}
    assert (await request_to(app, "POST", "/")).status_code == 404
    assert (await request_to(app, "HEAD", "/healthz")).status_code == 200  # load balancers probe with HEAD too
    wrong_method = await request_to(app, "POST", "/healthz")
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, HEAD"
    not_allowed = await request_to(app, "GET", "/hooks")
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "POST"
    assert (await request_to(app, "PUT", "/hooks/")).status_code == 405


async def test_the_path_is_accepted_with_and_without_a_trailing_slash(secret, deliver):
    app = create_app(handlers=[], secrets=[secret], path="/hooks/")
    assert (await deliver(app, event_body(), path="/hooks")).status_code == 204
    assert (await deliver(app, event_body(), path="/hooks/")).status_code == 204


async def test_mounted_under_a_prefix_the_app_routes_below_it(secret):
    # `uvicorn --root-path /argilla` or a Starlette Mount("/argilla", app): ASGI puts the prefix in both root_path and
    # path, and the receiver answered 404 to every delivery.
    app = create_app(handlers=[], secrets=[secret])
    transport = httpx.ASGITransport(app=app, root_path="/argilla")
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        body = event_body()
        assert (await client.post("/argilla/", content=body, headers=signed_headers(secret, body))).status_code == 204
        assert (await client.get("/argilla/healthz")).status_code == 200
        assert (await client.get("/argillax/healthz")).status_code == 404  # another prefix is another path
        lost = await client.post("/elsewhere")
        assert lost.status_code == 404 and lost.json()["error"] == "nothing here: deliveries go to /argilla/"


async def test_a_failed_handler_answers_500_and_a_retry_runs_only_what_failed(secret, deliver):
    side_effects = {"steady": 0, "flaky": 0}
    attempts = []

    def steady(type):
        side_effects["steady"] += 1

    def flaky(type):
        attempts.append(type)
        if len(attempts) == 1:
            raise ConnectionError("database unavailable")
        side_effects["flaky"] += 1

    reports = []
    app = create_app(handlers=[steady, flaky], secrets=[secret], on_report=reports.append)
    body = event_body("record.created")

    first = await deliver(app, body)  # Argilla retries with a new webhook-id and timestamp, same body
    second = await deliver(app, body)
    third = await deliver(app, body)

    assert [first.status_code, second.status_code, third.status_code] == [500, 204, 200]
    assert third.json() == {"ok": True, "duplicate": True}
    assert side_effects == {"steady": 1, "flaky": 1}
    failed = reports[0].handlers[1]
    assert (failed.ok, failed.error) == (False, "ConnectionError: database unavailable")
    assert isinstance(failed.exception, ConnectionError)
    assert [h.name.rsplit(".", 1)[-1] for h in reports[1].handlers] == ["flaky"]
    assert reports[2].duplicate and reports[2].handlers == []
    assert [json.loads(r.to_json_line())["duplicate"] for r in reports] == [False, False, True]


async def test_many_sync_handler_calls_at_once_all_complete_with_their_own_results(secret, deliver):
    seen = []

    def handler(data):
        seen.append(data["id"])

    app = create_app(handlers=[handler], secrets=[secret])
    bodies = [event_body("record.created") for _ in range(50)]
    async with anyio.create_task_group() as group:
        for body in bodies:
            group.start_soon(deliver, app, body)
    assert sorted(seen) == sorted(json.loads(b)["data"]["id"] for b in bodies)


async def test_a_handler_error_does_not_stop_the_app_serving(secret, deliver):
    def boom():
        raise RuntimeError("boom")

    app = create_app(handlers=[on("dataset.created")(boom)], secrets=[secret])
    assert (await deliver(app, event_body("dataset.created"))).status_code == 500
    assert (await deliver(app, event_body("record.created"))).status_code == 204


async def test_a_duplicate_after_success_answers_200_without_running_again(secret, deliver):
    calls = []
    app = create_app(handlers=[lambda data: calls.append(data["id"])], secrets=[secret])
    body = event_body("record.created")
    answers = [await deliver(app, body) for _ in range(3)]
    assert [a.status_code for a in answers] == [204, 200, 200]
    assert answers[1].json() == answers[2].json() == {"ok": True, "duplicate": True}
    assert len(calls) == 1


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_identical_deliveries_in_flight_at_once_run_the_handler_once(secret, deliver):
    calls = []

    async def slow(type):
        calls.append(type)
        await anyio.sleep(0.05)

    app = create_app(handlers=[slow], secrets=[secret])
    body = event_body("record.updated")
    answers = []

    async def send_one():
        answers.append(await deliver(app, body))

    async with anyio.create_task_group() as group:
        group.start_soon(send_one)
        group.start_soon(send_one)
    assert calls == ["record.updated"]
    assert sorted(a.status_code for a in answers) == [200, 204] and {"ok": True, "duplicate": True} in [a.json() for a in answers if a.content]


async def test_a_payload_that_does_not_match_the_typed_model_fails_only_handlers_that_ask_for_it(secret, deliver):
    untyped = []

    def wants_dict(data):
        untyped.append(data)

    def wants_model(dataset):
        pass

    reports = []
    app = create_app(handlers=[wants_dict, wants_model], secrets=[secret], on_report=reports.append)
    answer = await deliver(app, event_body("dataset.created", data={"id": "d1", "name": 5}))
    assert answer.status_code == 500
    assert untyped == [{"id": "d1", "name": 5}]
    assert [h.ok for h in reports[0].handlers] == [True, False]
    assert "ValidationError" in reports[0].handlers[1].error


async def test_without_verification_unsigned_deliveries_reach_handlers_marked_unverified(request_to):
    calls, reports = [], []
    app = create_app(handlers=[lambda type: calls.append(type)], verify=False, on_report=reports.append)
    answer = await request_to(app, "POST", content=event_body("ping"), headers={"content-type": "application/json"})
    assert answer.status_code == 204
    assert calls == []  # ping still only reaches handlers that ask for it
    assert reports[0].verified is False


def test_verification_without_a_secret_is_refused():
    with pytest.raises(ValueError, match="secret"):
        create_app(handlers=[])


async def test_the_report_json_has_exactly_the_documented_keys(secret, deliver):
    reports = []
    app = create_app(handlers=[lambda: None], secrets=[secret], on_report=reports.append)
    body = event_body("record.completed")
    await deliver(app, body, msg_id="msg_report")
    report = reports[0].to_json()
    assert list(report) == ["kind", "webhook_id", "type", "timestamp", "verified", "status", "duplicate", "replay", "handlers", "forwards", "data"]
    assert report["duplicate"] is False
    assert report["webhook_id"] == "msg_report"
    assert report["timestamp"] == json.loads(body)["timestamp"]
    assert list(report["handlers"][0]) == ["name", "ok", "duration_ms", "error"]
    assert report["data"] == json.loads(body)["data"]
    json.dumps(report)


def test_handlers_can_be_given_as_module_function_strings(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setitem(sys.modules, "string_target_hooks", None)
    del sys.modules["string_target_hooks"]
    (tmp_path / "string_target_hooks.py").write_text(
        "import functools\n\ndef handle(type):\n    pass\n\ndef bad(nope):\n    pass\n\nalias = functools.partial(handle)\n"
    )
    app = create_app(handlers=["string_target_hooks:handle", "string_target_hooks:alias"], secrets=[new_secret()], app_dir=str(tmp_path))
    # named as written: the alias was reported as "string_target_hooks:handle", like the function it wraps
    assert [h.name for h in app.handlers] == ["string_target_hooks:handle", "string_target_hooks:alias"]
    # one string is one target, one secret, one forward URL (iterated, each letter was one)
    secret = new_secret()
    single = create_app(handlers="string_target_hooks:handle", secrets=secret, forward_to="http://127.0.0.1:9/", app_dir=str(tmp_path))
    assert [h.name for h in single.handlers] == ["string_target_hooks:handle"] and single.forward_to == ["http://127.0.0.1:9/"]
    with pytest.raises(HandlerLoadError, match="'nope'"):
        create_app(handlers=["string_target_hooks:bad"], secrets=[new_secret()], app_dir=str(tmp_path))


@pytest.mark.parametrize(("setting", "message"), [
    ({"tolerance": 0}, "tolerance must be a positive number"),  # every delivery would have been refused
    ({"dedup_capacity": 0}, "dedup_capacity must be a positive number"),
    ({"path": "/hooks?x=1"}, "must be a plain URL path"),  # never reachable at the URL it would print
])
def test_settings_that_would_refuse_or_miss_every_delivery_are_refused(setting, message):
    with pytest.raises(ValueError, match=message):
        create_app(secrets=[new_secret()], **setting)


@pytest.mark.parametrize("event_type", ["record.created", "response.updated", "ping"])
async def test_the_report_json_line_is_its_json_on_one_line(secret, deliver, event_type):
    reports = []
    app = create_app(handlers=[lambda type: None], secrets=[secret], on_report=reports.append)
    body = event_body(event_type)
    await deliver(app, body)
    (report,) = reports
    line = report.to_json_line()
    assert "\n" not in line
    assert json.loads(line) == report.to_json()
    assert json.loads(line)["data"] == json.loads(body)["data"]


async def test_an_unsigned_body_is_always_parsed_so_a_fake_argilla_prefix_gets_400(request_to):
    reports, seen = [], []
    app = create_app(handlers=[lambda type: seen.append(type)], verify=False, on_report=reports.append)
    body = event_body("record.created")[:-2] + b', "x": }}'  # Argilla's prefix, broken JSON after it
    response = await request_to(app, "POST", content=body)
    assert response.status_code == 400 and seen == []
    assert json.loads(reports[0].to_json_line())["kind"] == "rejected"


async def test_an_unsigned_body_cannot_write_its_own_keys_into_the_json_line(request_to):
    reports = []
    app = create_app(handlers=[], verify=False, on_report=reports.append)
    # valid JSON, Argilla's prefix, then top-level keys that a copy of the text after "data" would carry along
    body = event_body("record.created")[:-2] + b'}, "kind": "rejected", "status": 401, "x": {}}'
    assert (await request_to(app, "POST", content=body)).status_code == 204
    line = json.loads(reports[0].to_json_line())
    assert line["kind"] == "event" and line["status"] == 204 and line["verified"] is False
    assert line["data"] == json.loads(body)["data"]


async def test_max_events_answers_503_once_reached_and_a_failed_event_gives_its_slot_back(secret, deliver):
    outcomes = iter([RuntimeError("first attempt fails"), None, None])

    def handler(type):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    reports = []
    app = create_app(handlers=[handler], secrets=[secret], max_events=2, on_report=reports.append)
    assert (await deliver(app, event_body("dataset.created"))).status_code == 500  # failed: does not count
    assert (await deliver(app, event_body("dataset.updated"))).status_code == 204
    assert (await deliver(app, event_body("dataset.deleted"))).status_code == 204
    refused = await deliver(app, event_body("dataset.published"))
    assert refused.status_code == 503 and "handled all the events" in refused.json()["error"]
    assert reports[-1].kind == "rejected" and reports[-1].status == 503
    assert len(app.log) == 2  # the refused event is not recorded as handled (nor is the failed one)


def test_max_events_must_be_positive(secret):
    with pytest.raises(ValueError, match="max_events"):
        create_app(secrets=[secret], max_events=0)


async def test_a_body_that_stalls_part_way_is_answered_408_and_reaches_no_handler(secret):
    calls = []
    app = create_app(handlers=[lambda type: calls.append(type)], secrets=[secret])
    app.body_timeout = 0.3
    body = event_body()

    async def trickle():
        yield body[:10]
        await anyio.sleep(5)  # and the rest never comes in time
        yield body[10:]

    started = time.monotonic()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as client:
        answer = await client.post("/", content=trickle(), headers=signed_headers(secret, body))
    assert answer.status_code == 408 and time.monotonic() - started < 3
    assert answer.headers["connection"] == "close"  # the rest of the body is not waited for
    assert calls == []


async def test_integers_beyond_64_bits_reach_handlers_and_reports_exact(secret, deliver):
    # orjson reads them as floats: 2**70 became 1.1805916207174113e+21, where the SDK's json.loads gives the integer.
    seen, reports = [], []
    app = create_app(handlers=[lambda data: seen.append(data)], secrets=[secret], on_report=reports.append)
    metadata = {"big": 2**70, "small": -(2**63) - 1, "edge": 2**64 - 1, "score": 0.1234567890123456789}
    body = event_body("record.created", data={"id": "r0", "metadata": metadata})
    assert (await deliver(app, body)).status_code == 204
    assert seen[0]["metadata"] == metadata and type(seen[0]["metadata"]["big"]) is int
    assert json.loads(reports[0].to_json_line())["data"]["metadata"]["big"] == 2**70


async def test_a_body_with_a_utf8_byte_order_mark_is_parsed_as_the_sdk_parses_it(secret, deliver):
    # The Argilla SDK's listener and the Standard Webhooks references json.loads the body bytes, which skips a BOM.
    seen = []
    app = create_app(handlers=[lambda data: seen.append(data)], secrets=[secret])
    body = event_body("record.created")
    answer = await deliver(app, b"\xef\xbb\xbf" + body)  # signed with the BOM, as sent
    assert answer.status_code == 204
    assert seen == [json.loads(body)["data"]]
    assert (await deliver(app, b"\xef\xbb\xbf\xef\xbb\xbf" + body)).status_code == 400  # one mark, not two
