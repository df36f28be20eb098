"""`hooks queue`: the Redis queue of `hooks listen --queue` and `hooks work`: its state, its dead letters, redrive."""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional, TypeVar

import typer

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import UsageProblem
from argilla_hooks.cli.options import Json
from argilla_hooks.text import first_line

if TYPE_CHECKING:
    from argilla_hooks.queue.connection import Check
    from argilla_hooks.queue.record import QueueKeys
    from argilla_hooks.queue.stats import QueueStats

T = TypeVar("T")
EXTRA_HINT = "pip install 'argilla-hooks[queue]'"

RedisUrl = Annotated[
    str,
    typer.Argument(help="The queue's Redis: redis://HOST:PORT/DB (rediss:// for TLS, unix:///PATH for a socket).", metavar="REDIS_URL", show_default=False),
]
Group = Annotated[Optional[str], typer.Option("--group", "-g", help="Only this consumer group \\[default: all].", show_default=False)]


def require_redis(command: str) -> None:
    """UsageProblem (exit 2, one line) when redis-py, an optional extra, is not installed."""
    try:
        import redis  # noqa: F401
    except ImportError:
        raise UsageProblem(f"{command} needs redis-py, which is not installed: {EXTRA_HINT}") from None


def checked_url(url: str, option: str = "REDIS_URL") -> str:
    from argilla_hooks.urls import check_redis_url  # (pydantic: not for `hooks --help`)

    try:
        return check_redis_url(url)
    except ValueError as exc:
        raise UsageProblem(f"{option}: {exc}") from None


def with_redis(url: str, command: str, use: Callable[[Any, "QueueKeys"], Awaitable[T]]) -> T:
    """`use(client, keys)` on a client of `url`, closed afterwards; a Redis that cannot be reached is QueueUnavailable."""
    require_redis(command)
    url = checked_url(url)
    import asyncio  # (here, not at the top: `hooks --help` imports this module)

    from redis.exceptions import ConnectionError, TimeoutError

    from argilla_hooks.queue.connection import QueueUnavailable, connect, describe_failure
    from argilla_hooks.queue.record import QueueKeys

    async def run() -> T:
        client = connect(url, timeout=5.0)
        try:
            return await use(client, QueueKeys())
        except (ConnectionError, TimeoutError) as exc:
            raise QueueUnavailable(describe_failure(url, exc)) from None
        finally:
            await client.aclose()

    return asyncio.run(run())


def preflight(url: str, command: str) -> list["Check"]:
    """The checks of the queue's Redis before anything starts, warnings printed: QueueUnavailable when it cannot be
    reached, QueueError when it cannot serve as a queue (too old)."""
    require_redis(command)
    from argilla_hooks.queue.connection import QueueError, check_server

    checks = with_redis(url, command, lambda client, keys: check_server(client, url))
    for check in checks:
        if check.level == "fail":
            raise QueueError(check.message)
        if check.level == "warn":
            output.warn(check.message)
    return checks


