"""Fixtures for the queue's tests: a real redis-server on a free loopback port (no persistence), emptied before each
test, and deliveries as Argilla sends them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from argilla_hooks.queue.connection import connect
from argilla_hooks.queue.record import QueueKeys
from argilla_hooks.receiver.handlers import Delivery
from argilla_hooks.trigger.samples import build_event
from tests.redis_process import RedisProcess


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis-py's client is asyncio only


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    with RedisProcess(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisProcess) -> str:
    """The shared server's URL, emptied first (and restarted if a test stopped it)."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()
    import redis

    with redis.Redis.from_url(redis_server.url) as client:
        client.config_set("maxmemory", 0)
        client.config_set("maxmemory-policy", "noeviction")
        client.flushall()
    return redis_server.url


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Any]:
    redis = connect(redis_url, timeout=5.0)
    yield redis
    await redis.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A server of this test's own, for tests that stop, pause or restart it."""
    server = RedisProcess(tmp_path / "redis")
    try:
        yield server.start()
    finally:
        server.__exit__()


KEYS = QueueKeys()


def delivery(event_type: str = "dataset.created", **overrides: Any) -> tuple[bytes, Delivery]:
    """A fresh event (new data.id): its raw body and the Delivery a receiver makes of it."""
    body = build_event(event_type, overrides or None)
    return body, Delivery(body, [(b"content-type", b"application/json"), (b"webhook-id", b"msg_test")])


async def wait_until(condition: Any, timeout: float = 10.0) -> None:
    """Poll `condition()` (sync or async) until it is true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
