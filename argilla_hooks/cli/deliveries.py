"""`hooks deliveries`: what `hooks listen` received, from its journal: list, show, replay, export."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Callable, Optional

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion, output
from argilla_hooks.cli.connect import get_client, given_by
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Json, Profile

if TYPE_CHECKING:
    from argilla_hooks.client import ArgillaClient
    from argilla_hooks.receiver.journal_reader import JournalEntry, JournalReader

JournalPath = Annotated[
    Optional[str],
    typer.Option("--journal", envvar=settings.ENV_JOURNAL, show_default=False,
                 help="The journal `hooks listen` writes \\[default: $XDG_STATE_HOME/argilla-hooks/journal.sqlite3]."),
]  # fmt: skip
DeliveryId = Annotated[
    str,
    typer.Argument(help="Delivery id: the full id or any unique prefix (see `hooks deliveries list`).", metavar="ID", autocompletion=completion.delivery_ids),
]
OptionalId = Annotated[Optional[str], typer.Argument(help="Delivery id or unique prefix.", metavar="ID", show_default=False, autocompletion=completion.delivery_ids)]
To = Annotated[Optional[str], typer.Option("--to", help="Where to send it \\[default: the listener that received it].", show_default=False)]
Secret = Annotated[
    Optional[str],
    typer.Option("--secret", envvar=settings.ENV_WEBHOOK_SECRET, show_envvar=True, show_default=False,
                 help="Sign with this webhook secret \\[default: the secret of the webhook the listener verified with]."),
]  # fmt: skip
Webhook = Annotated[Optional[str], typer.Option("--webhook", help="Sign with this Argilla webhook's secret (id or prefix).", show_default=False)]


def _reader(journal: Optional[str]) -> "JournalReader":
    from argilla_hooks.receiver.journal_reader import JournalReader

    return JournalReader(journal or settings.default_journal_path())


def list_(
    type_glob: Annotated[Optional[str], typer.Option("--type", help="Only events of these types (a glob: 'record.*').", show_default=False)] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="Only answers with this status: 500, or a class: 5xx.", show_default=False)] = None,
    rejected: Annotated[bool, typer.Option("--rejected", help="Only refused requests (401, 404...).")] = False,
    limit: Annotated[int, typer.Option("-n", "--limit", help="How many, the newest first.", min=1)] = 20,
    as_json: Json = False,
    journal: JournalPath = None,
) -> None:
    """List the deliveries `hooks listen` answered, the newest first.

    \b
    Examples:
      hooks deliveries list
      hooks deliveries list --status 5xx --type 'response.*'
      hooks deliveries list --rejected -n 5 --json | jq -r '.[].reason'
    """
    with _reader(journal) as reader:
        entries = reader.newest(limit, type_glob=type_glob, status=_status_range(status), rejected=rejected)
    if as_json:
        output.print_json([entry.to_json() for entry in entries])
    elif entries:
        _table(entries)
    else:
        output.info("no deliveries" + (" match" if type_glob or status or rejected else " yet"))


def _status_range(status: Optional[str]) -> Optional[tuple[int, int]]:
    if status is None:
        return None
    text = status.strip().lower()
    if len(text) == 3 and text[0] in "12345" and text[1:] == "xx":
        return int(text[0]) * 100, int(text[0]) * 100 + 99
    if text.isdigit() and 100 <= int(text) <= 599:
        return int(text), int(text)
    raise UsageProblem(f"--status {status!r} is not a status: give e.g. 500 or 5xx")


def _table(entries: list["JournalEntry"]) -> None:
    rows = [["ID", "RECEIVED", "STATUS", "TYPE", "RESOURCE", "OUTCOME"]]
    for entry in entries:
        outcome = entry.reason if entry.verdict == "rejected" else (entry.error or entry.verdict).splitlines()[0]
        rows.append([
            entry.short_id, _when(entry.received_at), str(entry.status) + (" replay" if entry.replay else ""),
            entry.type or "-", (entry.resource_id or "-")[:8], outcome or "",
        ])  # fmt: skip
    rows = [[output.visible(cell) for cell in row] for row in rows]  # (what a sender wrote, a tab or newline too)
    if not output.stdout_is_terminal():  # piped: tab-separated, as `hooks list` prints
        for row in rows:
            output.print_line("\t".join(row))
        return
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        output.print_line(("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[5]).rstrip())


def _when(seconds: float) -> str:
    from datetime import datetime, timezone

    return output.local_time(datetime.fromtimestamp(seconds, timezone.utc))


def show(
    delivery_id: DeliveryId,
    body: Annotated[bool, typer.Option("--body", help="Print the body only, as received.")] = False,
    headers: Annotated[bool, typer.Option("--headers", help="Also print the headers.")] = False,
    as_json: Json = False,
    journal: JournalPath = None,
) -> None:
    """Show one delivery: verdict, handlers and forwards, and with --headers its headers.

    \b
    Examples:
      hooks deliveries show 3f2a9c1e --headers
      hooks deliveries show 3f2a --body | jq .data
    """
    with _reader(journal) as reader:
        entry = reader.get(delivery_id)
    if body:
        sys.stdout.buffer.write(entry.body or b"")
        sys.stdout.buffer.flush()
        return
    if as_json:
        output.print_json(entry.to_json(with_body=True, with_headers=True))
        return
    fields = [("id", entry.id), ("received", _when(entry.received_at)), ("status", f"{entry.status} ({entry.verdict})")]
    fields += [("reason", entry.reason or "")] if entry.reason else []
    fields += [("type", entry.type or "-"), ("timestamp", entry.event_timestamp or "-"), ("resource", entry.resource_id or "-")]
    fields += [("webhook-id", entry.webhook_id or "-"), ("replay", "yes" if entry.replay else "no"), ("listener", entry.listener.url or "-")]
    for step in entry.handlers + entry.forwards:
        name = step.get("name") or f"→ {step.get('url')}"
        fields.append(("handler" if "name" in step else "forward", f"{name} {'ok' if step['ok'] else 'FAILED'} {step['duration_ms']} ms"
                       + (f": {step['error']}" if step.get("error") else "")))  # fmt: skip
    width = max(len(name) for name, _ in fields)
    lines = [f"{name + ':':<{width + 1}} {value}" for name, value in fields]
    lines += ["headers:", *(f"  {name}: {value}" for name, value in entry.headers)] if headers else []
    for line in lines:
        output.print_line(output.visible(line))


def replay(
    ctx: typer.Context,
    delivery_id: OptionalId = None,
    last: Annotated[bool, typer.Option("--last", help="The newest delivery that holds an event.")] = False,
    to: To = None,
    secret: Secret = None,
    webhook: Webhook = None,
    run: Annotated[Optional[list[str]], typer.Option("--run", help="Run these handlers on it here instead (module:function; no server, no secret).", show_default=False)] = None,
    app_dir: Annotated[str, typer.Option("--app-dir", help="Directory put first on sys.path for --run.")] = ".",
    journal: JournalPath = None,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Send a delivery again, newly signed, to the listener that received it; its handlers run again.

    \b
    Examples:
      hooks deliveries replay --last
      hooks deliveries replay 3f2a --to http://127.0.0.1:9000/ --secret "$SECRET"
      hooks deliveries replay --last --run handlers:notify          # in this process, no listener needed
    """
    entry = _chosen(journal, delivery_id, last)
    if run:
        _run_here(entry, run, app_dir)
        return
    _send(*_signed_request(ctx, entry, to, secret, webhook, lambda: get_client(api_url, api_key, profile)), entry)


