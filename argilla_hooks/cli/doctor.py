"""`hooks doctor`: whether this setup can work (server, key, clock, webhooks, URLs, left-behind webhooks, journal, and
with --queue the queue's Redis), each check with its fix.

Each check gives pass, warn or fail (or skip, when an earlier failure leaves nothing to check) and, unless it passed,
the fix in one line. A check is a function of the Context, appended to CHECKS: a new one needs nothing else.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Annotated, Optional
from urllib.parse import urlsplit

import typer

from argilla_hooks import settings
from argilla_hooks.cli import output
from argilla_hooks.cli.errors import ExitCode
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Json, Profile

if TYPE_CHECKING:
    from argilla_hooks.client import ArgillaClient
    from argilla_hooks.client.models import Webhook

TOLERANCE = 300  # the signature tolerance of `hooks listen` (and of the Standard Webhooks references)
SKEW_WARNING = 60
MAX_WEBHOOKS = 10  # Argilla's limit (client.models.MAX_WEBHOOKS; not imported here, to keep --help light)
_MARKS = {"pass": "✓", "warn": "!", "fail": "✗", "skip": "-"}


@dataclass
class Result:
    name: str
    status: str  # pass, warn, fail, skip
    message: str
    fix: Optional[str] = None

    def to_json(self) -> dict[str, Optional[str]]:
        return {"name": self.name, "status": self.status, "message": self.message, "fix": self.fix}


@dataclass
class Context:
    """What the checks share: the client, and what earlier checks found."""

    api_url: str
    client: "ArgillaClient"
    has_key: bool
    journal: str
    server_ok: bool = False
    owner: bool = False
    webhooks: list["Webhook"] = field(default_factory=list)


def check_server(ctx: Context) -> Result:
    from argilla_hooks.client.errors import ArgillaError

    try:
        version = ctx.client.server_version()
    except ArgillaError as exc:
        return Result("server", "fail", str(exc), f"start Argilla, or point {settings.ENV_API_URL} (--api-url) at where it answers")
    ctx.server_ok = True
    return Result("server", "pass", f"Argilla {version} at {ctx.api_url}")


def check_key(ctx: Context) -> Result:
    from argilla_hooks.client.errors import ArgillaError, AuthenticationError

    if not ctx.has_key:
        return Result("key", "fail", "no API key", f"set {settings.ENV_API_KEY}, pass --api-key, or run `hooks login`")
    if not ctx.server_ok:
        return Result("key", "skip", "not checked: the server does not answer")
    try:
        me = ctx.client.me()
        if me.role == "owner":
            ctx.webhooks = ctx.client.list()
    except AuthenticationError:
        return Result("key", "fail", f"the API key is not valid on {ctx.api_url}", "copy an owner's key from Argilla's user settings (`hooks login`)")
    except ArgillaError as exc:
        return Result("key", "fail", str(exc), "check the server and the key with `hooks whoami`")
    if me.role != "owner":
        return Result("key", "fail", f"{me.username} is {me.role}: every webhook action needs an owner's key", "use an owner's API key")
    ctx.owner = True
    return Result("key", "pass", f"{me.username} (owner)")


def check_clock(ctx: Context) -> Result:
    from argilla_hooks.client.errors import ArgillaError

    if not ctx.server_ok:
        return Result("clock", "skip", "not checked: the server does not answer")
    sent = time.time()
    try:
        theirs = ctx.client.server_time()
    except ArgillaError as exc:
        return Result("clock", "warn", f"cannot read Argilla's clock: {exc}")
    if theirs is None:
        return Result("clock", "warn", "Argilla sends no Date header: its clock cannot be compared", "compare `date -u` on both machines")
    if theirs.tzinfo is None:
        theirs = theirs.replace(tzinfo=timezone.utc)
    # A Date header is cut to the second: its middle is half a second later; ours is the middle of the exchange.
    skew = round(theirs.timestamp() + 0.5 - (sent + time.time()) / 2)
    side = f"{abs(skew)} s {'behind' if skew > 0 else 'ahead of'} Argilla's"
    if abs(skew) >= TOLERANCE:
        return Result("clock", "fail", f"this machine's clock is {side}: signatures would be refused (tolerance {TOLERANCE} s)",
                      "set both clocks right (NTP: `timedatectl set-ntp true`)")  # fmt: skip
    if abs(skew) >= SKEW_WARNING:
        return Result("clock", "warn", f"this machine's clock is {side} (tolerance {TOLERANCE} s)", "set both clocks right (NTP)")
    return Result("clock", "pass", f"within {max(abs(skew), 1)} s of Argilla's (tolerance {TOLERANCE} s)")


def check_count(ctx: Context) -> Result:
    if not ctx.owner:
        return Result("webhooks", "skip", "not checked: needs an owner's key")
    count = len(ctx.webhooks)
    if count >= MAX_WEBHOOKS:
        return Result("webhooks", "warn", f"{count} webhooks, Argilla's limit: creating one (`hooks create`, `--register`) fails",
                      "delete unused ones with `hooks delete ID`")  # fmt: skip
    return Result("webhooks", "pass", f"{count} of Argilla's limit of {MAX_WEBHOOKS}")


def check_disabled(ctx: Context) -> Result:
    if not ctx.owner:
        return Result("disabled", "skip", "not checked: needs an owner's key")
    disabled = [w for w in ctx.webhooks if not w.enabled]
    if disabled:
        return Result("disabled", "warn", f"receive no events: {_listed(disabled)}", f"`hooks enable {disabled[0].short_id}` (or delete it)")
    return Result("disabled", "pass", "none")


def check_loopback(ctx: Context) -> Result:
    if not ctx.owner:
        return Result("urls", "skip", "not checked: needs an owner's key")
    if _is_local(urlsplit(ctx.api_url).hostname or ""):
        return Result("urls", "pass", "Argilla runs on this machine: loopback URLs reach it (unless Argilla is in a container)")
    stranded = [w for w in ctx.webhooks if _is_local(urlsplit(w.url).hostname or "", resolve=False)]
    if stranded:
        return Result("urls", "fail", f"loopback URLs, which Argilla at {ctx.api_url} (another machine) cannot reach: {_listed(stranded)}",
                      f"`hooks update {stranded[0].short_id} --url URL` with an address Argilla can reach (a tunnel's)")  # fmt: skip
    return Result("urls", "pass", "no webhook points at a loopback address")


def check_duplicates(ctx: Context) -> Result:
    from argilla_hooks.urls import normalize_url

    if not ctx.owner:
        return Result("duplicates", "skip", "not checked: needs an owner's key")
    enabled = [w for w in ctx.webhooks if w.enabled]  # a disabled webhook delivers nothing (the `disabled` check)
    twins = [
        (a, b, sorted(set(a.events) & set(b.events)))
        for i, a in enumerate(enabled) for b in enabled[i + 1 :]
        if normalize_url(a.url) == normalize_url(b.url) and set(a.events) & set(b.events)
    ]  # fmt: skip
    if twins:
        first, second, shared = twins[0]
        pairs = ", ".join(f"{a.short_id} = {b.short_id}" + ("" if set(a.events) == set(b.events) else f" ({', '.join(both)})") for a, b, both in twins)
        # The one whose events the other sends all goes; else the other stops sending those both send.
        narrower = next((w for w in (second, first) if set(w.events) == set(shared)), None)
        drop = f"delete {narrower.short_id}" if narrower else f"update {second.short_id} --remove-event {','.join(shared)}"
        return Result("duplicates", "warn", f"same URL and events, so each of those events is delivered twice: {pairs}", f"`hooks {drop}`")
    return Result("duplicates", "pass", "no two enabled webhooks send the same events to the same URL")


def check_left_behind(ctx: Context) -> Result:
    from argilla_hooks.cli.listen.left_behind import left_behind

    if not ctx.owner:
        return Result("left-behind", "skip", "not checked: needs an owner's key")
    found = left_behind(ctx.webhooks)
    if found:
        pids = ", ".join(str(f.pid) for f in found)
        return Result("left-behind", "warn", f"registered by `hooks listen --register` sessions killed before they could delete them (pid {pids}): {_listed([f.webhook for f in found])}",
                      f"`hooks delete {found[0].webhook.short_id}`, or the next `hooks listen --register` for that URL reuses it")  # fmt: skip
    return Result("left-behind", "pass", "no webhook left by a killed `hooks listen --register` on this host")


def check_journal(ctx: Context) -> Result:
    from argilla_hooks.journal_file import JournalError, NoJournal
    from argilla_hooks.receiver.journal_reader import JournalReader

    try:
        with JournalReader(ctx.journal) as reader:
            count, newest, refused, last = reader.stats(since=time.time() - 86400)
    except NoJournal:
        return Result("journal", "pass", f"none yet at {ctx.journal} (`hooks listen` writes it)")
    except JournalError as exc:
        return Result("journal", "warn", str(exc), "`hooks listen --journal PATH` to start another")
    if refused and last is not None:
        return Result("journal", "warn", f"{refused} request(s) refused in the last 24 h, the last: {last.status} {last.reason}",
                      "`hooks deliveries list --rejected` shows them")  # fmt: skip
    when = "" if newest is None else f", the newest {output.local_time(datetime.fromtimestamp(newest, timezone.utc))}"
    return Result("journal", "pass", f"{count} deliveries at {ctx.journal}{when}, none refused in the last 24 h")


CHECKS: list[Callable[[Context], Result]] = [
    check_server, check_key, check_clock, check_count, check_disabled, check_loopback, check_duplicates, check_left_behind,
    check_journal,
]  # fmt: skip


def check_queue(url: str) -> list[Result]:
    """The queue's Redis (`--queue`): reached, 6.2 or newer, `noeviction`, persistence on (queue/connection.py)."""
    from argilla_hooks.cli.queue import with_redis
    from argilla_hooks.queue.connection import QueueUnavailable, check_server
    from argilla_hooks.urls import hide_userinfo

    try:
        checks = with_redis(url, "hooks doctor --queue", lambda client, keys: check_server(client, url))
    except QueueUnavailable as exc:
        return [Result("queue", "fail", str(exc), "start that Redis, or give --queue the URL where it answers")]
    results = [Result("queue", "pass", f"reached at {hide_userinfo(url)}")]
    for check in checks:
        message, _, fix = check.message.partition("; ")  # (the queue's messages end with their fix)
        fix = fix or ("upgrade Redis" if check.level == "fail" else "")
        results.append(Result(f"queue-{check.name}", check.level, message, fix or None))
    return results


