"""Webhooks as code: export the server's webhooks to a file, apply a file to the server."""

from __future__ import annotations

import shlex
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from argilla_hooks.cli import output
from argilla_hooks.cli.connect import get_client, given_by, same_server
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem, failure
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Profile

if TYPE_CHECKING:
    from argilla_hooks.declarative.plan import ApplyResult, Plan
    from argilla_hooks.declarative.file import DesiredWebhook, SpecError


class FileFormat(str, Enum):
    toml = "toml"
    json = "json"


def export(
    output_file: Annotated[
        Optional[Path],
        typer.Option(
            "--output",
            "-o",
            help="Write to this file (replaced atomically) instead of stdout.",
            dir_okay=False,
            allow_dash=True,
            show_default=False,
        ),
    ] = None,
    file_format: Annotated[
        Optional[FileFormat],
        typer.Option(
            "--format", help="File format \\[default: from the -o extension, else toml].", show_default=False
        ),
    ] = None,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Write the server's webhooks as a file that `hooks apply` reads (no ids, secrets or timestamps).

    \b
    Examples:
      hooks export > webhooks.toml
      hooks export -o webhooks.json
      hooks export --profile prod -o prod.toml && hooks apply --profile staging -f prod.toml --dry-run
    """
    from argilla_hooks.declarative.file import dump, identical_webhooks

    to_stdout = output_file is None or str(output_file) == "-"
    chosen = _export_format(None if to_stdout else output_file, file_format)
    with get_client(api_url, api_key, profile) as client:
        webhooks = client.list()
    text = dump(webhooks, chosen)
    for first, second in identical_webhooks(webhooks):
        output.warn(
            f"webhooks {first.short_id} and {second.short_id} are identical ({first.url}); `hooks apply` refuses "
            f"duplicate entries: delete one (`hooks delete {second.short_id}`) or give them different descriptions"
        )
    if to_stdout:
        output.print_line(text.rstrip("\n"))
        return
    from argilla_hooks.settings import write_atomically

    assert output_file is not None  # else to_stdout
    try:
        write_atomically(output_file, text.encode("utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot write {output_file}: {exc.strerror or exc}", ExitCode.ERROR) from None
    output.success(f"exported {len(webhooks)} webhook{'s' * (len(webhooks) != 1)} to {output_file}")


def _export_format(path: Optional[Path], given: Optional[FileFormat]) -> str:
    """--format, else the extension; a clash, or an unknown extension without --format, is refused: `apply` reads a
    file by its extension, and `-o w.yaml` silently written as TOML would mislead."""
    suffix = path.suffix.lower().lstrip(".") if path is not None else ""
    by_extension = suffix if suffix in FileFormat.__members__ else None
    if given is not None and by_extension is not None and given.value != by_extension:
        raise UsageProblem(f"--format {given.value} does not match the .{suffix} extension of {path}: drop --format, or name the file .{given.value}")
    if given is None and path is not None and by_extension is None:
        raise UsageProblem(f"cannot tell the format of {path}: name it .toml or .json, or give --format toml or --format json")
    return given.value if given is not None else by_extension or FileFormat.toml.value


File = Annotated[
    Path,
    typer.Option("--file", "-f", help="Webhooks file (TOML or JSON, as `hooks export` writes); `-` reads stdin.", dir_okay=False, allow_dash=True, show_default=False),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Only print the plan; change nothing.")]
Prune = Annotated[bool, typer.Option("--prune", help="Also delete the server's webhooks that are not in the file (asks first).")]
ExitCodeFlag = Annotated[
    bool,
    typer.Option("--exit-code", help="Exit 1 when the server did not match the file: with --dry-run, changes are pending; "
                 "without, changes were made. 0 means it already matched (like `git diff --exit-code`)."),
]
ApplyJson = Annotated[bool, typer.Option("--json", help='Print {"plan": ..., "result": ...} as one JSON document on stdout.')]
ShowSecrets = Annotated[bool, typer.Option("--show-secrets", help="Print the signing secrets of created webhooks.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before --prune deletes webhooks.")]


def apply(
    ctx: typer.Context,
    file: File,
    dry_run: DryRun = False,
    prune: Prune = False,
    exit_code: ExitCodeFlag = False,
    as_json: ApplyJson = False,
    show_secrets: ShowSecrets = False,
    yes: Yes = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Make the server's webhooks match a file: print the plan, then apply it.

    Webhooks are matched on their URL (then description). `+` creates, `~` updates (field by field, keeping the secret), `-` deletes (only with --prune). An invalid file changes nothing (exit 2).

    \b
    Examples:
      hooks apply -f webhooks.toml --dry-run
      hooks apply -f webhooks.toml --prune --yes
      hooks apply -f webhooks.toml --dry-run --exit-code --prune   # in CI: exit 1 when the server drifted
      hooks export | sed 's/dataset.created/dataset.*/' | hooks apply -f -
    """
    from argilla_hooks.declarative.plan import execute, plan
    from argilla_hooks.declarative.file import SpecError

    source = "<stdin>" if str(file) == "-" else str(file)
    if source == "<stdin>" and api_key_file == "-":
        raise UsageProblem("-f - and --api-key-file - both read stdin: give the key in a file or in ARGILLA_API_KEY")
    desired = _load(file, source)
    with get_client(api_url, api_key, profile) as client:
        try:
            the_plan = plan(desired, client.list(), prune=prune)
        except SpecError as exc:
            _reject(exc)
        if not as_json:
            _print_plan(the_plan, source)
        _mention_unmanaged(the_plan, source)
        if dry_run:
            if as_json:
                output.print_json({"plan": the_plan.to_json(), "result": None})
            elif not the_plan.is_empty:
                output.info("dry run: nothing was changed")
            _finish(the_plan, exit_code)
            return
        if the_plan.deletes and not yes:
            _confirm_deletes(the_plan, source, client.api_url)
        result = execute(the_plan, client)
    if as_json:
        output.print_json({"plan": the_plan.to_json(), "result": result.to_json(with_secrets=show_secrets)})
    else:
        _print_result(result, show_secrets=show_secrets)
    if not result.ok:
        _fail(result, rerun=_rerun_command(ctx, source, prune))
    _finish(the_plan, exit_code)


def _load(file: Path, source: str) -> list["DesiredWebhook"]:
    from argilla_hooks.cli.output import read_stdin
    from argilla_hooks.declarative.file import SpecError, load_file, load_text

    try:
        return load_text(read_stdin(), source) if source == "<stdin>" else load_file(file)
    except SpecError as exc:
        _reject(exc)
    except ValueError as exc:  # stdin closed, or not UTF-8
        raise UsageProblem(f"-f -: {exc}; nothing was changed") from None


def _reject(exc: "SpecError") -> NoReturn:
    """Every problem on its own line (the first 20, then how many more), then the one-line verdict (exit 2); a single
    problem is one line."""
    if len(exc.problems) == 1:
        raise UsageProblem(f"{exc.source}: {exc.problems[0]}; nothing was changed")
    for problem in exc.shown:
        output.error(f"{exc.source}: {problem}")
    count = len(exc.problems)
    raise UsageProblem(f"{exc.source}: {count} problem{'s' * (count != 1)}; nothing was changed")


def _print_plan(the_plan: "Plan", source: str) -> None:
    if the_plan.is_empty:
        output.print_line(f"no changes: the server matches {source}")
        return
    for line in the_plan.lines():
        output.print_line(output.visible(line))  # it shows the server's URLs, events and descriptions


def _mention_unmanaged(the_plan: "Plan", source: str) -> None:
    if not the_plan.unmanaged:
        return
    count = len(the_plan.unmanaged)
    output.info(f"kept {count} webhook{'s' * (count != 1)} not in {source} (--prune would delete {'them' if count != 1 else 'it'}):")
    for webhook in the_plan.unmanaged:
        output.info(f"  {webhook.url} (id {webhook.short_id})")


def _confirm_deletes(the_plan: "Plan", source: str, api_url: str) -> None:
    count = len(the_plan.deletes)
    what = f"{count} webhook{'s' * (count != 1)} not in {source}"
    # With the file on stdin, there is no one left to answer.
    cannot_ask = "the file comes from stdin" if source == "<stdin>" else None if output.stdin_is_terminal() else "not on a terminal"
    if cannot_ask:
        raise UsageProblem(f"--prune would delete {what}; add --yes to confirm when {cannot_ask}; nothing was changed")
    if not output.confirm(f"Apply these changes to {api_url}, deleting {what}?"):
        output.info("nothing was changed")  # a declined question is no error, but nothing happened: exit 1
        raise typer.Exit(ExitCode.ERROR)


_PAST = {"create": "created", "update": "updated", "delete": "deleted"}


def _print_result(result: "ApplyResult", *, show_secrets: bool) -> None:
    for outcome in result.done:
        webhook = outcome.webhook
        assert webhook is not None  # a step done has the server's copy
        line = f"{_PAST[outcome.action.kind]} {webhook.url} (id {webhook.short_id})"
        if outcome.note:
            line += f": {outcome.note}"
        if show_secrets and outcome.created:
            line += f" secret {webhook.secret}"
        output.print_line(output.visible(line))
    if result.ok and result.done:
        output.success(_summary(result))
        if not show_secrets and any(o.created for o in result.done):
            output.info("new webhooks' secrets are not shown: see one with `hooks show ID --show-secret`")


def _summary(result: "ApplyResult") -> str:
    counts = {kind: sum(1 for o in result.done if o.action.kind == kind) for kind in _PAST}
    return "applied: " + ", ".join(f"{n} {_PAST[kind]}" for kind, n in counts.items())


def _fail(result: "ApplyResult", *, rerun: str) -> NoReturn:
    """Say what was and was not applied, and exit with the code of what stopped it: the failure's, or 130 for Ctrl-C."""
    [failed] = result.failed or result.unknown
    assert failed.error is not None  # a step failed has what stopped it
    interrupted = isinstance(failed.error, KeyboardInterrupt)
    # An interrupted step's request may have reached Argilla before Ctrl-C, and one whose answer was lost may have too
    # (when reading back could not tell, "unknown"); running apply again is safe either way.
    what, advice = ("interrupted", "run") if interrupted else (failed.status, "fix the cause and run")
    message = "Argilla may or may not have made this change" if interrupted else failure(failed.error)[0]
    output.error(f"{what}: {failed.action.line()}: {message}")
    if failed.note:
        output.warn(failed.note)
    for outcome in result.not_attempted:
        output.info(f"not attempted: {outcome.action.line()}")
    total = len(result.outcomes)
    raise CommandError(
        f"apply stopped: {len(result.done)} of {total} changes applied, 1 {what}, {len(result.not_attempted)} not attempted; "
        f"{advice} {rerun} again to finish"
    ) from failed.error


def _rerun_command(ctx: typer.Context, source: str, prune: bool) -> str:
    """The apply that finishes the job: without --prune the plan would count the webhooks it deleted as still there,
    and it goes to the same server (see same_server)."""
    options = " --prune" if prune else ""
    if prune and given_by(ctx, "yes", "COMMANDLINE"):
        options += " --yes"  # without it, off a terminal, the rerun would refuse to delete
    server, key = same_server(ctx)
    options += server
    if source == "<stdin>":
        return f"the same `hooks apply -f -{options}`{key}"
    return f"`hooks apply -f {shlex.quote(source)}{options}`{key}"


def _finish(the_plan: "Plan", exit_code: bool) -> None:
    if exit_code and not the_plan.is_empty:
        raise typer.Exit(int(ExitCode.CHANGES))
