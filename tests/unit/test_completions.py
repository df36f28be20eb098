"""Shell completion: the committed scripts are current, and real shells complete commands, events and profiles."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from argilla_hooks.cli.completion_scripts import PROGRAMS, completion_scripts
from argilla_hooks.events import SUBSCRIBABLE
from tests.bash_completion import COMPLETIONS, FILE_NAMES, bash_tab, bash_complete as complete_in_bash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent  # where the installed `hooks` and `argilla-hooks` live
SUBSCRIBABLE_EVENTS = list(SUBSCRIBABLE)

needs_installed = pytest.mark.skipif(not (BIN / "hooks").exists(), reason="the project is not installed in this venv")


def shell_env(**extra: str) -> dict[str, str]:
    # No server: `webhook_ids` must answer nothing, fast. NO_COLOR etc. come from the unit conftest.
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "ARGILLA_API_URL": "http://127.0.0.1:9", **extra}


def bash_complete(*words: str, program: str = "hooks", env: dict | None = None) -> list[str]:
    return complete_in_bash(*words, program=program, env=env or shell_env())


# --- the committed scripts ---------------------------------------------------------------------


def test_committed_completion_scripts_are_current():
    expected = completion_scripts()
    stale = [name for name, content in expected.items() if not (COMPLETIONS / name).is_file() or (COMPLETIONS / name).read_text() != content]
    extra = sorted({p.name for p in COMPLETIONS.iterdir()} - set(expected))
    assert not stale and not extra, (
        f"stale: {stale}, unexpected: {extra}; run `python -m argilla_hooks.cli.completion_scripts` and commit completions/"
    )


def test_scripts_cover_every_console_script():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert sorted(scripts) == sorted(PROGRAMS)


@needs_installed
def test_show_completion_prints_the_committed_bash_script():
    result = subprocess.run(
        [str(BIN / "hooks"), "--show-completion", "bash"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (COMPLETIONS / "hooks.bash").read_text().strip()


@needs_installed
def test_install_completion_works_without_a_terminal(tmp_path):
    result = subprocess.run(
        [str(BIN / "hooks"), "--install-completion", "bash"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    installed = tmp_path / ".bash_completions" / "hooks.sh"
    assert installed.read_text().strip() == (COMPLETIONS / "hooks.bash").read_text().strip()
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
    assert result.stdout == "" and "bash completion installed in" in result.stderr  # messages are not data


@needs_installed
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_shell_named_after_the_option_is_the_one_used(tmp_path, shell):
    # typer's options are flags: `hooks --show-completion fish` printed the script of the shell that started hooks.
    env = {**os.environ, "HOME": str(tmp_path)}
    shown = subprocess.run([str(BIN / "hooks"), "--show-completion", shell], capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, env=env)
    assert shown.returncode == 0 and shown.stdout.strip() == (COMPLETIONS / f"hooks.{shell}").read_text().strip()
    installed = subprocess.run([str(BIN / "hooks"), "--install-completion", shell], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL, env=env)
    where = {"bash": ".bash_completions/hooks.sh", "zsh": ".zfunc/_hooks", "fish": ".config/fish/completions/hooks.fish"}
    assert installed.returncode == 0 and (tmp_path / where[shell]).is_file(), installed.stderr


@needs_installed
def test_installing_again_leaves_bashrc_as_it_is(tmp_path):
    # typer's install added a blank line to ~/.bashrc on every run.
    (tmp_path / ".bashrc").write_text("export FOO=1")
    install = [str(BIN / "hooks"), "--install-completion", "bash"]
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(install, check=True, capture_output=True, stdin=subprocess.DEVNULL, env=env)
    once = (tmp_path / ".bashrc").read_text()
    subprocess.run(install, check=True, capture_output=True, stdin=subprocess.DEVNULL, env=env)
    assert (tmp_path / ".bashrc").read_text() == once == f"export FOO=1\nsource '{tmp_path / '.bash_completions' / 'hooks.sh'}'\n"


@needs_installed
@pytest.mark.parametrize("option", ["--install-completion", "--show-completion"])
def test_a_shell_without_completion_support_is_one_line_on_stderr(tmp_path, option):
    # typer printed "Shell sh is not supported." on stdout, exit 1.
    result = subprocess.run(["sh", "-c", f"'{BIN / 'hooks'}' {option}"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: completion is for bash, zsh and fish, not sh") and result.stderr.count("\n") == 1


# --- real bash -----------------------------------------------------------------------------------


@needs_installed
@pytest.mark.parametrize("program", PROGRAMS)
def test_show_completion_names_the_program_it_was_called_as(program):
    result = subprocess.run(
        [str(BIN / program), "--show-completion", "bash"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (COMPLETIONS / f"{program}.bash").read_text().strip()


@needs_installed
@pytest.mark.parametrize("program", PROGRAMS)
def test_bash_completes_commands(program):
    assert bash_complete("up", program=program) == ["update"]
    assert bash_complete("tr", program=program) == ["trigger"]


@needs_installed
@pytest.mark.parametrize("words", [("create", "-e", ""), ("create", "--event", ""), ("list", "-e", ""),
                                   ("update", "3f2a", "-e", ""), ("update", "3f2a", "--add-event", ""),
                                   ("update", "3f2a", "--remove-event", "")])
def test_bash_completes_subscribable_event_names(words):
    assert bash_complete(*words) == SUBSCRIBABLE_EVENTS


@needs_installed
def test_bash_completes_the_last_item_of_a_comma_list():
    assert bash_complete("create", "-e", "dataset.created,record.c") == [
        "dataset.created,record.created", "dataset.created,record.completed"
    ]


@needs_installed
def test_bash_completes_trigger_events_including_ping():
    assert bash_complete("trigger", "") == [*SUBSCRIBABLE_EVENTS, "ping"]
    assert bash_complete("trigger", "p") == ["ping"]


@needs_installed
def test_bash_completes_export_formats():
    assert bash_complete("export", "--format", "") == ["toml", "json"]


@needs_installed
@pytest.mark.parametrize("words", [("list", "--profile", ""), ("login", "--profile", ""), ("logout", "--profile", "")])
def test_bash_completes_profile_names(tmp_path, words):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.prod]\napi_url = "http://p"\napi_key = "k"\n[profiles.staging]\napi_url = "http://s"\napi_key = "k"\n')
    assert bash_complete(*words, env=shell_env(ARGILLA_HOOKS_CONFIG=str(config))) == ["prod", "staging"]


@needs_installed
@pytest.mark.parametrize("words", [("show", ""), ("delete", ""), ("ping", ""), ("trigger", "ping", "--webhook", "")])
def test_bash_webhook_ids_are_quietly_empty_without_a_server(words):
    assert bash_complete(*words) == []


@needs_installed
def test_bash_completes_file_names_only_for_options_that_take_a_file():
    assert bash_complete("apply", "-f", "") == [FILE_NAMES]
    assert bash_complete("export", "-o", "prod.") == [FILE_NAMES]
    # typer's script registers `complete -o default`, so any word with no candidates fell back to file names
    registered = subprocess.run(
        ["bash", "-c", 'source "$1"; complete -p hooks', "bash", str(COMPLETIONS / "hooks.bash")],
        capture_output=True, text=True, check=True,
    )
    assert registered.stdout.strip() == "complete -F _hooks_completion hooks"
    assert bash_complete("zz") == []
    assert bash_complete("create", "") == []  # a URL: nothing to offer


@needs_installed
def test_interactive_bash_completes_values_after_a_colon_or_an_equals_sign(served_argilla, tmp_path):
    # readline splits words at COMP_WORDBREAKS (`:` and `=`): `--api-url http://h:p` used to reach hooks as five words
    hook = served_argilla.add()
    (tmp_path / "hooks.toml").write_text("webhooks = []\n")
    env = shell_env(ARGILLA_API_URL="", ARGILLA_API_KEY="")
    line = f"hooks show --api-url {served_argilla.url} --api-key owner.key "
    assert f"{line}{hook['id']} " in bash_tab(line, env=env, cwd=tmp_path)
    assert "hooks export --format=toml " in bash_tab("hooks export --format=to", env=env, cwd=tmp_path)
    assert "hooks apply --file=hooks.toml " in bash_tab("hooks apply --file=hoo", env=env, cwd=tmp_path)


# --- zsh and fish, when installed ------------------------------------------------------------------


@needs_installed
@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completes_commands_and_events():
    def complete(line: str) -> list[str]:
        command = f'source {COMPLETIONS / "hooks.fish"}; complete -C "{line}"'
        result = subprocess.run(["fish", "--no-config", "-c", command], capture_output=True, text=True, env=shell_env(), timeout=30)
        return [item.split("\t")[0] for item in result.stdout.splitlines()]

    assert complete("hooks up") == ["update"]
    assert sorted(complete("hooks create -e record.c")) == ["record.completed", "record.created"]


@needs_installed
@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_completes_file_names_only_for_options_that_take_a_file(tmp_path):
    (tmp_path / "hooks.toml").write_text("")

    def complete(line: str) -> list[str]:
        command = f'source {COMPLETIONS / "hooks.fish"}; complete -C "{line}"'
        result = subprocess.run(
            ["fish", "--no-config", "-c", command], capture_output=True, text=True, env=shell_env(), cwd=tmp_path, timeout=30
        )
        return result.stdout.splitlines()

    assert complete("hooks apply -f ") == ["hooks.toml"]
    assert complete("hooks show ") == []  # no server: no ids, and no file names instead


@needs_installed
@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed")
def test_fish_asks_the_server_for_webhook_ids_once_per_tab(served_argilla):
    # fish runs `hooks` twice per Tab (is-args, then get-args): both computed the candidates, so an unreachable
    # server cost twice the completion's time limit
    hook = served_argilla.add()
    command = f'source {COMPLETIONS / "hooks.fish"}; complete -C "hooks show "'
    env = shell_env(ARGILLA_API_URL=served_argilla.url, ARGILLA_API_KEY="owner.key")
    result = subprocess.run(["fish", "--no-config", "-c", command], capture_output=True, text=True, env=env, timeout=30)
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == [hook["id"]], result.stderr
    assert [request.method for request in served_argilla.requests] == ["GET"]


@needs_installed
@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_script_feeds_the_completions_to_arguments():
    # zsh completion needs a live line editor; stand in for compdef/_arguments and look at what they receive.
    script = f'compdef() {{ :; }}; source {COMPLETIONS / "hooks.zsh"}; _arguments() {{ print -r -- "$@"; }}; words=(hooks up); CURRENT=2; _hooks_completion'
    result = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, env=shell_env(), timeout=30)
    assert '"update":"Change a webhook' in result.stdout, result.stderr


@needs_installed
@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
def test_zsh_keeps_apostrophes_in_descriptions():
    script = (
        f'compdef() {{ :; }}; source {COMPLETIONS / "hooks.zsh"}; _arguments() {{ print -r -- "$@"; }}; '
        "words=(hooks create -e dataset.up); CURRENT=4; _hooks_completion"
    )
    result = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, env=shell_env(), timeout=30)
    assert "\"a dataset's name, guidelines or settings changed\"" in result.stdout, result.stdout + result.stderr


@needs_installed
@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed")
@pytest.mark.parametrize(("line", "expected"), [("hooks apply -f ", "FILES"), ("hooks show ", ""), ("hooks zz", "")])
def test_zsh_completes_file_names_only_for_options_that_take_a_file(line, expected):
    words = line.split(" ")
    script = (
        f'compdef() {{ :; }}; source {COMPLETIONS / "hooks.zsh"}; _files() {{ print FILES; }}; _arguments() {{ print ARGS; }}; '
        f'words=({" ".join(repr(w) for w in words)}); CURRENT={len(words)}; _hooks_completion'
    )
    result = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, env=shell_env(), timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == expected, result.stderr


@needs_installed
def test_install_completion_where_it_cannot_write_is_one_line(tmp_path):
    (tmp_path / ".bashrc").mkdir()  # not a file: cannot be appended to, even by root
    result = subprocess.run(
        [str(BIN / "hooks"), "--install-completion", "bash"],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path / '.bashrc'}: Is a directory\n"


@needs_installed
def test_a_failed_bash_install_leaves_bashrc_alone(tmp_path):
    # ~/.bashrc got its `source` line before the script was written: every new shell then complained.
    (tmp_path / ".bash_completions").write_text("a file where the directory goes")
    result = subprocess.run([str(BIN / "hooks"), "--install-completion", "bash"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 1 and result.stderr.startswith("error: ") and not (tmp_path / ".bashrc").exists()
