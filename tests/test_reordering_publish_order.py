"""Reordering is measured against publish order, never against broker acceptance order.

The records' rows come in acceptance order, which differs from publish order under a random
publish latency, a broker capacity or a publish retry. The sequence of a (queue, key) is the
order of ``published_at``, ties broken by the message ``id`` (given in send order across
producers); the observed order is the order of first completion. Every figure here is checked
against a plain O(n^2) reading of that definition (RFC 4737).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import reordering_reference as reference
from conftest import run_checked, scenario_from
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.metrics.reordering import reordering
from sim.records import _sequence


def vectorised(queue, key, published_at, ids, completed_at, n_queues, measured=None):
    return reordering(
        np.asarray(queue, dtype=np.int64),
        np.asarray(key, dtype=np.int64),
        None,
        np.asarray(completed_at, dtype=float),
        n_queues,
        measured=None if measured is None else np.asarray(measured, dtype=bool),
        published_at=np.asarray(published_at, dtype=float),
        message_id=np.asarray(ids, dtype=np.int64),
    )


def messages_reference(result: sim.Result, warmup: float = 0.0):
    """The reference figures of a run, recomputed from its messages table."""
    m = result.messages
    queue = [str(q) for q in m["queue"]]
    key = [None if pd.isna(k) else str(k) for k in m["key"]]
    published_at = m["published_at"].to_numpy(float)
    measured = published_at >= warmup
    return reference(
        queue,
        key,
        published_at.tolist(),
        m["id"].tolist(),
        m["completed_at"].to_numpy(float).tolist(),
        measured=measured.tolist(),
        queues=list(result.summary["queues"]),
    )


def assert_summary_matches(result: sim.Result, warmup: float = 0.0):
    total, per_queue = messages_reference(result, warmup)
    assert result.summary["reordering"] == pytest.approx(total)
    for name, figures in per_queue.items():
        assert result.summary["queues"][name]["reordering"] == pytest.approx(figures), name
    return total


# --------------------------------------------------------------------------- small tables


def test_acceptance_order_is_not_publish_order():
    # Rows in acceptance order: message 1 (published at 0.1) was accepted before message 0
    # (published at 0.0), and one worker completed them in acceptance order.
    queue, key = [0, 0, 0], [0, 0, 0]
    ids = [1, 0, 2]
    published_at = [0.1, 0.0, 0.2]
    completed_at = [1.0, 2.0, 3.0]
    total, per_queue = vectorised(queue, key, published_at, ids, completed_at, 1)
    # Publish order 0, 1, 2; completion order 1, 0, 2: message 0 was overtaken by 1.
    expected = {
        "reordered": 1,
        "reordered_ratio": pytest.approx(1 / 3),
        "inversions": 1,
        "max_displacement": 1,
    }
    assert total == expected
    assert per_queue == [expected]
    assert total == pytest.approx(reference(queue, key, published_at, ids, completed_at)[0])


def test_equal_publish_times_are_ordered_by_id_not_row():
    # Two producers sent at the same instant: id 4 before id 5, whatever the rows say.
    queue, key, published_at = [0, 0], [0, 0], [1.0, 1.0]
    completed_at = [2.0, 3.0]  # the first row completes first
    in_order, _ = vectorised(queue, key, published_at, [4, 5], completed_at, 1)
    assert (in_order["reordered"], in_order["inversions"]) == (0, 0)
    swapped, _ = vectorised(queue, key, published_at, [5, 4], completed_at, 1)
    assert (swapped["reordered"], swapped["inversions"], swapped["max_displacement"]) == (1, 1, 1)


def test_keys_queues_measured_and_incomplete_copies():
    nan = math.nan
    # queue, key, published_at, id, completed_at, measured
    rows = [
        (0, 0, 0.3, 3, 1.0, True),  # key 0: published 3rd, completed 1st
        (0, 0, 0.1, 1, 2.0, True),
        (0, 1, 0.2, 2, 0.5, True),  # key 1: alone -> never reordered
        (0, 0, 0.2, 9, nan, True),  # not completed: not counted
        (0, 0, 0.0, 0, 3.0, False),  # not measured (warm-up)
        (1, -1, 0.5, 5, 9.5, True),  # queue 1, no key: not ranked (out of order, unseen)
        (1, -1, 0.6, 6, 9.0, True),
    ]
    queue, key, published_at, ids, completed_at, measured = map(list, zip(*rows, strict=True))
    total, per_queue = vectorised(queue, key, published_at, ids, completed_at, 2, measured)
    expected_total, expected_queues = reference(
        queue, key, published_at, ids, completed_at, measured, queues=[0, 1]
    )
    assert total == pytest.approx(expected_total)
    assert per_queue == [pytest.approx(expected_queues[0]), pytest.approx(expected_queues[1])]
    assert total == pytest.approx(
        {"reordered": 1, "reordered_ratio": 1 / 3, "inversions": 1, "max_displacement": 1}
    )
    assert per_queue[1]["reordered"] is None


# --------------------------------------------------------------------------- random tables


@st.composite
def tables(draw):
    n = draw(st.integers(0, 40))
    n_queues = draw(st.integers(1, 3))
    queue = draw(st.lists(st.integers(0, n_queues - 1), min_size=n, max_size=n))
    key = draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))
    # Coarse times, so that equal publish times and equal completion times both happen.
    published_at = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    # Message ids: distinct (send order), in any row order.
    ids = draw(st.permutations(range(n))) if n else []
    completed = draw(st.lists(st.one_of(st.none(), st.integers(0, 12)), min_size=n, max_size=n))
    completed_at = [math.nan if c is None else float(c) for c in completed]
    measured = draw(st.one_of(st.none(), st.lists(st.booleans(), min_size=n, max_size=n)))
    return queue, key, [float(p) for p in published_at], list(ids), completed_at, n_queues, measured


@settings(max_examples=300, deadline=None)
@given(tables())
def test_random_tables_match_the_definition(table):
    queue, key, published_at, ids, completed_at, n_queues, measured = table
    total, per_queue = vectorised(queue, key, published_at, ids, completed_at, n_queues, measured)
    expected_total, expected_queues = reference(
        queue, key, published_at, ids, completed_at, measured, queues=list(range(n_queues))
    )
    assert total == pytest.approx(expected_total)
    assert per_queue == [pytest.approx(expected_queues[q]) for q in range(n_queues)]


def test_row_order_does_not_matter():
    # The same copies in any row order give the same figures (ids are distinct).
    rng = np.random.default_rng(2)
    n = 3000
    queue = rng.integers(0, 2, n)
    key = rng.integers(-1, 30, n)
    published_at = np.round(rng.random(n) * 100, 1)  # ties
    ids = rng.permutation(n)
    completed_at = published_at + rng.exponential(1.0, n)
    completed_at[rng.random(n) < 0.1] = np.nan
    base = vectorised(queue, key, published_at, ids, completed_at, 2)
    assert base[0]["reordered"] > 0
    for _ in range(3):
        p = rng.permutation(n)
        assert vectorised(queue[p], key[p], published_at[p], ids[p], completed_at[p], 2) == base


@settings(max_examples=100, deadline=None)
@given(tables())
def test_the_records_seq_column_gives_the_same_figures(table):
    # The summary passes the messages table's seq (numbered by sim.records in publish order)
    # instead of published_at and id: both ways must agree.
    queue, key, published_at, ids, completed_at, n_queues, measured = table
    arrays = [np.asarray(v, dtype=np.int64) for v in (queue, key, ids)]
    seq = _sequence(arrays[0], arrays[1], np.asarray(published_at, dtype=float), arrays[2])
    mask = None if measured is None else np.asarray(measured, dtype=bool)
    by_seq = reordering(
        arrays[0], arrays[1], seq, np.asarray(completed_at), n_queues, measured=mask
    )
    assert by_seq == vectorised(queue, key, published_at, ids, completed_at, n_queues, measured)


# --------------------------------------------------------------------------- simulator runs

ONE_WORKER = """
    name: random-publish-latency
    run: {messages: 300, seed: 7}
    producers:
      p: {arrivals: {process: poisson, rate: 50}, publish: q, message: {key: k}}
    brokers:
      b: {type: ideal, publish_latency: {dist: exponential, mean: 50ms}}
    queues:
      q: {broker: b}
    workers:
      w: {consumes: q, service_time: 1ms}
