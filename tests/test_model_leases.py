"""Lease timers, built alone: a queue's deadlines live in one array with one wake-up.

A settled lease must not leave anything behind in SimPy's heap until it would have run out:
with the Redis preset's one-hour visibility that cost ~440 bytes per message.
"""

from __future__ import annotations

from conftest import run_checked, scenario_from

import sim
from sim.model.build import Model

LONG_LEASES = """
    name: long-leases
    run: {{duration: 100, seed: 3, sample_interval: 10}}
    producers:
      p: {{arrivals: {{process: poisson, rate: 50}}, publish: q}}
    brokers:
      b: {{type: {broker}, visibility_timeout: 3600}}
    queues:
      q: {{broker: b}}
    workers:
      w: {{consumes: q, count: 8, service_time: {{dist: exponential, mean: 0.05}}}}
"""


def heap_size(model: Model) -> int:
    # SimPy has no public count of scheduled events; the test reads its heap directly.
    return len(model.env._queue)


def test_settled_leases_leave_no_events_in_the_heap():
    # Push delivery (no long polls, whose own timers are bounded by the poll rate instead).
    scenario = scenario_from(LONG_LEASES.format(broker="ideal").replace(
        "visibility_timeout: 3600", "redelivery: visibility_timeout, visibility_timeout: 3600"))
    model = Model(scenario.spec, seed=3)
    model.start()
    model.env.run(until=90)
    delivered = sum(q.enqueued for q in model.queues.values())
    assert delivered > 3000
    # Producers, workers' work, the lease wake-up and a few timers; not one per message.
    assert heap_size(model) < 100
    queue = model.queues["q"]
    assert len(queue.timed) == queue.in_flight <= 8 * 4


def test_leases_still_run_out_in_order():
    # Three copies to one worker with prefetch 3 and 1 s of work each, under a 1.5 s
    # visibility: the third copy's lease runs out at 1.5 s before it is processed, the second
    # is deleted at 2 s just after its own ran out. Each expiry is seen once, in order.
    text = """
        name: order
        run: {duration: 1000, sample_interval: 1}
        producers:
          p: {arrivals: {process: constant, interval: 0.001}, publish: q}
        brokers:
          b: {type: sqs, visibility_timeout: 1.5, api_latency: 0, publish_latency: 0,
              deliver_latency: 0}
        queues:
          q: {broker: b, max_deliveries: 2}
        workers:
          w: {consumes: q, prefetch: 3, service_time: 1}
    """
    scenario = scenario_from(text, **{"run.messages": 3})
    result = run_checked(scenario)
    totals = result.summary["totals"]
    assert totals["completed"] == 3
    assert totals["deliveries"] > 3  # expiries brought copies back for a second delivery
    assert totals["pending"] == 0


def test_a_run_with_hour_long_leases_matches_one_without_them():
    # The same traffic under the ideal broker and under one-hour leases that never run out:
    # the leases change nothing about who completes when.
    ideal = run_checked(sim.loads(LONG_LEASES.format(broker="ideal").replace(
        ", visibility_timeout: 3600", "")))
    leased = run_checked(sim.loads(LONG_LEASES.format(broker="ideal").replace(
        "visibility_timeout: 3600", "redelivery: visibility_timeout, visibility_timeout: 3600")))
    assert ideal.summary["totals"] == leased.summary["totals"]
    assert ideal.summary["latency"] == leased.summary["latency"]
