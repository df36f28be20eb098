"""Make the server's webhooks match a file: plan the changes (a pure diff), then apply them.

`plan` diffs the webhooks of a file (`webhook_file.load_file`) against the server's, and also checks Argilla's URL
rule on the URLs it would send and the server's webhook limit; `execute` applies a plan in a safe order and says
exactly what was done. Nothing here prints: the CLI renders `Plan.lines()`, `Plan.to_json()` and
`ApplyResult.to_json()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Protocol
from uuid import UUID

from argilla_hooks.client import recovery
from argilla_hooks.client.errors import OutcomeUnknown, WebhookNotFound
from argilla_hooks.client.models import MAX_WEBHOOKS, Webhook, WebhookCreate, WebhookUpdate
from argilla_hooks.declarative.file import DesiredWebhook, SpecError
from argilla_hooks.urls import normalize_url, url_problem


class WebhookClient(Protocol):
    """What apply needs from `ArgillaClient`; tests pass an in-memory fake."""

    def list(self) -> list[Webhook]: ...

    def create(self, body: WebhookCreate) -> Webhook: ...

    def update(self, webhook_id: UUID, body: WebhookUpdate) -> Webhook: ...

    def delete(self, webhook_id: UUID) -> Webhook: ...


# --- planning ----------------------------------------------------------------------------------

ActionKind = Literal["create", "update", "delete", "unchanged"]
_SYMBOLS = {"create": "+", "update": "~", "delete": "-", "unchanged": "="}


@dataclass(frozen=True)
class FieldDiff:
    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        if self.field == "events":  # what changes, not two lists to compare by eye
            added = [f"+{name}" for name in self.new if name not in self.old]
            return f"events: {' '.join(added + [f'-{name}' for name in self.old if name not in self.new])}"
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return f"[{', '.join(value)}]"
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Action:
    """One step of a plan: `desired` is the file's entry (none for deletes), `current` the server's (none for creates)."""

    kind: ActionKind
    desired: Optional[DesiredWebhook] = None
    current: Optional[Webhook] = None
    diffs: tuple[FieldDiff, ...] = ()

    @property
    def target(self) -> DesiredWebhook:
        """The file's entry, which every action but a delete has."""
        assert self.desired is not None, self.kind
        return self.desired

    @property
    def webhook(self) -> Webhook:
        """The server's webhook, which every action but a create has."""
        assert self.current is not None, self.kind
        return self.current

    @property
    def url(self) -> str:
        return self.current.url if self.current is not None else self.target.normalized_url

    def line(self) -> str:
        """`+ url [events]`, `~ url: events: [a] -> [b]; enabled: true -> false`, `- url`."""
        symbol = _SYMBOLS[self.kind]
        if self.kind == "create":
            target = self.target
            extra = "" if target.enabled else " (disabled)"
            described = f" {_show(target.description)}" if target.description is not None else ""
            return f"{symbol} {self.url}{described} {_show(target.events)}{extra}"
        webhook = self.webhook
        described = f" {_show(webhook.description)}" if webhook.description is not None else ""
        ident = f" (id {webhook.short_id})"
        if self.kind == "update":
            return f"{symbol} {self.url}{described}{ident}: " + "; ".join(str(d) for d in self.diffs)
        return f"{symbol} {self.url}{described}{ident}"

    def to_json(self) -> dict[str, Any]:
        """Uniform keys for every kind: the target state (the deleted one's for deletes) and the field changes."""
        state = self.desired.to_json() if self.desired is not None else _state_of(self.webhook)
        return {
            "action": self.kind,
            "id": str(self.current.id) if self.current is not None else None,
            "entry": self.desired.entry if self.desired is not None else None,
            **state,
            "url": self.url,
            "changes": {d.field: {"from": _jsonable(d.old), "to": _jsonable(d.new)} for d in self.diffs},
        }


def _state_of(webhook: Webhook) -> dict[str, Any]:
    return {"url": webhook.url, "events": list(webhook.events), "enabled": webhook.enabled, "description": webhook.description}


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass
class Plan:
    """What apply would do. `unmanaged` are server webhooks absent from the file and kept (no --prune)."""

    creates: list[Action] = field(default_factory=list)
    updates: list[Action] = field(default_factory=list)
    deletes: list[Action] = field(default_factory=list)
    unchanged: list[Action] = field(default_factory=list)
    unmanaged: list[Webhook] = field(default_factory=list)
    prune: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.creates or self.updates or self.deletes)

    @property
    def actions(self) -> list[Action]:
        """The changes in execution order: deletes first (room under the 10-webhook limit), updates, creates."""
        return [*self.deletes, *self.updates, *self.creates]

    @property
    def total_after(self) -> int:
        """How many webhooks the server holds once the plan is applied."""
        return len(self.creates) + len(self.updates) + len(self.unchanged) + len(self.unmanaged)

    def lines(self) -> list[str]:
        return [action.line() for action in self.actions]

    def to_json(self) -> dict[str, Any]:
        return {
            "prune": self.prune,
            "empty": self.is_empty,
            "summary": {
                "create": len(self.creates),
                "update": len(self.updates),
                "delete": len(self.deletes),
                "unchanged": len(self.unchanged),
                "unmanaged": len(self.unmanaged),
            },
            "creates": [a.to_json() for a in self.creates],
            "updates": [a.to_json() for a in self.updates],
            "deletes": [a.to_json() for a in self.deletes],
            "unchanged": [a.to_json() for a in self.unchanged],
            "unmanaged": [{"id": str(w.id), **_state_of(w)} for w in self.unmanaged],
        }