"""


def test_random_publish_latency_one_worker_reorders_against_publish_order():
    result = run_checked(scenario_from(ONE_WORKER))
    m = result.messages
    # The broker accepted the messages out of publish order, and the single worker completed
    # them in acceptance order: the completions are out of publish order.
    assert not m["id"].is_monotonic_increasing
    completed = m.dropna(subset=["completed_at"]).sort_values("completed_at")
    assert not completed["published_at"].is_monotonic_increasing
    total = assert_summary_matches(result)
    assert total["reordered"] > 0
    assert total["inversions"] >= total["reordered"]
    assert result.summary["totals"]["completed"] == 300


latencies = st.sampled_from(
    [
        {"dist": "exponential", "mean": 0.05},
        {"dist": "uniform", "low": 0.0, "high": 0.2},
        {"dist": "lognormal", "mean": 0.03, "cv": 2.0},
    ]
)


@st.composite
def publish_latency_scenarios(draw):
    """Random publish latency (and sometimes a broker capacity, a bounded queue with publish
    retries, keys, several producers, two queues, a warm-up): acceptance order != publish
    order."""
    broker: dict = {"type": "ideal", "publish_latency": draw(latencies)}
    if draw(st.booleans()):
        broker["capacity"] = draw(st.sampled_from([20.0, 60.0]))
    n_queues = draw(st.integers(1, 2))
    queues = {}
    for i in range(n_queues):
        spec: dict = {"broker": "b"}
        if draw(st.booleans()):
            spec["max_length"] = draw(st.integers(1, 5))
            spec["overflow"] = "reject-publish"
        queues[f"q{i}"] = spec
    producers = {
        f"p{i}": {
            "count": draw(st.integers(1, 2)),
            "arrivals": {"process": "poisson", "rate": draw(st.floats(5, 60))},
            "publish": f"q{draw(st.integers(0, n_queues - 1))}",
            "message": draw(st.sampled_from([{}, {"key": {"choice": ["a", "b", "c"]}}])),
            "on_reject": "retry",
            "retry": {"attempts": 20, "backoff": draw(st.sampled_from([0.01, 0.1]))},
        }
        for i in range(draw(st.integers(1, 3)))
    }
    workers = {
        f"w{i}": {
            "consumes": f"q{i}",
            "count": draw(st.integers(1, 3)),
            "service_time": {"dist": "exponential", "mean": draw(st.sampled_from([0.005, 0.03]))},
        }
        for i in range(n_queues)
    }
    warmup = draw(st.sampled_from([0.0, 0.0, 1.0]))
    run = {
        "messages": draw(st.integers(20, 250)),
        "seed": draw(st.integers(0, 2**31)),
        "warmup": warmup,
    }
    return {
        "name": "generated-publish-latency",
        "run": run,
        "producers": producers,
        "brokers": {"b": broker},
        "queues": queues,
        "workers": workers,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(publish_latency_scenarios())
def test_summary_reordering_matches_the_definition_under_random_publish_latency(data):
    result = run_checked(sim.scenario.from_dict(data))
    assert_summary_matches(result, data["run"]["warmup"])