def _signed_request(
    ctx: typer.Context, entry: "JournalEntry", to: Optional[str], secret: Optional[str], webhook: Optional[str], connect: Callable[[], "ArgillaClient"]
) -> tuple[str, dict[str, str]]:
    """Where to send `entry` again, and its headers signed now (see cli/replay.py for which secret)."""
    from argilla_hooks.cli import replay as replaying

    origin = settings.ENV_WEBHOOK_SECRET if secret and given_by(ctx, "secret", "ENVIRONMENT") else "--secret"
    if webhook and secret and origin == "--secret":
        raise UsageProblem("give --secret or --webhook, not both")
    url = replaying.target_url(entry, to)
    return url, replaying.signed_headers(entry, replaying.signing_secret(entry, secret, origin, webhook, connect))


def _chosen(journal: Optional[str], delivery_id: Optional[str], last: bool) -> "JournalEntry":
    if bool(delivery_id) == last:
        raise UsageProblem("give a delivery ID or --last (the newest event), one of them")
    with _reader(journal) as reader:
        return reader.last_event() if last else reader.get(delivery_id or "")


def _send(url: str, headers: dict[str, str], entry: "JournalEntry") -> None:
    from argilla_hooks.trigger.delivery import DeliveryError, send
    from argilla_hooks.urls import hide_userinfo

    try:
        status, text = send(url, entry.body or b"", headers)
    except DeliveryError as exc:
        raise CommandError(f"{exc}", ExitCode.ERROR) from None
    if text:
        output.print_line(output.visible(text, multiline=True))
    answer = f"{hide_userinfo(url)} answered {status} to the replay of {entry.type or 'delivery'} {entry.short_id} ({headers['webhook-id']})"
    if not 200 <= status < 300:
        raise CommandError(answer, ExitCode.ERROR)
    output.success(answer)


