"""Value generators for message fields (key, type, priority, size, headers).

`make(spec, rng)` turns a resolved generator spec into a `ValueGenerator` whose `next` is a
C-level zero-argument callable returning a plain Python value (str, int, float or bool):

- a literal (``"eu"``, ``3``, ``1.5``, ``true``): always that value;
- ``{choice: [a, b, c]}``: uniform; ``{choice: {a: 0.7, b: 0.3}}``: weighted (normalised);
- ``{zipf: {n: 1000, s: 1.1}, prefix: "user-"}``: rank k in 1..n with P(k) ∝ k^-s, as
  ``prefix + str(k)`` (or the int k without a prefix); finite support, so any s >= 0 works;
- ``{sequence: "order-"}``: ``"order-1"``, ``"order-2"``, ... counted per generator;
- ``{uniform_int: [lo, hi]}``: an integer in [lo, hi], both ends included.

Random generators draw numpy blocks and hand out their `tolist()` items, as the distributions do.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, SupportsInt, cast

import numpy as np

from sim.random.streams import stream

__all__ = ["MAX_ZIPF_N", "ValueGenerator", "make", "make_fields"]

Value = str | int | float | bool

BLOCK = 4096
MAX_ZIPF_N = 10_000_000  # the zipf table costs 8 bytes per rank
_TABLE_LIMIT = 100_000  # up to this many ranks, the prefixed strings are built once


def _is_literal(value: Any) -> bool:
    return isinstance(value, (str, bool, numbers.Integral, numbers.Real))


def _literal(value: Any, where: str) -> Value:
    """`value` as a plain Python literal (numpy scalars become Python ones)."""
    if not _is_literal(value):
        raise ValueError(f"{where} must be a string, number or boolean, got {value!r}")
    if isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    return float(value)


def _integer(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != _int(value):
        raise ValueError(f"{where} must be an integer, got {value!r}")
    return _int(value)


def _int(value: numbers.Real) -> int:
    # typeshed's numbers.Real has no __int__, but every real a scenario holds (Python's and
    # numpy's numbers) does.
    return int(cast(SupportsInt, value))


def _cdf(weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights / weights.sum())
    cdf[-1] = 1.0  # so every u in [0, 1) finds an index
    return cdf


class ValueGenerator:
    """Produces one field value per message; `next()` is the fast call."""

    next: Callable[[], Any]
    is_constant: bool = False
    support: list[Any] | None = None  # the possible values, when few enough to list
    probs: np.ndarray | None = None  # their probabilities, aligned with `support`

    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"


class Constant(ValueGenerator):
    is_constant = True

    def __init__(self, value: Value) -> None:
        super().__init__(value)
        self.value = value
        self.support, self.probs = [value], np.ones(1)
        self.next = itertools.repeat(value).__next__


def _table_stream(
    rng: np.random.Generator, table: np.ndarray, cdf: np.ndarray | None
) -> Iterator[Any]:
    """Items of `table` drawn with the probabilities behind `cdf` (None: uniform), in blocks."""
    def blocks() -> Iterator[list[Any]]:
        n = table.size
        while True:
            if cdf is None:
                idx = rng.integers(0, n, BLOCK)
            else:
                idx = np.searchsorted(cdf, rng.random(BLOCK), side="right")
            yield table[idx].tolist()

    return itertools.chain.from_iterable(blocks())


def _object_table(values: Sequence[Any]) -> np.ndarray:
    table = np.empty(len(values), dtype=object)
    table[:] = list(values)  # item by item: never let numpy reinterpret nested values
    return table


class Choice(ValueGenerator):
    """One of a list of literals: uniform for a list, weighted for a mapping value -> weight."""

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        super().__init__(spec)
        options = spec["choice"]
        if isinstance(options, Mapping):
            if not options:
                raise ValueError("choice needs at least one value")
            values = [_literal(v, "a choice value") for v in options]
            weights = []
            for v, w in options.items():
                if isinstance(w, bool) or not isinstance(w, numbers.Real) or not math.isfinite(w):
                    raise ValueError(f"choice weight of {v!r} must be a number, got {w!r}")
                if w < 0:
                    raise ValueError(f"choice weight of {v!r} must be >= 0, got {w!r}")
                weights.append(float(w))
            if sum(weights) <= 0:
                raise ValueError("choice weights must not all be zero")
            kept = [(v, w) for v, w in zip(values, weights, strict=True) if w > 0]
            values = [v for v, _ in kept]
            probs = np.array([w for _, w in kept])
            probs /= probs.sum()
        elif isinstance(options, Sequence) and not isinstance(options, (str, bytes)):
            if not options:
                raise ValueError("choice needs at least one value")
            values = [_literal(v, "a choice value") for v in options]
            probs = np.full(len(values), 1.0 / len(values))
        else:
            raise ValueError(f"choice needs a list or a mapping of value: weight, got {options!r}")
        self.support, self.probs = values, probs
        self.is_constant = len({(type(v), v) for v in values}) == 1  # 1 and True differ
        cdf = None if isinstance(options, Sequence) else _cdf(probs)
        self.next = _table_stream(rng, _object_table(values), cdf).__next__


class Zipf(ValueGenerator):
    """Rank k in 1..n with P(k) ∝ k^-s (hot keys: rank 1 is the hottest)."""

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        super().__init__(spec)
        params = spec["zipf"]
        if not isinstance(params, Mapping) or set(params) != {"n", "s"}:
            raise ValueError(f"zipf needs {{n: ..., s: ...}}, got {params!r}")
        self.n = _integer(params["n"], "zipf n")
        if not 1 <= self.n <= MAX_ZIPF_N:
            raise ValueError(f"zipf needs 1 <= n <= {MAX_ZIPF_N}, got {self.n}")
        s = params["s"]
        if isinstance(s, bool) or not isinstance(s, numbers.Real) or not math.isfinite(s) or s < 0:
            raise ValueError(f"zipf needs s >= 0, got {s!r}")
        self.s = float(s)
        prefix = spec.get("prefix")
        if prefix is not None and not isinstance(prefix, str):
            raise ValueError(f"zipf prefix must be a string, got {prefix!r}")
        self.prefix = prefix
        weights = np.arange(1, self.n + 1, dtype=np.float64) ** -self.s
        self.probs = weights / weights.sum()
        self.is_constant = self.n == 1
        cdf = _cdf(weights)
        if prefix is None or self.n <= _TABLE_LIMIT:
            table = np.arange(1, self.n + 1, dtype=np.int64)
            if prefix is not None:
                table = _object_table([f"{prefix}{k}" for k in range(1, self.n + 1)])
            self.next = _table_stream(rng, table, cdf).__next__
        else:  # too many ranks to keep every string: format the drawn ranks block by block

            def blocks() -> Iterator[list[str]]:
                while True:
                    ranks = np.searchsorted(cdf, rng.random(BLOCK), side="right") + 1
                    yield [f"{prefix}{k}" for k in ranks.tolist()]

            self.next = itertools.chain.from_iterable(blocks()).__next__

    # A read-only property over the base's plain attribute: the ranks are listed on demand.
    @property
    def support(self) -> list[Any]:  # type: ignore[override]
        ranks = range(1, self.n + 1)
        return list(ranks) if self.prefix is None else [f"{self.prefix}{k}" for k in ranks]


class SequenceGen(ValueGenerator):
    """``prefix1``, ``prefix2``, ...: unique per generator (ids, ordered keys)."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__(spec)
        prefix = spec["sequence"]
        if not isinstance(prefix, str):
            raise ValueError(f"sequence needs a string prefix, got {prefix!r}")
        self.prefix = prefix

        def blocks() -> Iterator[list[str]]:
            for first in itertools.count(1, BLOCK):
                yield [f"{prefix}{k}" for k in range(first, first + BLOCK)]

        self.next = itertools.chain.from_iterable(blocks()).__next__


