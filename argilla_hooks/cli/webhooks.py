"""Webhook commands: create, list, show, update, delete, enable, disable, ping, events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Callable, Optional, Sequence
from uuid import UUID

import typer

from argilla_hooks.cli import output
from argilla_hooks.cli.connect import get_client
from argilla_hooks.cli.errors import CommandError, ExitCode, UsageProblem
from argilla_hooks.cli.options import ApiKey, ApiKeyFile, ApiUrl, Events, Json, Profile, RequiredWebhookIds, WebhookId, WebhookIds, event_option
from argilla_hooks.events import EVENT_DESCRIPTIONS, expand_events, expand_required

if TYPE_CHECKING:
    from argilla_hooks.client.models import Webhook


def parse_input(model: type, **fields: Any):
    """Build a request body, turning a validation failure into a one-line usage error (exit 2)."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"] if not isinstance(p, int)) or "input"
        message = str(first.get("ctx", {}).get("error") or first["msg"])
        raise UsageProblem(f"{field}: {message}") from None


def _show_one(webhook: "Webhook", *, as_json: bool, with_secret: bool = False) -> None:
    if as_json:
        output.print_json(webhook.to_json(with_secret=with_secret))
    else:
        output.webhook_detail(webhook, show_secret=with_secret)


def create(
    url: Annotated[str, typer.Argument(help="Where Argilla will POST events (http or https).", metavar="URL")],
    event: Events = None,
    description: Annotated[Optional[str], typer.Option("--description", "-d", help="Free text, up to 1000 characters.")] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it disabled (no deliveries until enabled).")] = False,
    as_json: Json = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Create a webhook and print it with its signing secret.

    \b
    Examples:
      hooks create https://example.com/hook -e dataset.created
      hooks create http://127.0.0.1:8000/ -e 'record.*' -e response.created -d "QA bot"
      hooks create http://127.0.0.1:8000/ -e '*' --disabled --json | jq -r .secret
    """
    from argilla_hooks.cli import changes
    from argilla_hooks.client.models import WebhookCreate

    body = parse_input(WebhookCreate, url=url, events=event or [], description=description)
    with get_client(api_url, api_key, profile) as client:
        webhook = changes.created(client, body)
        if disabled:
            webhook = changes.disabled(client, webhook)
    if not as_json:
        output.success(f"created webhook {webhook.short_id} for {webhook.url}")
    _show_one(webhook, as_json=as_json, with_secret=True)


def list_(
    as_json: Json = False,
    event: Annotated[Optional[str], event_option("--event", "-e", help="Only webhooks subscribed to this event (globs work).")] = None,
    only_enabled: Annotated[bool, typer.Option("--enabled", help="Only enabled webhooks.")] = False,
    only_disabled: Annotated[bool, typer.Option("--disabled", help="Only disabled webhooks.")] = False,
    show_secrets: Annotated[bool, typer.Option("--show-secrets", help="Include signing secrets.")] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """List the server's webhooks.

    \b
    Examples:
      hooks list
      hooks list --event 'record.*' --enabled
      hooks list --json | jq -r '.[].url'
    """
    enabled = _flag_pair(only_enabled, only_disabled, "--enabled", "--disabled")
    wanted = None if event is None else set(expand_required([event]))  # `-e ''` (an unset $VAR) is an error, not "all"
    with get_client(api_url, api_key, profile) as client:
        webhooks = client.list()
    webhooks = [
        w
        for w in webhooks
        if (wanted is None or wanted & set(w.events)) and (enabled is None or w.enabled == enabled)
    ]
    if as_json:
        output.print_json([w.to_json(with_secret=show_secrets) for w in webhooks])
    elif webhooks:
        output.webhook_table(webhooks, show_secrets=show_secrets)
    else:
        output.info("no webhooks" + (" match" if wanted is not None or enabled is not None else " yet: create one with `hooks create URL -e EVENT`"))


def _events_of(values: Optional[list[str]], option: str) -> list[str]:
    return expand_required(values, option=option) if values is not None else []


def _flag_pair(on: bool, off: bool, on_name: str, off_name: str) -> Optional[bool]:
    """True, False, or None for neither, from two opposite flags; both is a usage error, not "the last one wins"."""
    if on and off:
        raise UsageProblem(f"give either {on_name} or {off_name}, not both")
    return True if on else False if off else None


def show(
    webhook_id: WebhookId,
    as_json: Json = False,
    show_secret: Annotated[bool, typer.Option("--show-secret", help="Include the signing secret.")] = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Show one webhook.

    \b
    Examples:
      hooks show 3f2a
      hooks show 3f2a9c1e --show-secret --json | jq -r .secret
    """
    with get_client(api_url, api_key, profile) as client:
        webhook = client.get(webhook_id)
    _show_one(webhook, as_json=as_json, with_secret=show_secret)


NewUrl = Annotated[Optional[str], typer.Option("--url", help="New URL.", show_default=False)]
NewEvents = Annotated[Optional[list[str]], event_option("--event", "-e", help="Replace the events (repeatable, comma lists and globs).")]
AddEvents = Annotated[Optional[list[str]], event_option("--add-event", help="Subscribe to more events.")]
RemoveEvents = Annotated[Optional[list[str]], event_option("--remove-event", help="Unsubscribe from events.")]
NewDescription = Annotated[Optional[str], typer.Option("--description", "-d", help="New description.", show_default=False)]
ClearDescription = Annotated[bool, typer.Option("--clear-description", help="Remove the description.")]
Enable = Annotated[bool, typer.Option("--enable", help="Enable deliveries.")]
Disable = Annotated[bool, typer.Option("--disable", help="Disable deliveries (the webhook and its secret stay).")]


def update(
    webhook_id: WebhookId,
    url: NewUrl = None,
    event: NewEvents = None,
    add_event: AddEvents = None,
    remove_event: RemoveEvents = None,
    description: NewDescription = None,
    clear_description: ClearDescription = False,
    enable: Enable = False,
    disable: Disable = False,
    as_json: Json = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Change a webhook; only the fields you name are sent.

    \b
    Examples:
      hooks update 3f2a --add-event record.completed
      hooks update 3f2a --url https://new.example.com/hook --clear-description
      hooks update 3f2a -e 'dataset.*' --disable --json
    """
    from argilla_hooks.cli import changes
    from argilla_hooks.client.models import WebhookUpdate

    if description is not None and clear_description:
        raise UsageProblem("give either --description or --clear-description, not both")
    enabled = _flag_pair(enable, disable, "--enable", "--disable")
    given = {"url": url, "events": expand_events(event) if event else None, "description": description, "enabled": enabled}
    fields: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if clear_description:
        fields["description"] = None
    adding = _events_of(add_event, "--add-event")
    removing = _events_of(remove_event, "--remove-event")
    if not fields and not adding and not removing:
        raise UsageProblem("nothing to change: give --url, -e, --add-event, --remove-event, -d, --clear-description, --enable or --disable")
    parse_input(WebhookUpdate, **fields)  # reject bad input before any request

    with get_client(api_url, api_key, profile) as client:
        # One listing: the id is checked (a full one too: a non-owner hears so, not Argilla's 404 that comes first),
        # and it gives the current events to add to or remove from.
        found = client.get(webhook_id)
        if adding or removing:
            events = [e for e in dict.fromkeys([*fields.get("events", found.events), *adding]) if e not in removing]
            if not events:
                raise UsageProblem("that would leave the webhook with no events; delete it instead, or add another event")
            fields["events"] = expand_events(events)
        if _already(found, fields):
            # e.g. `--add-event X` when X is there: nothing to send, and what was asked is true.
            if not as_json:
                output.info(f"webhook {found.short_id} already is as asked; nothing changed")
            _show_one(found, as_json=as_json)
            return
        webhook = changes.updated(client, found, parse_input(WebhookUpdate, **fields))
    if not as_json:
        output.success(f"updated webhook {webhook.short_id}")
    _show_one(webhook, as_json=as_json)


def _already(webhook: "Webhook", fields: dict[str, Any]) -> bool:
    from argilla_hooks.urls import normalize_url  # compared as Argilla stores them: `http://h` is `http://h/`

    current = {"url": normalize_url(webhook.url), "events": set(webhook.events), "enabled": webhook.enabled,
               "description": webhook.description}
    wanted = {**fields, "url": normalize_url(fields["url"])} if "url" in fields else fields
    return all(current[name] == (set(value) if name == "events" else value) for name, value in wanted.items())


def delete(
    webhook_ids: WebhookIds = None,
    all_: Annotated[bool, typer.Option("--all", help="Delete every webhook on the server.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Json = False,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Delete webhooks by id, or all of them with --all.

    \b
    Examples:
      hooks delete 3f2a 9b1c
      hooks delete --all --yes
    """
    if all_ and webhook_ids:
        raise UsageProblem("give webhook ids or --all, not both")
    if not all_ and not webhook_ids:
        raise UsageProblem("give at least one webhook id, or --all")
    if all_ and not yes and not output.stdin_is_terminal():
        raise UsageProblem("--all deletes every webhook; add --yes to confirm when not on a terminal")
    from argilla_hooks.cli import changes

    with get_client(api_url, api_key, profile) as client:
        if all_:
            targets = client.list()
            if targets and not yes and not output.confirm(f"Delete all {len(targets)} webhooks on {client.api_url}?"):
                output.info("nothing deleted")  # a declined question is no error, but nothing happened: exit 1
                raise typer.Exit(ExitCode.ERROR)
        else:
            targets = client.get_all(webhook_ids or [])  # all checked first, so one typo deletes nothing
        _one_by_one(targets, lambda webhook: changes.deleted(client, webhook), "deleted", as_json=as_json)
    if not targets and not as_json:
        output.info("no webhooks to delete")


def _set_enabled(ids: list[str], value: bool, as_json: bool, api_url, api_key, profile) -> None:
    from argilla_hooks.cli import changes
    from argilla_hooks.client.models import WebhookUpdate

    word = "enabled" if value else "disabled"
    with get_client(api_url, api_key, profile) as client:
        webhooks = client.get_all(ids)  # all checked first, so one typo changes nothing
        already = [w for w in webhooks if w.enabled == value]
        for webhook in already if not as_json else []:  # nothing to send: what was asked is true
            output.info(f"webhook {webhook.short_id} is already {word}")
        pending = [w for w in webhooks if w.enabled != value]
        change = lambda webhook: changes.updated(client, webhook, WebhookUpdate(enabled=value), f"the webhook is {word}")  # noqa: E731
        _one_by_one(pending, change, word, as_json=as_json, unchanged=already)


def _one_by_one(
    webhooks: list["Webhook"], change: Callable[["Webhook"], "Webhook"], done_word: str, *, as_json: bool,
    unchanged: Sequence["Webhook"] = (),
) -> None:
    """`change` each webhook in turn, saying so as each is done (with --json, the list of those done at the end). When
    one fails, what was done stays said, and the error names the one that failed and those not attempted."""
    done: list["Webhook"] = []
    try:
        for webhook in webhooks:
            changed = change(webhook)
            done.append(changed)
            if not as_json:
                output.success(f"{done_word} webhook {changed.short_id} ({changed.url})")
    except Exception as exc:
        failed, rest = webhooks[len(done)], webhooks[len(done) + 1 :]
        untouched = f"; not attempted: {', '.join(w.short_id for w in rest)}" if rest else ""
        raise CommandError(f"{failed.short_id}: {exc} ({len(done)} of {len(webhooks)} {done_word} before it{untouched})") from exc
    finally:
        if as_json:
            output.print_json([w.to_json() for w in [*unchanged, *done]])


def _enabled_command(value: bool, doc: str):
    """`enable` and `disable`: one command body, two names and help texts."""

    def command(
        webhook_ids: RequiredWebhookIds,
        as_json: Json = False,
        api_url: ApiUrl = None,
        api_key: ApiKey = None,
        api_key_file: ApiKeyFile = None,
        profile: Profile = None,
    ) -> None:
        _set_enabled(webhook_ids, value, as_json, api_url, api_key, profile)

    command.__name__ = command.__qualname__ = "enable" if value else "disable"
    command.__doc__ = doc
    return command


enable = _enabled_command(
    True,
    """Enable webhooks so Argilla delivers to them again.

    \b
    Examples:
      hooks enable 3f2a 9b1c
    """,
)
disable = _enabled_command(
    False,
    """Disable webhooks: Argilla keeps them but stops delivering.

    \b
    Examples:
      hooks disable 3f2a
    """,
)


def ping(
    webhook_id: WebhookId,
    api_url: ApiUrl = None,
    api_key: ApiKey = None,
    api_key_file: ApiKeyFile = None,
    profile: Profile = None,
) -> None:
    """Ask Argilla to send a `ping` event to a webhook now.

    Succeeds when Argilla reached the URL (whatever the receiver answered).

    \b
    Examples:
      hooks ping 3f2a
    """
    from argilla_hooks.client.errors import ServerError

    with get_client(api_url, api_key, profile) as client:
        webhook = client.get(webhook_id)
        try:
            client.ping(webhook.id)
        except ServerError as exc:
            reason = ping_failure_reason(exc.detail)
            raise CommandError(f"Argilla could not deliver the ping to {webhook.url}: {reason}", ExitCode.ERROR) from None
    # Argilla answers 204 whatever the receiver said: it only tells us that the URL answered.
    output.success(f"Argilla delivered a ping to {webhook.url} (it does not say what the receiver answered)")
    if not webhook.enabled:
        output.warn(f"webhook {webhook.short_id} is disabled: Argilla pings it, but delivers no event to it until `hooks enable {webhook.short_id}`")


def ping_failure_reason(detail: Any) -> str:
    """Argilla reports a failed ping as a 500 carrying the transport error; keep its readable part."""
    params = detail.get("params", {}) if isinstance(detail, dict) else {}
    kind = str(params.get("type", "")).rsplit(".", 1)[-1]
    message = str(params.get("message", "")).split("] ", 1)[-1]
    if kind and message:
        return f"{message} ({kind})"
    return message or kind or "the server reported an error"


def events(as_json: Json = False) -> None:
    """List the events a webhook can subscribe to, with what each means.

    \b
    Examples:
      hooks events
      hooks events --json | jq -r '.[].name'
    """
    if as_json:
        output.print_json(
            [{"name": name, "description": text, "subscribable": name != "ping"} for name, text in EVENT_DESCRIPTIONS.items()]
        )
        return
    width = max(len(name) for name in EVENT_DESCRIPTIONS)
    for name, meaning in EVENT_DESCRIPTIONS.items():
        output.print_line(f"{name:<{width}}  {meaning}")