def _listed(webhooks: list["Webhook"]) -> str:
    return ", ".join(f"{w.short_id} ({w.url})" for w in webhooks)


def _is_local(host: str, resolve: bool = True) -> bool:
    """A loopback host: by name or address, and (`resolve`) by what the name resolves to here."""
    import ipaddress  # (here: `hooks --help` imports this module)
    import socket

    host = host.strip("[]").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if not resolve:
        return False
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def doctor(
    as_json: Json = False,
    journal: Annotated[Optional[str], typer.Option("--journal", envvar=settings.ENV_JOURNAL, help="The journal to look at.", show_default=False)] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", help="Check this Redis as a queue for `hooks listen --queue` too.", metavar="REDIS_URL", show_default=False)] = None,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Check that this setup can work: server, key, clock, webhooks, URLs, journal (and --queue). Exit 1 when a check fails.

    \b
    Examples:
      hooks doctor
      hooks doctor --json | jq '.checks[] | select(.status != "pass")'
      hooks doctor --queue redis://127.0.0.1:6379/0
    """
    from argilla_hooks.cli.queue import checked_url
    from argilla_hooks.client import ArgillaClient

    if queue is not None:
        queue = checked_url(queue, "--queue")  # a malformed URL is a usage error, before any check runs
    found = settings.resolve(api_url, api_key, profile)
    key = (found.api_key or "").strip()
    # GET /version and its Date header need no key: without one, the server and the clock are still checked.
    with ArgillaClient(found.api_url, key or "no-key") as client:
        ctx = Context(client.api_url, client, bool(key), journal or str(settings.default_journal_path()))
        results = [check(ctx) for check in CHECKS]
    if queue is not None:
        results += check_queue(queue)
    failed = any(r.status == "fail" for r in results)
    if as_json:
        output.print_json({"ok": not failed, "checks": [r.to_json() for r in results]})
    else:
        width = max(len(r.name) for r in results)
        for result in results:
            output.print_line(output.visible(f"{_MARKS[result.status]} {result.name:<{width}}  {result.message}"))
            if result.fix and result.status != "pass":
                output.print_line(output.visible(f"  {'':<{width}}  fix: {result.fix}"))
    if failed:
        raise typer.Exit(ExitCode.ERROR)
