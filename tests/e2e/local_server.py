"""Start a throwaway Argilla server (Redis + API + rq worker) on free loopback ports.

The server runs from its own virtualenv (argilla-server 2.8.0 pins typer/pydantic versions that
clash with this project's); `scripts/test` creates it. Everything lives in one temp dir: SQLite
database, Redis's working dir, and one log file per process. (Not named argilla_server.py: the
launcher's directory is on the server's sys.path, and the name would shadow the real package.)
"""

import atexit
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

E2E_HOME = Path(os.environ.get("ARGILLA_HOOKS_E2E_HOME") or Path.home() / ".cache" / "argilla-hooks-e2e")
SERVER_PYTHON = E2E_HOME / "venv" / "bin" / "python"  # the default location `scripts/test` installs to
LAUNCHER = Path(__file__).with_name("serve_argilla.py")
STARTUP_TIMEOUT = 90.0  # Argilla itself gives up on Redis after 60 s; first start compiles .pyc files
STOP_GRACE = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Linux only: the kernel SIGTERMs the child if pytest itself is killed (e.g. SIGKILL on a CI
    # timeout), where neither atexit nor pytest finalizers get to run.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass(frozen=True)
class ServerInfo:
    api_url: str  # e.g. http://127.0.0.1:PORT, what ARGILLA_API_URL expects (no /api/v1)
    owner_api_key: str


class LocalArgillaServer:
    """`start()` brings the server up and returns its `ServerInfo`; `stop()` tears it all down."""

    def __init__(self, workdir: Path, python: Path = SERVER_PYTHON):
        if not Path(python).exists():
            raise RuntimeError(f"no Argilla server venv at {python}: run scripts/test, which creates it")
        if not shutil.which("redis-server"):
            raise RuntimeError("redis-server is not on PATH: run scripts/test, which installs it")
        self.workdir = Path(workdir)
        self.python = str(python)
        self.logs = self.workdir / "logs"
        self.info = ServerInfo(f"http://127.0.0.1:{free_port()}", "owner-" + secrets.token_urlsafe(24))
        self.startup_seconds: float | None = None
        self._procs: dict[str, subprocess.Popen] = {}
        self._redis_port = free_port()
        self.env = {
            **os.environ,
            "ARGILLA_HOME_PATH": str(self.workdir / "home"),
            "ARGILLA_REDIS_URL": f"redis://127.0.0.1:{self._redis_port}/0",
            "ARGILLA_SEARCH_ENGINE": "noop",  # registered by serve_argilla.py
            # Argilla reads these two for telemetry (ARGILLA_ENABLE_TELEMETRY=0 only adds a
            # deprecation warning); offline also keeps the hub client from ever calling out.
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            "COLUMNS": "160",  # the worker logs through rich, which wraps at 80 columns without a tty
        }

    def start(self) -> ServerInfo:
        began = time.monotonic()
        self.logs.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # before the first process, so a failed start leaks nothing
        try:
            self._spawn("redis", "redis-server", "--port", str(self._redis_port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no")
            self._run("setup", "--username", "owner", "--first-name", "Owner", "--role", "owner",
                      "--password", secrets.token_urlsafe(16), "--api-key", self.info.owner_api_key)
            host, port = self.info.api_url.removeprefix("http://").split(":")
            self._spawn("api", self.python, str(LAUNCHER), "server", host, port)
            self._spawn("worker", self.python, str(LAUNCHER), "worker")
            self._wait_until_ready(began + STARTUP_TIMEOUT)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self.info

    def stop(self) -> None:
        """SIGTERM every process group we started, then SIGKILL what is left. Safe to call twice."""
        for proc in self._procs.values():
            self._signal(proc, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for proc in self._procs.values():
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            self._signal(proc, signal.SIGKILL)  # also kills forked rq workers left in the group
            proc.wait()
        self._procs.clear()
        atexit.unregister(self.stop)

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else "(no log)"
        return f"--- {path} (last {lines} lines) ---\n" + "\n".join(text.splitlines()[-lines:])

    def _spawn(self, name: str, *cmd: str) -> None:
        with open(self.logs / f"{name}.log", "wb") as log:
            # Own session = own process group, so stop() also reaches the worker pool's children.
            self._procs[name] = subprocess.Popen(
                cmd, cwd=self.workdir, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
            )

    def _run(self, name: str, *args: str) -> None:
        """Run one launcher command to completion."""
        with open(self.logs / f"{name}.log", "wb") as log:
            code = subprocess.run([self.python, str(LAUNCHER), name, *args], cwd=self.workdir, env=self.env,
                                  stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, timeout=120).returncode
        if code != 0:
            raise RuntimeError(f"`serve_argilla.py {name}` exited {code}\n{self.log_tail(name)}")

    def _wait_until_ready(self, deadline: float) -> None:
        # /api/v1/status needs no auth and goes through the search engine and the database.
        url = f"{self.info.api_url}/api/v1/status"
        while True:
            dead = [name for name, proc in self._procs.items() if proc.poll() is not None]
            if dead:
                raise RuntimeError(f"Argilla {dead[0]} process exited during startup\n{self.log_tail(dead[0])}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Argilla did not answer {url} within {STARTUP_TIMEOUT:.0f} s\n"
                                   f"{self.log_tail('api')}")
            time.sleep(0.25)

    @staticmethod
    def _signal(proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)  # the group id is the pid of the process we started
        except ProcessLookupError:
            pass
