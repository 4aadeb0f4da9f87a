"""The engine against queueing theory on the ideal broker.

Each check uses a fixed seed and a tolerance of four standard errors, where the standard error
is the run's own, estimated by batch means (latencies in a queue are correlated, so the naive
sd/sqrt(n) would be too tight). Long enough runs make the checks stable and meaningful.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import batch_se, run_checked, scenario_from

from sim import analytic

Z = 4.0  # standard errors allowed


def queue_scenario(*, rate: float, service: str, count: int = 1, messages: int,
                   queue: str = "{}", seed: int = 1) -> str:
    return f"""
        name: theory
        run: {{messages: {messages}, seed: {seed}, warmup: 200}}
        producers: {{p: {{arrivals: {{process: poisson, rate: {rate}}}, publish: q}}}}
        queues: {{q: {queue}}}
        workers: {{w: {{consumes: q, count: {count}, prefetch: 1, service_time: {service}}}}}
    """


def measured(result):
    m = result.messages
    m = m[m["published_at"] >= result.summary["warmup"]].sort_values("published_at")
    latency = (m["completed_at"] - m["published_at"]).to_numpy()
    wait = (m["first_delivered_at"] - m["published_at"]).to_numpy()
    return latency, wait


def blocking(result, batches: int = 20) -> tuple[float, float]:
    """The fraction of publishes refused, and its standard error by batches of the run."""
    sent = result.summary["producers"]["p"]["sent"]
    fraction = result.summary["totals"]["rejected"] / sent
    ts = result.timeseries
    parts = np.array_split(np.arange(len(ts)), batches)
    rejected, accepted = ts["rejected"].to_numpy(), ts["published"].to_numpy()
    estimates = [rejected[i].sum() / (rejected[i].sum() + accepted[i].sum()) for i in parts]
    return fraction, float(np.std(estimates, ddof=1) / np.sqrt(batches))


def test_mm1_latency_mean_and_percentiles():
    lam, mu = 0.5, 1.0
    result = run_checked(scenario_from(queue_scenario(
        rate=lam, service="{dist: exponential, mean: 1}", messages=200_000)))
    latency, _ = measured(result)
    theory = analytic.mm1(lam, mu)
    assert abs(latency.mean() - theory.W) < Z * batch_se(latency)
    assert result.summary["latency"]["mean"] == pytest.approx(latency.mean())
    for p in (0.5, 0.9, 0.99):
        def quantile(x, p=p):
            return np.quantile(x, p)
        expected = theory.latency_quantile(p)
        assert abs(np.quantile(latency, p) - expected) < Z * batch_se(latency, stat=quantile)


def test_mmc_erlang_c_wait():
    lam, mu, c = 7.2, 1.0, 8
    result = run_checked(scenario_from(queue_scenario(
        rate=lam, service="{dist: exponential, mean: 1}", count=c, messages=300_000)))
    _, wait = measured(result)
    theory = analytic.mmc(lam, mu, c)
    assert abs(wait.mean() - theory.Wq) < Z * batch_se(wait)
    waited = (wait > 1e-12).astype(float)
    p_wait = analytic.erlang_c(c, lam / mu)
    assert abs(waited.mean() - p_wait) < Z * batch_se(waited)


def test_md1_pollaczek_khinchine():
    lam, d = 0.7, 1.0
    result = run_checked(scenario_from(queue_scenario(
        rate=lam, service=str(d), messages=150_000)))
    _, wait = measured(result)
    theory = analytic.md1(lam, d)
    assert abs(wait.mean() - theory.Wq) < Z * batch_se(wait)


def test_mm1k_blocking_through_max_length():
    lam, mu, max_length = 0.9, 1.0, 4
    result = run_checked(scenario_from(queue_scenario(
        rate=lam, service="{dist: exponential, mean: 1}", messages=200_000,
        queue=f"{{max_length: {max_length}}}")))
    # prefetch 1: one in service plus max_length ready, so K = max_length + 1.
    theory = analytic.mm1k(lam, mu, max_length + 1)
    blocked, se = blocking(result)
    assert abs(blocked - theory.p_block) < Z * se


def test_erlang_b_insensitive_to_service_distribution():
    c, lam, mean = 5, 3.0, 1.0
    result = run_checked(scenario_from(queue_scenario(
        rate=lam, service=f"{{dist: lognormal, mean: {mean}, cv: 2.0}}", count=c,
        messages=200_000, queue="{max_length: 0}")))
    expected = analytic.erlang_b(c, lam * mean)
    blocked, se = blocking(result)
    assert abs(blocked - expected) < Z * se


def test_littles_law_on_sampled_depth():
    lam = 0.8
    text = f"""
        name: little
        run: {{duration: 100000, seed: 5, sample_interval: 5}}
        producers: {{p: {{arrivals: {{process: poisson, rate: {lam}}}, publish: q}}}}
        queues: {{q: {{}}}}
        workers: {{w: {{consumes: q, service_time: {{dist: exponential, mean: 1}}}}}}
    """
    result = run_checked(scenario_from(text))
    _, wait = measured(result)
    mean_depth = result.summary["queues"]["q"]["mean_depth"]
    depth = result.timeseries["depth"].to_numpy()
    # L_q = lambda * W_q, each side with its own noise.
    tolerance = Z * np.hypot(batch_se(depth), lam * batch_se(wait))
    assert abs(mean_depth - lam * wait.mean()) < tolerance
    assert abs(mean_depth - analytic.mm1(lam, 1.0).Lq) < Z * batch_se(depth)


def test_non_preemptive_priority_matches_cobham():
    lam, p_high = 0.8, 0.3
    text = f"""
        name: priority
        run: {{messages: 300000, seed: 9, warmup: 200}}
        producers:
          p:
            arrivals: {{process: poisson, rate: {lam}}}
            message: {{priority: {{choice: {{1: {p_high}, 0: {1 - p_high}}}}}}}
            publish: q
        queues: {{q: {{priority: true}}}}
        workers: {{w: {{consumes: q, service_time: {{dist: exponential, mean: 1}}}}}}
    """
    result = run_checked(scenario_from(text))
    m = result.messages
    m = m[m["published_at"] >= 200].sort_values("published_at")
    wait = (m["first_delivered_at"] - m["published_at"]).to_numpy()
    high = m["priority"].to_numpy() == 1
    theory = analytic.priority_mg1_nonpreemptive(
        [lam * p_high, lam * (1 - p_high)], [1.0, 1.0], [2.0, 2.0])
    for mask, expected in ((high, theory[0]), (~high, theory[1])):
        assert abs(wait[mask].mean() - expected) < Z * batch_se(wait[mask])
    assert theory[0] < 0.25 * theory[1]  # the check can tell the classes apart


def test_tandem_pipeline_matches_jackson_stage_by_stage_and_end_to_end():
    """Two M/M/1 stations in series (`then`): by Burke's theorem each is an M/M/1 queue fed
    at the same rate, and a message's two sojourns are independent (Reich), so the end-to-end
    time is the sum of two exponentials with rates mu_i - lambda."""
    lam, mu1, mu2 = 0.5, 1.0, 1.25
    text = f"""
        name: tandem
        run: {{messages: 80000, seed: 2, warmup: 200}}
        producers: {{p: {{arrivals: {{process: poisson, rate: {lam}}}, publish: one}}}}
        queues: {{one: {{}}, two: {{}}}}
        workers:
          first: {{consumes: one, service_time: {{dist: exponential, mean: {1 / mu1}}},
                   then: {{publish: two}}}}
          second: {{consumes: two, service_time: {{dist: exponential, mean: {1 / mu2}}}}}
    """
    result = run_checked(scenario_from(text))
    m = result.messages.sort_values("published_at")
    flows = m.groupby("flow").agg(start=("published_at", "min"), end=("completed_at", "max"))
    flows = flows[flows["start"] >= result.summary["warmup"]].sort_values("start")
    end_to_end = (flows["end"] - flows["start"]).to_numpy()
    a1, a2 = mu1 - lam, mu2 - lam
    for queue, rate in (("one", a1), ("two", a2)):
        rows = m[(m["queue"] == queue) & (m["published_at"] >= result.summary["warmup"])]
        sojourn = (rows["completed_at"] - rows["published_at"]).to_numpy()
        assert abs(sojourn.mean() - 1 / rate) < Z * batch_se(sojourn)
    assert abs(end_to_end.mean() - (1 / a1 + 1 / a2)) < Z * batch_se(end_to_end)

    def survival(t: float) -> float:  # hypoexponential(a1, a2)
        return (a2 * math.exp(-a1 * t) - a1 * math.exp(-a2 * t)) / (a2 - a1)

    low, high = 0.0, 100.0  # survival falls from 1 to ~0: bisect for 0.1
    for _ in range(100):
        low, high = ((low + high) / 2, high) if survival((low + high) / 2) > 0.1 else (
            low, (low + high) / 2)
    p90 = (low + high) / 2
    assert abs(np.quantile(end_to_end, 0.9) - p90) < Z * batch_se(
        end_to_end, stat=lambda x: np.quantile(x, 0.9))
    flows_summary = result.summary["flows"]
    assert flows_summary["count"] == len(flows) and flows_summary["completed"] == len(flows)
    assert flows_summary["latency"]["mean"] == pytest.approx(end_to_end.mean())


def test_a_kafka_partition_is_an_mm1_queue_for_each_consumer_group():
    """One partition, no latencies: each group's consumer takes the records in order, one at
    a time, and polls again as soon as its records are done, so each group is an M/M/1 queue
    of its own (a second consumer in the first group sits idle), whatever the other does."""
    lam = 0.5
    result = run_checked(scenario_from(f"""
        name: theory-kafka
        run: {{messages: 80000, seed: 2, warmup: 200}}
        producers: {{p: {{arrivals: {{process: poisson, rate: {lam}}}, publish: t}}}}
        brokers: {{k: {{type: kafka, publish_latency: 0, api_latency: 0,
                        commit: after_processing}}}}
        queues: {{t: {{partitions: 1}}}}
        workers:
          slow: {{consumes: t, count: 2, service_time: {{dist: exponential, mean: 1}}}}
          fast: {{consumes: t, service_time: {{dist: exponential, mean: 0.5}}}}
    """))
    m = result.messages
    m = m[m["published_at"] >= result.summary["warmup"]].sort_values("published_at")
    for group, mu in (("t@slow", 1.0), ("t@fast", 2.0)):
        rows = m[m["queue"] == group]
        latency = (rows["completed_at"] - rows["published_at"]).to_numpy()
        theory = analytic.mm1(lam, mu)
        assert abs(latency.mean() - theory.W) < Z * batch_se(latency), group
        assert (rows["processings"] == 1).all()
    # One of two consumers busy lam / mu of the time: 0.25 (a loose check; the exact one is
    # the latency above).
    assert result.summary["workers"]["slow"]["utilization"] == pytest.approx(0.25, abs=0.02)
