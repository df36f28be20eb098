"""login / logout / whoami and where settings come from (flag > env > profile > default)."""

import json
import os
import stat

import pytest

from argilla_hooks import settings
from tests.unit.fake_argilla import ANNOTATOR_KEY, API, OWNER_KEY
from tests.unit.hooks_cli import hooks





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
    assert result.stderr == f"error: the API key was rejected by {API}; nothing was saved\n"
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


def test_precedence_flag_over_env_over_profile_over_default(fake_argilla, monkeypatch):
    def server_used(*args):
        result = hooks("whoami", "--json", *args)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["api_url"]

    settings.save_profile("default", "http://profile.test", "profile-key")
    assert server_used() == API  # the environment (the fake server's, set by conftest) over the profile
    monkeypatch.setenv("ARGILLA_API_URL", "http://elsewhere.test")
    assert server_used("--api-url", API) == API  # a flag over the environment
    monkeypatch.delenv("ARGILLA_API_URL")
    monkeypatch.delenv("ARGILLA_API_KEY")
    settings.save_profile("default", API, OWNER_KEY)
    assert server_used() == API  # the profile over the default
    settings.remove_profile("default")
    assert settings.resolve().api_url == settings.DEFAULT_API_URL


def test_a_profiles_key_is_only_sent_to_its_own_server(fake_argilla, monkeypatch):
    settings.save_profile("prod", "http://prod.test", "prod-key")
    monkeypatch.delenv("ARGILLA_API_KEY")  # the URL from the environment, the key from the profile: refused
    result = hooks("whoami", "--profile", "prod")
    assert result.exit_code == 2 and fake_argilla.requests == []
    assert "profile 'prod' holds the API key of http://prod.test, not of http://argilla.test" in result.stderr
    assert "prod-key" not in result.stdout + result.stderr
    settings.save_profile("prod", API + "/", OWNER_KEY)  # the same server, written with a trailing slash
    assert hooks("whoami", "--profile", "prod").exit_code == 0


def test_a_profile_with_a_key_and_no_url_is_for_the_default_url_only(fake_argilla, monkeypatch):
    settings.config_path().write_text('[profiles.default]\napi_key = "hand-written-key"\n')
    monkeypatch.delenv("ARGILLA_API_KEY")  # ARGILLA_API_URL is set: the key went to it
    result = hooks("whoami")
    assert result.exit_code == 2 and fake_argilla.requests == []
    assert f"holds the API key of {settings.DEFAULT_API_URL}, not of {API}" in result.stderr
    assert "hand-written-key" not in result.stdout + result.stderr
    monkeypatch.delenv("ARGILLA_API_URL")
    assert settings.resolve().api_url == settings.DEFAULT_API_URL


def test_login_refuses_an_empty_profile_name(fake_argilla):
    # other commands read `--profile ''` as no profile, so a profile saved under '' could never be used
    result = hooks("login", "--profile", " ", "--api-url", API, "--api-key", OWNER_KEY)
    assert result.exit_code == 2 and "--profile needs a name" in result.stderr
    assert fake_argilla.requests == [] and not settings.config_path().exists()


def test_url_and_key_from_the_environment_need_no_readable_config():
    settings.config_path().write_text("garbage = [")
    assert settings.resolve(api_url=API, api_key=OWNER_KEY).api_url == API
    with pytest.raises(settings.ProfileError, match="cannot read"):
        settings.resolve(api_url=API, api_key=OWNER_KEY, profile="prod")  # a profile named: the file must be read


def test_login_reports_a_broken_config_before_asking_anything(fake_argilla):
    settings.config_path().write_text("garbage = [")
    result = hooks("login", "--api-url", API, "--api-key", OWNER_KEY)
    assert result.exit_code == 2 and "cannot read" in result.stderr and fake_argilla.requests == []


def test_login_with_a_malformed_url_is_refused_before_the_key_is_asked(fake_argilla, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")
    monkeypatch.setattr("argilla_hooks.cli.output.stdin_is_terminal", lambda: True)
    asked = []
    monkeypatch.setattr("argilla_hooks.cli.output.prompt", lambda *a, **k: asked.append(a) or "key")
    result = hooks("login", "--api-url", "not a url")
    assert result.exit_code == 2 and "malformed API URL" in result.stderr and asked == []


def test_unknown_profile_is_usage_error(fake_argilla):
    result = hooks("list", "--profile", "nope")
    assert result.exit_code == 2 and "hooks login --profile nope" in result.stderr


def test_logout_removes_profile(fake_argilla):
    settings.save_profile("prod", API, OWNER_KEY)
    assert hooks("logout", "--profile", "prod").exit_code == 0
    assert "prod" not in settings.profiles()
    assert hooks("logout", "--profile", "prod").exit_code == 0


def test_logout_with_no_config_file_writes_nothing(tmp_path, monkeypatch):
    config = tmp_path / "new" / "dir" / "config.toml"
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(config))
    result = hooks("logout", "--profile", "prod")
    assert result.exit_code == 0 and "nothing to do" in result.stderr
    assert not (tmp_path / "new").exists()  # it made the directories and a lock file


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


def test_login_to_an_unreachable_server_says_nothing_was_saved(tmp_path):
    # Issue 18, item 10.
    result = hooks("login", "--api-url", "http://127.0.0.1:9", "--api-key", "owner.apikey")
    assert result.exit_code == 6 and result.stderr.rstrip().endswith("; nothing was saved")
    assert not (tmp_path / "config.toml").exists()
