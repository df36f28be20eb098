"""The client against servers that misbehave: a trickled answer, a slow ping, a connection closed after an error, and
what the CLI makes of bad input."""

import json
import socket
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
import respx
from typer.testing import CliRunner

import argilla_hooks.client as client_module
from argilla_hooks import settings
from argilla_hooks.cli.app import app
from argilla_hooks.cli.completion import webhook_ids
from argilla_hooks.client import ArgillaClient, errors
from argilla_hooks.client.models import WebhookUpdate
from tests.unit.fake_argilla import API, OWNER_KEY

ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{"items": []}' + b" " * 47


class DrippingServer:
    """Answers every request on 127.0.0.1 one byte every `interval` seconds, from byte `start` of ANSWER on
    (0: the status line trickles too; the headers' end: only the body does). The whole answer takes ~12 s."""

    def __init__(self, start: int, interval: float = 0.2):
        self.start, self.interval = start, interval
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)  # closing a socket does not wake an accept() blocked on it
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)
                conn.sendall(ANSWER[: self.start])
                for byte in ANSWER[self.start :]:
                    if self.stopping.wait(self.interval):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:  # the client gave up
                return

    def stop(self) -> None:
        self.stopping.set()
        self.listener.close()
        for thread in self.threads:
            thread.join(5)


