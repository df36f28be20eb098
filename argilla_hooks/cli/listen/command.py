"""`hooks listen`: its options, turned into a ListenConfig and run as one session (see session.py)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion
from argilla_hooks.cli.connect import get_client, given_by, same_server
from argilla_hooks.cli.errors import UsageProblem
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Profile, event_option, read_secret_file

_VERIFY, _REGISTER, _JOURNAL = "Verification", "Registration", "Journal and reload"
Targets = Annotated[
    Optional[list[str]],
    typer.Argument(help="Handlers as module:function (several allowed); none: print each event.", metavar="MODULE:FUNCTION", show_default=False),
]
Host = Annotated[str, typer.Option("--host", help="Interface to bind.")]
Port = Annotated[int, typer.Option("--port", "-p", help="Port to bind; 0 picks a free one.", min=0, max=65535)]
Path = Annotated[str, typer.Option("--path", help="URL path that receives deliveries.")]
AppDir = Annotated[str, typer.Option("--app-dir", help="Directory put first on sys.path for the targets.")]
Secrets = Annotated[
    Optional[list[str]],
    typer.Option("--secret", "-s", envvar=settings.ENV_WEBHOOK_SECRET, help="Webhook secret to verify with; repeat it while rotating.", show_default=False, rich_help_panel=_VERIFY),
]
SecretFiles = Annotated[
    Optional[list[str]],
    typer.Option("--secret-file", metavar="FILE", help="Read secrets to verify with from this file, one per line (`-`: stdin).", show_default=False, rich_help_panel=_VERIFY),
]
WebhookOption = Annotated[
    Optional[str],
    typer.Option("--webhook", help="Verify with this existing Argilla webhook's secret (id or prefix).", autocompletion=completion.webhook_ids, show_default=False, rich_help_panel=_VERIFY),
]
Register = Annotated[bool, typer.Option("--register", help="Create a webhook for this session; deleted on exit.", rich_help_panel=_VERIFY)]
NoVerify = Annotated[bool, typer.Option("--no-verify", help="Accept unsigned deliveries (marked unverified).", rich_help_panel=_VERIFY)]
Tolerance = Annotated[int, typer.Option("--tolerance", help="Seconds a signature timestamp may be off.", min=1, rich_help_panel=_VERIFY)]
RegisterEvents = Annotated[
    Optional[list[str]],
    event_option("--event", "-e", help="Events to register for (globs ok) \\[default: the handlers' @on events, else all].", rich_help_panel=_REGISTER),
]
PublicUrl = Annotated[
    Optional[str],
    typer.Option("--public-url", envvar=settings.ENV_PUBLIC_URL, help="URL Argilla should call (a tunnel, a proxy) \\[default: the listen URL].", show_default=False, rich_help_panel=_REGISTER),
]
ForwardTo = Annotated[Optional[list[str]], typer.Option("--forward-to", help="Re-send each verified delivery here too (repeatable).", show_default=False)]
MaxBody = Annotated[str, typer.Option("--max-body", help="Largest body accepted (e.g. 512KiB, 10MiB).")]
Json = Annotated[bool, typer.Option("--json", help="One JSON object per line on stdout (ready, event, rejected, stopped).")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Also print headers, body and handler tracebacks.")]
Queue = Annotated[
    Optional[str],
    typer.Option("--queue", help="Store each event in this Redis (redis://HOST:PORT/DB) for `hooks work`, answering at once.", metavar="REDIS_URL", show_default=False),
]
ExitAfter = Annotated[Optional[int], typer.Option("--exit-after", help="Exit 0 after N handled events.", min=1, show_default=False)]
RequireReachable = Annotated[bool, typer.Option("--require-reachable", help="Exit 1 when Argilla's ping of the webhook does not arrive at start.", rich_help_panel=_REGISTER)]
JournalPath = Annotated[
    Optional[str],
    typer.Option("--journal", envvar=settings.ENV_JOURNAL, help="SQLite file recording every delivery \\[default: $XDG_STATE_HOME/argilla-hooks/journal.sqlite3].", show_default=False, rich_help_panel=_JOURNAL),
]
NoJournal = Annotated[bool, typer.Option("--no-journal", help="Record nothing.", rich_help_panel=_JOURNAL)]
JournalKeep = Annotated[int, typer.Option("--journal-keep", help="Deliveries the journal keeps (the newest).", min=1, rich_help_panel=_JOURNAL)]
Reload = Annotated[bool, typer.Option("--reload", help="Import the handlers again when their files change.", rich_help_panel=_JOURNAL)]


def listen(
    ctx: typer.Context,
    targets: Targets = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    path: Path = "/",
    app_dir: AppDir = ".",
    secret: Secrets = None,
    secret_file: SecretFiles = None,
    webhook: WebhookOption = None,
    register: Register = False,
    no_verify: NoVerify = False,
    tolerance: Tolerance = 300,
    event: RegisterEvents = None,
    public_url: PublicUrl = None,
    forward_to: ForwardTo = None,
    max_body: MaxBody = "10MiB",
    as_json: Json = False,
    verbose: Verbose = False,
    exit_after: ExitAfter = None,
    queue: Queue = None,
    require_reachable: RequireReachable = False,
    journal: JournalPath = None,
    no_journal: NoJournal = False,
    journal_keep: JournalKeep = settings.DEFAULT_JOURNAL_KEEP,
    reload: Reload = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Receive Argilla deliveries locally: verify them, run your handlers, print or forward the events.

    \b
    Examples:
      export ARGILLA_WEBHOOK_SECRET="$(hooks show 3f2a --show-secret --json | jq -r .secret)"
      hooks listen                                             # print every verified event
      hooks listen handlers:on_response --register -e 'response.*'
      hooks listen app.hooks:notify --webhook 3f2a --port 9000 --path /argilla
      hooks listen --forward-to http://127.0.0.1:3000/hooks --json | jq 'select(.kind == "event").type'
      hooks listen handlers:notify --register --reload      # then: hooks deliveries replay --last
      hooks listen --webhook 3f2a --queue redis://127.0.0.1:6379/0      # handlers run in `hooks work`
    """
    # Imported here: `hooks --help` and the other commands need none of the receiver, uvicorn or asyncio.
    from argilla_hooks.cli.listen.config import ListenConfig, parse_size
    from argilla_hooks.cli.listen.session import run

    secrets, secret_source = _secrets(ctx, secret, secret_file, chooses_otherwise=no_verify or bool(webhook) or register)
    config = ListenConfig(
        targets=tuple(targets or ()), host=host, port=port, path=path, app_dir=app_dir,
        secrets=secrets, secret_source=secret_source,
        webhook=webhook, register=register, events=None if event is None else tuple(event), public_url=public_url,
        verify=not no_verify, tolerance=tolerance, max_body=parse_size(max_body), forward_to=tuple(forward_to or ()),
        exit_after=exit_after, as_json=as_json, verbose=verbose, require_reachable=require_reachable, reload=reload,
        journal=_journal_path(ctx, journal, no_journal), journal_keep=journal_keep, queue=queue,
    )  # fmt: skip
    server, key = same_server(ctx)
    run(config, connect=lambda: get_client(api_url, api_key, profile), rerun_options=server + key)


def _secrets(ctx: typer.Context, secret: Optional[list[str]], secret_file: Optional[list[str]], chooses_otherwise: bool) -> tuple[tuple[str, ...], str]:
    """The secrets to verify with, and where they came from (for the hint of a 401)."""
    from_files = [line for file in secret_file or () for line in read_secret_file(file, "--secret-file").split()]
    from_environment = bool(secret) and given_by(ctx, "secret", "ENVIRONMENT")
    if from_environment and (chooses_otherwise or from_files):
        secret = None  # a flag choosing how to verify outranks a secret left in the environment
    sources = [settings.ENV_WEBHOOK_SECRET if from_environment else "--secret"] * bool(secret) + ["--secret-file"] * bool(from_files)
    return (*(secret or ()), *from_files), " and ".join(sources) or "--secret"


def _journal_path(ctx: typer.Context, journal: Optional[str], no_journal: bool) -> Optional[str]:
    """The journal file to use, None for none; a --journal in the environment gives way to --no-journal."""
    if no_journal and journal and not given_by(ctx, "journal", "ENVIRONMENT"):
        raise UsageProblem("give --journal PATH or --no-journal, not both")
    return None if no_journal else journal or str(settings.default_journal_path())
