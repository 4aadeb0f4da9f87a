"""Fit, then simulate: a scenario made from the fits gives the latency percentiles of the same
scenario replaying the raw measurements (an empirical file, a trace), within their 95%
confidence intervals over replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import sim.fit
from sim.random.distributions import make
from tests.conftest import run_checked, scenario_from
from tests.test_fit_arrivals import arrivals_of

REPLICATIONS = 10
FIGURES = ("p50", "p90", "p99")


def latency(text: str, base_dir) -> dict[str, dict[str, float]]:
    result = run_checked(scenario_from(text, base_dir))
    return result.summary["latency"]


def assert_within_their_intervals(fitted: dict, raw: dict) -> None:
    for figure in FIGURES:
        a, b = fitted[figure], raw[figure]
        gap = abs(a["mean"] - b["mean"])
        assert gap <= a["ci95"] + b["ci95"], (figure, a, b)


def inline(spec) -> str:
    return yaml.safe_dump(spec, default_flow_style=True, sort_keys=False).strip()


def scenario(arrivals: str, service: str, duration: float) -> str:
    return f"""
name: round-trip
run: {{duration: {duration}, warmup: 30, seed: 11, replications: {REPLICATIONS}}}
producers:
  p: {{arrivals: {arrivals}, publish: q}}
queues:
  q: {{}}
workers:
  w: {{consumes: q, count: 2, service_time: {service}}}
"""


def test_fitted_service_times_reproduce_the_replayed_sample(tmp_path):
    # M/G/2 at 70% utilisation: the queue amplifies any error in the service-time tail.
    x = make({"dist": "lognormal", "mean": 0.08, "cv": 1.0}).sample(np.random.default_rng(3),
                                                                     5000)
    pd.DataFrame({"seconds": x}).to_csv(tmp_path / "raw.csv", index=False)
    fit = sim.fit.service(x)
    assert fit.spec["dist"] == "lognormal"
    rate = 0.7 * 2 / x.mean()
    fitted = latency(scenario(f"{{process: poisson, rate: {rate:.6g}}}",
                              inline(fit.yaml_spec()), 1000), tmp_path)
    raw = latency(scenario(f"{{process: poisson, rate: {rate:.6g}}}",
                           "{dist: empirical, file: raw.csv}", 1000), tmp_path)
    assert_within_their_intervals(fitted, raw)


def test_fitted_arrivals_reproduce_the_replayed_trace(tmp_path):
    steps = {"process": "poisson", "schedule": [{"until": 600, "rate": 8}, {"rate": 24}]}
    times = arrivals_of(steps, 1200, 5)
    pd.DataFrame({"time": times}).to_csv(tmp_path / "trace.csv", index=False)
    fit = sim.fit.arrivals(times)
    assert fit.choice == "schedule"
    service = "{dist: exponential, mean: 60ms}"  # 72% busy after the change
    fitted = latency(scenario(inline(fit.yaml_spec()), service, fit.span), tmp_path)
    raw = latency(scenario("{process: trace, file: trace.csv}", service, fit.span), tmp_path)
    assert_within_their_intervals(fitted, raw)
    assert fitted["p99"]["mean"] == pytest.approx(raw["p99"]["mean"], rel=0.25)
