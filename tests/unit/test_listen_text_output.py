"""`hooks listen`'s plain-text and terminal output never breaks on text a JSON parser accepted (issue 19, item 4)."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from argilla_hooks import create_app
from argilla_hooks.cli.listen.config import ListenConfig
from argilla_hooks.cli.listen.output import Printer
from argilla_hooks.cli.listen.serving import Listener
from tests.unit.receiver.receiver_samples import event_body, new_secret, signed_headers

pytestmark = pytest.mark.anyio
LONE = b'{"id": "x", "text": "\\ud800 alone"}'


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Terminal(io.TextIOWrapper):
    def isatty(self) -> bool:
        return True


def utf8_stream(terminal: bool = False) -> io.TextIOWrapper:
    """A stream that encodes as stdout does (strict UTF-8), unlike StringIO, which takes a lone surrogate."""
    return (Terminal if terminal else io.TextIOWrapper)(io.BytesIO(), encoding="utf-8", write_through=True)


def written(stream: io.TextIOWrapper) -> str:
    return stream.buffer.getvalue().decode("utf-8")  # type: ignore[attr-defined]


def with_data(data: bytes, event_type: str = "record.created") -> bytes:
    return event_body(event_type, data={"id": "placeholder"}).replace(b'{"id": "placeholder"}', data)


async def deliver_all(app, secret: str, bodies: list[bytes]) -> list[int]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as client:
        return [(await client.post("/", content=body, headers=signed_headers(secret, body))).status_code for body in bodies]


@pytest.mark.parametrize("terminal", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize("verbose", [False, True], ids=["plain", "verbose"])
async def test_a_lone_surrogate_is_printed_escaped_and_the_next_event_too(terminal, verbose):
    # Plain output wrote the surrogate as it was: the stream raised, the event was neither printed nor counted, and the
    # exception escaped the ASGI app (a traceback).
    secret, stream = new_secret(), utf8_stream(terminal)
    printer = Printer(stream, as_json=False, verbose=verbose, show_data=True)
    listener = Listener(ListenConfig(secrets=(secret,)), [], [secret], printer)
    statuses = await deliver_all(listener.app, secret, [with_data(LONE), event_body("record.deleted")])
    text = written(stream)
    assert statuses == [204, 204] and listener.tally.handled == 2
    assert "\\ud800 alone" in text and "record.deleted" in text
    assert text.count("record.created") >= 1


async def test_the_ready_and_stopped_lines_take_a_surrogate_from_the_command_line():
    from argilla_hooks.cli.listen.output import Ready

    for as_json in (False, True):
        stream = utf8_stream()
        printer = Printer(stream, as_json=as_json, verbose=False, show_data=True)
        printer.ready(Ready("127.0.0.1", 8000, "/\udcff", True, 1, ["dataset.created"], ["mod:\udcff"], []))
        printer.stopped(0)
        lines = written(stream).splitlines()
        assert "\\udcff" in lines[0] and lines[-1] in ('{"kind": "stopped", "handled": 0}', "stopped after 0 handled events")
        if as_json:
            assert json.loads(lines[0])["path"] == "/\udcff"


async def test_a_reporter_that_raises_fails_neither_the_answer_nor_the_next_report(caplog):
    secret, seen = new_secret(), []

    def report(r):
        seen.append(r.type)
        if r.type == "record.created":
            raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    app = create_app(secrets=[secret], on_report=report)
    statuses = await deliver_all(app, secret, [event_body("record.created"), event_body("record.deleted")])
    assert statuses == [204, 204] and seen == ["record.created", "record.deleted"]
    assert "reporting a delivery failed" in caplog.text
