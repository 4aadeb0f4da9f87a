"""A repeated processing is the same job: a copy's length is drawn once per pool, at its first
processing, and reused by every repeat (a visibility timeout, a requeue, a Kafka
reprocessing); ``service_on_repeat: fresh`` draws again at every processing.

Each test is a small deterministic scenario whose times follow from the pool's own draws
(the ``workers.NAME.service`` stream, taken here as the model takes it).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import burst, by_id, run_checked, scenario_from, write_trace

from sim.model.build import sampler

# Half the jobs take 1 s, half 40 s: a 40 s job outlives a 30 s visibility timeout.
SHORT_OR_LONG = ("{dist: mixture, components: [{weight: 0.5, dist: constant, value: 1}, "
                 "{weight: 0.5, dist: constant, value: 40}]}")
SHORT_OR_LONG_SPEC = {"dist": "mixture", "components": [
    {"weight": 0.5, "dist": "constant", "value": 1.0},
    {"weight": 0.5, "dist": "constant", "value": 40.0}]}


def draws(seed: int, pool: str, n: int, spec: dict | None = None) -> np.ndarray:
    """The first ``n`` lengths the pool's service stream gives."""
    draw = sampler(spec or SHORT_OR_LONG_SPEC, seed, f"workers.{pool}.service")
    assert draw is not None
    return np.array([draw() for _ in range(n)])


def visibility(repeat: str = "", broker: str = "{type: ideal, redelivery: visibility_timeout, "
               "visibility_timeout: 30s}") -> str:
    """One message a minute, 4 workers, a 30 s visibility timeout (the issue's example)."""
    extra = f", service_on_repeat: {repeat}" if repeat else ""
    return f"""
        name: repeat
        run: {{duration: 2h, seed: 1}}
        producers: {{p: {{arrivals: {{process: constant, interval: 1m}}, publish: q}}}}
        brokers: {{b: {broker}}}
        queues: {{q: {{broker: b}}}}
        workers:
          w: {{consumes: q, count: 4, service_time: {SHORT_OR_LONG}{extra}}}
    """


def test_a_visibility_timeout_repeat_takes_as_long_as_the_first_run():
    # On the ideal broker every copy is processed as it is published (a worker is free), so
    # message k is the k-th first processing and gets the k-th draw. A 40 s job is received
    # again at 30 s and runs again for 40 s on another worker; the first run deletes it at
    # 40 s. So every latency is the message's own length, exactly.
    result = run_checked(scenario_from(visibility()))
    m = by_id(result)
    lengths = draws(1, "w", len(m))
    assert len(m) == 120 and set(lengths) == {1.0, 40.0}
    np.testing.assert_array_equal(m["completed_at"] - m["published_at"], lengths)
    # The repeat runs to its end (it is orphaned, then let go): each long job ran twice.
    np.testing.assert_array_equal(m["processings"], np.where(lengths > 30, 2, 1))


def test_on_sqs_no_repeated_job_finishes_sooner_than_its_first_run():
    # The reproduction, on the sqs preset (its latencies are small): a repeat drawing
    # a fresh length finished a 40 s job 31 s after it was published.
    m = run_checked(scenario_from(visibility(broker="{type: sqs, visibility_timeout: 30s}"))
                    ).messages
    repeated = m[m["processings"] > 1]
    latency = repeated["completed_at"] - repeated["published_at"]
    assert len(repeated) > 30 and latency.min() >= 40


def test_service_on_repeat_fresh_draws_a_new_length_for_each_processing():
    # The opt-in: each processing draws from the stream in turn, so some 40 s jobs repeated
    # after 30 s finish 31 s after they were published.
    m = by_id(run_checked(scenario_from(visibility("fresh"))))
    latency = (m["completed_at"] - m["published_at"]).to_numpy()
    assert np.count_nonzero(latency == 31) > 10
    assert set(np.unique(latency)) == {1.0, 31.0, 40.0}


