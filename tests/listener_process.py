"""Start the installed `hooks listen --json` as a subprocess, read its JSON lines, stop it with a signal."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Optional


def hooks_executable() -> str:
    """The `hooks` installed next to this interpreter (so the tests cover the packaging too), else the one on PATH."""
    beside = Path(sys.executable).parent / "hooks"
    found = str(beside) if beside.exists() else shutil.which("hooks")
    if not found:
        raise RuntimeError("no `hooks` executable: install the project (scripts/test does) before running these tests")
    return found


class Listener:
    """`with Listener(["handlers:fn", "--secret", S], cwd=dir) as listener:`; `listener.ready` is the ready line."""

    def __init__(self, args: list[str], *, cwd: Optional[Path] = None, env: Optional[dict] = None, ready_timeout: float = 30):
        merged = {**os.environ, "NO_COLOR": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [hooks_executable(), "listen", "--port", "0", "--json", *args],
            cwd=cwd,
            env={k: v for k, v in merged.items() if v is not None},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: "queue.Queue[dict]" = queue.Queue()
        self.stdout_raw: list[str] = []
        self.not_json: list[str] = []  # stdout lines that are not JSON: each fails the test
        self.stderr_lines: list[str] = []
        self._stdout_reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._stdout_reader.start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            self.ready = self.next(timeout=ready_timeout)
        except queue.Empty:
            self.stop()
            raise AssertionError(f"listener never became ready; stderr:\n{self.stderr}") from None
        assert self.ready["kind"] == "ready", self.ready
        self.url = self.ready["url"]

    def _read_stdout(self) -> None:
        for line in self.proc.stdout:
            self.stdout_raw.append(line)
            try:
                self.lines.put(json.loads(line))
            except ValueError:  # failed in __exit__: raised here, in this thread, it was only a warning
                self.not_json.append(line)

    def _read_stderr(self) -> None:
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    @property
    def stderr(self) -> str:
        return "".join(self.stderr_lines)

    def next(self, timeout: float = 30) -> dict:
        return self.lines.get(timeout=timeout)

    def next_event(self, timeout: float = 30, type: Optional[str] = None) -> dict:
        """The next `event` line (of that `type`, when given: with --register or --webhook, the listener's own ping
        at start comes first)."""
        while True:
            line = self.next(timeout)
            if line["kind"] == "event" and (type is None or line["type"] == type):
                return line

    def remaining(self, timeout: float = 30) -> list[dict]:
        """Once the listener has exited: every JSON line not read yet."""
        self.proc.wait(timeout)
        self._stdout_reader.join(10)
        lines = []
        while not self.lines.empty():
            lines.append(self.lines.get_nowait())
        return lines

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self.proc.poll() is None:
            self.stop()
        self._stdout_reader.join(10)
        if exc_type is None:
            assert not self.not_json, f"not JSON lines on stdout: {[line[:200] for line in self.not_json]}"
