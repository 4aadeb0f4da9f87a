"""A run is a pure function of (scenario, seed), and components draw from their own streams."""

from __future__ import annotations

import numpy as np
from conftest import run_checked, scenario_from

BASE = """
    name: repro
    run: {duration: 200, seed: 11}
    producers:
      web: {arrivals: {process: poisson, rate: 4}, publish: orders,
            message: {key: {zipf: {n: 50, s: 1.1}}}}
    queues: {orders: {max_length: 20}}
    workers:
      svc: {consumes: orders, count: 2, service_time: {dist: gamma, mean: 0.4, cv: 1.5}}
"""

EXTRA = """
      batch: {arrivals: {process: poisson, rate: 2}, publish: reports}
    queues: {orders: {max_length: 20}, reports: {}}
    workers:
      reporter: {consumes: reports, service_time: 0.3}
"""


def without_wall(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "wall_seconds"}


def test_same_scenario_and_seed_give_the_same_summary():
    a = run_checked(scenario_from(BASE))
    b = run_checked(scenario_from(BASE))
    assert without_wall(a.summary) == without_wall(b.summary)
    assert a.messages.equals(b.messages)


def test_another_seed_gives_other_numbers():
    a = run_checked(scenario_from(BASE))
    b = run_checked(scenario_from(BASE), seed=12)
    assert a.summary["latency"] != b.summary["latency"]


def test_adding_a_producer_and_pool_leaves_other_arrivals_unchanged():
    extended = BASE.replace("    queues: {orders: {max_length: 20}}\n    workers:\n", EXTRA)
    a = run_checked(scenario_from(BASE))
    b = run_checked(scenario_from(extended))
    assert "reporter" in b.summary["workers"]
    web_a = a.messages[a.messages["producer"] == "web"]
    web_b = b.messages[b.messages["producer"] == "web"]
    np.testing.assert_array_equal(web_a["published_at"], web_b["published_at"])
    np.testing.assert_array_equal(web_a["key"].astype(str), web_b["key"].astype(str))
    # The orders pool's service stream is its own too, so its latencies are unchanged.
    np.testing.assert_array_equal(web_a["completed_at"], web_b["completed_at"])
