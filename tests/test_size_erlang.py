"""``size`` against Erlang C: on M/M/c queues it finds the smallest worker count whose p99
sojourn time meets a target, the count the closed form gives, simulating a few of 64 values.

The expected count is computed here from the M/M/c sojourn-time distribution itself (the wait
is 0 with probability 1 - C and exponential(c mu - lam) otherwise, plus an exponential(mu)
service; Gross et al., Fundamentals of Queueing Theory, §2.3), its 0.99 quantile found by
root-finding, not taken from `sim.analytic`. Each target sits between the p99 of the answer
and of one worker fewer, at least 0.5 s from both, several times the 95% half-width of a
p99 over five 2000 s replications (about 0.1-0.3 s at these loads): the simulated verdicts
can only go the theory's way. Seeds are fixed.
"""

from __future__ import annotations

import math

import pytest
from scipy.optimize import brentq

import sim
from sim.experiment.size import size

MU = 1.0  # service rate: mean service time 1 s


def erlang_c(c: int, a: float) -> float:
    """P(wait > 0) in M/M/c with offered load a = lam/mu, from the Erlang C sum."""
    terms = sum(a ** k / math.factorial(k) for k in range(c))
    last = a ** c / math.factorial(c) * c / (c - a)
    return last / (terms + last)


def sojourn_p99(lam: float, c: int, mu: float = MU) -> float:
    """The 0.99 quantile of the M/M/c sojourn time, from its survival function."""
    p_wait, theta = erlang_c(c, lam / mu), c * mu - lam

    def survival(t: float) -> float:
        service = math.exp(-mu * t)
        waited = ((theta * service - mu * math.exp(-theta * t)) / (theta - mu)
                  if abs(theta - mu) > 1e-12 else service * (1 + mu * t))
        return (1 - p_wait) * service + p_wait * waited

    return brentq(lambda t: survival(t) - 0.01, 0.0, 1000.0, xtol=1e-10)


def smallest_count(lam: float, target: float, counts: range) -> int:
    return next(c for c in counts if c > lam / MU and sojourn_p99(lam, c) <= target)


def mmc(lam: float) -> sim.Scenario:
    return sim.loads(f"""
name: mmc-{lam:g}
run: {{duration: 2000, warmup: 100, seed: 3}}
producers: {{orders: {{arrivals: {{process: poisson, rate: {lam}}}, publish: jobs}}}}
queues: {{jobs: {{}}}}
workers: {{pool: {{consumes: jobs, count: 1, service_time: {{dist: exponential, mean: 1}}}}}}
""")


@pytest.mark.parametrize(("lam", "target"), [(3.0, 5.4), (8.0, 5.5), (20.0, 5.6)])
def test_size_finds_the_erlang_c_count(lam, target):
    expected = smallest_count(lam, target, range(1, 65))
    # The target is well inside the gap between the answer and one worker fewer.
    assert sojourn_p99(lam, expected) <= target - 0.3
    assert sojourn_p99(lam, expected - 1) >= target + 0.4
    result = size(mmc(lam), "workers.pool.count=1..64", [f"latency.p99<={target}s"])
    assert result.answer == expected
    assert len(result.evaluated) <= 4  # of 64 values
    assert result.guess is not None and result.guess["value"] == expected
    # Every value under the load's capacity was ruled out without simulating it.
    assert [s["value"] for s in result.not_simulated] == list(range(1, math.ceil(lam)))
    below = result.point(expected - 1)
    assert below is not None and not below.meets
    assert result.point(expected).verdicts[f"latency.p99<={target}s"] == "meets"


def test_without_a_guess_bisection_still_needs_few_values():
    """Lognormal service: no closed form for c > 1, so no first guess; the search
    bisects the stable part of 1..64 and finds a value that meets with one fewer failing."""
    scenario = sim.loads("""
name: lognormal
run: {duration: 1000, warmup: 50, seed: 5}
producers: {orders: {arrivals: {process: poisson, rate: 6}, publish: jobs}}
queues: {jobs: {}}
workers: {pool: {consumes: jobs, count: 1,
                 service_time: {dist: lognormal, mean: 1, cv: 1.5}}}
""")
    result = size(scenario, "workers.pool.count=1..64", ["latency.p99<=8s"])
    assert result.guess is None
    assert result.answer is not None
    stable = 64 - len(result.not_simulated)
    assert len(result.evaluated) <= math.ceil(math.log2(stable)) + 2
    assert result.point(result.answer).meets
    assert not result.point(result.answer - 1).meets