@pytest.fixture(params=[ANSWER.index(b"\r\n\r\n") + 4, 0], ids=["body-trickles", "headers-trickle"])
def dripping(request):
    server = DrippingServer(start=request.param)
    yield server
    server.stop()
    # The client left its request thread blocked on the socket; closing the server's end lets it finish.
    deadline = time.monotonic() + 5
    while any(t.name == "argilla-hooks-request" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_trickled_answer_is_cut_off_at_connect_plus_read(dripping):
    # Every byte comes well within the 0.5 s read timeout, so httpx alone would wait ~12 s.
    client = ArgillaClient(dripping.url, OWNER_KEY, timeout=httpx.Timeout(0.5, connect=0.5))
    started = time.monotonic()
    with pytest.raises(errors.ConnectionFailed, match=r"did not answer in time \(no complete answer within 1 s\)"):
        client.list()
    assert time.monotonic() - started < 1.8
    client.close()


def test_completion_gives_up_on_a_trickling_server_within_about_2_seconds(dripping):
    ctx = SimpleNamespace(params={"api_url": dripping.url, "api_key": OWNER_KEY, "profile": None})
    started = time.monotonic()
    assert webhook_ids(ctx, "") == []
    assert time.monotonic() - started < 3


def test_default_deadline_leaves_room_to_report_within_10_seconds():
    assert client_module._budget(client_module.DEFAULT_TIMEOUT) <= 9
    assert client_module._budget(httpx.Timeout(1.0)) == 2  # what completion passes
    assert client_module._budget(httpx.Timeout(None)) is None


def test_a_ping_gets_its_own_longer_deadline(monkeypatch):
    # Argilla answers a ping only once the receiver did; that wait must not hit the short default deadline.
    monkeypatch.setattr(client_module, "PING_TIMEOUT", httpx.Timeout(2.0, connect=0.5))
    hook_id = "0b5d8c1e-0000-4000-8000-000000000000"

    def slow_ping(request):
        time.sleep(0.8)
        return httpx.Response(204)

    with respx.mock() as router:
        router.post(f"{API}/api/v1/webhooks/{hook_id}/ping").mock(side_effect=slow_ping)
        client = ArgillaClient(API, OWNER_KEY, timeout=httpx.Timeout(0.2, connect=0.2))  # 0.4 s for the rest
        client.ping(hook_id)


# --- the same defects, seen from the command line (message and exit code) ----------------------------------------

runner = CliRunner()


def hooks(*args):
    return runner.invoke(app, list(args))


def test_a_key_with_a_trailing_crlf_works(fake_argilla):
    result = hooks("whoami", "--api-key", OWNER_KEY + "\r\n")
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("key", ["owner.key\rX", "owner key", "ownér.key"])
def test_a_key_with_a_space_control_or_non_ascii_character_exits_2_without_showing_it(fake_argilla, key):
    result = hooks("whoami", "--api-key", key)
    assert result.exit_code == 2
    assert "the API key contains a space" in result.stderr and key not in result.output + result.stderr
    assert fake_argilla.requests == []


def test_an_answer_that_is_not_argillas_exits_6():
    with respx.mock() as router:
        router.get(f"{API}/api/v1/me").mock(return_value=httpx.Response(200, json={}))
        result = hooks("whoami")
    assert result.exit_code == 6
    assert result.stderr.startswith(f"error: no Argilla API at {API} (GET /api/v1/me answered an unexpected body)")


def test_an_error_page_echoing_the_key_does_not_print_it():
    page = f"<html><body><pre>X-Argilla-Api-Key: {OWNER_KEY}</pre></body></html>"
    with respx.mock() as router:
        router.get(f"{API}/api/v1/webhooks").mock(return_value=httpx.Response(500, html=page))
        result = hooks("list")
    assert result.exit_code == 1 and result.stderr == "error: Argilla server error (500): an HTML page\n"


def test_a_redirect_exits_6_and_says_which_url_to_use():
    with respx.mock() as router:
        router.get(f"{API}/api/v1/webhooks").mock(
            return_value=httpx.Response(308, headers={"Location": "https://argilla.test/api/v1/webhooks"})
        )
        result = hooks("list", "--json")
    assert result.exit_code == 6 and result.stdout == ""
    assert "use https://argilla.test as --api-url" in result.stderr


def test_login_with_a_password_in_the_url_exits_2_echoes_nothing_and_saves_nothing(fake_argilla):
    result = hooks("login", "--api-url", "http://admin:s3cret@argilla.test", "--api-key", OWNER_KEY)
    assert result.exit_code == 2 and "user name or password" in result.stderr
    assert "s3cret" not in result.output + result.stderr
    assert not settings.config_path().exists() and fake_argilla.requests == []


def test_an_api_url_with_a_query_exits_2(fake_argilla):
    result = hooks("list", "--api-url", f"{API}/?token=x")
    assert result.exit_code == 2 and "query or fragment" in result.stderr


def test_the_ping_deadline_outlasts_argillas_own_wait_for_the_receiver():
    # Argilla waits up to 20 s for the receiver before it answers a ping: giving up sooner reported a delivered ping
    # as "did not answer in time" (exit 6).
    from argilla_hooks.client import _budget

    assert client_module.PING_TIMEOUT.read > 20 and _budget(client_module.PING_TIMEOUT) < 30


class ErrorThenCloseServer:
    """Like Argilla behind uvicorn on an unhandled error: a POST .../ping is answered 500 with no `Connection:
    close`, and the connection is closed `linger` seconds later, dropping whatever was sent on it meanwhile. Other
    requests get `webhook` as JSON. `connections` counts the connections accepted."""

    def __init__(self, webhook: dict, linger: float = 0.3):
        self.webhook, self.linger, self.connections = webhook, linger, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            while True:
                request_line = reader.readline()
                if not request_line:
                    return
                headers = dict(line.decode().lower().rstrip().split(": ", 1) for line in iter(reader.readline, b"\r\n"))
                reader.read(int(headers.get("content-length", 0)))
                if b"/ping" in request_line:
                    body = b'{"detail": "the receiver could not be reached"}'
                    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                                 b"content-length: %d\r\n\r\n%s" % (len(body), body))
                    time.sleep(self.linger)  # uvicorn logging the error's traceback
                    return
                body = json.dumps(self.webhook).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))

    def stop(self) -> None:
        self.listener.close()


def test_requests_after_a_server_error_go_on_a_new_connection():
    # After a failed ping, the update (never sent twice) went on the connection Argilla was about to close, and
    # failed with "connection reset": `create --disabled` then could not undo its create either.
    webhook = {"id": "0b5d8c1e-0000-4000-8000-000000000000", "url": "http://h/", "secret": "s", "events": ["ping"],
               "enabled": False, "description": None, "inserted_at": "2026-11-28T10:00:00", "updated_at": "2026-11-28T10:00:00"}
    server = ErrorThenCloseServer(webhook)
    try:
        with ArgillaClient(server.url, OWNER_KEY) as client:
            with pytest.raises(errors.ServerError):
                client.ping(webhook["id"])
            assert client.update(webhook["id"], WebhookUpdate(enabled=False)).enabled is False
        assert server.connections == 2
    finally:
        server.stop()
