"""A publish that an exchange routed and a queue refused is republished through the exchange
(RabbitMQ nacks the publish; the client sends the whole message again), so the queues that
took a copy get a duplicate, counted in their ``republished_copies``.

One message a second into a fanout exchange bound to `fast` (a quick pool) and `slow` (one
worker, ``max_length: 1``, ``reject-publish``); the ideal broker, so every time follows by
hand. Message 0 goes straight to the slow worker, message 1 waits in `slow`, and message 2
finds `slow` full at t = 2 s.
"""

from __future__ import annotations

from conftest import by_id, run_checked, scenario_from


def fanout(slow_service: str, publish: str = "x", attempts: int = 3) -> str:
    return f"""
        name: fanout-retry
        run: {{messages: 3}}
        producers:
          p: {{arrivals: {{process: constant, interval: 1}}, publish: {publish},
               on_reject: retry, retry: {{attempts: {attempts}, backoff: 1}}}}
        queues:
          fast: {{}}
          slow: {{max_length: 1, overflow: reject-publish}}
        exchanges:
          x: {{type: fanout, bindings: [{{queue: fast}}, {{queue: slow}}]}}
        workers:
          quick: {{consumes: fast, count: 2, service_time: 1ms}}
          sluggish: {{consumes: slow, count: 1, service_time: {slow_service}}}
    """


def test_every_retry_gives_the_accepting_queue_another_copy():
    # `slow` is busy until t = 10 s: message 2 is refused at t = 2 and at its three retries
    # (t = 3, 4, 5); each retry goes through the exchange, so `fast` takes it four times.
    result = run_checked(scenario_from(fanout("10s")))
    m = by_id(result)
    fast = m[m["queue"] == "fast"]
    assert fast["id"].tolist() == [0, 1, 2, 2, 2, 2]
    assert fast["published_at"].tolist() == [0, 1, 2, 2, 2, 2]
    assert fast["accepted_at"].tolist() == [0, 1, 2, 3, 4, 5]
    assert (fast["state"] == "completed").all()  # each duplicate is worked too
    s = result.summary
    assert s["queues"]["fast"]["republished_copies"] == 3
    assert s["queues"]["slow"]["republished_copies"] == 0
    assert s["queues"]["slow"]["refused_attempts"] == 4
    assert s["queues"]["slow"]["totals"]["rejected"] == 1
    assert s["totals"]["rejected"] == 1 and s["producers"]["p"]["errors"] == 1
    # The exchange routed the three publishes and the three republishes.
    assert s["exchanges"]["x"]["routed"] == 6


def test_a_retry_that_succeeds_leaves_one_duplicate_per_earlier_attempt():
    # `slow` frees a place at 2.5 s (message 1 starts): the retry at t = 3 is taken by both
    # queues, so `fast` holds message 2 twice and `slow` once.
    result = run_checked(scenario_from(fanout("2.5s")))
    m = by_id(result)
    copies = m.groupby(["queue", "id"], observed=True).size()
    assert copies["fast"].tolist() == [1, 1, 2] and copies["slow"].tolist() == [1, 1, 1]
    s = result.summary
    assert s["queues"]["fast"]["republished_copies"] == 1
    assert s["totals"]["rejected"] == 0 and s["producers"]["p"]["errors"] == 0
    assert s["totals"]["completed"] == s["totals"]["enqueued"] == 7


def test_a_publish_to_a_queue_is_retried_to_that_queue_only():
    # No exchange: the retry goes to the one queue, with no duplicate anywhere.
    result = run_checked(scenario_from(fanout("10s", publish="slow")))
    s = result.summary
    assert s["queues"]["slow"]["refused_attempts"] == 4
    assert s["queues"]["slow"]["republished_copies"] == 0
    assert s["totals"]["enqueued"] == 2
