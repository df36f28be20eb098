"""The client against servers that misbehave: one that drops packets or never answers, a slow ping, a connection
closed after an error, and what the CLI makes of bad input."""

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest
import respx

import argilla_hooks.client as client_module
from argilla_hooks import settings
from argilla_hooks.cli.completion import webhook_ids
from argilla_hooks.client import ArgillaClient, errors
from argilla_hooks.client.models import WebhookCreate, WebhookUpdate
from tests.unit.hooks_cli import hooks
from tests.unit.fake_argilla import API, OWNER_KEY


@pytest.fixture
def silent():
    """A server that accepts connections (the kernel completes them into its backlog) and never reads or answers."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def blackholed():
    """A server whose accept queue is full: Linux then drops new connection attempts, as a firewall would."""
    with socket.create_server(("127.0.0.1", 0), backlog=0) as listener:
        address = listener.getsockname()
        held = [socket.create_connection(address, timeout=1)]
        try:
            while True:  # fill the queue until a connect hangs
                held.append(socket.create_connection(address, timeout=0.2))
                assert len(held) < 10, "connections are still accepted: no way to blackhole one here"
        except TimeoutError:
            pass
        yield f"http://127.0.0.1:{address[1]}"
        for sock in held:
            sock.close()


def test_default_timeouts_report_a_dead_server_within_10_seconds():
    # The worst cases of refused, blackholed or silent: every connect times out, or all but the last and that one
    # waits for an answer in vain.
    timeout, retries = client_module.DEFAULT_TIMEOUT, client_module.CONNECT_RETRIES
    assert max((1 + retries) * timeout.connect, retries * timeout.connect + timeout.read) < 10


def test_a_blackholed_server_is_reported_after_one_connect_retry(blackholed):
    client = ArgillaClient(blackholed, OWNER_KEY, timeout=httpx.Timeout(5, connect=0.4))
    started = time.monotonic()
    with pytest.raises(errors.ConnectionFailed, match="cannot reach Argilla at .*: timed out"):
        client.list()
    assert 0.8 <= time.monotonic() - started < 2.5  # two connect timeouts, no more


def test_a_server_that_never_answers_is_reported_after_the_read_timeout(silent):
    client = ArgillaClient(silent, OWNER_KEY, timeout=httpx.Timeout(0.5))
    started = time.monotonic()
    with pytest.raises(errors.ConnectionFailed, match=r"did not answer in time \(ReadTimeout\)"):
        client.list()
    assert time.monotonic() - started < 2


def test_a_create_that_a_silent_server_got_is_answer_lost(silent):
    client = ArgillaClient(silent, OWNER_KEY, timeout=httpx.Timeout(0.5))
    with pytest.raises(errors.AnswerLost, match=r"the answer to POST /api/v1/webhooks was lost \(ReadTimeout\)"):
        client.create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"]))


def test_a_server_that_dies_after_reading_a_delete_makes_it_answer_lost():
    # Argilla killed mid-request: the DELETE may have been committed, so it is neither resent nor called failed.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        requests = []

        def read_then_die():
            conn, _ = listener.accept()
            with conn:
                requests.append(conn.recv(65536))

        thread = threading.Thread(target=read_then_die, daemon=True)
        thread.start()
        client = ArgillaClient(f"http://127.0.0.1:{listener.getsockname()[1]}", OWNER_KEY, timeout=2)
        with pytest.raises(errors.AnswerLost, match="the answer to DELETE .* was lost"):
            client.delete("0b5d8c1e-0000-4000-8000-000000000000")
        thread.join(5)
    assert len(requests) == 1 and requests[0].startswith(b"DELETE /api/v1/webhooks/0b5d8c1e-")


def test_a_failed_connect_is_tried_again_whatever_the_method(monkeypatch):
    # httpx's transport retries a connect that failed, when nothing was sent: a POST too.
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    attempts = []
    connect = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: attempts.append(a) or connect(*a, **kw))

    def tries(call, **options):
        attempts.clear()
        with pytest.raises(errors.ConnectionFailed, match="cannot reach Argilla"):
            call(ArgillaClient(url, OWNER_KEY, **options))
        return len(attempts)

    create = WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"])
    assert tries(lambda c: c.list()) == tries(lambda c: c.create(create)) == 2
    assert tries(lambda c: c.list(), connect_retries=0) == 1  # what shell completion asks for: the shell waits
    assert tries(lambda c: c.list(), connect_retries=3) == 4
    assert tries(lambda c: c.list(), transport=httpx.HTTPTransport()) == 1  # a caller's transport: its own retries


def test_completion_gives_up_on_a_server_that_never_answers_within_about_2_seconds(silent):
    ctx = SimpleNamespace(params={"api_url": silent, "api_key": OWNER_KEY, "profile": None})
    started = time.monotonic()
    assert webhook_ids(ctx, "") == []
    assert time.monotonic() - started < 3


class StubServer(ThreadingHTTPServer):
    """Answers every request `{"items": []}` after `delay` seconds (as Argilla answers a ping once the receiver has);
    `paths` are the request targets it got (absolute URLs when it is used as a proxy)."""

    daemon_threads = False  # stop() waits for every answer, so none is written into the next test

    def __init__(self, delay: float = 0):
        self.paths: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def answer(handler):
                self.paths.append(handler.path)
                time.sleep(delay)
                handler.send_response(200)
                handler.send_header("content-length", "13")
                handler.end_headers()
                handler.wfile.write(b'{"items": []}')

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_port}"
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up before the answer: what some tests make happen

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def test_a_ping_gets_its_own_longer_read_timeout(monkeypatch):
    # Argilla answers a ping only once the receiver did; that wait must not hit the short default read timeout.
    monkeypatch.setattr(client_module, "PING_TIMEOUT", httpx.Timeout(2.0, connect=0.5))
    server = StubServer(delay=0.8)
    try:
        with ArgillaClient(server.url, OWNER_KEY, timeout=httpx.Timeout(0.3)) as client:
            client.ping("0b5d8c1e-0000-4000-8000-000000000000")
            with pytest.raises(errors.AnswerLost, match=r"\(ReadTimeout\)"):  # the default is short
                client.create(WebhookCreate(url="http://127.0.0.1:9000/", events=["dataset.created"]))
    finally:
        server.stop()


def test_the_environments_proxy_is_used_unless_no_proxy_names_the_host(monkeypatch):
    # httpx reads HTTP_PROXY and NO_PROXY only for a transport it makes; the client makes its own.
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    proxy = StubServer()
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        assert ArgillaClient("http://argilla.invalid:6900", OWNER_KEY).list() == []
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        assert ArgillaClient(proxy.url, OWNER_KEY).list() == []  # straight to the "proxy", as a server
        assert proxy.paths == ["http://argilla.invalid:6900/api/v1/webhooks", "/api/v1/webhooks"]
    finally:
        proxy.stop()


# --- the same defects, seen from the command line (message and exit code) ----------------------------------------



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
    assert re.search(r"\bto https://argilla\.test\b(?!/)", result.stderr)  # the base URL to use


def test_login_with_a_password_in_the_url_exits_2_echoes_nothing_and_saves_nothing(fake_argilla):
    result = hooks("login", "--api-url", "http://admin:s3cret@argilla.test", "--api-key", OWNER_KEY)
    assert result.exit_code == 2 and "user name or password" in result.stderr
    assert "s3cret" not in result.output + result.stderr
    assert not settings.config_path().exists() and fake_argilla.requests == []


def test_an_api_url_with_a_query_exits_2(fake_argilla):
    result = hooks("list", "--api-url", f"{API}/?token=x")
    assert result.exit_code == 2 and "query or fragment" in result.stderr


def test_the_ping_read_timeout_outlasts_argillas_own_wait_for_the_receiver():
    # Argilla waits up to 20 s for the receiver before it answers a ping: giving up sooner reported a delivered ping
    # as "did not answer in time" (exit 6).
    assert client_module.PING_TIMEOUT.read > 20


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
