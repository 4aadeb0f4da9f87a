"""Fit service times: maximum likelihood for each family of the scenario format, ranked.

`service(values)` fits exponential, gamma, lognormal, weibull, erlang (integer shape), pareto
and a two-phase hyperexponential (EM) to durations in seconds, scores each by AIC and by the
Kolmogorov–Smirnov distance between the data and the fitted CDF, and returns a `ServiceFit`:
the spec to paste (in the format's own parameters, e.g. lognormal by ``mean`` and ``cv``), the
ranked candidates and the evidence.

The choice: the lowest AIC among the candidates the KS test does not reject (p >= 0.01), and,
where a simpler family is nested in the winner (exponential in gamma, weibull, erlang and the
hyperexponential; erlang in gamma), the simpler one unless a likelihood-ratio test at 5%
rejects it (AIC alone would pick gamma over a true exponential one time in six). The KS p-value
is computed as if the parameters were known; with estimated ones it is too high (Lilliefors),
so a rejection is real. When the sample is large (``LARGE`` values or more) and every family is
rejected, no family fits: the spec is ``empirical`` and `fits` is False.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from sim.fit.values import FitError, yaml_duration, yaml_number

__all__ = ["LARGE", "MIN_VALUES", "Candidate", "ServiceFit", "service"]

MIN_VALUES = 10  # fewer cannot tell any family from another
LARGE = 500  # from this many values, a sample every family fails is a fact about the families
KS_LEVEL = 0.01  # a family is rejected when its KS p-value is below this
LR_LEVEL = 0.05  # a nested simpler family is kept unless the likelihood ratio rejects it at this

# Simpler -> the families it is a special case of, with the parameters it fixes.
NESTED: dict[str, dict[str, int]] = {
    "exponential": {"gamma": 1, "weibull": 1, "erlang": 1, "hyperexponential": 2},
    "erlang": {"gamma": 1},
}


@dataclass
class Candidate:
    """One family fitted by maximum likelihood, with its scores."""

    family: str
    spec: dict[str, Any]  # the scenario's spec, times in float seconds (rounded for YAML)
    parameters: dict[str, float]  # the fitted parameters, unrounded
    loglik: float
    k: int  # parameters estimated (AIC's count)
    aic: float
    ks: float  # Kolmogorov–Smirnov distance between the data and the fitted CDF
    ks_p: float
    mean: float  # the fitted distribution's mean and cv (cv inf when the variance is)
    cv: float
    rejected: bool
    cdf: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    ppf: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)
    pdf: Callable[[np.ndarray], np.ndarray] = field(repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """For fit.json: every number, no callables (inf written as None)."""
        def finite(x: float) -> float | None:
            return x if math.isfinite(x) else None
        return {"family": self.family, "spec": self.spec, "parameters": self.parameters,
                "loglik": self.loglik, "k": self.k, "aic": self.aic, "ks": self.ks,
                "ks_p": self.ks_p, "mean": self.mean, "cv": finite(self.cv),
                "rejected": self.rejected}


@dataclass
class ServiceFit:
    """The result of `service`: the spec to paste and the evidence behind it."""

    spec: dict[str, Any]  # {dist: ..., params}, times in float seconds
    chosen: Candidate | None  # None when no family fits (spec is empirical)
    candidates: list[Candidate]  # ranked: not rejected first, then by AIC
    n: int
    mean: float  # the sample's
    cv: float
    fits: bool  # False: the sample is large and every family was rejected
    why: str  # one line: why this one
    values: np.ndarray = field(repr=False)

    def yaml_spec(self) -> dict[str, Any] | str:
        """The spec with durations as strings with a unit (``mean: 120ms``), for printing."""
        return yaml_spec(self.spec)

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "cv": self.cv, "fits": self.fits,
                "why": self.why, "spec": self.spec,
                "chosen": None if self.chosen is None else self.chosen.family,
                "candidates": [c.as_dict() for c in self.candidates]}


# Which parameters of each family are durations (written with a unit in the YAML).
_TIMES = {"mean", "scale", "min", "max", "means"}


def yaml_spec(spec: dict[str, Any]) -> dict[str, Any] | str:
    """``spec`` with its duration parameters as strings with a unit (a constant: the duration
    itself, as the format writes one)."""
    if spec.get("dist") == "constant":
        return str(yaml_duration(spec["value"]))
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key in _TIMES and spec.get("dist") != "empirical":
            value = ([yaml_duration(v) for v in value] if isinstance(value, list)
                     else yaml_duration(value))
        out[key] = value
    return out


def check_values(values: Sequence[float] | np.ndarray, what: str = "values") -> np.ndarray:
    """The durations as a float array, or a FitError saying what is wrong with them."""
    x = np.asarray(values, dtype=np.float64).ravel()
    bad = ~np.isfinite(x)
    if bad.any():
        raise FitError(f"{what}: {int(bad.sum())} values are not finite numbers")
    zero, negative = int((x == 0).sum()), int((x < 0).sum())
    if zero or negative:
        parts = [f"{zero} zero" if zero else "", f"{negative} negative" if negative else ""]
        raise FitError(f"{what}: durations must be > 0, got {' and '.join(p for p in parts if p)}"
                       f" of {x.size}")
    if x.size < MIN_VALUES:
        raise FitError(f"{what}: a fit needs at least {MIN_VALUES} values, got {x.size}")
    return x


def service(values: Sequence[float] | np.ndarray) -> ServiceFit:
    """Fit every family to ``values`` (durations in seconds, all > 0) and choose one."""
    x = check_values(values)
    n = x.size
    if x.min() == x.max():  # no spread to fit: the format's constant says it exactly
        value = float(x[0])
        return ServiceFit(spec={"dist": "constant", "value": value}, chosen=None, candidates=[],
                          n=n, mean=value, cv=0.0, fits=True,
                          why=f"all {n} values are the same: a constant", values=x)
    fitted = [f for f in (fit(x) for fit in _FITTERS) if f is not None]
    ranked = sorted(fitted, key=lambda c: (c.rejected, c.aic))
    mean, sd = float(x.mean()), float(x.std(ddof=1))
    cv = sd / mean
    kept = [c for c in ranked if not c.rejected]
    if not kept and n >= LARGE:
        return ServiceFit(spec={"dist": "empirical", "values": x.tolist()}, chosen=None,
                          candidates=ranked, n=n, mean=mean, cv=cv, fits=False,
                          why=f"every family is rejected by the KS test (p < {KS_LEVEL}) on "
                              f"{n} values: resample the data (empirical)", values=x)
    pool = kept or ranked
    best = pool[0]
    why = f"lowest AIC{' among the families the KS test keeps' if kept else ''}"
    if not kept:
        why += f"; every family is rejected by the KS test, but {n} values are few"
    simpler = _simpler(best, pool)
    if simpler is not None:
        chosen, lr, p = simpler
        why = (f"{chosen.family} is {best.family} with fixed parameters, and the likelihood "
               f"ratio does not reject it (LR {lr:.2f}, p {p:.2f}): the simpler family")
        best = chosen
    return ServiceFit(spec=best.spec, chosen=best, candidates=ranked, n=n, mean=mean, cv=cv,
                      fits=True, why=why, values=x)


def _simpler(best: Candidate, pool: list[Candidate]) -> tuple[Candidate, float, float] | None:
    """The simplest family nested in ``best`` that a likelihood-ratio test does not reject."""
    by_name = {c.family: c for c in pool}
    for simple in ("exponential", "erlang"):  # simplest first
        fixes = NESTED[simple].get(best.family)
        if fixes is None or simple not in by_name:
            continue
        lr = max(2 * (best.loglik - by_name[simple].loglik), 0.0)
        p = float(stats.chi2.sf(lr, fixes))
        if p >= LR_LEVEL:
            return by_name[simple], lr, p
    return None


# --- the families -----------------------------------------------------------------------------


def _candidate(family: str, spec: dict[str, Any], parameters: dict[str, float], k: int,
               x: np.ndarray, frozen: Any, loglik: float | None = None,
               cdf: Callable[[np.ndarray], np.ndarray] | None = None,
               ppf: Callable[[np.ndarray], np.ndarray] | None = None,
               pdf: Callable[[np.ndarray], np.ndarray] | None = None,
               moments: tuple[float, float] | None = None) -> Candidate | None:
    cdf = cdf or frozen.cdf
    ppf = ppf or frozen.ppf
    pdf = pdf or frozen.pdf
    if loglik is None:
        loglik = float(np.sum(frozen.logpdf(x)))
    if not math.isfinite(loglik):
        return None
    ks = stats.kstest(x, cdf)
    if moments is None:
        m, v = (float(a) for a in frozen.stats(moments="mv"))
    else:
        m, v = moments
    cv = math.sqrt(v) / m if math.isfinite(v) else math.inf
    return Candidate(family=family, spec=spec, parameters=parameters, loglik=loglik, k=k,
                     aic=2 * k - 2 * loglik, ks=float(ks.statistic), ks_p=float(ks.pvalue),
                     mean=m, cv=cv, rejected=bool(ks.pvalue < KS_LEVEL), cdf=cdf, ppf=ppf,
                     pdf=pdf)


def _exponential(x: np.ndarray) -> Candidate | None:
    mean = float(x.mean())
    spec = {"dist": "exponential", "mean": yaml_number(mean)}
    return _candidate("exponential", spec, {"mean": mean}, 1, x, stats.expon(scale=mean))


def _gamma_shape(x: np.ndarray) -> float:
    """The gamma MLE of the shape (the scale is mean / shape): scipy's, location fixed at 0."""
    shape, _, _ = stats.gamma.fit(x, floc=0)
    return float(shape)


