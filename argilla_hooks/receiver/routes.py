"""Several receivers on one server, each at its own path: how `hooks listen` serves SDK listeners, each at the path
the Argilla SDK's server gives it and verified with its own webhook's secret, beside the plain handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from argilla_hooks.receiver.app import ReceiverApp, Scope, Send, path_below
from argilla_hooks.receiver.intake import Receive


class Routes:
    """An ASGI app that hands each request to the receiver whose path it is for, and any other (a health check, a
    wrong path) to the first; lifespan shutdown closes them all."""

    def __init__(self, apps: Sequence[ReceiverApp]) -> None:
        if not apps:
            raise ValueError("Routes needs at least one receiver")
        self.apps = list(apps)
        self._by_path: dict[str, ReceiverApp] = {}
        for app in self.apps:
            for path in app.paths:
                if path in self._by_path:
                    raise ValueError(f"two receivers take deliveries at {path}")
                self._by_path[path] = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path, root_path = scope.get("path", "/"), scope.get("root_path", "")
        app = self._by_path.get(path_below(root_path, path) if root_path else path, self.apps[0])
        await app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message: Any = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for app in self.apps:
                    await app.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