def _run_here(entry: "JournalEntry", targets: list[str], app_dir: str) -> None:
    """Run the handlers on the delivery in this process, say how each did (tracebacks on stderr); exit 1 on a failure."""
    import traceback

    import anyio

    from argilla_hooks.cli import replay as replaying
    from argilla_hooks.receiver.run import run_handlers

    report = anyio.run(run_handlers, targets, replaying.replayable_body(entry), dict(entry.headers), app_dir)
    if report.kind == "rejected":
        raise CommandError(f"delivery {entry.short_id} cannot run: {report.reason}", ExitCode.ERROR)
    if not report.handlers:
        raise UsageProblem(f"none of {', '.join(targets)} takes {entry.type} events (see their @on)")
    for handler in report.handlers:
        if handler.ok:
            output.success(f"{handler.name} ran on {entry.type} {entry.short_id} in {handler.duration_ms:.1f} ms")
        else:
            if handler.exception is not None:
                traceback.print_exception(type(handler.exception), handler.exception, handler.exception.__traceback__, file=sys.stderr)
            output.info(f"✗ {handler.name} failed on {entry.type} {entry.short_id}: {handler.error}")
    if not report.ok:
        raise typer.Exit(ExitCode.ERROR)


def export(
    ctx: typer.Context,
    delivery_id: DeliveryId,
    as_: Annotated[str, typer.Option("--as", help="curl (a command), http (an HTTP message) or pytest (a test of the handlers).")] = "curl",
    to: To = None,
    secret: Secret = None,
    webhook: Webhook = None,
    handler: Annotated[Optional[list[str]], typer.Option("--handler", help="For --as pytest: the handlers to test \\[default: those that ran].", show_default=False)] = None,
    journal: JournalPath = None,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Write a delivery as a request to send again (signed now: valid for 5 minutes) or as a test of its handlers.

    \b
    Examples:
      hooks deliveries export 3f2a --as curl | sh
      hooks deliveries export 3f2a --as http > delivery.http
      hooks deliveries export 3f2a --as pytest > test_delivery.py && pytest test_delivery.py
    """
    from argilla_hooks.cli import replay as replaying

    if as_ not in replaying.FORMATS:
        raise UsageProblem(f"--as {as_!r} is not one of {', '.join(replaying.FORMATS)}")
    with _reader(journal) as reader:
        entry = reader.get(delivery_id)
    if as_ == "pytest":
        targets = handler or [h["name"] for h in entry.handlers if ":" in h["name"]]
        if not targets:
            raise UsageProblem(f"no handler ran on {entry.short_id}: name the ones to test with --handler module:function")
        output.print_line(replaying.as_pytest(entry, targets).rstrip("\n"))
        return
    url, headers = _signed_request(ctx, entry, to, secret, webhook, lambda: get_client(api_url, api_key, profile))
    write = replaying.as_curl if as_ == "curl" else replaying.as_http
    output.print_line(write(url, headers, replaying.replayable_body(entry)).rstrip("\n"))
