"""Server (b) of listen_throughput.py: the Argilla SDK's webhook server (argilla 2.8.0) with one do-nothing listener.

Run in the SDK's own venv: `uvicorn sdk_server:app`. It is built exactly as `@rg.webhook_listener(events=...,
raw_event=True)` builds it, minus the decorator's Argilla API calls, which need a server:

- bypassed: `client.webhooks` (list, to reuse a webhook with the same URL and events) and `Webhook(...).create()`
  (POST /api/v1/webhooks, which is where the SDK gets the secret from);
- and `Argilla()`'s connection check (GET /api/v1/me, in `APIClient._validate_connection`);
- instead: a `Webhook` made locally with `Webhook.from_model(WebhookModel(..., secret=BENCH_SECRET))` and an
  `Argilla` client that never makes a request (the raw-event path below does not use it);
- then, as the decorator: `WebhookHandler(webhook).handle(func, raw_event)` posted at `/{func.__name__}` on
  `get_webhook_server()`.

So each delivery is verified as in production: `standardwebhooks.Webhook(secret).verify(body, headers)` (which
json-parses the body) and `WebhookEvent.model_validate`, then the event type check and the call.
`raw_event=True` because the SDK's default (`raw_event=False`) turns every event into SDK objects with GET requests
to Argilla (`dataset.get()`, `record.get()`), which is not a do-nothing handler.
"""

import os

import argilla as rg
from argilla._api._webhooks import WebhookModel
from argilla.webhooks import Webhook, WebhookHandler, get_webhook_server

EVENTS = [
    "dataset.created", "dataset.updated", "dataset.deleted", "dataset.published",
    "record.created", "record.updated", "record.deleted", "record.completed",
    "response.created", "response.updated", "response.deleted",
]  # fmt: skip


class OfflineArgilla(rg.Argilla):
    """The SDK client minus its start-up GET /api/v1/me; nothing here makes a request (a call would fail loudly)."""

    def _validate_connection(self) -> None:
        pass


client = OfflineArgilla(api_url="http://127.0.0.1:9", api_key="bench-never-used")
base_url = os.environ.get("WEBHOOK_SERVER_URL", "http://127.0.0.1:8000")


async def noop(event):
    pass


webhook = Webhook.from_model(
    WebhookModel(url=f"{base_url}/{noop.__name__}", events=EVENTS, description="bench", secret=os.environ["BENCH_SECRET"]),
    client=client,
)
server = get_webhook_server()
# What `webhook_listener`'s wrapper does once it has the webhook:
request_handler = WebhookHandler(webhook).handle(noop, raw_event=True)
server.post(f"/{noop.__name__}", tags=["Argilla Webhooks"])(request_handler)
app = server
