"""login / logout / whoami and where settings come from (flag > env > profile > default)."""

import json
import os
import stat

import pytest
from typer.testing import CliRunner

from argilla_hooks import settings
from argilla_hooks.cli.app import app
from tests.unit.fake_argilla import ANNOTATOR_KEY, API, OWNER_KEY

runner = CliRunner()


def hooks(*args, input=None):
    return runner.invoke(app, list(args), input=input)


def test_login_checks_key_and_saves_profile_with_mode_0600(fake_argilla, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")
    result = hooks("login", "--profile", "prod", "--api-url", API, "--api-key", OWNER_KEY)
    assert result.exit_code == 0, result.stderr
    path = settings.config_path()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert settings.profiles()["prod"] == {"api_url": API, "api_key": OWNER_KEY}
    assert OWNER_KEY not in result.stdout + result.stderr


def test_login_warns_for_non_owner(fake_argilla):
    result = hooks("login", "--api-key", ANNOTATOR_KEY)
    assert result.exit_code == 0 and "only owners can manage webhooks" in result.stderr


def test_login_with_wrong_key_saves_nothing(fake_argilla):
    result = hooks("login", "--api-key", "wrong")
    assert result.exit_code == 3
    assert not settings.config_path().exists()


def test_login_without_key_and_without_terminal_is_usage_error(fake_argilla, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")
    result = hooks("login")
    assert result.exit_code == 2 and "--api-key" in result.stderr
    assert fake_argilla.requests == []


def test_profile_is_used_when_no_flag_or_env(fake_argilla, monkeypatch):
    settings.save_profile("work", API, OWNER_KEY)
    monkeypatch.delenv("ARGILLA_API_KEY")
    monkeypatch.delenv("ARGILLA_API_URL")
    result = hooks("whoami", "--json", "--profile", "work")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"username": "owner", "role": "owner", "api_url": API, "server_version": "2.8.0"}
    monkeypatch.setenv("ARGILLA_HOOKS_PROFILE", "work")
    assert hooks("whoami", "--json").exit_code == 0


def test_precedence_flag_over_env_over_profile_over_default(monkeypatch):
    settings.save_profile("default", "http://profile.test", "profile-key")
    monkeypatch.delenv("ARGILLA_API_URL")
    monkeypatch.delenv("ARGILLA_API_KEY")
    assert settings.resolve().api_url == "http://profile.test"
    assert settings.resolve(api_url="http://flag.test").api_url == "http://flag.test"
    assert settings.resolve().api_key == "profile-key"
    settings.remove_profile("default")
    assert settings.resolve().api_url == settings.DEFAULT_API_URL


def test_unknown_profile_is_usage_error(fake_argilla):
    result = hooks("list", "--profile", "nope")
    assert result.exit_code == 2 and "hooks login --profile nope" in result.stderr


def test_logout_removes_profile(fake_argilla):
    settings.save_profile("prod", API, OWNER_KEY)
    assert hooks("logout", "--profile", "prod").exit_code == 0
    assert "prod" not in settings.profiles()
    assert hooks("logout", "--profile", "prod").exit_code == 0


def test_config_path_honours_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("ARGILLA_HOOKS_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings.config_path() == tmp_path / "argilla-hooks" / "config.toml"


def test_version():
    from argilla_hooks import __version__

    result = hooks("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"argilla-hooks {__version__}"


@pytest.mark.parametrize("command", ["create", "list", "show", "update", "delete", "enable", "disable", "ping", "events", "login", "logout", "whoami"])
def test_every_command_help_has_examples(command):
    result = hooks(command, "--help")
    assert result.exit_code == 0 and "Examples" in result.stdout
