"""Fit an arrival process to timestamps: steady Poisson, a schedule of steps, or bursty.

`arrivals(times)` counts the arrivals in fine bins (about ten per bin, at most `MAX_BINS`) and
compares three models of those counts by BIC (-2 log-likelihood + parameters x ln bins):

- **steady**: one Poisson rate (1 parameter);
- **schedule**: a piecewise-constant Poisson rate whose change points are found by PELT
  (pruned exact linear time, Killick, Fearnhead & Eckley 2012) with the Poisson likelihood as
  the segment cost and a BIC penalty of 2 ln(bins) per change (a change adds a location and a
  rate); 2K - 1 parameters for K steps;
- **bursty**: a two-state Markov-modulated Poisson process (MMPP-2), fitted as a two-state
  hidden Markov model with Poisson counts per bin by Baum–Welch (EM); the low and high rates are
  the states' means per second, the mean durations the bin width over each state's chance of
  leaving per bin (a sojourn shorter than a bin is not resolved); 4 parameters.

The bursty process is chosen when it has the lowest BIC, the counts are overdispersed within
the steps of the schedule (Pearson's chi-square of the counts against the steps' rates,
p < 0.01: the variation the steps do not explain) and the high state recurs (at least
`MIN_CYCLES` low-high cycles over the span: one burst is a step, not a process). Otherwise the
schedule when PELT finds a change, else the steady rate.

Time 0 of the fitted process is the first timestamp, or 0 for numbers in seconds that start
before the span they cover has passed (a trace already measured from 0).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.fit.values import FitError, yaml_duration, yaml_number

__all__ = ["MAX_BINS", "MIN_TIMES", "ArrivalsFit", "arrivals", "pelt", "to_seconds"]

MIN_TIMES = 10
MAX_BINS = 4000
PER_BIN = 10  # arrivals per bin on average: enough for a count to carry a rate
MIN_BINS = 20
MIN_CYCLES = 3
DISPERSION_LEVEL = 0.01


@dataclass
class ArrivalsFit:
    """The result of `arrivals`: the spec to paste and the tests behind the choice."""

    spec: dict[str, Any]  # {process: ..., ...}, times in float seconds
    choice: str  # "poisson", "schedule" or "bursty"
    why: str
    n: int
    origin: float  # the input time that is time 0 of the spec (seconds or epoch seconds)
    span: float  # seconds from time 0 to the last arrival
    bin_width: float
    counts: np.ndarray = field(repr=False)  # arrivals per bin, from time 0
    steps: list[dict[str, float]]  # the schedule's steps: start, end, rate (one when steady)
    mmpp: dict[str, Any] | None  # rates, mean_durations, loglik, high (per-bin chance of high)
    tests: dict[str, Any]  # bic per model, the dispersion test, parameters
    notes: list[str]  # what was done to the input (sorted...), for stderr
    times: np.ndarray = field(repr=False)  # seconds from time 0, sorted

    def yaml_spec(self) -> dict[str, Any]:
        """The spec with times as strings with a unit, for printing."""
        spec = dict(self.spec)
        if "schedule" in spec:
            spec["schedule"] = [
                {"until": yaml_duration(s["until"]), "rate": s["rate"]} if "until" in s
                else {"rate": s["rate"]} for s in spec["schedule"]]
        if "mean_durations" in spec:
            spec["mean_durations"] = [yaml_duration(d) for d in spec["mean_durations"]]
        return spec

    def as_dict(self) -> dict[str, Any]:
        mmpp = None if self.mmpp is None else {k: v for k, v in self.mmpp.items() if k != "high"}
        return {"choice": self.choice, "why": self.why, "spec": self.spec, "n": self.n,
                "origin": self.origin, "span": self.span, "bin_width": self.bin_width,
                "steps": self.steps, "mmpp": mmpp, "tests": self.tests, "notes": self.notes}


def to_seconds(times: Any) -> tuple[np.ndarray, bool]:
    """Timestamps as float seconds, and whether they were dates (ISO strings, datetimes).

    Dates become seconds since the Unix epoch (UTC; a naive date is taken as UTC).
    """
    series = pd.Series(np.asarray(times) if not isinstance(times, pd.Series) else times)
    if series.empty:
        raise FitError("no timestamps")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=np.float64), False
    if pd.api.types.is_datetime64_any_dtype(series):
        dates = series
    else:
        text = series.astype(str).str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
        if numbers.notna().all():
            return numbers.to_numpy(dtype=np.float64), False
        dates = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        bad = dates.isna() & text.ne("")
        if bad.any():
            raise FitError(f"timestamps must be seconds or ISO dates, got "
                           f"{text[bad].iloc[0]!r} ({int(bad.sum())} such)")
    if getattr(dates.dt, "tz", None) is None:
        dates = dates.dt.tz_localize("UTC")
    if dates.isna().any():
        raise FitError(f"{int(dates.isna().sum())} timestamps are empty")
    since = (dates - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(1, "s")
    return since.to_numpy(dtype=np.float64), True


def arrivals(times: Sequence[float] | np.ndarray | pd.Series, *, dates: bool | None = None
             ) -> ArrivalsFit:
    """Fit steady / schedule / bursty to ``times`` (seconds, or datetimes / ISO strings)."""
    seconds, were_dates = to_seconds(times)
    dates = were_dates if dates is None else dates
    notes: list[str] = []
    if not np.isfinite(seconds).all():
        raise FitError(f"{int((~np.isfinite(seconds)).sum())} timestamps are not finite numbers")
    if seconds.size < MIN_TIMES:
        raise FitError(f"a fit needs at least {MIN_TIMES} timestamps, got {seconds.size}")
    if np.any(np.diff(seconds) < 0):
        notes.append(f"the {seconds.size} timestamps were not in order: sorted them")
        seconds = np.sort(seconds, kind="stable")
    first, last = float(seconds[0]), float(seconds[-1])
    origin = 0.0 if not dates and 0 <= first < last - first else first
    if origin:
        notes.append(f"time 0 is the first timestamp ({_when(origin, dates)})")
    t = seconds - origin
    span = float(t[-1])
    if not span > 0:
        raise FitError("every timestamp is the same instant: no rate can be measured")
    bins = int(min(MAX_BINS, max(MIN_BINS, seconds.size // PER_BIN)))
    width = span / bins
    counts = np.bincount(np.minimum((t / width).astype(np.int64), bins - 1), minlength=bins)

    penalty = 2 * math.log(bins)
    changes = pelt(counts, penalty, min_size=max(2, bins // 200))
    edges = [0, *changes, bins]
    steps = []
    for a, b in itertools.pairwise(edges):
        steps.append({"start": a * width, "end": b * width,
                      "rate": float(counts[a:b].sum()) / ((b - a) * width)})
    ll_steady = _segment_ll(float(counts.sum()), bins)
    ll_steps = sum(_segment_ll(float(counts[a:b].sum()), b - a)
                   for a, b in itertools.pairwise(edges))
    expected = np.repeat([s["rate"] * width for s in steps], np.diff(edges))
    used = expected > 0
    pearson = float(np.sum((counts[used] - expected[used]) ** 2 / expected[used]))
    df = max(int(used.sum()) - (2 * len(steps) - 1), 1)
    dispersion_p = float(stats.chi2.sf(pearson, df))
    mmpp = _mmpp(counts, width)
    log_b = math.log(bins)
    bic: dict[str, float | None] = {
        "steady": -2 * ll_steady + log_b, "schedule": -2 * ll_steps + (2 * len(steps) - 1) * log_b,
        "bursty": None if mmpp is None else -2 * mmpp["loglik"] + 4 * log_b}
    bic_steady, bic_schedule, bic_bursty = bic["steady"], bic["schedule"], bic["bursty"]
    assert bic_steady is not None and bic_schedule is not None
    tests: dict[str, Any] = {
        "bins": bins, "bin_width": width,
        "change_points": {"method": "PELT, Poisson likelihood cost", "penalty": penalty,
                          "steps": len(steps)},
        "dispersion": {"pearson": pearson, "df": df, "index": pearson / df, "p": dispersion_p},
        "bic": bic,
    }
    cycles = 0.0
    if mmpp is not None:
        cycles = span / sum(mmpp["mean_durations"])
        tests["mmpp_cycles"] = cycles
    bursty = (mmpp is not None and bic_bursty is not None
              and bic_bursty < min(bic_steady, bic_schedule)
              and dispersion_p < DISPERSION_LEVEL and cycles >= MIN_CYCLES)
    if bursty:
        assert mmpp is not None
        spec: dict[str, Any] = {
            "process": "bursty", "rates": [yaml_number(r) for r in mmpp["rates"]],
            "mean_durations": [yaml_number(d) for d in mmpp["mean_durations"]]}
        choice = "bursty"
        why = (f"counts overdispersed within the steps (dispersion index {pearson / df:.2f}, "
               f"p {_p(dispersion_p)}), and a two-state MMPP has the lowest BIC "
               f"({bic_bursty:.0f} vs schedule {bic_schedule:.0f}, steady "
               f"{bic_steady:.0f}) with {cycles:.0f} low-high cycles")
    elif len(steps) > 1:
        spec = {"process": "poisson", "schedule": [
            {"until": yaml_number(s["end"]), "rate": yaml_number(s["rate"])} for s in steps[:-1]]
            + [{"rate": yaml_number(steps[-1]["rate"])}]}
        choice = "schedule"
        why = (f"PELT finds {len(steps) - 1} change{'s' if len(steps) > 2 else ''} of rate "
               f"(BIC {bic_schedule:.0f} vs steady {bic_steady:.0f})")
    else:
        spec = {"process": "poisson", "rate": yaml_number(steps[0]["rate"])}
        choice = "poisson"
        why = "PELT finds no change of rate"
    if choice != "bursty":
        if dispersion_p < DISPERSION_LEVEL:
            why += (f"; the counts are overdispersed (index {pearson / df:.2f}, p "
                    f"{_p(dispersion_p)}) but no recurring two-state process explains them "
                    "better")
        else:
            why += (f"; counts within the steps are Poisson (dispersion index "
                    f"{pearson / df:.2f}, p {_p(dispersion_p)})")
    return ArrivalsFit(spec=spec, choice=choice, why=why, n=int(seconds.size), origin=origin,
                       span=span, bin_width=width, counts=counts, steps=steps, mmpp=mmpp,
                       tests=tests, notes=notes, times=t)


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else "< 1e-4"


def _when(seconds: float, dates: bool) -> str:
    if dates:
        return pd.Timestamp(seconds, unit="s", tz="UTC").isoformat()
    return f"{seconds:g} s"


def _segment_ll(n: float, bins: int) -> float:
    """Poisson log-likelihood of ``n`` arrivals over ``bins`` bins at their own rate, without
    the terms every model shares (sum of log c!, and c log width)."""
    return n * math.log(n / bins) - n if n > 0 else 0.0


def pelt(counts: np.ndarray, penalty: float, min_size: int = 2) -> list[int]:
    """Change points (bin indices where a new step starts) of Poisson ``counts`` by PELT.

    Minimises the sum over segments of -2 x the Poisson log-likelihood at the segment's own
    rate, plus ``penalty`` per segment. The cost is additive and a split never costs more
    than the whole, so pruning is exact (Killick et al. 2012, with K = 0).
    """
    b = counts.size
    cum = np.concatenate(([0.0], np.cumsum(counts, dtype=np.float64)))

    def cost(s: np.ndarray, t: int) -> np.ndarray:
        n, m = cum[t] - cum[s], (t - s).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ll = np.where(n > 0, n * np.log(n / m) - n, 0.0)
        return -2 * ll

    best = np.full(b + 1, np.inf)
    best[0] = -penalty
    previous = np.zeros(b + 1, dtype=np.int64)
    alive = np.array([0], dtype=np.int64)  # starts still worth trying
    for t in range(min_size, b + 1):
        ready = alive[alive <= t - min_size]
        total = best[ready] + cost(ready, t) + penalty
        i = int(np.argmin(total))
        best[t], previous[t] = total[i], ready[i]
        # Prune: a start that cannot beat t now never will (the cost is additive).
        alive = np.append(alive[~np.isin(alive, ready[total - penalty > best[t]])], t)
    points, t = [], b
    while t > 0:
        t = int(previous[t])
        if t > 0:
            points.append(t)
    return sorted(points)


def _mmpp(counts: np.ndarray, width: float, iterations: int = 150) -> dict[str, Any] | None:
    """A two-state MMPP fitted to ``counts`` per bin as a Poisson hidden Markov model (EM)."""
    c = counts.astype(np.float64)
    if c.size < 2 * MIN_BINS or c.max() == c.min():
        return None
    lo, hi = float(np.percentile(c, 25)), float(np.percentile(c, 90))
    if hi <= lo:
        hi = lo + 1.0
    mu = np.array([max(lo, 0.1), hi])
    a = np.array([[0.95, 0.05], [0.05, 0.95]])
    pi = np.array([0.5, 0.5])
    last = -math.inf
    ll = -math.inf
    gamma = np.zeros((c.size, 2))
    for _ in range(iterations):
        # Emission log-likelihoods, without log c! (the same in every model).
        log_e = c[:, None] * np.log(mu[None, :]) - mu[None, :]
        shift = log_e.max(axis=1)
        e = np.exp(log_e - shift[:, None])
        alpha, scale = _forward(e, a, pi)
        ll = float(np.sum(np.log(scale)) + shift.sum())
        beta = _backward(e, a, scale)
        gamma = alpha * beta
        gamma /= gamma.sum(axis=1, keepdims=True)
        xi = (alpha[:-1, :, None] * a[None, :, :] * (e[1:] * beta[1:])[:, None, :]
              / scale[1:, None, None])
        a = xi.sum(axis=0)
        a /= a.sum(axis=1, keepdims=True)
        pi = gamma[0]
        weight = gamma.sum(axis=0)
        if np.any(weight < 1e-9):
            return None
        mu = np.maximum((gamma * c[:, None]).sum(axis=0) / weight, 1e-9)
        if abs(ll - last) < 1e-7 * abs(ll):
            break
        last = ll
    order = np.argsort(mu)
    mu, a, gamma = mu[order], a[np.ix_(order, order)], gamma[:, order]
    stay = np.minimum(np.diag(a), 1 - 1e-12)
    if mu[1] - mu[0] < 1e-9:
        return None
    return {"rates": (mu / width).tolist(), "mean_durations": (width / (1 - stay)).tolist(),
            "switch": [float(1 - stay[0]), float(1 - stay[1])], "loglik": ll,
            "method": "two-state Poisson hidden Markov model on the bin counts, Baum-Welch",
            "high": gamma[:, 1]}


def _forward(e: np.ndarray, a: np.ndarray, pi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scaled forward pass of a two-state HMM in plain floats (numpy per step is slower)."""
    n = e.shape[0]
    alpha = np.empty((n, 2))
    scale = np.empty(n)
    a00, a01, a10, a11 = float(a[0, 0]), float(a[0, 1]), float(a[1, 0]), float(a[1, 1])
    e0, e1 = e[:, 0].tolist(), e[:, 1].tolist()
    f0, f1 = float(pi[0]) * e0[0], float(pi[1]) * e1[0]
    out0, out1, scales = [0.0] * n, [0.0] * n, [0.0] * n
    for i in range(n):
        if i:
            f0, f1 = (f0 * a00 + f1 * a10) * e0[i], (f0 * a01 + f1 * a11) * e1[i]
        s = f0 + f1
        f0, f1 = f0 / s, f1 / s
        out0[i], out1[i], scales[i] = f0, f1, s
    alpha[:, 0], alpha[:, 1], scale[:] = out0, out1, scales
    return alpha, scale


def _backward(e: np.ndarray, a: np.ndarray, scale: np.ndarray) -> np.ndarray:
    n = e.shape[0]
    a00, a01, a10, a11 = float(a[0, 0]), float(a[0, 1]), float(a[1, 0]), float(a[1, 1])
    e0, e1, sc = e[:, 0].tolist(), e[:, 1].tolist(), scale.tolist()
    b0, b1 = 1.0, 1.0
    out0, out1 = [0.0] * n, [0.0] * n
    out0[-1], out1[-1] = b0, b1
    for i in range(n - 2, -1, -1):
        x0, x1 = e0[i + 1] * b0, e1[i + 1] * b1
        b0, b1 = (a00 * x0 + a01 * x1) / sc[i + 1], (a10 * x0 + a11 * x1) / sc[i + 1]
        out0[i], out1[i] = b0, b1
    beta = np.empty((n, 2))
    beta[:, 0], beta[:, 1] = out0, out1
    return beta