def _gamma(x: np.ndarray) -> Candidate | None:
    shape = _gamma_shape(x)
    mean = float(x.mean())  # the gamma MLE's mean is the sample mean
    cv = 1 / math.sqrt(shape)
    spec = {"dist": "gamma", "mean": yaml_number(mean), "cv": yaml_number(cv)}
    return _candidate("gamma", spec, {"shape": shape, "scale": mean / shape}, 2, x,
                      stats.gamma(shape, scale=mean / shape))


def _erlang(x: np.ndarray) -> Candidate | None:
    """Gamma with an integer shape k: the best of the integers next to the gamma MLE."""
    shape, mean = _gamma_shape(x), float(x.mean())
    best: tuple[float, int] | None = None
    for k in {max(1, math.floor(shape)), max(1, math.ceil(shape))}:
        ll = float(np.sum(stats.gamma.logpdf(x, k, scale=mean / k)))
        if best is None or ll > best[0]:
            best = (ll, k)
    assert best is not None
    ll, k = best
    spec = {"dist": "erlang", "k": k, "mean": yaml_number(mean)}
    return _candidate("erlang", spec, {"k": k, "mean": mean}, 2, x,
                      stats.gamma(k, scale=mean / k), loglik=ll)


def _lognormal(x: np.ndarray) -> Candidate | None:
    logs = np.log(x)
    mu, sigma = float(logs.mean()), float(logs.std())  # the MLE: population sd of the logs
    if sigma == 0:
        return None
    mean, cv = math.exp(mu + sigma**2 / 2), math.sqrt(math.expm1(sigma**2))
    spec = {"dist": "lognormal", "mean": yaml_number(mean), "cv": yaml_number(cv)}
    return _candidate("lognormal", spec, {"mu": mu, "sigma": sigma}, 2, x,
                      stats.lognorm(sigma, scale=math.exp(mu)))