def plan(desired: list[DesiredWebhook], current: list[Webhook], prune: bool = False) -> Plan:
    """Diff the file against the server; raises SpecError, before anything is sent, when the URL of an entry to create
    breaks Argilla's rule (`check_url`) or when the result would exceed the webhook limit.

    An entry that matches a webhook on the server sends no URL (an update PATCHes events, enabled and description
    only), so its URL is valid as the server holds it, even where our own check would refuse it: a URL with an IDN
    host our pydantic rejects, or a percent-encoded form longer than the 2083 characters Argilla allows in a request.

    Matching is on the normalized URL; where several webhooks share a URL, identical ones pair first, then those with
    equal descriptions, then the rest in file / server order (so an edited description is an update that keeps the
    webhook's secret, not a delete and a create). Events compare as sets: the server keeps any order.
    """
    result = Plan(prune=prune)
    remaining = list(current)
    matches: dict[int, Webhook] = {}
    rules: tuple[Callable[[Webhook, DesiredWebhook], bool], ...] = (
        lambda webhook, wanted: not _diffs(wanted, webhook),
        lambda webhook, wanted: webhook.description == wanted.description,
        lambda webhook, wanted: True,
    )
    for rule in rules:
        for index, wanted in enumerate(desired):
            if index in matches:
                continue
            match = next((w for w in remaining if _same_url(w, wanted) and rule(w, wanted)), None)
            if match is not None:
                remaining.remove(match)
                matches[index] = match

    for index, wanted in enumerate(desired):
        match = matches.get(index)
        if match is None:
            result.creates.append(Action("create", desired=wanted))
            continue
        diffs = _diffs(wanted, match)
        kind: ActionKind = "update" if diffs else "unchanged"
        (result.updates if diffs else result.unchanged).append(Action(kind, wanted, match, diffs))

    if prune:
        result.deletes = [Action("delete", current=w) for w in remaining]
    else:
        result.unmanaged = remaining

    problems = []
    for action in result.creates:
        problem = url_problem(action.target.url)
        if problem is not None:
            problems.append(f"{action.target.where}: url: {problem}")
    if result.total_after > MAX_WEBHOOKS:
        problems.append(
            f"the server would hold {result.total_after} webhooks after this apply ({len(desired)} in the file "
            f"+ {len(result.unmanaged)} on the server but not in the file); Argilla allows at most "
            f"{MAX_WEBHOOKS}: remove entries, or pass --prune to delete the ones not in the file"
        )
    if problems:
        raise SpecError(next((d.source for d in desired if d.source), "<input>"), problems)
    return result


def _same_url(webhook: Webhook, wanted: DesiredWebhook) -> bool:
    return normalize_url(webhook.url) == wanted.normalized_url


def _diffs(wanted: DesiredWebhook, webhook: Webhook) -> tuple[FieldDiff, ...]:
    diffs = []
    if set(wanted.events) != set(webhook.events):
        diffs.append(FieldDiff("events", tuple(webhook.events), wanted.events))
    if wanted.enabled != webhook.enabled:
        diffs.append(FieldDiff("enabled", webhook.enabled, wanted.enabled))
    if wanted.description != webhook.description:
        diffs.append(FieldDiff("description", webhook.description, wanted.description))
    return tuple(diffs)


# --- applying ----------------------------------------------------------------------------------

# "unknown": its answer was lost and reading the webhooks back could not tell whether it was done.
Status = Literal["done", "failed", "unknown", "not_attempted"]


@dataclass
class Outcome:
    """What became of one action. `webhook` is the server's copy after it (with its secret, for new ones)."""

    action: Action
    status: Status
    webhook: Optional[Webhook] = None
    error: Optional[BaseException] = None
    note: Optional[str] = None

    @property
    def created(self) -> bool:
        """This step made a new webhook: the only kind whose secret `--show-secrets` shows (an updated or deleted
        webhook's secret is no news)."""
        return self.action.kind == "create" and self.webhook is not None

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """`with_secret` includes the secret of a created webhook only, as the text output does."""
        # Every outcome has every key (null when it does not apply), so that scripts can index it without checks.
        data = {**self.action.to_json(), "status": self.status, "webhook": None, "error": None, "note": self.note}
        if self.webhook is not None:
            data["id"] = str(self.webhook.id)
            data["webhook"] = self.webhook.to_json(with_secret=with_secret and self.created)
        if self.error is not None:
            data["error"] = {"type": type(self.error).__name__, "message": str(self.error)}
        return data


