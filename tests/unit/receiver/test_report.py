"""Reports as JSON: `to_json_line()` is `to_json()` on one line, and never breaks on text a JSON parser accepted."""

from __future__ import annotations

import json

import pytest
from receiver_samples import event_body

from argilla_hooks import create_app
from argilla_hooks.receiver import DeliveryReport

pytestmark = pytest.mark.anyio

ACCEPTED_BY_JSON_LOADS = {
    # orjson, which parses bodies, refuses each of these; Python's json (and so Argilla's server) takes them
    "lone surrogate": b'{"id": "x", "text": "\\ud800 alone"}',
    "NaN and Infinity": b'{"id": "x", "n": NaN, "m": -Infinity}',
    "beyond a double": b'{"id": "x", "n": 1e400}',
    # orjson writes at most 254 levels: the line is written by json then
    "nested 300 deep": b'{"id": "x", "deep": ' + b"[" * 300 + b"]" * 300 + b"}",
}


async def reports_of(deliver, app, bodies: list[bytes]) -> None:
    for body in bodies:
        assert (await deliver(app, body)).status_code in (204, 500)


def as_event(data: bytes, event_type: str = "record.created") -> bytes:
    envelope = event_body(event_type, data={"id": "placeholder"})
    return envelope.replace(b'{"id": "placeholder"}', data)


@pytest.mark.parametrize("data", ACCEPTED_BY_JSON_LOADS.values(), ids=ACCEPTED_BY_JSON_LOADS)
async def test_a_body_that_json_loads_accepts_is_handled_and_reported_on_a_valid_utf8_line(secret, deliver, data):
    seen, reports = [], []
    app = create_app(handlers=[lambda data: seen.append(data)], secrets=[secret], on_report=reports.append)
    body = as_event(data)
    assert (await deliver(app, body)).status_code == 204
    assert json.dumps(seen) == json.dumps([json.loads(body)["data"]])  # (NaN != NaN: compared as text)
    line = reports[0].to_json_line()
    line.encode("utf-8")  # strict: a lone surrogate left in the text would raise here, and on any stream
    assert "\n" not in line and json.loads(line)["data"]["id"] == "x"


async def test_a_lone_surrogate_is_written_escaped_and_reads_back_as_sent(secret, deliver):
    reports = []
    app = create_app(handlers=[], secrets=[secret], on_report=reports.append)
    await deliver(app, as_event(ACCEPTED_BY_JSON_LOADS["lone surrogate"]))
    line = reports[0].to_json_line()
    assert "\\ud800 alone" in line
    assert json.loads(line) == reports[0].to_json()


async def test_one_bad_event_does_not_break_the_lines_of_the_others(secret, deliver):
    def fails_with_odd_text(type):
        if type == "record.deleted":
            raise ValueError("cannot decode \udcff")  # a surrogate from os.fsdecode or errors="surrogateescape"

    reports = []
    app = create_app(handlers=[fails_with_odd_text], secrets=[secret], on_report=reports.append)
    bodies = [
        event_body("record.created"),
        as_event(ACCEPTED_BY_JSON_LOADS["lone surrogate"], "record.updated"),
        event_body("record.deleted"),
        event_body("record.completed"),
    ]
    await reports_of(deliver, app, bodies)
    batch = "\n".join(r.to_json_line() for r in reports) + "\n"
    batch.encode("utf-8")  # as the listener writes a batch of lines: one bad line must not sink the batch
    lines = [json.loads(line) for line in batch.splitlines()]
    assert [line["type"] for line in lines] == ["record.created", "record.updated", "record.deleted", "record.completed"]
    assert lines[2]["handlers"][0]["error"] == "ValueError: cannot decode \udcff"


async def test_the_line_never_raises_even_for_data_nested_deeper_than_json_can_write(secret, deliver):
    reports = []
    app = create_app(handlers=[], secrets=[secret], on_report=reports.append)
    await deliver(app, event_body("record.created"))
    deep: list = []
    for _ in range(100_000):  # deeper than any parser takes; only a Python caller can build it
        deep = [deep]
    reports[0].delivery.raw["data"] = deep
    line = json.loads(reports[0].to_json_line())
    assert line["kind"] == "event" and line["data"] is None


def test_a_rejected_report_is_one_line_of_its_json():
    report = DeliveryReport("rejected", 401, reason="no webhook-signature matches the secret")
    assert report.to_json_line() == '{"kind":"rejected","status":401,"reason":"no webhook-signature matches the secret"}'
