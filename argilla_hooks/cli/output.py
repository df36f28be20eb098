"""Everything `hooks` writes: data on stdout (tables for a terminal, text or JSON otherwise), messages on stderr."""

from __future__ import annotations

import codecs
import json
import os
import re
import sys
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional

import typer

from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.events import SUBSCRIBABLE

if TYPE_CHECKING:
    from rich.console import Console

    from argilla_hooks.client.models import Webhook


def new_console(**where: Any) -> "Console":
    """A rich Console for `stderr=True` or `file=stream`, set up as all our output is: text shown as given (no
    highlighting, no `:name:` emoji), long lines not wrapped. No styling when the stream is not a terminal (rich's
    rule), nor with NO_COLOR set: rich would drop only the colours and keep bold and dim, escape codes all the same."""
    from rich.console import Console

    if no_escape_codes():
        where.setdefault("color_system", None)
    return Console(highlight=False, soft_wrap=True, emoji=False, **where)


def no_escape_codes() -> bool:
    """NO_COLOR is set: no colour, bold or dim, nor a line redrawn in place (which moves the cursor with escapes)."""
    return bool(os.environ.get("NO_COLOR"))


@lru_cache(maxsize=None)
def _console(stderr: bool) -> "Console":
    return new_console(stderr=stderr)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def stdin_is_terminal() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


# Control characters: C0, DEL and C1 (Unicode category Cc). On a terminal they move the cursor, retitle the window,
# clear the screen... so text someone else wrote must never reach it raw. Lone surrogates (`"\\ud800"` in JSON) no
# stream can encode: written raw, they raise.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: str, *, multiline: bool = False) -> str:
    """`text` from a server or a receiver made safe to show a person: every control character and lone surrogate
    becomes an escape (`\\x1b`, `\\n`, `\\ud800`...), so what is printed is exactly what was sent, it cannot act on the
    terminal, and any stream can write it.

    `multiline` keeps line breaks as line breaks (a body a person reads); any other control character is still
    escaped. For text output only: JSON escapes control characters itself, and exported files must stay exact.
    """
    if multiline:
        return "\n".join(visible(line) for line in text.splitlines())
    return _CONTROL.sub(lambda m: _escaped(m.group()), text)


# --- text in and out whatever the locale -------------------------------------------------------------
# Under `LC_ALL=C` (or `PYTHONIOENCODING=ascii`) Python decodes arguments as ASCII and makes stdout ASCII-only, so a
# description `é` became lone surrogates that no request can carry, and any non-ASCII text on stdout raised
# UnicodeEncodeError half-way through a command.

ESCAPE = "argilla-hooks-escape"


def _escape(error: UnicodeError) -> tuple[str, int]:
    """`\\u00e9` for each character the stream cannot encode: valid inside a JSON string, and readable in text."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    units = error.object[error.start : error.end].encode("utf-16-be", "surrogatepass")
    escaped = "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))
    return escaped, error.end


codecs.register_error(ESCAPE, _escape)


def use_utf8_whatever_the_locale() -> None:
    """Call once, first thing: re-reads the arguments as UTF-8 and lets stdout escape what its encoding lacks."""
    if not sys.flags.utf8_mode and codecs.lookup(sys.getfilesystemencoding()).name != "utf-8":
        # The bytes the shell passed, as UTF-8 (what terminals and scripts send), not as the locale's ASCII.
        sys.argv = [os.fsencode(arg).decode("utf-8", "surrogateescape") for arg in sys.argv]
    if sys.stdout is not None and codecs.lookup(sys.stdout.encoding or "ascii").name != "utf-8":
        sys.stdout.reconfigure(errors=ESCAPE)  # type: ignore[union-attr]  # sys.stdout is a TextIOWrapper


def read_stdin() -> str:
    """All of stdin as UTF-8 text, whatever the locale says; ValueError when it is closed or not UTF-8."""
    if sys.stdin is None:
        raise ValueError("stdin is closed")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"stdin is not UTF-8 text (byte {exc.start})") from None


# --- questions (on stderr, only ever asked when stdin is a terminal) ---------------------------------


def prompt(question: str, *, default: Optional[str] = None, hide_input: bool = False) -> str:
    """Ask for a value. Ctrl-C exits 130; end of input (Ctrl-D) is a usage error, as a missing value is."""
    answer = _ask(lambda: typer.prompt(question, default=default, hide_input=hide_input, err=True), hidden=hide_input)
    if answer is None:
        raise UsageProblem(f"no answer to {question!r} (end of input); nothing was done")
    return answer


def confirm(question: str) -> bool:
    """Ask yes or no (default no). Ctrl-C exits 130; end of input (Ctrl-D) means no: nothing is done without a yes."""
    return bool(_ask(lambda: typer.confirm(question, err=True), hidden=False))


def _ask(ask: Callable[[], Any], *, hidden: bool) -> Any:
    """`ask()`'s answer, or None at end of input; Ctrl-C exits 130 quietly (the user knows they pressed it).

    typer's prompts turn both Ctrl-C and end of input into Abort ("Aborted.", exit 1); the KeyboardInterrupt or
    EOFError it replaced is still its __context__.
    """
    try:
        return ask()
    except typer.Abort as abort:
        if not hidden:  # end the prompt's line, as a hidden prompt already does itself
            sys.stderr.write("\n")
            sys.stderr.flush()
        if isinstance(abort.__context__, KeyboardInterrupt):
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        return None


# --- messages (stderr) ---------------------------------------------------------------------
# Messages are for people and often carry server text (URLs, descriptions, error reasons): all go through visible().


def info(message: str) -> None:
    _console(True).print(visible(message), markup=False)


def success(message: str) -> None:
    _console(True).print(f"[green]✓[/green] {_plain(message)}")


def warn(message: str) -> None:
    _console(True).print(f"[yellow]warning:[/yellow] {_plain(message)}")


def error(message: str) -> None:
    # One line, even when a server message contains newlines.
    _console(True).print(f"[red]error:[/red] {_plain(' '.join(message.split()))}")


def _plain(text: str) -> str:
    """`text` inside a rich markup string, shown as written: no [markup], no control characters."""
    from rich.markup import escape

    return escape(visible(text))


# --- data (stdout) -------------------------------------------------------------------------


def print_json(data: Any) -> None:
    print_line(json.dumps(data, indent=2, ensure_ascii=False))


def print_line(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()  # now: a full disk then fails the command that wrote (see app.main), not Python's exit


def stdout_failed(reason: str) -> CommandError:
    """The one-line error for stdout that cannot be written (a full disk, a device error; a reader that went away is
    a quiet exit 1 instead). What is still buffered goes to /dev/null: Python's flush at exit would report it again."""
    sys.stdout = open(os.devnull, "w")
    return CommandError(f"cannot write to stdout: {reason}")


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


