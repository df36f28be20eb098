"""How bash, zsh and fish ask `hooks` for completions: typer's protocol, except that no candidates means nothing.

typer's shell side reads an empty answer as "complete file names" (bash `complete -o default`, zsh `_files`, fish
allowing files), so `hooks show <TAB>` offered the directory's files whenever the server could not be reached, and so
did every word with no candidates. Here only a parameter that takes a path (`apply -f`, `export -o`) completes file
names, and says so explicitly; an empty answer offers nothing.

Built on typer's completion classes and on two helpers of the click it vendors (private names: the completion tests,
which drive real shells, are what tells when a typer release moves them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from typer import _completion_shared
from typer._click.shell_completion import (
    CompletionItem,
    _resolve_context,
    _resolve_incomplete,
    add_completion_class,
    split_arg_string,
)
from typer._completion_classes import BashComplete, FishComplete, ZshComplete

from argilla_hooks.cli.completion_scripts import SHELLS, complete_var

FILE = "file"  # the CompletionItem type of "complete file names here", as in click's own scripts

# typer's script, minus `-o default`, and sending the line as typed up to the cursor: bash's COMP_WORDS are split at
# COMP_WORDBREAKS (`:` and `=`), so `--api-url http://h:6900` arrived as five words and `--file=F` as three. The answer
# is one `TYPE,VALUE` line per candidate (click's format); a `file` line turns on bash's file-name completion for this
# word only. mapfile, not $(...) in a for: no globbing.
BASH_SCRIPT = """
%(complete_func)s() {
    local item
    local -a answer
    mapfile -t answer < <(env COMP_LINE="${COMP_LINE:0:COMP_POINT}" %(autocomplete_var)s=complete_bash $1)
    COMPREPLY=()
    for item in "${answer[@]}"; do
        case $item in
            file,*) compopt -o default ;;
            plain,*) COMPREPLY+=("${item#plain,}") ;;
        esac
    done
    return 0
}

