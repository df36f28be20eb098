"""Changing webhooks for `hooks create|update|enable|disable|delete`, reporting what the server holds even when an
answer was lost on the way (the change read back: client/recovery.py)."""

from __future__ import annotations

from argilla_hooks.cli import output
from argilla_hooks.cli.errors import CommandError
from argilla_hooks.client import ArgillaClient, recovery
from argilla_hooks.client.errors import AnswerLost, OutcomeUnknown
from argilla_hooks.client.models import Webhook, WebhookCreate, WebhookUpdate


def created(client: ArgillaClient, body: WebhookCreate) -> Webhook:
    """The webhook made; when the answer was lost, read back from the server (NotApplied or OutcomeUnknown when it
    is not there or cannot be told: exit 6, and running the command again would not make a second one unawares)."""
    sent_at = recovery.now()
    try:
        return client.create(body)
    except AnswerLost as lost:
        webhook = recovery.settle(lost, recovery.created(client, body, sent_at))
        assert webhook is not None  # (a create read back has its webhook)
        _read_back(lost, "the webhook was made")
        return webhook


def updated(client: ArgillaClient, webhook: Webhook, body: WebhookUpdate, done: str = "the change was made") -> Webhook:
    """The webhook as changed; when the answer was lost, read back (NotApplied, OutcomeUnknown as for `created`)."""
    try:
        return client.update(webhook.id, body)
    except AnswerLost as lost:
        changed = recovery.settle(lost, recovery.updated(client, webhook.id, body))
        assert changed is not None  # (an update read back has its webhook)
        _read_back(lost, done)
        return changed


def deleted(client: ArgillaClient, webhook: Webhook) -> Webhook:
    """The webhook deleted, as the server answered; when the answer was lost, as it was before (once read back gone)."""
    try:
        return client.delete(webhook.id)
    except AnswerLost as lost:
        recovery.settle(lost, recovery.deleted(client, webhook.id))
        _read_back(lost, "the webhook is deleted")
        return webhook


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
        try:
            client.delete(webhook.id)
        except AnswerLost as lost:
            recovery.settle(lost, recovery.deleted(client, webhook.id))
    except Exception as undo:
        raise CommandError(
            f"created webhook {webhook.id} for {webhook.url}, but it is ENABLED: disabling it failed ({failure}) and "
            f"deleting it failed too ({undo}); run `hooks delete {webhook.id}`"
        ) from failure


def _read_back(lost: AnswerLost, done: str) -> None:
    output.warn(f"the answer to {lost.request} was lost ({lost.reason}), but read back, {done}")
