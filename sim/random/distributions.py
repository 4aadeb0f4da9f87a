"""Non-negative distributions of times (service times, latencies, inter-arrival times).

`make(spec)` builds a `Distribution` from a resolved scenario mapping such as
``{"dist": "lognormal", "mean": 0.05, "cv": 1.0}`` (every time already in float seconds). Each
distribution knows its analytic mean and variance (``math.inf`` when infinite) so theory can be
drawn next to simulation, draws vectorised samples with `sample`, and hands out single values
on the hot path through `sampler`: a C-level zero-argument callable fed by numpy blocks.

Invalid parameters raise `ValueError` with a message meant for the user, e.g.
``"exponential needs mean > 0, got -1"``; the scenario layer adds the YAML path.
"""

from __future__ import annotations

import csv
import itertools
import math
import numbers
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, SupportsInt, cast

import numpy as np

from sim.random.spec import ALTERNATIVES, PARAMETERS

__all__ = ["Distribution", "make", "read_column"]

_FLOAT_MAX = sys.float_info.max


# --- parameter checks -------------------------------------------------------------------------


def _real(dist: str, name: str, value: Any) -> float:
    """`value` as a finite float, or a ValueError naming the distribution and parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{dist} needs a number for {name}, got {value!r}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{dist} needs a finite {name}, got {value!r}")
    return x


def _positive(dist: str, name: str, value: Any) -> float:
    x = _real(dist, name, value)
    if x <= 0:
        raise ValueError(f"{dist} needs {name} > 0, got {value!r}")
    return x


def _non_negative(dist: str, name: str, value: Any) -> float:
    x = _real(dist, name, value)
    if x < 0:
        raise ValueError(f"{dist} needs {name} >= 0, got {value!r}")
    return x


def _number_list(dist: str, name: str, value: Any) -> list[float]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{dist} needs a non-empty list for {name}, got {value!r}")
    return [_real(dist, f"{name}[{i}]", v) for i, v in enumerate(value)]


def _probabilities(dist: str, name: str, weights: list[float], must_sum_to_one: bool) -> np.ndarray:
    """Normalised probabilities from non-negative weights (not all zero)."""
    for i, w in enumerate(weights):
        if w < 0:
            raise ValueError(f"{dist} needs {name}[{i}] >= 0, got {w!r}")
    total = math.fsum(weights)
    if total <= 0:
        raise ValueError(f"{dist} needs {name} with a positive sum, got {weights!r}")
    if must_sum_to_one and abs(total - 1.0) > 1e-6:
        scaled = ", ".join(f"{w / total:.4g}" for w in weights)
        raise ValueError(
            f"{dist} needs {name} summing to 1, got a sum of {total:g} (the same proportions "
            f"summing to 1: {scaled})"
        )
    return np.asarray(weights, dtype=np.float64) / total


def _cdf(probs: np.ndarray) -> np.ndarray:
    """Cumulative table for `np.searchsorted(cdf, u, side="right")` with u in [0, 1)."""
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0  # rounding must never leave a u in [cdf[-1], 1) without an index
    return cdf


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _check_keys(name: str, params: Mapping[str, Any]) -> None:
    """Unknown parameters, missing ones, or two alternative forms at once are errors."""
    allowed = PARAMETERS[name]
    unknown = sorted(map(str, set(params) - set(allowed)))
    if unknown:
        raise ValueError(
            f"{name} does not take {', '.join(unknown)}; its parameters are {', '.join(allowed)}"
        )
    groups = ALTERNATIVES[name]
    forms = " or ".join("(" + ", ".join(g) + ")" for g in groups)
    complete = [g for g in groups if all(k in params for k in g)]
    if not complete:
        got = ", ".join(map(str, params)) or "nothing"
        raise ValueError(f"{name} needs {forms}, got {got}")
    grouped = {k for g in groups for k in g}
    extra = sorted((set(params) & grouped) - set(complete[0]))
    if extra:
        raise ValueError(f"{name} takes {forms}, not both; remove {', '.join(extra)}")


# --- base class -------------------------------------------------------------------------------


class Distribution:
    """A distribution of non-negative floats with analytic mean and variance."""

    name = "distribution"
    mean: float
    variance: float

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)  # as given (minus `dist`), for repr and round trips

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    @property
    def is_constant(self) -> bool:
        """True when every sample is the same value (the model can skip sampling)."""
        return self.variance == 0

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)

    @property
    def cv2(self) -> float:
        """Squared coefficient of variation, variance / mean² (the M/G/1 formulas use it)."""
        if self.variance == 0:
            return 0.0
        if math.isinf(self.variance) or self.mean == 0:
            return math.inf
        return self.variance / (self.mean * self.mean)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` independent draws as a float64 array."""
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"sample size must be a non-negative integer, got {n!r}")
        return np.asarray(self._draw(rng, int(n)), dtype=np.float64)

    def sampler(self, rng: np.random.Generator, block: int = 4096) -> Callable[[], float]:
        """A zero-argument function returning the next draw as a Python float.

        Draws come in numpy blocks of `block`, turned into a list once; the returned callable
        is the `__next__` of a C-level chain over those lists, so a value costs one C call.
        """
        if block < 1:
            raise ValueError(f"block must be >= 1, got {block!r}")
        if self.is_constant:  # one draw is the value itself, exactly as `sample` would give it
            return itertools.repeat(float(self._draw(rng, 1)[0])).__next__
        draw = self._draw

        def blocks() -> Iterator[list[float]]:
            while True:
                yield draw(rng, block).tolist()

        return itertools.chain.from_iterable(blocks()).__next__

    def _repr_params(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in self.params.items())

    def __repr__(self) -> str:
        return f"{self.name}({self._repr_params()})"