def local_time(value: datetime, format: str = "%Y-%m-%d %H:%M:%S") -> str:
    """The one rule for times shown to people: local time, with its zone (`2026-11-27 16:30:19 EST`). Argilla's times
    are naive UTC. (--json keeps ISO 8601.)"""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return aware.astimezone().strftime(f"{format} %Z")


def _when(webhook: "Webhook") -> str:
    return local_time(webhook.updated_at, "%Y-%m-%d %H:%M")


def webhook_table(webhooks: list["Webhook"], *, show_secrets: bool = False) -> None:
    headers = ["ID", "URL", "EVENTS", "ENABLED", "DESCRIPTION", "UPDATED"] + (["SECRET"] if show_secrets else [])
    rows = [
        [w.short_id, w.url, short_events(w.events), "yes" if w.enabled else "no", w.description or "", _when(w)]
        + ([w.secret] if show_secrets else [])
        for w in webhooks
    ]
    # Server text; visible() also keeps a tab or newline in a description from breaking the tab-separated lines.
    rows = [[visible(cell) for cell in row] for row in rows]
    if not stdout_is_terminal():
        # Plain tab-separated text for pipes; `--json` is the stable machine format.
        for row in [headers, *rows]:
            print_line("\t".join(row))
        return
    from rich.measure import Measurement
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    longest_event = max((len(name) + 1 for row in rows for name in row[2].split(", ")), default=0)  # with its comma
    for header in headers:
        # Only the events (between names) and the description (between words) wrap: an id, a URL or a secret cut in
        # two on a narrow terminal could no longer be copied.
        wraps = header in ("EVENTS", "DESCRIPTION")
        least = max(len(header), longest_event if header == "EVENTS" else 0)  # a header is not folded either
        table.add_column(header, overflow="fold", no_wrap=not wraps, min_width=least if wraps else None)
    for row in rows:
        table.add_row(*row, style=None if row[3] == "yes" else "dim")
    console = _console(False)
    if Measurement.get(console, console.options.update_width(10_000), table).minimum <= console.width:
        console.print(table)  # rich flushes
        return
    # Too narrow for the table (a long URL; a terminal under about 100 columns): a block of `field: value` lines per
    # webhook, which the terminal wraps where it must (rows wider than the terminal, wrapped by it, were unreadable).
    names = [header.lower() for header in headers]
    for number, row in enumerate(rows):
        lines = _aligned([(name, cell) for name, cell in zip(names, row) if cell], width=max(map(len, names)))
        console.print(("\n" if number else "") + "\n".join(lines), style=None if row[3] == "yes" else "dim", markup=False, highlight=False, crop=False)


def webhook_detail(webhook: "Webhook", *, show_secret: bool = False) -> None:
    from argilla_hooks.receiver.verify import fingerprint  # (the receiver's: what a listener's 401 names)

    fields = [
        ("id", str(webhook.id)),
        ("url", webhook.url),
        ("fingerprint", f"{fingerprint(webhook.secret)} (of its secret; a 401 of `hooks listen` names the one it tried)"),
        ("events", ", ".join(webhook.events)),
        ("enabled", "yes" if webhook.enabled else "no"),
        ("description", webhook.description or "-"),
        ("inserted_at", local_time(webhook.inserted_at)),
        ("updated_at", local_time(webhook.updated_at)),
    ]
    if show_secret:
        fields.insert(3, ("secret", webhook.secret))
    for line in _aligned([(name, visible(value)) for name, value in fields]):
        print_line(line)


def _aligned(fields: list[tuple[str, str]], width: Optional[int] = None) -> list[str]:
    """`name: value` lines with the values in one column (after the longest name, or `width`)."""
    width = width or max(len(name) for name, _ in fields)
    return [f"{name + ':':<{width + 1}} {value}" for name, value in fields]
