"""Run the committed bash completion script as bash does on <TAB>, for the unit and e2e tests."""

import subprocess
from pathlib import Path

COMPLETIONS = Path(__file__).parents[1] / "completions"
FILE_NAMES = "<file names>"  # what bash_complete returns where the script hands the word to bash's file completion


def bash_complete(*words: str, env: dict[str, str], program: str = "hooks") -> list[str]:
    """The candidates for the last of `words` after `program` (`env` must put the installed `hooks` on PATH).

    `compopt` only works while readline runs a completion, so it is replaced by a function that reports its call.
    """
    function = "_" + program.replace("-", "_") + "_completion"
    script = (
        f'compopt() {{ [ "$*" = "-o default" ] && echo "{FILE_NAMES}" || echo "compopt $*"; }}; '
        f'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); {function} {program}; '
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "-c", script, "bash", str(COMPLETIONS / f"{program}.bash"), program, *words],
        capture_output=True, text=True, env=env, timeout=30, check=True,
    )
    return [line for line in result.stdout.splitlines() if line]
