"""Shell completion: the committed scripts are typer's, and real shells complete commands, events, profiles and ids."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from argilla_hooks.cli import completion
from argilla_hooks.events import SUBSCRIBABLE
from tests.shell_completion import COMPLETIONS, bash_complete, fish_complete
from tests.unit.fake_argilla import OWNER_KEY

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent  # where the installed `hooks` and `argilla-hooks` live

pytestmark = pytest.mark.skipif(not (BIN / "hooks").exists(), reason="the project is not installed in this venv")


def shell_env(**extra: str) -> dict[str, str]:
    # No server unless a test names one (port 9: refused at once). NO_COLOR etc. come from the unit conftest.
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ARGILLA_API_URL": "http://127.0.0.1:9", **extra}


# --- the committed scripts ---------------------------------------------------------------------


def test_committed_scripts_are_what_the_installed_typer_writes():
    committed = {path.name: path.read_text() for path in COMPLETIONS.iterdir()}
    assert committed == completion.scripts(), "run `python -m argilla_hooks.cli.completion` and commit completions/"


def test_scripts_cover_every_console_script():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert sorted(scripts) == sorted(completion.PROGRAMS)


@pytest.mark.parametrize("program", completion.PROGRAMS)
def test_show_completion_prints_the_committed_script_under_the_name_called(program):
    # typer detects the shell from the parent process; `; true` keeps bash from exec-ing the program in its place
    result = subprocess.run(["bash", "-c", '"$0" --show-completion; true', BIN / program], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env=shell_env())
    assert result.stdout.strip() == (COMPLETIONS / f"{program}.bash").read_text().strip(), result.stderr


# --- bash ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("program", completion.PROGRAMS)
def test_bash_completes_commands(program):
    assert bash_complete("up", program=program, env=shell_env()) == ["update"]


@pytest.mark.parametrize("words", [("create", "-e", ""), ("list", "--event", ""), ("update", "3f2a", "--add-event", "")])
def test_bash_completes_subscribable_event_names(words):
    assert bash_complete(*words, env=shell_env()) == list(SUBSCRIBABLE)


def test_bash_completes_the_last_item_of_a_comma_list():
    assert bash_complete("create", "-e", "dataset.created,record.c", env=shell_env()) == [
        "dataset.created,record.created", "dataset.created,record.completed"
    ]


def test_bash_completes_trigger_events_including_ping():
    assert bash_complete("trigger", "", env=shell_env()) == [*SUBSCRIBABLE, "ping"]


def test_bash_completes_export_formats():
    assert bash_complete("export", "--format", "", env=shell_env()) == ["toml", "json"]


@pytest.mark.parametrize("words", [("list", "--profile", "p"), ("logout", "--profile", "")])
def test_bash_completes_profile_names(tmp_path, words):
    config = tmp_path / "profiles.toml"
    config.write_text('[profiles.prod]\napi_url = "http://p"\napi_key = "k"\n[profiles.preview]\napi_url = "http://s"\napi_key = "k"\n')
    assert bash_complete(*words, env=shell_env(ARGILLA_HOOKS_CONFIG=str(config))) == ["prod", "preview"]


def test_a_broken_config_file_completes_no_profiles(tmp_path):
    (tmp_path / "profiles.toml").write_text("[profiles\n")
    assert bash_complete("list", "--profile", "", env=shell_env(ARGILLA_HOOKS_CONFIG=str(tmp_path / "profiles.toml"))) == []


@pytest.mark.parametrize("words", [("show", ""), ("delete", "x", ""), ("trigger", "ping", "--webhook", "")])
def test_bash_completes_the_ids_of_the_servers_webhooks(served_argilla, words):
    hooks = [served_argilla.add(), served_argilla.add()]
    env = shell_env(ARGILLA_API_URL=served_argilla.url, ARGILLA_API_KEY=OWNER_KEY)
    assert sorted(bash_complete(*words, env=env)) == sorted(hook["id"] for hook in hooks)
    assert bash_complete(*words[:-1], hooks[1]["id"][:8], env=env) == [hooks[1]["id"]]


@pytest.fixture
def silent_server():
    """A server that takes connections and never answers them."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("server", ["refusing", "silent"])
def test_without_an_answering_server_ids_are_quickly_none(silent_server, server):
    url = silent_server if server == "silent" else "http://127.0.0.1:9"
    started = time.monotonic()
    assert bash_complete("show", "", env=shell_env(ARGILLA_API_URL=url, ARGILLA_API_KEY=OWNER_KEY)) == []
    assert time.monotonic() - started < 5  # a command's own limit is 9 s


# --- fish and zsh --------------------------------------------------------------------------------


def test_fish_completes_events_after_a_comma_with_their_descriptions():
    assert fish_complete("hooks create -e dataset.created,record.up", env=shell_env()) == [
        ("dataset.created,record.updated", "a record’s fields, metadata or responses changed")
    ]


def test_fish_asks_the_server_named_on_the_line(served_argilla):
    # bash cannot: readline splits `http://127.0.0.1:PORT` at its colons
    hook = served_argilla.add(url="http://127.0.0.1:8000/fish")
    line = f"hooks show --api-url {served_argilla.url} --api-key {OWNER_KEY} "
    assert fish_complete(line, env=shell_env()) == [(hook["id"], "http://127.0.0.1:8000/fish")]


def test_zsh_feeds_events_and_their_descriptions_to_arguments():
    # zsh completes only under its line editor: stand in for compdef and _arguments, and see what _arguments gets
    script = (f'compdef() {{ :; }}; source {COMPLETIONS / "hooks.zsh"}; _arguments() {{ print -r -- "$@"; }}; '
              "words=(hooks create -e dataset.up); CURRENT=4; _hooks_completion")
    result = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, env=shell_env(), timeout=30)
    assert result.stdout == '*: :(("dataset.updated":"a dataset’s name, guidelines or settings changed"))\n', result.stderr
