"""A config path that is not a regular file is refused in one line, never written to as if saved, never waited on
(issue 19, item 6)."""

from __future__ import annotations

import os
import subprocess

import pytest

from argilla_hooks import settings
from argilla_hooks.settings import ProfileError
from tests.listener_process import hooks_executable
from tests.unit.fake_argilla import OWNER_KEY
from tests.unit.hooks_cli import hooks


def test_login_to_a_config_linked_to_dev_null_is_refused_not_said_saved(tmp_path, monkeypatch, fake_argilla):
    # It said "saved profile 'default'" and saved nothing.
    link = tmp_path / "config.toml"
    link.symlink_to(os.devnull)
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(link))
    result = hooks("login", "--api-key", OWNER_KEY)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr == f"error: cannot write {link}: not a regular file (set ARGILLA_HOOKS_CONFIG to a file you can write)\n"
    assert "saved" not in result.output and fake_argilla.requests == []  # refused before the key is sent anywhere


def test_a_regular_file_behind_a_link_is_still_written(tmp_path, monkeypatch, fake_argilla):
    target = tmp_path / "real.toml"
    target.write_text("")
    (tmp_path / "config.toml").symlink_to(target)
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(tmp_path / "config.toml"))
    assert hooks("login", "--api-key", OWNER_KEY).exit_code == 0
    assert "owner.key" in target.read_text()


def test_saving_to_a_named_pipe_is_refused_at_once(tmp_path, monkeypatch):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(fifo))
    for call in (lambda: settings.save_profile("default", "http://x", "k"), settings.profiles):
        with pytest.raises(ProfileError, match=f"^cannot (write|read) {fifo}: not a regular file"):
            call()


def test_dev_null_reads_as_no_profile_and_logout_has_nothing_to_do(monkeypatch):
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", os.devnull)
    assert settings.profiles() == {}
    result = hooks("logout")
    assert result.exit_code == 0 and "no profile 'default'" in result.stderr


@pytest.mark.parametrize("command", [["login", "--api-key", "k" * 20], ["whoami"]])
def test_config_on_dev_stdout_of_a_pipe_is_one_line_not_a_hang(command, served_argilla):
    # `ARGILLA_HOOKS_CONFIG=/dev/stdout hooks login ... | cat` hung: reading /dev/stdout opened the pipe's other end.
    env = {**os.environ, "ARGILLA_HOOKS_CONFIG": "/dev/stdout", "ARGILLA_API_URL": served_argilla.url, "NO_COLOR": "1"}
    env.pop("ARGILLA_API_KEY", None)  # so that whoami reads the config for a key
    result = subprocess.run([hooks_executable(), *command], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result
    assert result.stderr == "error: cannot read /dev/stdout: not a regular file (set ARGILLA_HOOKS_CONFIG to a file you can write)\n"
