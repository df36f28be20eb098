"""Fixtures for the receiver tests: a secret, and requests sent to an app in-process through httpx.ASGITransport."""

from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest
from receiver_samples import new_secret, signed_headers


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def deliver(secret: str) -> Callable[..., Any]:
    """`await deliver(app, body)`: POST the body signed with `secret` (a new webhook-id each time, as Argilla retries)."""

    async def _deliver(app: Any, body: bytes, *, path: str = "/", key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = signed_headers(key or secret, body, **kwargs)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as client:
            return await client.post(path, content=body, headers=headers)

    return _deliver


@pytest.fixture
def request_to() -> Callable[..., Any]:
    """`await request_to(app, method, path, **httpx kwargs)`: any request, unsigned unless headers say otherwise."""

    async def _request(app: Any, method: str, path: str = "/", **kwargs: Any) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as client:
            return await client.request(method, path, **kwargs)

    return _request
