"""The profile file: hand-edited shapes, files that cannot be written, and a config.toml that is a symbolic link."""

import os
import stat
import subprocess
import sys

import pytest

from argilla_hooks import settings
from argilla_hooks.settings import ProfileError
from tests.unit.hooks_cli import hooks


def write_config(text: str) -> None:
    settings.config_path().write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('profiles = "x"\n', "`profiles` must be a table"),
        ('[profiles]\ndefault = "oops"\n', "profiles.default must be a table [profiles.default]"),
        ("[profiles.default]\napi_key = 12345\n", "profiles.default.api_key must be a quoted string"),
        ('[profiles.prod]\napi_url = ["http://x"]\n', "profiles.prod.api_url must be a quoted string"),
    ],
)
def test_a_config_of_the_wrong_shape_names_the_file_and_the_key(text, where):
    write_config(text)
    with pytest.raises(ProfileError) as info:
        settings.resolve()
    message = str(info.value)
    assert message.startswith(f"{settings.config_path()}: ") and where in message
    assert "12345" not in message  # a value may be a key: never shown


def test_a_config_of_the_wrong_shape_exits_2_from_any_command(monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")
    write_config("[profiles.default]\napi_key = 12345\n")
    for args in (["list"], ["logout"], ["login", "--api-key", "k"]):
        result = hooks(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "profiles.default.api_key must be a quoted string" in result.stderr


@pytest.mark.parametrize(("content", "why"), [
    (b"\xff\xfe[profiles]\n", "codec can't decode"),  # was exit 1, "unexpected UnicodeDecodeError"
    (b"#" * (settings.MAX_CONFIG_SIZE + 1), "larger than 1 MiB"),
])
def test_a_config_that_is_not_utf8_or_too_large_exits_2_with_one_line(content, why, monkeypatch):
    monkeypatch.delenv("ARGILLA_API_KEY")  # else the file is not read
    settings.config_path().write_bytes(content)
    result = hooks("list")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: cannot read {settings.config_path()}: ") and why in result.stderr


def test_a_config_path_that_never_ends_is_refused_not_read_for_ever(monkeypatch):
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", "/dev/zero")
    with pytest.raises(ProfileError, match="larger than 1 MiB"):
        settings.profiles()


def test_other_keys_of_the_file_and_of_a_profile_are_allowed():
    write_config('editor = 1\n[profiles.default]\napi_url = "http://x"\napi_key = "k"\nnote = "mine"\n')
    assert settings.resolve().api_key == "k"


def test_missing_directories_and_the_lock_are_private_whatever_the_umask(tmp_path, monkeypatch):
    # Under umask 000 the outer directories came out 0777 and the lock file 0666 (only the last directory was 0700).
    path = tmp_path / "new" / "argilla-hooks" / "config.toml"
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(path))
    old = os.umask(0)
    try:
        assert settings.save_profile("default", "http://x", "k") == path
    finally:
        os.umask(old)
    for made in (tmp_path / "new", path.parent):
        assert stat.S_IMODE(made.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.with_name("config.toml.lock").stat().st_mode) == 0o600


def test_a_parent_that_is_a_file_is_one_line_that_says_what_to_do(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("")
    path = tmp_path / "afile" / "config.toml"
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(path))
    with pytest.raises(ProfileError) as info:
        settings.save_profile("default", "http://x", "k")
    assert str(info.value) == (
        f"cannot write {path}: a parent is a file, not a directory (set ARGILLA_HOOKS_CONFIG to a file you can write)"
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sysfs refuses new files, even to root")
def test_an_unwritable_place_is_one_line_and_exit_2_not_a_traceback(monkeypatch):
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", "/sys/config.toml")
    with pytest.raises(ProfileError, match=r"^cannot write /sys/config.toml: Permission denied \(set ARGILLA_HOOKS"):
        settings.save_profile("default", "http://x", "k")


def test_a_symlinked_config_stays_a_link_and_its_target_is_written(tmp_path, monkeypatch):
    target = tmp_path / "dotfiles" / "config.toml"
    target.parent.mkdir()
    target.write_text('[profiles.old]\napi_url = "http://old"\napi_key = "o"\n')
    link = tmp_path / "config.toml"
    link.symlink_to(target)
    monkeypatch.setenv("ARGILLA_HOOKS_CONFIG", str(link))
    assert settings.save_profile("default", "http://x", "k") == link
    assert link.is_symlink() and link.resolve() == target
    assert set(settings.profiles()) == {"old", "default"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["config.toml"]  # no temporary file left behind


def test_profiles_saved_at_the_same_time_are_all_kept():
    code = "import sys; from argilla_hooks import settings; settings.save_profile(sys.argv[1], 'http://h', 'k' * 20)"
    names = [f"p{i}" for i in range(8)]
    procs = [subprocess.Popen([sys.executable, "-c", code, name]) for name in names]
    assert [p.wait(timeout=60) for p in procs] == [0] * len(names)
    assert sorted(settings.profiles()) == names  # read-change-write, one writer at a time


def test_a_given_url_key_or_profile_beats_the_saved_one(monkeypatch):
    # flag > environment > profile > default: typer hands `resolve` the flag-or-environment values.
    write_config(
        '[profiles.default]\napi_url = "http://a:6900"\napi_key = "saved"\n'
        '[profiles.prod]\napi_url = "http://p:6900"\napi_key = "prod-key"\n'
        '[profiles.staging]\napi_url = "http://s:6900"\napi_key = "staging-key"\n'
    )
    assert (settings.resolve(api_key="given").api_url, settings.resolve(api_key="given").api_key) == ("http://a:6900", "given")
    chosen = settings.resolve(api_url="http://other:6900", api_key="given", profile="prod")
    assert (chosen.api_url, chosen.api_key) == ("http://other:6900", "given")
    monkeypatch.setenv("ARGILLA_HOOKS_PROFILE", "prod")
    assert settings.resolve().api_key == "prod-key"
    assert settings.resolve(profile="staging").api_key == "staging-key"  # --profile beats ARGILLA_HOOKS_PROFILE
