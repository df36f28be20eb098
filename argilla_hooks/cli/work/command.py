"""`hooks work`: its options, turned into a WorkConfig and run as one session (see session.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

import typer

from argilla_hooks.cli.errors import UsageProblem
from argilla_hooks.cli.queue import RedisUrl, checked_url

_GROUP_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_TUNING = "Retries and timing"
Targets = Annotated[list[str], typer.Argument(help="Handlers as module:function (several allowed).", metavar="MODULE:FUNCTION", show_default=False)]
Group = Annotated[str, typer.Option("--group", "-g", help="Consumer group: workers of one group share the events; each group gets every event.")]
Concurrency = Annotated[int, typer.Option("--concurrency", "-c", help="Entries this worker runs at once.", min=1, max=1000)]
MaxAttempts = Annotated[int, typer.Option("--max-attempts", help="Attempts before an entry goes to the dead letters.", min=1, rich_help_panel=_TUNING)]
RetryDelay = Annotated[float, typer.Option("--retry-delay", help="Seconds before the second attempt; doubled for each next one (at most 300).", min=0, rich_help_panel=_TUNING)]
ClaimIdle = Annotated[float, typer.Option("--claim-idle", help="Seconds an entry's worker may be silent before another worker takes it over.", min=0.1, rich_help_panel=_TUNING)]
Grace = Annotated[float, typer.Option("--grace", help="Seconds running handlers get to finish at a stop; then their entries are given back.", min=0, rich_help_panel=_TUNING)]
Drain = Annotated[bool, typer.Option("--drain", help="Exit 0 once the group has nothing left to read, retry or reclaim.")]
AppDir = Annotated[str, typer.Option("--app-dir", help="Directory put first on sys.path for the targets.")]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line on stdout (ready, entry, redis, stopped).")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also print each failing handler's traceback (on stderr).")]


@dataclass(frozen=True)
class WorkConfig:
    """A worker's settings, validated when built (UsageProblem, naming the option)."""

    url: str
    targets: tuple[str, ...]
    group: str = "workers"
    concurrency: int = 4
    max_attempts: int = 5
    retry_delay: float = 1.0
    claim_idle: float = 60.0
    grace: float = 30.0
    drain: bool = False
    app_dir: str = "."
    as_json: bool = False
    verbose: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", checked_url(self.url))
        if not self.targets:
            raise UsageProblem("name at least one handler, e.g. `hooks work redis://127.0.0.1:6379/0 handlers:notify`")
        if not _GROUP_NAME.match(self.group):
            raise UsageProblem(f"--group {self.group!r}: use letters, digits, '.', '_' and '-' only (at most 100)")


def work(
    url: RedisUrl,
    targets: Targets,
    group: Group = "workers",
    concurrency: Concurrency = 4,
    max_attempts: MaxAttempts = 5,
    retry_delay: RetryDelay = 1.0,
    claim_idle: ClaimIdle = 60.0,
    grace: Grace = 30.0,
    drain: Drain = False,
    app_dir: AppDir = ".",
    as_json: Json = False,
    verbose: Verbose = False,
) -> None:
    """Run your handlers on the events that `hooks listen --queue` stored in Redis, once per event and group.

    A failed handler is retried with backoff, then its entry goes to the dead letters (`hooks queue dead`).

    \b
    Examples:
      hooks work redis://127.0.0.1:6379/0 handlers:notify
      hooks work redis://redis:6379/0 app.hooks:train app.hooks:notify --concurrency 16 --group trainers
      hooks work redis://127.0.0.1:6379/0 handlers:export --drain --json | jq 'select(.kind == "entry")'
    """
    from argilla_hooks.cli.work.session import run

    config = WorkConfig(
        url=url, targets=tuple(targets), group=group, concurrency=concurrency, max_attempts=max_attempts,
        retry_delay=retry_delay, claim_idle=claim_idle, grace=grace, drain=drain, app_dir=app_dir, as_json=as_json,
        verbose=verbose,
    )  # fmt: skip
    run(config)
