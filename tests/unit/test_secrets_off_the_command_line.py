"""Secrets kept off argv (`--api-key-file`, `--secret-file`, or `-` for stdin), and a key pasted into `--api-url`
never echoed (issue 19)."""

from __future__ import annotations

import base64
import json
import os

import pytest

from argilla_hooks.urls import shown_api_url
from tests.listener_process import Listener
from tests.unit.fake_argilla import API, OWNER_KEY
from tests.unit.hooks_cli import hooks

SECRET = base64.b64encode(b"s" * 64).decode()


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "key"
    path.write_text(OWNER_KEY + "\n")
    return str(path)


@pytest.fixture
def no_key_in_environment(monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")


# --- --api-key-file ----------------------------------------------------------------------------------------------


def test_the_api_key_comes_from_a_file_or_stdin(fake_argilla, key_file, no_key_in_environment):
    fake_argilla.add()
    assert hooks("list", "--json", "--api-key-file", key_file).exit_code == 0
    assert hooks("list", "--json", "--api-key-file", "-", input=OWNER_KEY + "\n").exit_code == 0
    assert {r.headers["x-argilla-api-key"] for r in fake_argilla.requests} == {OWNER_KEY}


def test_the_file_beats_the_environment_as_a_flag_does(fake_argilla, key_file, monkeypatch):
    monkeypatch.setenv("ARGILLA_API_KEY", "stale.key")
    assert hooks("list", "--api-key-file", key_file).exit_code == 0
    assert {r.headers["x-argilla-api-key"] for r in fake_argilla.requests} == {OWNER_KEY}


def test_login_saves_the_key_read_from_a_file(fake_argilla, key_file, no_key_in_environment, tmp_path):
    result = hooks("login", "--api-key-file", key_file)
    assert result.exit_code == 0, result.stderr
    assert OWNER_KEY in (tmp_path / "config.toml").read_text() and OWNER_KEY not in result.output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["--api-key-file", "{key}", "--api-key", "x"], None, "give --api-key or --api-key-file, not both"),
    (["--api-key", "x", "--api-key-file", "{key}"], None, "give --api-key or --api-key-file, not both"),
    (["--api-key-file", "{missing}"], None, "--api-key-file {missing}: No such file or directory"),
    (["--api-key-file", os.devnull], None, f"--api-key-file {os.devnull} is empty"),
    (["--api-key-file", "-"], "", "--api-key-file - is empty"),
    (["--api-key-file", "{binary}"], None, "--api-key-file {binary}: 'utf-8' codec can't decode"),
], ids=["file then key", "key then file", "missing", "empty", "empty stdin", "not text"])
def test_a_bad_key_file_is_one_line_and_exit_2(args, stdin, message, fake_argilla, key_file, tmp_path):
    (tmp_path / "binary").write_bytes(b"\xff\xfe")
    names = {"key": key_file, "missing": str(tmp_path / "missing"), "binary": str(tmp_path / "binary")}
    result = hooks("list", *[a.format(**names) for a in args], input=stdin)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert result.stderr.startswith(f"error: {message.format(**names)}") and fake_argilla.requests == []


def test_apply_cannot_read_both_the_file_and_the_key_from_stdin(fake_argilla):
    result = hooks("apply", "-f", "-", "--api-key-file", "-", input="webhooks = []\n")
    assert result.exit_code == 2 and "-f - and --api-key-file - both read stdin" in result.stderr


# --- --secret-file -----------------------------------------------------------------------------------------------


def test_listen_verifies_with_the_secrets_of_a_file(tmp_path):
    other = base64.b64encode(b"o" * 64).decode()
    (tmp_path / "secrets").write_text(f"{other}\n{SECRET}\n")  # rotating: both
    with Listener(["--secret-file", str(tmp_path / "secrets")]) as listener:
        result = hooks("trigger", "dataset.created", "--to", listener.url, "--secret", SECRET, "--json")
        assert json.loads(result.stdout)["status"] == 204
        listener.stop()
    assert SECRET not in " ".join(listener.proc.args)


def test_listen_says_which_option_a_bad_secret_came_from(tmp_path):
    (tmp_path / "secrets").write_text("not base64!\n")
    result = hooks("listen", "--secret-file", str(tmp_path / "secrets"))
    assert result.exit_code == 2 and result.stderr.startswith("error: --secret-file: ") and "not base64!" not in result.stderr


def test_trigger_signs_with_the_secret_read_from_stdin(tmp_path):
    with Listener(["--secret", SECRET]) as listener:
        result = hooks("trigger", "ping", "--to", listener.url, "--secret-file", "-", "--json", input=SECRET)
        assert result.exit_code == 0 and json.loads(result.stdout)["status"] == 204, result.output
        listener.stop()
    both = hooks("trigger", "ping", "--secret", SECRET, "--secret-file", "-", input=SECRET)
    assert both.exit_code == 2 and "give --secret or --secret-file, not both" in both.stderr


# --- a key in --api-url ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "shown"), [
    ("http://h:6900", "http://h:6900"), ("http://h:6900/", "http://h:6900/"), ("http://h/api/v1", "http://h/api/v1"),
    ("http://h:6900/KEY123", "http://h:6900/***"), ("http://h/?api_key=KEY123", "http://h/?***"),
    ("http://h/#KEY123", "http://h/#***"), ("http://u:KEY123@h/", "http://***@h/"), ("KEY123", "(not shown: not a URL, perhaps a key)"),
    ("http://u:KE/Y123@h", "http://***@h"),
])
def test_an_api_url_is_shown_without_what_may_be_a_key(url, shown):
    assert shown_api_url(url) == shown


@pytest.mark.parametrize("url", [f"{API}/?api_key=argilla.sEcReT", f"{API}/argilla.sEcReT", "argilla.sEcReT", f"{API}#argilla.sEcReT"])
def test_a_key_pasted_into_the_api_url_is_never_echoed(url, fake_argilla):
    # "the API URL 'http://.../?api_key=KEY' has a query" and "no Argilla API at http://.../KEY" echoed the key.
    result = hooks("list", "--api-url", url)
    assert result.exit_code in (2, 6) and result.stderr.count("\n") == 1, result.output
    assert "sEcReT" not in result.output


@pytest.mark.parametrize("command", [["listen"], ["trigger", "ping"]])
def test_a_secret_file_that_cannot_be_read_is_one_line_and_exit_2(command, tmp_path):
    missing = tmp_path / "missing"
    result = hooks(*command, "--secret-file", str(missing))
    assert result.exit_code == 2 and result.stderr == f"error: --secret-file {missing}: No such file or directory\n"
    empty = hooks(*command, "--secret-file", "-", input="\n")
    assert empty.exit_code == 2 and empty.stderr == "error: --secret-file - is empty\n"