@dataclass
class ApplyResult:
    outcomes: list[Outcome]

    def _with(self, status: Status) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def done(self) -> list[Outcome]:
        return self._with("done")

    @property
    def failed(self) -> list[Outcome]:
        return self._with("failed")

    @property
    def unknown(self) -> list[Outcome]:
        return self._with("unknown")

    @property
    def not_attempted(self) -> list[Outcome]:
        return self._with("not_attempted")

    @property
    def ok(self) -> bool:
        return not (self.failed or self.unknown)

    def to_json(self, *, with_secrets: bool = False) -> dict[str, Any]:
        """`with_secrets` adds the secrets of created webhooks."""
        return {
            "ok": self.ok,
            "done": [o.to_json(with_secret=with_secrets) for o in self.done],
            "failed": [o.to_json(with_secret=with_secrets) for o in self.failed],
            "unknown": [o.to_json(with_secret=with_secrets) for o in self.unknown],
            "not_attempted": [o.to_json() for o in self.not_attempted],
        }


def execute(plan: Plan, client: WebhookClient) -> ApplyResult:
    """Apply the plan's actions in order, stopping at the first that is not done; never raises a client error.

    A step whose answer was lost is read back from the server: done, failed, or "unknown" when reading back cannot
    tell. Ctrl-C during a step stops it too: that step is reported failed with the KeyboardInterrupt as its error, so
    the caller can still say what was and was not applied.
    """
    outcomes: list[Outcome] = []
    actions = plan.actions
    # The ids there before: a webhook that fits a lost create but is one of these is not the one it made.
    known = {a.webhook.id for a in [*plan.updates, *plan.unchanged, *plan.deletes]} | {w.id for w in plan.unmanaged}
    for index, action in enumerate(actions):
        outcome = _run(action, client, known)
        outcomes.append(outcome)
        if outcome.webhook is not None:
            known.add(outcome.webhook.id)
        if outcome.status != "done":
            outcomes.extend(Outcome(rest, "not_attempted") for rest in actions[index + 1 :])
            break
    return ApplyResult(outcomes)


def _run(action: Action, client: WebhookClient, known: set[UUID]) -> Outcome:
    created: Optional[Webhook] = None
    notes: list[str] = []  # how a lost answer was settled
    try:
        if action.kind == "delete":
            webhook_id = action.webhook.id
            try:
                gone = _sent(lambda: client.delete(webhook_id), lambda: recovery.deleted(client, webhook_id), notes)
                return Outcome(action, "done", gone or action.webhook, note=_noted(notes))
            except WebhookNotFound:  # deleted meanwhile (another `apply --prune`, `hooks delete`): gone, as wanted
                return Outcome(action, "done", action.webhook, note="it was already deleted")
        if action.kind == "update":
            return Outcome(action, "done", _updated(client, action.webhook.id, {d.field: _jsonable(d.new) for d in action.diffs}, notes), note=_noted(notes))
        wanted = action.target
        body = WebhookCreate(url=wanted.url, events=list(wanted.events), description=wanted.description)
        sent_at = recovery.now()
        created = _sent(lambda: client.create(body), lambda: recovery.created(client, body, sent_at, known), notes)
        if wanted.enabled:
            return Outcome(action, "done", created, note=_noted(notes))
        # Argilla ignores `enabled` on create: a disabled webhook is a create, then a PATCH.
        assert created is not None
        return Outcome(action, "done", _updated(client, created.id, {"enabled": False}, notes), note=_noted(notes))
    except (Exception, KeyboardInterrupt) as exc:  # the client's errors are opaque: report whatever stopped this step
        note = _noted(notes)
        if created is not None:
            # A failed PATCH left it enabled; an interrupted one, or one whose answer was lost for good, may or may not.
            unsure = isinstance(exc, (KeyboardInterrupt, OutcomeUnknown))
            disabling = "was interrupted" if isinstance(exc, KeyboardInterrupt) else "could not be read back" if unsure else "failed"
            note = f"created as {created.id}, but it {'may still be' if unsure else 'is still'} enabled: disabling it {disabling}"
        return Outcome(action, "unknown" if isinstance(exc, OutcomeUnknown) else "failed", created, exc, note)


def _updated(client: WebhookClient, webhook_id: UUID, fields: dict[str, Any], notes: list[str]) -> Optional[Webhook]:
    body = WebhookUpdate(**fields)
    return _sent(lambda: client.update(webhook_id, body), lambda: recovery.updated(client, webhook_id, body), notes)


def _sent(send: Callable[[], Webhook], read_back: Callable[[], recovery.ReadBack], notes: list[str]) -> Optional[Webhook]:
    """recovery.sent, a lost answer read back noted in the step's outcome."""
    return recovery.sent(send, read_back, lambda lost: notes.append(f"its answer was lost ({lost.reason}); read back, it is done"))


def _noted(notes: list[str]) -> Optional[str]:
    return "; ".join(notes) or None
