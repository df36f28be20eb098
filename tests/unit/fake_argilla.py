"""An in-memory stand-in for Argilla's webhook API, mounted on respx, for unit tests of the client and CLI."""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import datetime, timezone

import httpx
import respx

API = "http://argilla.test"
OWNER_KEY = "owner.key"
ANNOTATOR_KEY = "annotator.key"


class FakeArgilla:
    def __init__(self, router: respx.MockRouter):
        self.webhooks: list[dict] = []
        self.requests: list[httpx.Request] = []
        self.ping_error: str | None = None
        # {"POST": 2}: the second POST answers `fail_status` (a server failing half-way through `apply`).
        self.fail_on: dict[str, int] = {}
        self.fail_status = 500
        self.date: str | None = None  # the Date header of GET /version (the server's clock), when set
        # {"POST": 1}: the first POST is done, then its answer lost (the connection drops); `drop_request`: lost
        # before it is done. `down_after_loss`: from then on, nothing reaches the server.
        self.lose_answer: dict[str, int] = {}
        self.drop_request: dict[str, int] = {}
        self.down_after_loss = False
        self.down = False
        router.route(host="argilla.test").mock(side_effect=self.handle)

    def add(self, url="http://127.0.0.1:8000/", events=("dataset.created",), description=None, enabled=True, id=None):
        now = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
        hook = {
            "id": str(id or uuid.uuid4()),
            "url": url,
            "secret": base64.b64encode(secrets.token_bytes(64)).decode(),  # like Argilla's
            "events": list(events),
            "enabled": enabled,
            "description": description,
            "inserted_at": now,
            "updated_at": now,
        }
        self.webhooks.append(hook)
        return hook

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        self.requests.append(request)
        nth = sum(1 for r in self.requests if r.method == request.method)
        if self.drop_request.get(request.method) == nth or self.lose_answer.get(request.method) == nth:
            if self.lose_answer.get(request.method) == nth:
                self._answer(request)
            self.down = self.down_after_loss
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return self._answer(request)

    def _answer(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("x-argilla-api-key")
        path = request.url.path.removeprefix("/api/v1")
        if path == "/version":
            return httpx.Response(200, json={"version": "2.8.0"}, headers={"date": self.date} if self.date else {})
        if key not in (OWNER_KEY, ANNOTATOR_KEY):
            return httpx.Response(401, json={"detail": {"code": "argilla.api.errors::UnauthorizedError", "params": {}}})
        if path == "/me":
            role = "owner" if key == OWNER_KEY else "annotator"
            return httpx.Response(200, json={"id": str(uuid.uuid4()), "username": role, "role": role, "extra": 1})
        if key != OWNER_KEY:
            return httpx.Response(403, json={"detail": {"code": "argilla.api.errors::ForbiddenOperationError", "params": {}}})
        if self.fail_on.get(request.method) == sum(1 for r in self.requests if r.method == request.method):
            return httpx.Response(self.fail_status, json={"detail": {"code": "argilla.api.errors::GenericServerError", "params": {"message": "boom"}}})
        if path == "/webhooks" and request.method == "GET":
            return httpx.Response(200, json={"items": self.webhooks})
        if path == "/webhooks" and request.method == "POST":
            if len(self.webhooks) >= 10:
                return httpx.Response(422, json={"detail": "You can't create more than 10 webhooks. Please delete some of them first"})
            body = json.loads(request.content)
            return httpx.Response(201, json=self.add(body["url"], body["events"], body.get("description")))
        parts = path.strip("/").split("/")
        hook = next((h for h in self.webhooks if h["id"] == parts[1]), None)
        if hook is None:
            return httpx.Response(404, json={"detail": f"Webhook with id `{parts[1]}` not found"})
        if len(parts) == 3 and parts[2] == "ping":
            if self.ping_error:
                return httpx.Response(500, json={"detail": {"code": "argilla.api.errors::GenericServerError", "params": {"type": "httpx.ConnectError", "message": self.ping_error}}})
            return httpx.Response(204)
        if request.method == "PATCH":
            hook.update(json.loads(request.content))
            hook["updated_at"] = datetime.now(timezone.utc).replace(tzinfo=None).isoformat()
            return httpx.Response(200, json=hook)
        if request.method == "DELETE":
            self.webhooks.remove(hook)
            return httpx.Response(200, json=hook)
        return httpx.Response(405, json={"detail": "Method Not Allowed"})
