"""`hooks doctor --queue REDIS_URL`: the queue's Redis checked beside the Argilla setup (a real redis-server)."""

from __future__ import annotations

import json

import redis

from tests.unit.hooks_cli import hooks


def queue_checks(*args):
    result = hooks("doctor", "--json", *args)
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1), result.output
    return {c["name"]: c for c in report["checks"] if c["name"].startswith("queue")}, result


def test_a_queue_redis_fit_for_the_queue_passes(fake_argilla, redis_url):
    with redis.Redis.from_url(redis_url) as client:
        client.config_set("appendonly", "yes")
    try:
        found, _ = queue_checks("--queue", redis_url)
    finally:
        with redis.Redis.from_url(redis_url) as client:
            client.config_set("appendonly", "no")
    assert list(found) == ["queue", "queue-version", "queue-eviction", "queue-persistence"]
    assert {c["status"] for c in found.values()} == {"pass"}, found
    assert found["queue"]["message"] == f"reached at {redis_url}"


def test_eviction_and_no_persistence_are_warned_with_their_fix(fake_argilla, redis_url):
    with redis.Redis.from_url(redis_url) as client:
        client.config_set("maxmemory-policy", "allkeys-lru")
        client.config_set("save", "")
    found, result = queue_checks("--queue", redis_url)
    assert found["queue-eviction"]["status"] == "warn" and found["queue-eviction"]["fix"] == "set maxmemory-policy noeviction"
    assert "allkeys-lru" in found["queue-eviction"]["message"]
    assert found["queue-persistence"]["status"] == "warn" and found["queue-persistence"]["fix"] == "set appendonly yes"
    assert result.exit_code == 0  # warnings only


def test_an_unreachable_queue_fails_the_doctor(fake_argilla):
    found, result = queue_checks("--queue", "redis://:hunter2@127.0.0.1:1/0")
    assert found["queue"]["status"] == "fail" and result.exit_code == 1
    assert "hunter2" not in result.output and "start that Redis" in found["queue"]["fix"]


def test_without_queue_no_redis_check_is_made(fake_argilla):
    found, _ = queue_checks()
    assert found == {}


def test_a_malformed_queue_url_is_a_usage_error_naming_the_option(fake_argilla):
    # It came as a failed check worded for another command's argument: "REDIS_URL: ...".
    result = hooks("doctor", "--queue", "notaurl")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: --queue: ") and result.stderr.count("\n") == 1, result.stderr