def stats(url: RedisUrl, group: Group = None, as_json: Json = False) -> None:
    """The queue: stream length, and per consumer group its backlog, pending entries, consumers and dead letters.

    \b
    Examples:
      hooks queue stats redis://127.0.0.1:6379/0
      hooks queue stats redis://redis:6379/0 --json | jq '.groups[] | {name, pending, lag, dead}'
    """
    require_redis("hooks queue stats")
    from argilla_hooks.queue.connection import check_server
    from argilla_hooks.queue.stats import queue_stats

    async def read(client: Any, keys: "QueueKeys") -> tuple["QueueStats", list[Any]]:
        return await queue_stats(client, keys, group), await check_server(client, url)

    from argilla_hooks.urls import hide_userinfo

    found, checks = with_redis(url, "hooks queue stats", read)
    warnings = found.warnings + [c.message for c in checks if c.level != "pass"]
    if as_json:
        output.print_json({**found.to_json(), "warnings": warnings, "redis": hide_userinfo(url)})
        return
    span = f" ({found.first} … {found.last})" if found.first else ""
    output.print_line(f"stream {found.stream}: {found.length} entr{'y' if found.length == 1 else 'ies'}{span}")
    for g in found.groups:
        oldest = f", oldest {g.oldest_pending_seconds:.1f} s old" if g.oldest_pending_seconds is not None else ""
        lag = "?" if g.lag is None else str(g.lag)
        output.print_line(f"group {g.name}: {g.pending} pending{oldest}, {lag} not read yet, {g.dead} dead letter{'s' if g.dead != 1 else ''}")
        for c in g.consumers:
            output.print_line(f"  consumer {c.name}: {c.pending} pending, idle {c.idle_seconds:.1f} s")
    if not found.groups:
        output.print_line("no consumer group yet: start `hooks work`" if group is None else f"no consumer group {group} (without --group: all of them)")
    for warning in warnings:
        output.warn(warning)


def dead(
    url: RedisUrl,
    group: Group = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="Show at most this many, newest first.", min=1)] = 20,
    as_json: Json = False,
) -> None:
    """Dead letters: entries whose handlers failed on every attempt, with their last error.

    \b
    Examples:
      hooks queue dead redis://127.0.0.1:6379/0
      hooks queue dead redis://127.0.0.1:6379/0 --group exports --json | jq -r '.[].id'
    """
    require_redis("hooks queue dead")
    from argilla_hooks.queue.deadletters import dead_letters

    found = with_redis(url, "hooks queue dead", lambda client, keys: dead_letters(client, keys, group, limit))
    if as_json:
        output.print_json([d.to_json() for d in found])
        return
    if not found:
        output.info("no dead letters")
        return
    from datetime import datetime

    for d in found:
        failed = output.local_time(datetime.fromisoformat(d.failed_at.replace("Z", "+00:00"))) if d.failed_at else "?"
        output.print_line(output.visible(f"{d.id}  {d.group}  {failed}  {d.type}  {d.attempts} attempts  {first_line(d.error)}"))


def redrive(
    url: RedisUrl,
    ids: Annotated[Optional[list[str]], typer.Argument(help="Dead letter ids (see `hooks queue dead`).", metavar="ID", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every dead letter (of --group, else of every group).")] = False,
    group: Group = None,
    as_json: Json = False,
) -> None:
    """Put dead letters back on the queue, for the group they failed in; handlers that had succeeded do not run again.

    \b
    Examples:
      hooks queue redrive redis://127.0.0.1:6379/0 1796634284484-0
      hooks queue redrive redis://127.0.0.1:6379/0 --all --group workers
    """
    if ids and all_:
        raise UsageProblem("give dead letter ids or --all, not both")
    if not ids and not all_:
        raise UsageProblem("give dead letter ids (see `hooks queue dead`) or --all")
    malformed = [i for i in ids or [] if not re.fullmatch(r"[0-9]+-[0-9]+", i)]
    if malformed:  # (Redis would refuse it with an error of its own, or read a bare number as a range)
        raise UsageProblem(f"{malformed[0]!r} is not a dead letter id: they look like 1796634284484-0 (see `hooks queue dead`)")
    require_redis("hooks queue redrive")
    from argilla_hooks.queue.deadletters import redrive as redrive_letters

    done = with_redis(url, "hooks queue redrive", lambda client, keys: redrive_letters(client, keys, list(ids or []), group))
    if as_json:
        output.print_json([r.to_json() for r in done])
        return
    for r in done:
        output.print_line(f"{r.dead_id} -> {r.entry} (group {r.group})")
    output.success(f"redrove {len(done)} dead letter{'s' if len(done) != 1 else ''}")


COMMANDS: list[tuple[str, Callable[..., None]]] = [("stats", stats), ("dead", dead), ("redrive", redrive)]