class UniformInt(ValueGenerator):
    """An integer in [lo, hi], both ends included."""

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        super().__init__(spec)
        bounds = spec["uniform_int"]
        if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
            raise ValueError(f"uniform_int needs [lo, hi], got {bounds!r}")
        self.low = _integer(bounds[0], "uniform_int lo")
        self.high = _integer(bounds[1], "uniform_int hi")
        if self.high < self.low:
            raise ValueError(f"uniform_int needs lo <= hi, got [{self.low}, {self.high}]")
        self.is_constant = self.low == self.high
        low, high = self.low, self.high + 1

        def blocks() -> Iterator[list[int]]:
            while True:
                yield rng.integers(low, high, BLOCK).tolist()

        self.next = itertools.chain.from_iterable(blocks()).__next__


class MappingGen(ValueGenerator):
    """A dict of generated values (message `headers`): a fresh dict per call."""

    def __init__(self, fields: Mapping[str, ValueGenerator]) -> None:
        super().__init__({k: g.spec for k, g in fields.items()})
        self.fields = dict(fields)
        self.is_constant = all(g.is_constant for g in fields.values())
        keys = tuple(fields)
        nexts = tuple(g.next for g in fields.values())
        self.next = lambda: dict(zip(keys, [f() for f in nexts], strict=True))


_FORMS = ("choice", "zipf", "sequence", "uniform_int")


def make(spec: Any, rng: np.random.Generator) -> ValueGenerator:
    """The generator of a resolved field spec: a literal or one of the mapping forms above."""
    if _is_literal(spec):
        return Constant(_literal(spec, "a value"))
    if not isinstance(spec, Mapping):
        raise ValueError(f"a value must be a literal or a generator mapping, got {spec!r}")
    forms = [k for k in _FORMS if k in spec]
    if len(forms) != 1:
        raise ValueError(
            f"a value generator needs exactly one of {', '.join(_FORMS)}, got {', '.join(spec)}"
        )
    form = forms[0]
    allowed = {form, "prefix"} if form == "zipf" else {form}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(f"{form} does not take {', '.join(map(str, unknown))}")
    if form == "choice":
        return Choice(spec, rng)
    if form == "zipf":
        return Zipf(spec, rng)
    if form == "sequence":
        return SequenceGen(spec)
    return UniformInt(spec, rng)


def make_fields(
    message_spec: Mapping[str, Any], seed: int, producer: str
) -> dict[str, ValueGenerator]:
    """One generator per message field, each on stream ``producers.P.message.FIELD``.

    `headers` is a mapping of generators (each on ``producers.P.message.headers.NAME``) and
    becomes one generator returning a dict.
    """
    fields: dict[str, ValueGenerator] = {}
    for field, spec in message_spec.items():
        base = f"producers.{producer}.message.{field}"
        if field == "headers":
            if not isinstance(spec, Mapping):
                raise ValueError(f"headers must be a mapping of name: generator, got {spec!r}")
            parts = {}
            for name, sub in spec.items():
                try:
                    parts[str(name)] = make(sub, stream(seed, f"{base}.{name}"))
                except ValueError as e:
                    raise ValueError(f"headers.{name}: {e}") from None
            fields[field] = MappingGen(parts)
        else:
            try:
                fields[field] = make(spec, stream(seed, base))
            except ValueError as e:
                raise ValueError(f"{field}: {e}") from None
    return fields