def _weibull(x: np.ndarray) -> Candidate | None:
    shape, _, scale = stats.weibull_min.fit(x, floc=0)
    spec = {"dist": "weibull", "shape": yaml_number(shape), "scale": yaml_number(scale)}
    return _candidate("weibull", spec, {"shape": float(shape), "scale": float(scale)}, 2, x,
                      stats.weibull_min(shape, scale=scale))


def _pareto(x: np.ndarray) -> Candidate | None:
    low = float(x.min())
    logs = np.log(x / low)
    if logs.sum() <= 0:
        return None
    alpha = x.size / float(logs.sum())  # the MLE given min = the sample's minimum
    spec = {"dist": "pareto", "alpha": yaml_number(alpha), "min": yaml_number(low)}
    return _candidate("pareto", spec, {"alpha": alpha, "min": low}, 2, x,
                      stats.pareto(alpha, scale=low))


def _hyperexponential(x: np.ndarray, iterations: int = 500) -> Candidate | None:
    """Two exponential phases by expectation–maximisation, started from a short/long split."""
    mean = float(x.mean())
    p, m1, m2 = 0.5, 0.5 * mean, 1.5 * mean
    last = -math.inf
    for _ in range(iterations):
        f1 = p / m1 * np.exp(-x / m1)
        f2 = (1 - p) / m2 * np.exp(-x / m2)
        total = np.maximum(f1 + f2, 1e-300)
        ll = float(np.sum(np.log(total)))
        r = f1 / total  # the chance each value came from phase 1
        p = float(r.mean())
        if not 1e-9 < p < 1 - 1e-9:
            return None  # one phase took everything: an exponential, fitted as such
        m1 = float(np.dot(r, x) / r.sum())
        m2 = float(np.dot(1 - r, x) / (1 - r).sum())
        if abs(ll - last) < 1e-9 * abs(ll):
            break
        last = ll
    if m1 > m2:
        p, m1, m2 = 1 - p, m2, m1
    m = p * m1 + (1 - p) * m2
    v = 2 * (p * m1**2 + (1 - p) * m2**2) - m**2
    if v < 1.02 * m * m:  # cv within 1% of 1: an exponential with spare parameters, not two phases
        return None
    probs, means = np.array([p, 1 - p]), np.array([m1, m2])

    def cdf(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)[..., None]
        return np.sum(probs * -np.expm1(-t / means), axis=-1)

    def pdf(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)[..., None]
        return np.sum(probs / means * np.exp(-t / means), axis=-1)

    def ppf(q: np.ndarray) -> np.ndarray:
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        lo, hi = np.zeros_like(q), np.full_like(q, -m2 * math.log(max(1e-300, 1e-12)))
        for _ in range(80):  # bisection: the CDF is increasing, no closed-form inverse
            mid = (lo + hi) / 2
            below = cdf(mid) < q
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return (lo + hi) / 2

    loglik = float(np.sum(np.log(np.maximum(pdf(x), 1e-300))))
    first = yaml_number(p)
    spec = {"dist": "hyperexponential", "probs": [first, yaml_number(1 - first)],
            "means": [yaml_number(m1), yaml_number(m2)]}
    return _candidate("hyperexponential", spec, {"p": p, "mean1": m1, "mean2": m2}, 3, x, None,
                      loglik=loglik, cdf=cdf, ppf=ppf, pdf=pdf, moments=(m, v))


_FITTERS: tuple[Callable[[np.ndarray], Candidate | None], ...] = (
    _exponential, _gamma, _erlang, _lognormal, _weibull, _pareto, _hyperexponential)
