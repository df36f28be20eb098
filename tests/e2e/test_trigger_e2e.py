"""`hooks trigger --webhook ID`: signs with the secret of a webhook fetched from the real server."""

from standardwebhooks import Webhook


def test_trigger_signs_with_the_servers_webhook_secret(hooks, _owner, webhook_receiver):
    hook = _owner.post("/api/v1/webhooks", json={"url": webhook_receiver.url, "events": ["record.completed"]}).raise_for_status().json()

    result = hooks("trigger", "record.completed", "--to", webhook_receiver.url, "--webhook", hook["id"][:8], "--json")

    assert result.returncode == 0, result.stderr
    delivery = webhook_receiver.next(timeout=5)
    assert Webhook(hook["secret"]).verify(delivery.body, delivery.headers)["type"] == "record.completed"
    assert '"status": 204' in result.stdout and hook["secret"] not in result.stdout + result.stderr
