"""What Argilla holds after a change whose answer was lost (`AnswerLost`): the change read back from the server.

A POST, PATCH or DELETE that reached Argilla may have been done even though no answer came back (the server died
after committing it, a proxy dropped the connection, the read timed out). Sending it again could do it twice (a second
webhook); reporting it failed would be wrong. These functions list the webhooks once and say whether the change is
there: `ReadBack.applied` True (with the webhook as the server has it), False, or None when that cannot be told (the
server could not be read, or several webhooks fit), with `unknown` saying why.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Protocol
from uuid import UUID

from argilla_hooks.client.errors import AnswerLost, ArgillaError, NotApplied, OutcomeUnknown
from argilla_hooks.client.models import Webhook, WebhookCreate, WebhookUpdate
from argilla_hooks.urls import normalize_url

# A webhook that fits a lost POST counts as the one it made only if the server made it this recently before it was
# sent (Argilla's clock against ours: a margin for their skew).
RECENT = timedelta(minutes=1)


class Lister(Protocol):
    def list(self) -> list[Webhook]: ...


@dataclass(frozen=True)
class ReadBack:
    applied: Optional[bool]  # None: cannot tell (see `unknown`)
    webhook: Optional[Webhook] = None  # the server's copy, when it has one
    unknown: str = ""  # why it cannot be told


def sent(send: Callable[[], Webhook], read_back: Callable[[], ReadBack], said: Callable[[AnswerLost], None]) -> Optional[Webhook]:
    """What `send()` answered; when its answer was lost, the change as `read_back()` settles it (NotApplied,
    OutcomeUnknown when it is not there or that cannot be told), once `said(lost)` has told the caller's reader."""
    try:
        return send()
    except AnswerLost as lost:
        webhook = settle(lost, read_back())
        said(lost)
        return webhook


def settle(lost: AnswerLost, back: ReadBack) -> Optional[Webhook]:
    """The server's copy of the webhook when the change whose answer was `lost` is done, as read `back` (None for a
    webhook deleted); NotApplied when it is not done, OutcomeUnknown when that cannot be told (both AnswerLost)."""
    if back.applied:
        return back.webhook
    lost_answer = f"the answer to {lost.request or 'a request'} was lost ({lost.reason or 'connection lost'})"
    if back.applied is False:
        raise NotApplied(f"{lost_answer}, and the webhooks read back do not hold the change: it was not made",
                         request=lost.request, reason=lost.reason) from lost
    raise OutcomeUnknown(f"{lost_answer}, and {back.unknown}: Argilla may or may not have made the change; list the "
                       "webhooks before sending it again", request=lost.request, reason=lost.reason) from lost


def now() -> datetime:
    """The time to pass to `created()`, taken before the POST is sent."""
    return datetime.now(timezone.utc)


def created(client: Lister, body: WebhookCreate, sent_at: datetime, known: Collection[UUID] = ()) -> ReadBack:
    """Whether the POST of `body` sent at `sent_at` made a webhook: one with its URL (as Argilla stores URLs), events
    and description, made since a minute before `sent_at`, and not among the `known` ids (those there before)."""
    webhooks = _listed(client)
    if isinstance(webhooks, ReadBack):
        return webhooks
    since = sent_at - RECENT
    fits = [
        w for w in webhooks
        if w.id not in known and _utc(w.inserted_at) >= since and _matches(w, body.model_dump(exclude_none=False))
    ]  # fmt: skip
    if len(fits) > 1:
        return ReadBack(None, unknown=f"{len(fits)} webhooks made in the last minute fit it ({', '.join(w.short_id for w in fits)})")
    return ReadBack(True, fits[0]) if fits else ReadBack(False)


def updated(client: Lister, webhook_id: UUID, body: WebhookUpdate) -> ReadBack:
    """Whether webhook `webhook_id` now has every field `body` sets (False too when it is gone)."""
    webhooks = _listed(client)
    if isinstance(webhooks, ReadBack):
        return webhooks
    found = next((w for w in webhooks if w.id == webhook_id), None)
    if found is None:
        return ReadBack(False)
    return ReadBack(_matches(found, body.body()), found)


def deleted(client: Lister, webhook_id: UUID) -> ReadBack:
    """Whether webhook `webhook_id` is gone."""
    webhooks = _listed(client)
    if isinstance(webhooks, ReadBack):
        return webhooks
    found = next((w for w in webhooks if w.id == webhook_id), None)
    return ReadBack(found is None, found)


def _listed(client: Lister) -> list[Webhook] | ReadBack:
    try:
        return client.list()
    except ArgillaError as exc:
        return ReadBack(None, unknown=f"reading the webhooks back failed too: {exc}")


def _matches(webhook: Webhook, fields: dict[str, Any]) -> bool:
    """Whether the webhook has these field values, compared as Argilla stores them (URLs normalized, events a set)."""
    for name, wanted in fields.items():
        have = getattr(webhook, name)
        if name == "url":
            have, wanted = normalize_url(have), normalize_url(wanted)
        elif name == "events":
            have, wanted = set(have), set(wanted)
        if have != wanted:
            return False
    return True


def _utc(moment: datetime) -> datetime:
    """Argilla's times are naive UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