# --- the distributions ------------------------------------------------------------------------


class Constant(Distribution):
    name = "constant"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.value = _non_negative(self.name, "value", params["value"])
        self.mean, self.variance = self.value, 0.0

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)


class Exponential(Distribution):
    name = "exponential"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "rate" in params:
            self.scale = 1.0 / _positive(self.name, "rate", params["rate"])
        else:
            self.scale = _positive(self.name, "mean", params["mean"])
        self.mean, self.variance = self.scale, self.scale**2

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.scale, n)


class Uniform(Distribution):
    name = "uniform"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.low = _non_negative(self.name, "low", params["low"])
        self.high = _real(self.name, "high", params["high"])
        if self.high < self.low:
            raise ValueError(f"uniform needs high >= low, got low={self.low!r}, high={self.high!r}")
        self.mean = (self.low + self.high) / 2
        self.variance = (self.high - self.low) ** 2 / 12

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class Normal(Distribution):
    """Normal(mean, sd) truncated at 0: a negative draw is redrawn (a true truncated normal).

    `mean` and `sd` are the parameters of the untruncated normal; the `mean`/`variance`
    attributes are those of the truncated one. `mean` must be >= 0 so at most half the mass is
    cut off (the redraw loop then stays short).
    """

    name = "normal"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.mu = _non_negative(self.name, "mean", params["mean"])
        self.sd = _non_negative(self.name, "sd", params["sd"])
        if self.sd == 0:
            self.mean, self.variance = self.mu, 0.0
            return
        alpha = -self.mu / self.sd
        kept = 0.5 * math.erfc(alpha / math.sqrt(2))  # P(X >= 0)
        lam = math.exp(-alpha * alpha / 2) / math.sqrt(2 * math.pi) / kept
        self.mean = self.mu + self.sd * lam
        self.variance = self.sd**2 * (1 + alpha * lam - lam * lam)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.sd == 0:
            return np.full(n, self.mu)
        out = rng.normal(self.mu, self.sd, n)
        bad = np.flatnonzero(out < 0)
        while bad.size:  # each slot keeps its own first non-negative draw: exact truncation
            redraw = rng.normal(self.mu, self.sd, bad.size)
            out[bad] = redraw
            bad = bad[redraw < 0]
        return out


class Lognormal(Distribution):
    name = "lognormal"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "mean" in params:
            mean = _positive(self.name, "mean", params["mean"])
            cv = _non_negative(self.name, "cv", params["cv"])
            s2 = math.log1p(cv * cv)
            self.mu, self.sigma = math.log(mean) - s2 / 2, math.sqrt(s2)
        else:
            self.mu = _real(self.name, "mu", params["mu"])
            self.sigma = _non_negative(self.name, "sigma", params["sigma"])
        s2 = self.sigma**2
        self.mean = _exp(self.mu + s2 / 2)
        self.variance = math.expm1(s2) * _exp(2 * self.mu + s2) if s2 else 0.0

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)


class Gamma(Distribution):
    name = "gamma"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "mean" in params:
            mean = _positive(self.name, "mean", params["mean"])
            cv = _positive(self.name, "cv", params["cv"])
            self.shape, self.scale = 1 / (cv * cv), mean * cv * cv
        else:
            self.shape = _positive(self.name, "shape", params["shape"])
            self.scale = _positive(self.name, "scale", params["scale"])
        self.mean = self.shape * self.scale
        self.variance = self.shape * self.scale**2

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.gamma(self.shape, self.scale, n)


