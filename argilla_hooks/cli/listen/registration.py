"""The Argilla webhook a listener verifies with: an existing one (`--webhook`), or one made for the session
(`--register`) and deleted when the session ends, whatever ends it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable, Optional

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError, ExitCode
from argilla_hooks.cli.listen import signals
from argilla_hooks.client import ArgillaClient
from argilla_hooks.client.errors import WebhookNotFound
from argilla_hooks.cli.listen.config import ListenConfig
from argilla_hooks.cli.listen.left_behind import LeftBehind, left_behind, session_description
from argilla_hooks.client.models import Webhook, WebhookCreate, WebhookUpdate
from argilla_hooks.events import ALL_EVENTS
from argilla_hooks.urls import loopback_as_one, normalize_url


@dataclass(frozen=True)
class Verifying:
    """How a session verifies: its secrets and, with --webhook or --register, that webhook, its events and URL."""

    secrets: list[str]
    webhook_id: Optional[str] = None
    registered: bool = False
    events: Optional[list[str]] = None
    url: Optional[str] = None


@contextlib.contextmanager
def verification(
    config: ListenConfig, connect: Callable[[], ArgillaClient], listen_url: str, register_events: list[str], rerun_options: str
) -> Iterator[Verifying]:
    """The secrets to verify with: the configured ones, plus those of `--webhook` or of a `--register` webhook made
    for the block (see session_webhook)."""
    secrets = list(config.secrets)
    if not (config.webhook or config.register):
        yield Verifying(secrets)
        return
    url = config.public_url or listen_url
    with connect() as client:
        if config.webhook:
            found = existing_webhook(client, config.webhook, url)
            # What will arrive is what the webhook subscribes to, whatever the handlers would take.
            events = [e for e in ALL_EVENTS if e in found.events] + [e for e in found.events if e not in ALL_EVENTS]
            yield Verifying([*secrets, found.secret], str(found.id), False, events, found.url)
            return
        with session_webhook(client, url, register_events, rerun_options) as made:
            yield Verifying([*secrets, made.secret], str(made.id), True, register_events, made.url)


def existing_webhook(client: ArgillaClient, webhook_id: str, listen_url: str) -> Webhook:
    """The webhook `--webhook` names, with a warning when its URL does not lead here."""
    found = client.get(webhook_id)
    if loopback_as_one(found.url) != loopback_as_one(listen_url):
        output.warn(
            f"the webhook points at {found.url}, not at this listener ({listen_url}); deliveries arrive here only if "
            "that URL leads to this port (a tunnel, a proxy, Docker's host.docker.internal)"
        )
    if not found.enabled:
        output.warn(f"webhook {found.short_id} is disabled: Argilla delivers no event to it (pings only) until `hooks enable {found.short_id}`")
    return found


@contextlib.contextmanager
def session_webhook(client: ArgillaClient, url: str, events: list[str], rerun_options: str) -> Iterator[Webhook]:
    """A webhook for `url` and `events`, created on entry (or one a killed listener on this host left for `url`,
    reused) and deleted on exit. When the delete fails, this says what to run (`hooks delete ID` with
    `rerun_options`) and raises CommandError (exit 1) once the block is done."""
    description = session_description()
    with signals.deferred():  # a Ctrl-C now must not lose the id of a webhook just created
        stale = [s for s in left_behind(client.list()) if normalize_url(s.webhook.url) == normalize_url(url)]
        webhook = _reused(client, stale, events, description) if stale else None
        if webhook is None:
            webhook = client.create(WebhookCreate(url=url, events=events, description=description[:1000]))
    try:
        yield webhook
    finally:
        try:
            client.delete(webhook.id)
        except WebhookNotFound:  # someone deleted it meanwhile (`hooks delete`): what we wanted
            output.info(f"the temporary webhook {webhook.id} was already deleted")
        except BaseException as exc:  # noqa: BLE001 - a second Ctrl-C lands here too
            raise CommandError(
                f"could not delete the temporary webhook {webhook.id} ({exc or type(exc).__name__}); "
                f"run: hooks delete {webhook.id}{rerun_options}",
                ExitCode.ERROR,
            ) from None
        else:
            output.info(f"deleted the temporary webhook {webhook.short_id}")


def _reused(client: ArgillaClient, stale: list[LeftBehind], events: list[str], description: str) -> Optional[Webhook]:
    """The first webhook left behind for this URL, made this session's (its secret kept, so that Argilla's retries of
    deliveries it failed are verified now), the others deleted; None when it is gone meanwhile."""
    first, *others = stale
    try:
        webhook = client.update(first.webhook.id, WebhookUpdate(events=events, description=description[:1000], enabled=True))
    except WebhookNotFound:
        return None
    for other in others:
        with contextlib.suppress(WebhookNotFound):
            client.delete(other.webhook.id)
    also = f"; deleted {len(others)} more left the same way ({', '.join(o.webhook.short_id for o in others)})" if others else ""
    output.info(f"reusing webhook {webhook.short_id}, left for this URL by hooks listen pid {first.pid}, which no longer runs{also}")
    return webhook
