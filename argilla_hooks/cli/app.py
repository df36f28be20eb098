"""The `hooks` command tree and its entry point, the one place where failures are caught."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from argilla_hooks import __version__, settings
from argilla_hooks.cli import auth, deliveries, doctor, export_apply, output, queue, trigger, webhooks
from argilla_hooks.cli.completion import PROGRAMS
from argilla_hooks.cli.errors import ExitCode, failure
from argilla_hooks.cli.listen import command as listen_command
from argilla_hooks.cli.work import command as work_command




class _PlainFlags:
    """A help that does not invite `--json true`: no `<bool>` after a flag (typer's rendering)."""

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:  # typer's own --help, --install-completion and --show-completion included
            if getattr(param, "is_flag", False) or getattr(param, "is_bool_flag", False):
                param.metavar = ""
        return params


class Group(_PlainFlags, TyperGroup):
    pass


class Command(_PlainFlags, TyperCommand):
    """Besides plain flags, arguments in the usage line as `URL [ID]...`, not typer's `{URL}`."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = param.metavar or (param.name or "").upper()
                pieces.append((name if param.required else f"[{name}]") + ("..." if param.nargs != 1 else ""))
        return pieces


app = typer.Typer(
    name="hooks",
    cls=Group,
    help="Manage, receive and test Argilla webhooks.\n\nRun `hooks COMMAND --help` for examples.",
    invoke_without_command=True,  # bare `hooks`: the help, exit 2 (see _root)
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    # NO_COLOR: plain help, as all our output is then (rich alone would drop the colours but keep bold and dim).
    rich_markup_mode=None if output.no_escape_codes() else "rich",
)

_PANELS = {
    "Manage webhooks": [
        ("create", webhooks.create), ("list", webhooks.list_), ("show", webhooks.show), ("update", webhooks.update),
        ("delete", webhooks.delete), ("enable", webhooks.enable), ("disable", webhooks.disable),
        ("ping", webhooks.ping), ("events", webhooks.events),
    ],
    "Webhooks as code": [("export", export_apply.export), ("apply", export_apply.apply)],
    "Receive and test": [("listen", listen_command.listen), ("trigger", trigger.trigger)],
    "Account": [("login", auth.login), ("logout", auth.logout), ("whoami", auth.whoami)],
    "Queue (Redis)": [("work", work_command.work)],
}
for _panel, _commands in _PANELS.items():
    for _name, _function in _commands:
        app.command(_name, cls=Command, rich_help_panel=_panel)(_function)
app.command("doctor", cls=Command, rich_help_panel="Receive and test")(doctor.doctor)


def _subgroup(name: str, help: str, commands: list[tuple[str, Any]], panel: str) -> None:
    """`hooks NAME COMMAND`; bare `hooks NAME` prints its help and exits 2, as bare `hooks` does."""
    group = typer.Typer(cls=Group, invoke_without_command=True, help=help)
    for command_name, function in commands:
        group.command(command_name, cls=Command)(function)

    def show_help(ctx: typer.Context) -> None:
        if ctx.invoked_subcommand is None:
            output.print_line(ctx.get_help())
            raise typer.Exit(ExitCode.USAGE)

    group.callback()(show_help)
    app.add_typer(group, name=name, rich_help_panel=panel)


_subgroup(
    "deliveries",
    "What `hooks listen` received (its journal): list, show, replay, export.",
    [("list", deliveries.list_), ("show", deliveries.show), ("replay", deliveries.replay), ("export", deliveries.export)],
    "Receive and test",
)
_subgroup("queue", "Inspect the Redis queue of `hooks listen --queue`; redrive dead letters.", queue.COMMANDS, "Queue (Redis)")


def _print_version(value: bool) -> None:
    if value:
        output.print_line(f"argilla-hooks {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        Optional[bool],
        typer.Option("--version", "-V", help="Show the version and exit.", callback=_print_version, is_eager=True),
    ] = None,
) -> None:
    """Manage, receive and test Argilla webhooks."""
    if ctx.invoked_subcommand is None:
        output.print_line(ctx.get_help())
        raise typer.Exit(ExitCode.USAGE)


def main(args: Optional[list[str]] = None) -> None:
    """Console-script entry point (`args`: the command line, default sys.argv[1:]): every failure becomes one line on
    stderr and its exit code (see cli/errors.py); with ARGILLA_HOOKS_DEBUG=1, its traceback first."""
    # Keep the name it was called by, so `argilla-hooks --show-completion` completes `argilla-hooks`.
    called_as = os.path.basename(sys.argv[0]) if sys.argv else ""
    output.use_utf8_whatever_the_locale()
    if sys.stdout is None:  # started with stdout closed (`>&-`): what it prints would be lost, so do nothing
        if sys.stderr is not None:
            output.error("stdout is closed; to discard the output, redirect it to /dev/null instead")
        sys.exit(ExitCode.USAGE)
    try:
        code = app(args, prog_name=called_as if called_as in PROGRAMS else "hooks", standalone_mode=False)
    except (Exception, KeyboardInterrupt) as exc:
        if settings.debug_enabled():
            traceback.print_exc()  # then the usual line and exit code, which scripts rely on
        message, code = failure(exc)
        if message:  # (bare `hooks` has printed the help, which says it all)
            output.error(message)
    sys.exit(code if isinstance(code, int) else 0)
