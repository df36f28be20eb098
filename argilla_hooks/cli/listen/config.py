"""What `hooks listen` is asked to do, checked once, in one place, before anything binds or is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from argilla_hooks import settings
from argilla_hooks.cli.errors import UsageProblem
from argilla_hooks.events import expand_required
from argilla_hooks.receiver.arguments import check_path
from argilla_hooks.receiver.journal import DEFAULT_KEEP
from argilla_hooks.receiver.verify import decode_secret
from argilla_hooks.urls import check_redis_url, check_url

_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2}


@dataclass(frozen=True)
class ListenConfig:
    """A listener's settings, validated when built (UsageProblem, naming the option, for what cannot work).

    Verification takes `secrets`, or the secret of `webhook` (an id or prefix, fetched from Argilla), or that of a
    webhook created for the session (`register`, for `events`, else the handlers' events, pointing at `public_url`,
    else at the listen URL); `verify=False` accepts anything.

    `journal`: the SQLite file that records every request (None: no journal), keeping the newest `journal_keep`.
    `reload`: import the handlers' modules again when their files change. `require_reachable`: stop (exit 1) when
    Argilla's ping of the webhook does not arrive at start.
    """

    targets: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8000
    path: str = "/"
    app_dir: str = "."
    secrets: tuple[str, ...] = ()
    secret_source: str = "--secret"  # how messages name where `secrets` came from
    webhook: Optional[str] = None
    register: bool = False
    events: Optional[tuple[str, ...]] = None
    public_url: Optional[str] = None
    verify: bool = True
    tolerance: int = 300
    max_body: int = 10 * 1024 * 1024
    forward_to: tuple[str, ...] = ()
    exit_after: Optional[int] = None
    as_json: bool = False
    verbose: bool = False
    queue: Optional[str] = None  # a Redis URL: events are stored there for `hooks work` instead of handled here
    journal: Optional[str] = None
    journal_keep: int = DEFAULT_KEEP
    reload: bool = False
    require_reachable: bool = False

    def __post_init__(self) -> None:
        if not self.verify and (self.secrets or self.webhook or self.register):
            raise UsageProblem("--no-verify cannot be combined with --secret, --secret-file, --webhook or --register")
        if self.webhook and self.register:
            raise UsageProblem("give --webhook (use an existing webhook) or --register (create one), not both")
        if not self.targets:  # else once they are loaded: an SDK listener brings its own webhook's secret
            self.check_verification()
        if self.events is not None and not self.register:
            raise UsageProblem("-e/--event chooses the events of a --register webhook; handlers choose theirs with @on(...)")
        if self.events is not None:
            object.__setattr__(self, "events", tuple(_checked(expand_required, list(self.events), "-e")))
        object.__setattr__(self, "path", "/" + self.path.strip("/"))
        _checked(check_path, self.path, "--path")
        if not self.host.strip():
            raise UsageProblem("--host needs an address, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)")
        if self.public_url is not None:
            _checked(check_url, self.public_url, "--public-url")
        for url in self.forward_to:
            _checked(check_url, url, "--forward-to")
        if self.queue is not None:
            object.__setattr__(self, "queue", _checked(check_redis_url, self.queue, "--queue"))
            if self.targets or self.forward_to:
                raise UsageProblem("with --queue, handlers run in `hooks work REDIS_URL MODULE:FUNCTION`: give no handler or --forward-to here")
        for secret in self.secrets:  # now, not once the port is bound and a webhook registered
            _checked(decode_secret, secret, self.secret_source)
        if self.reload and not self.targets:
            raise UsageProblem("--reload imports handlers again when their files change: give one as MODULE:FUNCTION")
        if self.require_reachable and not (self.webhook or self.register):
            raise UsageProblem("--require-reachable pings the webhook of --register or --webhook ID: give one of them")

    def check_verification(self) -> None:
        """UsageProblem when nothing says how to verify the deliveries to `path`."""
        if not (self.secrets or self.webhook or self.register or not self.verify):
            raise UsageProblem(
                f"no secret to verify deliveries with: pass --secret or --secret-file, set {settings.ENV_WEBHOOK_SECRET}, "
                "use --webhook ID or --register, or --no-verify to accept anything"
            )


def parse_size(text: str) -> int:
    """`10MiB`, `512k`, `1048576` -> bytes, for --max-body."""
    number = text.strip().lower().rstrip("s")
    unit = number.lstrip("0123456789.")
    factor = _SIZE_UNITS.get(unit.strip())
    try:
        size = int(float(number[: len(number) - len(unit)]) * factor) if factor else 0
    except ValueError:
        size = 0
    if size < 1:
        raise UsageProblem(f"--max-body {text!r} is not a size (e.g. 10MiB, 512KiB, 1048576)")
    return size


def _checked(check: Callable[[Any], Any], value: Any, option: str) -> Any:
    try:
        return check(value)
    except ValueError as exc:  # UnknownEventError included
        raise UsageProblem(f"{option}: {exc}") from None
