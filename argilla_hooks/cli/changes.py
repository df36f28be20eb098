"""Changing webhooks for `hooks create|update|enable|disable|delete`, reporting what the server holds even when an
answer was lost on the way (the change read back: client/recovery.py)."""

from __future__ import annotations

from typing import Callable

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError
from argilla_hooks.client import ArgillaClient, recovery
from argilla_hooks.client.errors import AnswerLost, OutcomeUnknown
from argilla_hooks.client.models import Webhook, WebhookCreate, WebhookUpdate


def created(client: ArgillaClient, body: WebhookCreate) -> Webhook:
    """The webhook made; when the answer was lost, read back from the server (NotApplied or OutcomeUnknown when it
    is not there or cannot be told: exit 6, and running the command again would not make a second one unawares)."""
    sent_at = recovery.now()
    webhook = recovery.sent(lambda: client.create(body), lambda: recovery.created(client, body, sent_at), _warning("the webhook was made"))
    assert webhook is not None  # (a create read back has its webhook)
    return webhook


def updated(client: ArgillaClient, webhook: Webhook, body: WebhookUpdate, done: str = "the change was made") -> Webhook:
    """The webhook as changed; when the answer was lost, read back (NotApplied, OutcomeUnknown as for `created`)."""
    changed = recovery.sent(lambda: client.update(webhook.id, body), lambda: recovery.updated(client, webhook.id, body), _warning(done))
    assert changed is not None  # (an update read back has its webhook)
    return changed


def deleted(client: ArgillaClient, webhook: Webhook) -> Webhook:
    """The webhook deleted, as the server answered; when the answer was lost, as it was before (once read back gone)."""
    gone = recovery.sent(lambda: client.delete(webhook.id), lambda: recovery.deleted(client, webhook.id), _warning("the webhook is deleted"))
    return gone or webhook


def disabled(client: ArgillaClient, webhook: Webhook) -> Webhook:
    """The new webhook disabled (Argilla ignores `enabled` on create); when that fails, undone so nothing is
    half-done, and when whether it was done cannot be told (its answer lost, the server unreadable), said so."""
    try:
        return updated(client, webhook, WebhookUpdate(enabled=False), "the webhook is disabled")
    except OutcomeUnknown as unknown:
        raise CommandError(
            f"created webhook {webhook.id} for {webhook.url}, but it may still be ENABLED: {unknown}; see "
            f"`hooks show {webhook.short_id}`, then `hooks disable` or `hooks delete` it"
        ) from unknown
    except BaseException as failure:  # NotApplied too: it is enabled
        _undo_create(client, webhook, failure)
        raise


def _undo_create(client: ArgillaClient, webhook: Webhook, failure: BaseException) -> None:
    """Delete a webhook created enabled when disabling it failed; if that fails too, say what is left behind, with
    the exit code of the first failure."""
    try:
        recovery.sent(lambda: client.delete(webhook.id), lambda: recovery.deleted(client, webhook.id), lambda lost: None)
    except Exception as undo:
        raise CommandError(
            f"created webhook {webhook.id} for {webhook.url}, but it is ENABLED: disabling it failed ({failure}) and "
            f"deleting it failed too ({undo}); run `hooks delete {webhook.id}`"
        ) from failure


def _warning(done: str) -> Callable[[AnswerLost], None]:
    """What a command says of a lost answer that reading back found `done`."""
    return lambda lost: output.warn(f"the answer to {lost.request} was lost ({lost.reason}), but read back, {done}")
