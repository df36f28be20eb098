"""Fixtures for end-to-end tests: a real Argilla server and the installed `hooks` executable.

By default a throwaway server is started once per session (see local_server.py). With
ARGILLA_E2E_API_URL and ARGILLA_E2E_API_KEY (an owner's key) set, that server is used instead; it
must be disposable: every webhook on it is deleted before and after each test.
"""

import json
import os
import queue
import secrets
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.listener_process import hooks_executable

from .local_server import LocalArgillaServer

HERE = Path(__file__).parent
_started: list[LocalArgillaServer] = []  # for the terminal summary


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter):
    for server in _started:
        if server.startup_seconds is not None:
            terminalreporter.write_line(
                f"e2e: Argilla server started in {server.startup_seconds:.1f} s (logs: {server.logs})"
            )


@dataclass
class Argilla:
    """Where the server is and one API key per role."""

    api_url: str
    owner_key: str
    admin_key: str = ""
    annotator_key: str = ""

    def http(self, key: str | None = None) -> httpx.Client:
        """A new client authenticated with `key` (default: the owner's); close it or use `with`."""
        return httpx.Client(base_url=self.api_url, headers={"X-Argilla-Api-Key": key or self.owner_key}, timeout=30)


@pytest.fixture(scope="session")
def argilla(tmp_path_factory) -> Argilla:
    api_url, owner_key = os.environ.get("ARGILLA_E2E_API_URL"), os.environ.get("ARGILLA_E2E_API_KEY")
    server = None
    if api_url:
        if not owner_key:
            pytest.fail("ARGILLA_E2E_API_URL is set but ARGILLA_E2E_API_KEY (an owner's API key) is not")
    else:
        server = LocalArgillaServer(tmp_path_factory.mktemp("argilla-server"))
        _started.append(server)
        info = server.start()
        api_url, owner_key = info.api_url, info.owner_api_key
    try:
        found = Argilla(api_url.rstrip("/"), owner_key)
        # Made over REST, not the server CLI, so this also works against an external server.
        with found.http() as owner:
            users = [_create_user(owner, role) for role in ("admin", "annotator")]
            found.admin_key, found.annotator_key = (user["api_key"] for user in users)
            yield found
            for user in users:
                owner.delete(f"/api/v1/users/{user['id']}").raise_for_status()
    finally:
        if server:
            server.stop()


def _create_user(owner: httpx.Client, role: str) -> dict:
    name = f"e2e-{role}-{secrets.token_hex(4)}"  # unique per session: external servers keep users
    body = {"username": name, "first_name": name, "password": secrets.token_urlsafe(16), "role": role}
    return owner.post("/api/v1/users", json=body).raise_for_status().json()  # the response carries api_key


@pytest.fixture
def env(argilla, tmp_path):
    """The environment of a `hooks listen` under test: this server, an owner's key, its own config and journal, no
    secret or public URL left over; handlers write to HANDLER_OUT."""
    return {
        "ARGILLA_API_URL": argilla.api_url,
        "ARGILLA_API_KEY": argilla.owner_key,
        "ARGILLA_HOOKS_CONFIG": str(tmp_path / "config.toml"),
        "ARGILLA_HOOKS_JOURNAL": str(tmp_path / "journal.sqlite3"),
        "ARGILLA_WEBHOOK_SECRET": None,
        "WEBHOOK_SERVER_URL": None,
        "HANDLER_OUT": str(tmp_path / "handled.jsonl"),
    }


@pytest.fixture(autouse=True)
def _own_journal(monkeypatch, tmp_path):
    # `hooks listen` journals under $XDG_STATE_HOME by default: each test its own, never the developer's.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("ARGILLA_HOOKS_JOURNAL", raising=False)


@pytest.fixture(scope="session")
def _owner(argilla):
    with argilla.http() as client:
        yield client


@pytest.fixture
def server_webhooks(_owner):
    """Call it to read the server's webhooks (list of dicts, oldest first)."""
    return lambda: _owner.get("/api/v1/webhooks").raise_for_status().json()["items"]


@pytest.fixture(autouse=True)
def _no_webhooks(_owner, server_webhooks):
    # Webhooks are global and capped at 10 per server: every test starts (and leaves) with none.
    def delete_all():
        for hook in server_webhooks():
            _owner.delete(f"/api/v1/webhooks/{hook['id']}").raise_for_status()

    delete_all()
    yield
    delete_all()


@pytest.fixture(scope="session")
def _datasets(_owner):
    """One workspace per session, and the datasets made in it, deleted at the end."""
    workspace = _owner.post("/api/v1/workspaces", json={"name": f"e2e-{secrets.token_hex(4)}"})
    made: list[str] = []
    yield workspace.raise_for_status().json(), made
    for dataset_id in made:
        if (response := _owner.delete(f"/api/v1/datasets/{dataset_id}")).status_code != 404:  # a test may delete
            response.raise_for_status()
    _owner.delete(f"/api/v1/workspaces/{workspace.json()['id']}").raise_for_status()


@pytest.fixture
def create_dataset(_owner, _datasets):
    """Call it to create a draft dataset (emits `dataset.created`); returns the dataset JSON."""
    workspace, made = _datasets

    def create(name: str | None = None) -> dict:
        body = {"name": name or f"e2e-{secrets.token_hex(4)}", "workspace_id": workspace["id"]}
        dataset = _owner.post("/api/v1/datasets", json=body).raise_for_status().json()
        made.append(dataset["id"])
        return dataset

    return create


@dataclass
class HooksCLI:
    """Runs the installed `hooks` as a user would: `hooks("list", "--json")`."""

    executable: str
    env: dict[str, str]
    config_path: Path

    def __call__(self, *args, input: str | None = None, env: dict | None = None, timeout: float = 60):
        merged = {**self.env, **(env or {})}
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}  # CI has no stdin
        return subprocess.run(
            [self.executable, *map(str, args)], **stdin, capture_output=True, text=True, timeout=timeout,
            env={key: value for key, value in merged.items() if value is not None},
        )


@pytest.fixture
def hooks(argilla, tmp_path) -> HooksCLI:
    executable = hooks_executable()
    # No inherited ARGILLA_HOOKS_* (profile, config) so a developer's own setup never leaks in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("ARGILLA_HOOKS_")}
    config_path = tmp_path / "hooks-config.toml"
    env.update(ARGILLA_API_URL=argilla.api_url, ARGILLA_API_KEY=argilla.owner_key,
               ARGILLA_HOOKS_CONFIG=str(config_path), NO_COLOR="1")
    return HooksCLI(executable, env, config_path)


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A listener on a free loopback port that records every POST and answers 204."""

    url: str
    deliveries: "queue.Queue[Delivery]" = field(default_factory=queue.Queue)

    def next(self, timeout: float = 30) -> Delivery:
        """The next delivery, waiting up to `timeout` seconds (queue.Empty if none came)."""
        return self.deliveries.get(timeout=timeout)


@pytest.fixture
def webhook_receiver():
    received: queue.Queue[Delivery] = queue.Queue()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            received.put(Delivery(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # port 0: no race for a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield WebhookReceiver(f"http://127.0.0.1:{server.server_port}/", received)
    server.shutdown()
    server.server_close()
