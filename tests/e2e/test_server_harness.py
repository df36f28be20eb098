"""The e2e harness itself works: keys and roles, the webhook API, and real deliveries via Redis + worker."""

from standardwebhooks import Webhook


def test_owner_key_authenticates_as_owner(argilla):
    with argilla.http() as owner:
        me = owner.get("/api/v1/me").raise_for_status().json()
    assert me["role"] == "owner"


def test_annotator_is_forbidden_from_webhooks(argilla):
    with argilla.http(argilla.annotator_key) as annotator:
        assert annotator.get("/api/v1/webhooks").status_code == 403


def test_webhook_created_over_rest_is_listed(argilla, server_webhooks):
    with argilla.http() as owner:
        body = {"url": "http://127.0.0.1:9/hook", "events": ["dataset.created"]}
        created = owner.post("/api/v1/webhooks", json=body).raise_for_status().json()
    assert [hook["id"] for hook in server_webhooks()] == [created["id"]]


def test_dataset_created_is_delivered_and_signed(argilla, webhook_receiver, create_dataset):
    with argilla.http() as owner:
        body = {"url": webhook_receiver.url, "events": ["dataset.created"]}
        hook = owner.post("/api/v1/webhooks", json=body).raise_for_status().json()
    dataset = create_dataset()

    delivery = webhook_receiver.next(timeout=30)  # enqueued by the API, sent by the rq worker

    assert delivery.headers["webhook-signature"].startswith("v1,")
    Webhook(hook["secret"]).verify(delivery.body, delivery.headers)  # raises if the signature is wrong
    assert (delivery.json()["type"], delivery.json()["data"]["id"]) == ("dataset.created", dataset["id"])
