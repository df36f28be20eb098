"""The `hooks` command tree and its entry point."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import traceback
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from typer.core import TyperGroup

from argilla_hooks import __version__, settings
from argilla_hooks.cli import auth, export_apply, output, trigger, webhooks
from argilla_hooks.cli.listen import command as listen_command
from argilla_hooks.cli.completion import PROGRAMS
from argilla_hooks.cli.errors import CommandError, ExitCode, classify


if TYPE_CHECKING:
    from typer._click import Context  # what TyperGroup's methods take (typer.Context is a subclass)


class HooksGroup(TyperGroup):
    """Runs a command and turns a known failure into one line on stderr and its exit code (with ARGILLA_HOOKS_DEBUG=1,
    its traceback first)."""

    def make_context(self, info_name, args, parent=None, **extra):
        _plain_help_under_no_color(args)
        with _usage_errors_on_one_line():  # `hooks --bogus`
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: Context):
        try:
            with _usage_errors_on_one_line():  # `hooks lst`, `hooks show` (no id), `hooks list --bogus`
                return super().invoke(ctx)
        except Exception as exc:
            known = classify(exc)
            if known is None:
                raise
            message, code = known
            if settings.debug_enabled():
                # The traceback is only added: the message and the exit code stay what scripts rely on.
                traceback.print_exc()
            output.error(message)
            raise typer.Exit(int(code)) from None


def _plain_help_under_no_color(args: list[str]) -> None:
    """NO_COLOR for typer's rich help too: rich alone would keep its bold and dim (see output.new_console). Only when
    help is about to be shown (bare `hooks`, or -h/--help anywhere on the line), since typer's help module loads rich,
    which cost every command 90 ms."""
    if os.environ.get("NO_COLOR") and (not args or {"-h", "--help"} & set(args)):
        import typer.rich_utils

        typer.rich_utils.COLOR_SYSTEM = None


@contextlib.contextmanager
def _usage_errors_on_one_line() -> Iterator[None]:
    """typer shows a usage error as a usage line, a hint and a boxed message; here it is one line, and exit 2."""
    from typer._click.exceptions import UsageError

    try:
        yield
    except UsageError as exc:
        message = exc.format_message()
        if message:  # (bare `hooks` has printed the help, which says it all)
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            # typer words a bad choice as pydantic does ("Value error, 'yaml' is not one of ..."): the prefix says nothing.
            output.error(f"{message.replace('Value error, ', '')}{where}")
        raise typer.Exit(int(ExitCode.USAGE)) from None


app = typer.Typer(
    name="hooks",
    cls=HooksGroup,
    help="Manage, receive and test Argilla webhooks.\n\nRun `hooks COMMAND --help` for examples.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_MANAGE = "Manage webhooks"
_ACCOUNT = "Account"
_AS_CODE = "Webhooks as code"
_TEST = "Receive and test"
app.command("create", rich_help_panel=_MANAGE)(webhooks.create)
app.command("list", rich_help_panel=_MANAGE)(webhooks.list_)
app.command("show", rich_help_panel=_MANAGE)(webhooks.show)
app.command("update", rich_help_panel=_MANAGE)(webhooks.update)
app.command("delete", rich_help_panel=_MANAGE)(webhooks.delete)
app.command("enable", rich_help_panel=_MANAGE)(webhooks.enable)
app.command("disable", rich_help_panel=_MANAGE)(webhooks.disable)
app.command("ping", rich_help_panel=_MANAGE)(webhooks.ping)
app.command("events", rich_help_panel=_MANAGE)(webhooks.events)
app.command("export", rich_help_panel=_AS_CODE)(export_apply.export)
app.command("apply", rich_help_panel=_AS_CODE)(export_apply.apply)
app.command("listen", rich_help_panel=_TEST)(listen_command.listen)
app.command("trigger", rich_help_panel=_TEST)(trigger.trigger)
app.command("login", rich_help_panel=_ACCOUNT)(auth.login)
app.command("logout", rich_help_panel=_ACCOUNT)(auth.logout)
app.command("whoami", rich_help_panel=_ACCOUNT)(auth.whoami)


def _print_version(value: bool) -> None:
    if value:
        output.print_line(f"argilla-hooks {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", "-V", help="Show the version and exit.", callback=_print_version, is_eager=True),
    ] = None,
) -> None:
    """Manage, receive and test Argilla webhooks."""


# A write that fails for want of room or of a working device: with no file named, that is stdout (our only unnamed
# output; sockets fail otherwise).
_FULL_OR_BROKEN = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO)


def main() -> None:
    """Console-script entry point; a bug gets one line (with ARGILLA_HOOKS_DEBUG=1, its traceback first)."""
    # Keep the name it was called by, so `argilla-hooks --show-completion` completes `argilla-hooks`.
    called_as = os.path.basename(sys.argv[0]) if sys.argv else ""
    output.use_utf8_whatever_the_locale()
    # `import httpx` also imports httpx's own command-line client (rich.console, click, pygments: ~40 ms of every
    # command that talks to Argilla) whenever those are installed, as they are here. `hooks` never runs it: marking
    # the module absent makes httpx define its stub `main` instead. The process is ours, so is the import table.
    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
    if sys.stdout is None:  # started with stdout closed (`>&-`): what it prints would be lost, so do nothing
        if sys.stderr is not None:
            output.error("stdout is closed; to discard the output, redirect it to /dev/null instead")
        sys.exit(ExitCode.USAGE)
    try:
        app(prog_name=called_as if called_as in PROGRAMS else "hooks")
    except Exception as exc:
        debug = settings.debug_enabled()
        if debug:
            traceback.print_exc()  # then the usual line and exit code, which scripts rely on
        # Known failures, and stdout or a named file that cannot be written, are one line; the rest are bugs.
        if isinstance(exc, OSError) and exc.filename is None and exc.errno in _FULL_OR_BROKEN:
            exc = output.stdout_failed(exc.strerror or str(exc))  # ours, or typer's --help written by rich
        elif isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
            exc = CommandError(f"{exc.filename}: {exc.strerror}")  # e.g. --install-completion and a read-only ~/.bashrc
        message, code = classify(exc) or (
            f"unexpected {type(exc).__name__}: {exc}" + ("" if debug else f" (set {settings.ENV_DEBUG}=1 for the traceback)"),
            ExitCode.ERROR,
        )
        output.error(message)
        sys.exit(code)