class Erlang(Gamma):
    """Sum of `k` exponential phases with total mean `mean` (a gamma with integer shape)."""

    name = "erlang"

    def __init__(self, params: Mapping[str, Any]) -> None:
        Distribution.__init__(self, params)
        k = params["k"]
        # typeshed's numbers.Real has no __int__, but every real a scenario holds does.
        if (
            isinstance(k, bool)
            or not isinstance(k, numbers.Real)
            or k != int(cast(SupportsInt, k))
            or k < 1
        ):
            raise ValueError(f"erlang needs an integer k >= 1, got {k!r}")
        self.k = int(cast(SupportsInt, k))
        mean = _positive(self.name, "mean", params["mean"])
        self.shape, self.scale = float(self.k), mean / self.k
        self.mean, self.variance = mean, mean * mean / self.k


class Weibull(Distribution):
    name = "weibull"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.shape = _positive(self.name, "shape", params["shape"])
        self.scale = _positive(self.name, "scale", params["scale"])
        g1 = _exp(math.lgamma(1 + 1 / self.shape))
        g2 = _exp(math.lgamma(1 + 2 / self.shape))
        self.mean = self.scale * g1
        self.variance = math.inf if math.isinf(g2) else self.scale**2 * max(g2 - g1 * g1, 0.0)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, n)


class Pareto(Distribution):
    """Pareto with tail index `alpha` from `min`; with `max`, the bounded Pareto on [min, max]."""

    name = "pareto"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.alpha = _positive(self.name, "alpha", params["alpha"])
        self.low = _positive(self.name, "min", params["min"])
        self.high = math.inf
        if params.get("max") is not None:
            self.high = _real(self.name, "max", params["max"])
            if self.high <= self.low:
                raise ValueError(f"pareto needs max > min, got min={self.low!r}, max={self.high!r}")
        m1, m2 = self._moment(1), self._moment(2)
        self.mean = m1
        self.variance = math.inf if math.isinf(m2) else max(m2 - m1 * m1, 0.0)

    def _moment(self, p: int) -> float:
        """E[X^p], finite for the bounded form and for p < alpha."""
        a, low = self.alpha, self.low
        if math.isinf(self.high):
            return a * low**p / (a - p) if a > p else math.inf
        r, d = math.log(self.high / low), p - a
        # (H^d - L^d) / d written with expm1 so that d near 0 (alpha near p) stays accurate.
        integral = r if d == 0 else math.expm1(d * r) / d
        return a * low**p * integral / -math.expm1(-a * r)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.random(n)
        if math.isinf(self.high):
            out = self.low * (1.0 - u) ** (-1.0 / self.alpha)  # 1 - u in (0, 1]
            return np.minimum(out, _FLOAT_MAX)  # tiny alpha can overflow; keep times finite
        cut = -math.expm1(-self.alpha * math.log(self.high / self.low))  # 1 - (L/H)^alpha
        out = self.low * (1.0 - u * cut) ** (-1.0 / self.alpha)
        return np.minimum(out, self.high)


class Hyperexponential(Distribution):
    name = "hyperexponential"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        probs = _number_list(self.name, "probs", params["probs"])
        means = _number_list(self.name, "means", params["means"])
        if len(probs) != len(means):
            raise ValueError(
                f"hyperexponential needs as many probs as means, got {len(probs)} and {len(means)}"
            )
        for i, m in enumerate(means):
            _positive(self.name, f"means[{i}]", m)
        p = _probabilities(self.name, "probs", probs, must_sum_to_one=True)
        self.probs, self.means = p, np.asarray(means, dtype=np.float64)
        self._cdf = _cdf(p)
        self.mean = float(np.dot(p, self.means))
        self.variance = float(np.dot(p, 2 * self.means**2)) - self.mean**2

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        phase = np.searchsorted(self._cdf, rng.random(n), side="right")
        return rng.exponential(1.0, n) * self.means[phase]


def read_column(path: str, what: str = "empirical file") -> list[float]:
    """The numbers of a one-column CSV file; a non-numeric first row is taken as a header."""
    values: list[float] = []
    first = True
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for line, row in enumerate(csv.reader(f), start=1):
                cells = [c.strip() for c in row]
                while cells and not cells[-1]:
                    cells.pop()
                if not cells:
                    continue
                if len(cells) > 1:
                    raise ValueError(
                        f"{what} {path}, line {line}: expected one column, got {len(cells)}"
                    )
                header, first = first, False
                try:
                    x = float(cells[0])
                except ValueError:
                    if header:
                        continue
                    raise ValueError(
                        f"{what} {path}, line {line}: {cells[0]!r} is not a number"
                    ) from None
                if not math.isfinite(x) or x < 0:
                    raise ValueError(f"{what} {path}, line {line}: needs a value >= 0, got {x!r}")
                values.append(x)
    except OSError as e:
        raise ValueError(f"cannot read {what} {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read {what} {path}: not a UTF-8 text file") from None
    if not values:
        raise ValueError(f"{what} {path} has no values")
    return values


