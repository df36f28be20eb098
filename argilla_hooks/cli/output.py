"""Everything `hooks` writes: data on stdout (tables for a terminal, text or JSON otherwise), messages on stderr."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Iterable

from argilla_hooks.events import SUBSCRIBABLE

if TYPE_CHECKING:
    from rich.console import Console

    from argilla_hooks.client.models import Webhook


def new_console(**where: Any) -> "Console":
    """A rich Console for `stderr=True` or `file=stream`, set up as all our output is: text shown as given (no
    highlighting, no `:name:` emoji), long lines not wrapped. rich honours NO_COLOR and turns colour off when the
    stream is not a terminal."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True, emoji=False, **where)


@lru_cache(maxsize=None)
def _console(stderr: bool) -> "Console":
    return new_console(stderr=stderr)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


# --- messages (stderr) ---------------------------------------------------------------------


def info(message: str) -> None:
    _console(True).print(message, markup=False)


def success(message: str) -> None:
    _console(True).print(f"[green]✓[/green] {_escape(message)}")


def warn(message: str) -> None:
    _console(True).print(f"[yellow]warning:[/yellow] {_escape(message)}")


def error(message: str) -> None:
    # One line, even when a server message contains newlines.
    _console(True).print(f"[red]error:[/red] {_escape(' '.join(message.split()))}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


# --- data (stdout) -------------------------------------------------------------------------


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_line(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def short_events(events: Iterable[str]) -> str:
    """`dataset.*` for a whole group and `*` for everything, so a table row stays short."""
    events = list(events)
    if set(SUBSCRIBABLE) <= set(events):
        return "*"
    parts: list[str] = []
    groups = {name.split(".")[0] for name in SUBSCRIBABLE}
    for group in sorted(groups, key=lambda g: [n.split(".")[0] for n in SUBSCRIBABLE].index(g)):
        members = [n for n in SUBSCRIBABLE if n.startswith(group + ".")]
        chosen = [n for n in members if n in events]
        if chosen == members:
            parts.append(f"{group}.*")
        else:
            parts.extend(chosen)
    return ", ".join(parts)


def _when(webhook: "Webhook") -> str:
    return webhook.updated_at.strftime("%Y-%m-%d %H:%M")


def webhook_table(webhooks: list["Webhook"], *, show_secrets: bool = False) -> None:
    headers = ["ID", "URL", "EVENTS", "ENABLED", "DESCRIPTION", "UPDATED"] + (["SECRET"] if show_secrets else [])
    rows = [
        [w.short_id, w.url, short_events(w.events), "yes" if w.enabled else "no", w.description or "", _when(w)]
        + ([w.secret] if show_secrets else [])
        for w in webhooks
    ]
    if not stdout_is_terminal():
        # Plain tab-separated text for pipes; `--json` is the stable machine format.
        for row in [headers, *rows]:
            print_line("\t".join(row))
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row, style=None if row[3] == "yes" else "dim")
    _console(False).print(table)


def webhook_detail(webhook: "Webhook", *, show_secret: bool = False) -> None:
    fields = [
        ("id", str(webhook.id)),
        ("url", webhook.url),
        ("events", ", ".join(webhook.events)),
        ("enabled", "yes" if webhook.enabled else "no"),
        ("description", webhook.description or "-"),
        ("inserted_at", webhook.inserted_at.isoformat()),
        ("updated_at", webhook.updated_at.isoformat()),
    ]
    if show_secret:
        fields.insert(3, ("secret", webhook.secret))
    width = max(len(name) for name, _ in fields)
    for name, value in fields:
        print_line(f"{name + ':':<{width + 1}} {value}")