def test_a_requeued_failure_is_retried_with_the_same_length():
    # One worker, a burst of 40 jobs, every other processing failing at random and requeued
    # at once to the head: the worker runs copy k until it succeeds, each attempt as long
    # as the first, so copy k completes after (attempts of k) x (its length), in order.
    text = f"""
        name: retry
        run: {{messages: 40, seed: 4}}
        producers: {{p: {{arrivals: {{process: constant, interval: 1e-9}}, publish: q}}}}
        queues: {{q: {{requeue: head}}}}
        workers:
          w: {{consumes: q, count: 1, error_rate: 0.5, service_time: {SHORT_OR_LONG}}}
    """
    m = by_id(run_checked(scenario_from(text)))
    lengths = draws(4, "w", 40)
    assert (m["deliveries"] > 1).sum() > 10  # many copies were retried
    work = np.cumsum(m["deliveries"].to_numpy() * lengths)
    np.testing.assert_allclose(m["completed_at"], work + m["published_at"].iloc[0], atol=1e-6)


def test_a_kafka_record_reprocessed_after_a_stop_is_the_same_job(tmp_path):
    # One consumer commits after each record; a clean stop at 30.5 s cancels the record in
    # progress, and the consumer back at 50.5 s fetches it again from the committed offset:
    # under `same` it takes its own length again, and the records after it take theirs.
    trace = write_trace(tmp_path / "burst.csv", burst(10))
    text = f"""
        name: kafka-repeat
        run: {{duration: 1000, seed: 2}}
        producers: {{p: {{arrivals: {{process: trace, file: {trace}}}, publish: t}}}}
        brokers: {{k: {{type: kafka, publish_latency: 0, api_latency: 0, rebalance_time: 0,
                       commit: after_processing}}}}
        queues: {{t: {{broker: k}}}}
        workers:
          w: {{consumes: t, count: 1, service_time: {SHORT_OR_LONG}}}
        faults: [{{stop: w, workers: 1, at: 30.5, restart_after: 20}}]
    """
    m = by_id(run_checked(scenario_from(text)))
    lengths = draws(2, "w", 10)
    ends = np.cumsum(lengths)
    k = int(np.searchsorted(ends, 30.5))  # the record in progress at the stop
    assert 0 < k < 9 and m.loc[k, "deliveries"] == 2
    expected = ends.copy()
    expected[k:] = 50.5 + np.cumsum(lengths[k:])
    np.testing.assert_allclose(m["completed_at"], expected)


def test_pools_sharing_a_queue_each_draw_their_own_length():
    # Pool a (40 s jobs) takes the only message; its visibility runs out at 30 s and pool b
    # (1 s jobs) receives it: b's repeat is b's own job, done at 31 s, before a's at 40 s.
    text = """
        name: shared
        run: {messages: 1, seed: 1}
        producers: {p: {arrivals: {process: constant, interval: 1}, publish: q}}
        brokers: {mq: {type: ideal, redelivery: visibility_timeout, visibility_timeout: 30s}}
        queues: {q: {broker: mq}}
        workers:
          a: {consumes: q, count: 1, service_time: 40}
          b: {consumes: q, count: 1, service_time: 1}
    """
    m = by_id(run_checked(scenario_from(text)))
    assert m.loc[0, "processings"] == 2
    assert m.loc[0, "completed_at"] - m.loc[0, "published_at"] == 31
    assert str(m.loc[0, "worker"]) == "b/0"


def test_service_on_repeat_is_checked_and_refused_on_a_call_pool():
    from sim.scenario import ScenarioError

    base = visibility()
    with pytest.raises(ScenarioError, match=r"workers\.w\.service_on_repeat: must be one of "
                                            r"same, fresh"):
        scenario_from(base, **{"workers.w.service_on_repeat": "again"})
    calls = """
        name: calls
        run: {duration: 10}
        producers: {p: {arrivals: {process: constant, interval: 1}, call: w}}
        workers: {w: {count: 1, service_time: 1, service_on_repeat: fresh}}
    """
    with pytest.raises(ScenarioError, match=r"workers\.w\.service_on_repeat: service_on_repeat "
                                            r"is for a pool that consumes a queue"):
        scenario_from(calls)
