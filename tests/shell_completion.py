"""Run the committed completion scripts in real bash and fish as they run on <TAB>, for the unit and e2e tests.

`env` must put the installed `hooks` and `argilla-hooks` on PATH: the scripts call them back.
"""

import subprocess
from pathlib import Path

COMPLETIONS = Path(__file__).parents[1] / "completions"


def bash_complete(*words: str, env: dict[str, str], program: str = "hooks") -> list[str]:
    """What bash offers for the last of `words` typed after `program`, words as readline splits them (it also splits
    at `:` and `=`, which the words given here are not)."""
    function = "_" + program.replace("-", "_") + "_completion"
    script = f'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); {function} "$1"; printf "%s\\n" "${{COMPREPLY[@]}}"'
    result = subprocess.run(
        ["bash", "--norc", "-c", script, "bash", str(COMPLETIONS / f"{program}.bash"), program, *words],
        capture_output=True, text=True, env=env, timeout=30, check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def fish_complete(line: str, *, env: dict[str, str], cwd: Path | None = None) -> list[tuple[str, str]]:
    """(candidate, description) pairs that fish offers for `line`, the cursor at its end."""
    script = f'source {COMPLETIONS / "hooks.fish"}; complete -C $argv[1]'
    result = subprocess.run(["fish", "--no-config", "-c", script, line], capture_output=True, text=True, env=env,
                            cwd=cwd, timeout=30, check=True)
    return [tuple((item + "\t").split("\t")[:2]) for item in result.stdout.splitlines()]