class Empirical(Distribution):
    """Resampling (with replacement) of observed values, given inline or in a CSV file."""

    name = "empirical"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "values" in params:
            raw = _number_list(self.name, "values", params["values"])
            for i, v in enumerate(raw):
                _non_negative(self.name, f"values[{i}]", v)
        else:
            path = params["file"]
            if not isinstance(path, str) or not path:
                raise ValueError(f"empirical needs a file path, got {path!r}")
            raw = read_column(path)
        self.values = np.asarray(raw, dtype=np.float64)
        self.mean = float(self.values.mean())
        self.variance = float(self.values.var())  # population variance: resampling's variance

    @property
    def is_constant(self) -> bool:
        return bool(self.values.min() == self.values.max())

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.values[rng.integers(0, self.values.size, n)]

    def _repr_params(self) -> str:
        if "file" in self.params:
            return f"file={self.params['file']!r}, n={self.values.size}"
        return f"n={self.values.size}, mean={self.mean!r}"


class Mixture(Distribution):
    """Draw a component with probability its `weight`, then draw from it.

    The weights must sum to 1 (as a hyperexponential's ``probs``): weights that do not are
    more often a slip (0.9 and 0.2) than proportions, and were used as proportions silently.
    """

    name = "mixture"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        comps = params["components"]
        if isinstance(comps, (str, bytes, Mapping)) or not isinstance(comps, Sequence) or not comps:
            raise ValueError(f"mixture needs a non-empty list of components, got {comps!r}")
        weights: list[float] = []
        self.components: list[Distribution] = []
        for i, comp in enumerate(comps):
            if not isinstance(comp, Mapping) or "weight" not in comp:
                raise ValueError(f"mixture component {i} needs a mapping with weight and dist")
            weights.append(_real(self.name, f"components[{i}].weight", comp["weight"]))
            try:
                self.components.append(make({k: v for k, v in comp.items() if k != "weight"}))
            except ValueError as e:
                raise ValueError(f"mixture component {i}: {e}") from None
        self.weights = _probabilities(self.name, "weights", weights, must_sum_to_one=True)
        self._cdf = _cdf(self.weights)
        # Components that can be drawn (weight > 0): a zero-weight one must not make a moment inf.
        used = [(w, d) for w, d in zip(self.weights.tolist(), self.components, strict=True) if w]
        self.mean = math.fsum(w * d.mean for w, d in used)
        if any(math.isinf(d.variance) for _, d in used):
            self.variance = math.inf
        else:
            second = math.fsum(w * (d.variance + d.mean**2) for w, d in used)
            self.variance = max(second - self.mean**2, 0.0)
        self._constant = all(d.is_constant for _, d in used) and len({d.mean for _, d in used}) == 1

    @property
    def is_constant(self) -> bool:
        return self._constant

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        which = np.searchsorted(self._cdf, rng.random(n), side="right")
        out = np.empty(n)
        for j, dist in enumerate(self.components):
            mask = which == j
            count = int(np.count_nonzero(mask))
            if count:
                out[mask] = dist._draw(rng, count)
        return out

    def _repr_params(self) -> str:
        pairs = zip(self.weights.tolist(), self.components, strict=True)
        parts = (f"{w:g}: {d!r}" for w, d in pairs)
        return "components=[" + ", ".join(parts) + "]"


_KINDS: dict[str, type[Distribution]] = {
    cls.name: cls
    for cls in (
        Constant,
        Exponential,
        Uniform,
        Normal,
        Lognormal,
        Gamma,
        Erlang,
        Weibull,
        Pareto,
        Hyperexponential,
        Empirical,
        Mixture,
    )
}


def make(spec: Mapping[str, Any] | float | Distribution) -> Distribution:
    """Build the distribution of a resolved spec: ``{"dist": NAME, **params}`` or a number.

    A plain number is a constant; an existing `Distribution` is returned as is.
    """
    if isinstance(spec, Distribution):
        return spec
    if isinstance(spec, numbers.Real) and not isinstance(spec, bool):
        return Constant({"value": spec})
    if not isinstance(spec, Mapping):
        raise ValueError(f"a distribution is a number or a mapping with dist:, got {spec!r}")
    name = spec.get("dist")
    if name is None:
        keys = ", ".join(map(str, spec)) or "none"
        raise ValueError(f"a distribution mapping needs dist:, got keys {keys}")
    if name not in _KINDS or name not in PARAMETERS:
        raise ValueError(f"unknown distribution {name!r}; expected one of {', '.join(_KINDS)}")
    params = {k: v for k, v in spec.items() if k != "dist" and v is not None}  # null = absent
    _check_keys(name, params)
    return _KINDS[name](params)
