"""`hooks trigger`: send one signed, realistic delivery to a receiver; no Argilla server needed."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from argilla_hooks import settings
from argilla_hooks.cli import completion, output
from argilla_hooks.cli.connect import get_client, given_by
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Profile, read_secret_file


EventArgument = Annotated[
    str,
    typer.Argument(help="The event to send: one name, `ping` included (see `hooks events`).", metavar="EVENT", autocompletion=completion.sendable_event_names, show_default=False),
]
To = Annotated[Optional[str], typer.Option("--to", help=f"Receiver URL \\[default: the --webhook's URL, else {settings.DEFAULT_RECEIVER_URL}].", show_default=False)]
Secret = Annotated[
    Optional[str],
    typer.Option("--secret", envvar=settings.ENV_WEBHOOK_SECRET, show_envvar=True, show_default=False,
                 help="Sign with this webhook secret (base64, as Argilla makes them; a whsec_ prefix is fine)."),
]
SecretFile = Annotated[
    Optional[str],
    typer.Option("--secret-file", metavar="FILE", show_default=False,
                 help="Sign with the secret in this file (`-`: stdin), kept off the command line."),
]
WebhookOption = Annotated[
    Optional[str],
    typer.Option("--webhook", autocompletion=completion.webhook_ids, show_default=False,
                 help="Sign with this Argilla webhook's secret and send to its URL (id or unique prefix; fetched with the "
                 "connection options). Not with --secret; used instead of the environment variable."),
]
Data = Annotated[
    Optional[str],
    typer.Option("--data", show_default=False,
                 help="JSON object deep-merged into the sample's `data` (e.g. '{\"name\": \"x\"}'), or @FILE holding one. "
                 "Ids and times must be written as Argilla writes them (lowercase UUIDs, naive UTC 2024-01-01T12:00:00)."),
]
Json = Annotated[
    bool,
    typer.Option("--json", help='Print {"status", "body", "webhook_id", "type", "url", "error"} on stdout; webhook_id is the '
                 "delivery's webhook-id header; status and body are null, and error says why, when nothing answered."),
]


def trigger(
    ctx: typer.Context,
    event: EventArgument,
    to: To = None,
    secret: Secret = None,
    secret_file: SecretFile = None,
    webhook: WebhookOption = None,
    data: Data = None,
    as_json: Json = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Send one signed sample delivery, shaped like Argilla 2.8's, to a receiver.

    Prints the receiver's answer: its body on stdout, its status on stderr. Exits 0 on a 2xx answer, 1 on any other answer or when nothing answers. Nothing is sent when the event, --data or the secret is wrong (exit 2).

    \b
    Examples:
      SECRET=$(hooks show 3f2a --show-secret --json | jq -r .secret)
      hooks trigger ping --secret "$SECRET"
      ARGILLA_WEBHOOK_SECRET="$SECRET" hooks trigger record.completed --to http://127.0.0.1:8000/hooks
      hooks trigger dataset.created --webhook 3f2a --data '{"name": "my-dataset"}'
      hooks trigger response.created --data @response.json --json | jq .status
    """
    from argilla_hooks.trigger.samples import SampleError, build_event, parse_overrides

    from_environment = secret is not None and given_by(ctx, "secret", "ENVIRONMENT")
    given = [name for name, value in (("--secret", secret is not None and not from_environment), ("--secret-file", secret_file),
                                      ("--webhook", webhook)) if value]
    if len(given) > 1:
        raise UsageProblem(f"give {given[0]} or {given[1]}, not both")
    if secret_file is not None:  # a flag beats the environment
        secret, from_environment = read_secret_file(secret_file, "--secret-file"), False
    try:
        body = build_event(event, parse_overrides(data) if data is not None else None)
    except SampleError as exc:
        raise UsageProblem(str(exc)) from None
    if to is not None:
        _check_url(to)
    if not secret and not webhook:
        raise UsageProblem(
            f"no secret to sign with: pass --secret, set {settings.ENV_WEBHOOK_SECRET}, "
            "or pass --webhook ID to use an Argilla webhook's secret"
        )
    origin = settings.ENV_WEBHOOK_SECRET if from_environment else "--secret-file" if secret_file else "--secret"
    if webhook:  # a flag beats the environment, as everywhere else; its URL is where it would be delivered
        with get_client(api_url, api_key, profile) as client:
            found = client.get(webhook)
        secret, to, origin = found.secret, to or found.url, f"the secret of webhook {found.short_id}"
    assert secret is not None  # checked above, or the webhook's
    _deliver(to or settings.DEFAULT_RECEIVER_URL, event, body, secret, origin, as_json)


def _check_url(to: str) -> None:
    from argilla_hooks.urls import check_url

    try:
        check_url(to)
    except ValueError as exc:
        raise UsageProblem(f"--to: {exc}") from None


def _deliver(to: str, event: str, body: bytes, secret: str, origin: str, as_json: bool) -> None:
    """Sign and send; print the answer (its body on stdout, its status and where it went on stderr)."""
    from argilla_hooks.trigger.delivery import DeliveryError, send, sign
    from argilla_hooks.trigger.samples import SampleError
    from argilla_hooks.urls import hide_userinfo

    try:
        headers = sign(secret, None, None, body)
    except SampleError as exc:
        raise UsageProblem(f"{origin}: {exc.problems[0][1]}") from None
    report = {"status": None, "body": None, "webhook_id": headers["webhook-id"], "type": event, "url": to, "error": None}
    try:
        status, text = send(to, body, headers)
    except DeliveryError as exc:
        if as_json:  # `... --json | jq .status` still gets a document
            output.print_json({**report, "error": str(exc)})
        raise CommandError(str(exc), ExitCode.ERROR) from None
    if as_json:
        output.print_json({**report, "status": status, "body": text})
    elif text:
        output.print_line(output.visible(text, multiline=True))  # the receiver's text, kept off the terminal's controls
    answer = f"{hide_userinfo(to)} answered {status} {_phrase(status)} to {event} ({headers['webhook-id']})"
    if not 200 <= status < 300:
        raise CommandError(answer, ExitCode.ERROR)
    output.success(answer)


def _phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
