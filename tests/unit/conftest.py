import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import MagicMock

import httpx
import pytest
import respx

from tests.unit.fake_argilla import API, OWNER_KEY, FakeArgilla


@pytest.fixture
def fake_argilla():
    with respx.mock(assert_all_called=False) as router:
        yield FakeArgilla(router)


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch, tmp_path):
    """Every unit test gets its own config file and the fake server's credentials."""
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # where `hooks listen` journals by default
    monkeypatch.delenv("ARGILLA_HOOKS_JOURNAL", raising=False)
    monkeypatch.setenv("ARGILLA_API_URL", API)
    monkeypatch.setenv("ARGILLA_API_KEY", OWNER_KEY)
    monkeypatch.delenv("ARGILLA_HOOKS_PROFILE", raising=False)
    monkeypatch.delenv("ARGILLA_HOOKS_DEBUG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture
def served_argilla():
    """The fake Argilla over real HTTP, for a `hooks` subprocess."""
    fake = FakeArgilla(MagicMock())  # no respx: requests come in through the server below

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = httpx.Request(self.command, f"{API}{self.path}", headers=dict(self.headers), content=body)
            response = fake.handle(request)
            self.send_response(response.status_code)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(response.content)))
            self.end_headers()
            self.wfile.write(response.content)

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()