complete -F %(complete_func)s %(prog_name)s
"""


class _PathsOnlyWherePaths:
    """Answers `file` for a parameter that takes a path (typer answers nothing there, leaving it to the fallback)."""

    cli: Any  # set by ShellComplete, which the shells' classes below also derive from
    ctx_args: Any
    prog_name: str

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        ctx = _resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        target, incomplete = _resolve_incomplete(ctx, args, incomplete)
        if _takes_path(target):
            return [CompletionItem(incomplete, type=FILE)]
        return target.shell_complete(ctx, incomplete)

    def takes_path(self, args: list[str], incomplete: str) -> bool:
        """Whether the word being completed is a path, found without computing any candidate (some ask the server)."""
        ctx = _resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        return _takes_path(_resolve_incomplete(ctx, args, incomplete)[0])

    @staticmethod
    def _file_names(items: list[CompletionItem]) -> bool:
        """Whether the shell should complete file names here (get_completions said so) instead of these items."""
        return any(item.type == FILE for item in items)


def _takes_path(param: Any) -> bool:
    described = getattr(param, "type_descriptor", None)
    return described is not None and (described.is_path or described.is_file)


class _Bash(_PathsOnlyWherePaths, BashComplete):
    source_template = BASH_SCRIPT

    def get_completion_args(self) -> tuple[list[str], str]:
        line = os.environ["COMP_LINE"]
        words = split_arg_string(line)[1:]
        # A value of bash's current word may follow a break character (`--file=F`): click's own parsing handles
        # `--opt=VALUE`, and the candidates replace only what bash sees as the word, which is what follows the break.
        incomplete = words.pop() if words and line and not line[-1].isspace() else ""
        return words, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        return f"{item.type},{item.value}"


class _Zsh(_PathsOnlyWherePaths, ZshComplete):
    def format_completion(self, item: CompletionItem) -> str:
        # typer doubles a quote for the single-quoted _arguments spec, which zsh reads as one only with RC_QUOTES:
        # "a dataset's name" showed as "a datasets name". Close, escape, reopen works in every zsh.
        return super().format_completion(item).replace("''", "'\\''")

    def complete(self) -> str:
        items = self.get_completions(*self.get_completion_args())
        if self._file_names(items):
            return "_files"
        if not items:
            return ""  # typer says `_files` here
        listed = "\n".join(self.format_completion(item) for item in items)
        return f"_arguments '*: :(({listed}))'"


class _Fish(_PathsOnlyWherePaths, FishComplete):
    def complete(self) -> str:
        action = os.getenv("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            # 0: our candidates (the script's --no-files rule applies, even with none); 1: fish completes file names.
            # Fish asks this before get-args on every Tab: computing the candidates here too asked the server for
            # webhook ids twice, doubling the wait when it cannot be reached.
            sys.exit(1 if self.takes_path(*self.get_completion_args()) else 0)
        items = self.get_completions(*self.get_completion_args())
        if action == "get-args" and not self._file_names(items):
            return "\n".join(self.format_completion(item) for item in items)
        return ""


def use_our_shell_classes() -> None:
    """Put these in place of typer's, for answering completions and for the bash script that --show-completion,
    --install-completion and completion_scripts write. Called once typer has built the command (building it
    registers typer's own classes)."""
    _completion_shared._completion_scripts["bash"] = BASH_SCRIPT
    for cls in (_Bash, _Zsh, _Fish):
        add_completion_class(cls, cls.name)


# --- --install-completion and --show-completion ------------------------------------------------------------------

_NAMED = "argilla_hooks.completion_shell"  # ctx.meta key: the shell named after the option


def take_over_completion_options(params: list) -> None:
    """typer's --install-completion and --show-completion, with these callbacks: messages on stderr (typer printed them,
    in green whatever NO_COLOR said, on stdout, and "Shell sh is not supported." there too), and ~/.bashrc left as it
    is by a second install (typer added a blank line to it every time)."""
    callbacks = {"install_completion": _install, "show_completion": _show}
    for param in params:
        if param.name in callbacks:
            param.callback = callbacks[param.name]


def take_named_shell(ctx, args: list[str]) -> list[str]:  # noqa: ANN001 - a click context
    """`hooks --show-completion fish`: typer's options are flags, so the shell named after one was taken for a command
    and never seen (the script of the shell that started us came out instead). It is kept for the callbacks."""
    for option in ("--install-completion", "--show-completion"):
        if option in args:
            after = args.index(option) + 1
            if after < len(args) and not args[after].startswith("-"):
                ctx.meta[_NAMED] = args[after]
                return args[:after] + args[after + 1 :]
    return args


def _shell(ctx, value: object) -> str:  # noqa: ANN001 - a click context
    """The shell named (after the option, or as its value in typer's test mode) or, as typer does, the one that
    started us."""
    from argilla_hooks.cli.errors import UsageProblem

    shell = value if isinstance(value, str) else ctx.meta.get(_NAMED) or _completion_shared._get_shell_name()
    if shell not in SHELLS:
        raise UsageProblem(
            f"completion is for bash, zsh and fish, not {shell or 'an unknown shell'}: run this from one of them, "
            "or install a script from completions/ by hand (see the README)"
        )
    return shell


def _install(ctx, param, value):  # noqa: ANN001 - a click callback
    if not value or ctx.resilient_parsing:
        return value
    import typer

    from argilla_hooks.cli import output

    shell = _shell(ctx, value)
    prog_name = ctx.find_root().info_name
    if shell == "bash":
        path = _install_bash(prog_name, Path.home())
    else:
        path = _completion_shared.install(shell=shell, prog_name=prog_name)[1]
    output.success(f"{shell} completion installed in {path}")
    output.info("it takes effect in shells started from now on")
    raise typer.Exit(0)


def _install_bash(prog_name: str, home: Path) -> Path:
    """typer's install for bash (the script in ~/.bash_completions, sourced from ~/.bashrc), writing ~/.bashrc only
    when the line is not there yet, and only once the script is in place (else every new shell would complain)."""
    script = home / ".bash_completions" / f"{prog_name}.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(_script(prog_name, "bash"))
    rc_file, line = home / ".bashrc", f"source '{script}'"
    content = rc_file.read_text() if rc_file.is_file() else ""
    if line not in content:
        rc_file.write_text(content + ("\n" if content and not content.endswith("\n") else "") + line + "\n")
    return script


def _show(ctx, param, value):  # noqa: ANN001 - a click callback
    if not value or ctx.resilient_parsing:
        return value
    import typer

    from argilla_hooks.cli import output

    output.print_line(_script(ctx.find_root().info_name, _shell(ctx, value)))
    raise typer.Exit(0)


def _script(prog_name: str, shell: str) -> str:
    return _completion_shared.get_completion_script(prog_name=prog_name, complete_var=complete_var(prog_name), shell=shell)
