"""Writes the committed shell-completion scripts (completions/) with typer's own generator.

    python -m argilla_hooks.cli.completion_scripts [DIR]      (DIR defaults to ./completions)

The scripts only call `hooks` back at <TAB> time, so new commands and options complete without
regenerating; rerun this when typer changes its templates (a unit test fails when they are stale).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

PROGRAMS = ("hooks", "argilla-hooks")  # the console scripts of pyproject.toml
SHELLS = ("bash", "zsh", "fish")


def complete_var(prog_name: str) -> str:
    # typer's own rule, which main() relies on by running the app under the name it was called by.
    return "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())


def completion_script(prog_name: str, shell: str) -> str:
    from typer._completion_shared import get_completion_script

    from argilla_hooks.cli.shell_completion import use_our_shell_classes

    use_our_shell_classes()
    return get_completion_script(prog_name=prog_name, complete_var=complete_var(prog_name), shell=shell) + "\n"


def completion_scripts() -> dict[str, str]:
    """File name (`hooks.bash`) -> content, for every program and shell."""
    return {f"{prog}.{shell}": completion_script(prog, shell) for prog in PROGRAMS for shell in SHELLS}


def main(argv: Optional[list[str]] = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "completions")
    target.mkdir(parents=True, exist_ok=True)
    for name, content in completion_scripts().items():
        (target / name).write_text(content, encoding="utf-8")
        print(target / name)


if __name__ == "__main__":
    main()
