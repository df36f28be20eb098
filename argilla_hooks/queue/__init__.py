"""The Redis queue: receivers store verified deliveries in a Redis stream (`hooks listen --queue`, or
`create_app(queue=RedisQueue(url))`), workers run the handlers (`hooks work`), each event once per consumer group.

Importing this package imports redis-py (the `argilla-hooks[queue]` extra); nothing else in argilla_hooks does.
"""

from argilla_hooks.queue.connection import QueueError, QueueUnavailable, check_server, connect
from argilla_hooks.queue.ingest import RedisQueue
from argilla_hooks.queue.record import DeliveryRecord, QueueKeys
from argilla_hooks.queue.worker import Worker, WorkerSettings

__all__ = ["DeliveryRecord", "QueueError", "QueueKeys", "QueueUnavailable", "RedisQueue", "Worker", "WorkerSettings", "check_server", "connect"]
