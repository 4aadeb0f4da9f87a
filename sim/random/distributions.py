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

from sim.random.parameters import (
    check_keys,
    cumulative,
    exp_or_inf,
    non_negative,
    number_list,
    positive,
    probabilities,
    real,
)
from sim.random.spec import PARAMETERS

__all__ = ["Distribution", "make", "read_column"]

_FLOAT_MAX = sys.float_info.max


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
        self.value = non_negative(self.name, "value", params["value"])
        self.mean, self.variance = self.value, 0.0

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value)


class Exponential(Distribution):
    name = "exponential"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "rate" in params:
            self.scale = 1.0 / positive(self.name, "rate", params["rate"])
        else:
            self.scale = positive(self.name, "mean", params["mean"])
        self.mean, self.variance = self.scale, self.scale**2

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.scale, n)


class Uniform(Distribution):
    name = "uniform"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.low = non_negative(self.name, "low", params["low"])
        self.high = real(self.name, "high", params["high"])
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
        self.mu = non_negative(self.name, "mean", params["mean"])
        self.sd = non_negative(self.name, "sd", params["sd"])
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
            mean = positive(self.name, "mean", params["mean"])
            cv = non_negative(self.name, "cv", params["cv"])
            s2 = math.log1p(cv * cv)
            self.mu, self.sigma = math.log(mean) - s2 / 2, math.sqrt(s2)
        else:
            self.mu = real(self.name, "mu", params["mu"])
            self.sigma = non_negative(self.name, "sigma", params["sigma"])
        s2 = self.sigma**2
        self.mean = exp_or_inf(self.mu + s2 / 2)
        self.variance = math.expm1(s2) * exp_or_inf(2 * self.mu + s2) if s2 else 0.0

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(self.mu, self.sigma, n)


class Gamma(Distribution):
    name = "gamma"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        if "mean" in params:
            mean = positive(self.name, "mean", params["mean"])
            cv = positive(self.name, "cv", params["cv"])
            self.shape, self.scale = 1 / (cv * cv), mean * cv * cv
        else:
            self.shape = positive(self.name, "shape", params["shape"])
            self.scale = positive(self.name, "scale", params["scale"])
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
        mean = positive(self.name, "mean", params["mean"])
        self.shape, self.scale = float(self.k), mean / self.k
        self.mean, self.variance = mean, mean * mean / self.k


class Weibull(Distribution):
    name = "weibull"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.shape = positive(self.name, "shape", params["shape"])
        self.scale = positive(self.name, "scale", params["scale"])
        g1 = exp_or_inf(math.lgamma(1 + 1 / self.shape))
        g2 = exp_or_inf(math.lgamma(1 + 2 / self.shape))
        self.mean = self.scale * g1
        self.variance = math.inf if math.isinf(g2) else self.scale**2 * max(g2 - g1 * g1, 0.0)

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.scale * rng.weibull(self.shape, n)


class Pareto(Distribution):
    """Pareto with tail index `alpha` from `min`; with `max`, the bounded Pareto on [min, max]."""

    name = "pareto"

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        self.alpha = positive(self.name, "alpha", params["alpha"])
        self.low = positive(self.name, "min", params["min"])
        self.high = math.inf
        if params.get("max") is not None:
            self.high = real(self.name, "max", params["max"])
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
        probs = number_list(self.name, "probs", params["probs"])
        means = number_list(self.name, "means", params["means"])
        if len(probs) != len(means):
            raise ValueError(
                f"hyperexponential needs as many probs as means, got {len(probs)} and {len(means)}"
            )
        for i, m in enumerate(means):
            positive(self.name, f"means[{i}]", m)
        p = probabilities(self.name, "probs", probs, must_sum_to_one=True)
        self.probs, self.means = p, np.asarray(means, dtype=np.float64)
        self._cdf = cumulative(p)
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
            raw = number_list(self.name, "values", params["values"])
            for i, v in enumerate(raw):
                non_negative(self.name, f"values[{i}]", v)
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
            weights.append(real(self.name, f"components[{i}].weight", comp["weight"]))
            try:
                self.components.append(make({k: v for k, v in comp.items() if k != "weight"}))
            except ValueError as e:
                raise ValueError(f"mixture component {i}: {e}") from None
        self.weights = probabilities(self.name, "weights", weights, must_sum_to_one=True)
        self._cdf = cumulative(self.weights)
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
    check_keys(name, params)
    return _KINDS[name](params)
