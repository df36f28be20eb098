"""write_atomically: regular files are replaced whole; devices and pipes are written to, never replaced."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

from argilla_hooks.settings import write_atomically


def test_a_regular_file_is_replaced_whole_and_keeps_its_mode(tmp_path):
    path = tmp_path / "out.toml"
    path.write_text("old")
    path.chmod(0o640)
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.toml"]


def test_a_named_pipe_gets_the_data_and_stays_a_pipe(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_atomically(fifo, b"through the pipe")
    reader.join(timeout=10)
    assert received == [b"through the pipe"] and stat.S_ISFIFO(fifo.stat().st_mode)


def test_dev_stdout_writes_to_the_process_stdout():
    # Replacing it used to fail ("No such file or directory"). (/dev/null is not tested: a regression run as root
    # would replace the machine's /dev/null with a file, as it once did.)
    code = "from argilla_hooks.settings import write_atomically; write_atomically('/dev/stdout', b'to stdout')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"to stdout"

