"""Arrival processes: when a producer instance publishes.

`make(spec, rng)` builds an `ArrivalProcess` from a resolved spec (times in float seconds,
rates per second). `times()` returns an iterator of absolute arrival times, non-decreasing,
generated in numpy blocks and handed out as Python floats through a C-level chain (one
`next()` is one C call). It draws from the process's generator, so call it once per process.

- ``{process: poisson, rate: R}``: homogeneous Poisson; rate 0 gives no arrivals.
- ``{process: poisson, schedule: [{until: T1, rate: R1}, ..., {rate: Rn}]}``: piecewise-constant
  rate (R1 on [0, T1), R2 on [T1, T2), ..., Rn after). Exact: unit-rate Poisson points mapped
  through the inverse of the cumulative rate. A step may have rate 0.
- ``{process: constant, interval: I}`` (or ``rate: R``, I = 1/R): arrivals at 0, I, 2I, ... so a
  window [0, D) with D a multiple of I holds exactly D/I of them.
- ``{process: renewal, interarrival: DIST}``: i.i.d. gaps; the first arrival is after one gap.
- ``{process: bursty, rates: [lo, hi], mean_durations: [dl, dh]}``: two-state Markov-modulated
  Poisson process with exponential sojourns, starting in the low state at time 0.
- ``{process: trace, file: PATH}``: the CSV's `time` column replayed exactly; the optional
  `key`, `type`, `priority`, `service_time` columns are in `rows`, aligned with the times.

`expected_count(t0, t1)` is the expected number of arrivals in [t0, t1) (exact for every process
but `renewal`, where it is the long-run t/mean), `mean_rate(t0, t1)` that count per second.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import math
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sim.random import distributions

__all__ = ["TRACE_COLUMNS", "ArrivalProcess", "make"]

BLOCK = 4096
TRACE_COLUMNS = ("time", "key", "type", "priority", "service_time")


def _number(what: str, value: Any, *, positive: bool = False) -> float:
    """A finite float >= 0 (> 0 with `positive`), or a ValueError for the user."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{what} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return float(value)


def _pair(what: str, value: Any, *, positive: bool) -> tuple[float, float]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ValueError(f"{what} must be a list of two numbers, got {value!r}")
    if len(value) != 2:
        raise ValueError(f"{what} must be a list of two numbers, got {len(value)}")
    return (
        _number(f"{what}[0]", value[0], positive=positive),
        _number(f"{what}[1]", value[1], positive=positive),
    )


def _chain(blocks: Iterator[np.ndarray]) -> Iterator[float]:
    """Python floats, one C call each, from an iterator of numpy blocks."""
    return itertools.chain.from_iterable(block.tolist() for block in blocks)


class ArrivalProcess:
    """A point process on [0, inf): arrival instants and the expected counts behind them.

    The interface every process offers (what the model and the scenario layer read, with no
    need to ask which process it is): ``times()``; ``rows``, the per-arrival fields a trace
    replays (None for generated arrivals); ``long_run_rate``; ``expected_count`` and
    ``mean_rate``; ``spec``, the resolved spec it was made from."""

    name = "process"
    spec: dict[str, Any]  # (each process sets its own)
    rows: dict[str, list[Any]] | None = None  # per-arrival fields (traces only)
    long_run_rate: float  # arrivals per second in the long run (the λ of queueing formulas)

    def times(self) -> Iterator[float]:
        raise NotImplementedError

    def _cumulative(self, t: float) -> float:
        """Expected number of arrivals in [0, t)."""
        raise NotImplementedError

    def expected_count(self, t0: float, t1: float) -> float:
        """Expected number of arrivals in [t0, t1)."""
        if t1 < t0:
            raise ValueError(f"window end {t1} is before its start {t0}")
        return self._cumulative(max(t1, 0.0)) - self._cumulative(max(t0, 0.0))

    def mean_rate(self, t0: float, t1: float) -> float:
        """Expected arrivals per second over [t0, t1)."""
        if not t1 > t0:
            raise ValueError(f"window [{t0}, {t1}) is empty")
        return self.expected_count(t0, t1) / (t1 - t0)

    def __repr__(self) -> str:
        return f"{self.name}({self.spec!r})"


class Poisson(ArrivalProcess):
    """Poisson with a piecewise-constant rate (a single step: homogeneous)."""

    name = "poisson"

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.spec, self._rng = dict(spec), rng
        if "schedule" in spec:
            starts, rates = self._schedule(spec["schedule"])
        else:
            starts, rates = [0.0], [_number("poisson rate", spec["rate"])]
        self.starts = np.asarray(starts)
        self.rates = np.asarray(rates)
        # Cumulative rate at each step's start; the last step never ends.
        self.cum = np.concatenate(([0.0], np.cumsum(self.rates[:-1] * np.diff(self.starts))))
        self.total = math.inf if rates[-1] > 0 else float(self.cum[-1])
        self.long_run_rate = rates[-1]

    @staticmethod
    def _schedule(schedule: Any) -> tuple[list[float], list[float]]:
        if isinstance(schedule, (str, bytes, Mapping)) or not isinstance(schedule, Sequence):
            raise ValueError(f"schedule must be a list of {{until, rate}} steps, got {schedule!r}")
        if not schedule:
            raise ValueError("schedule needs at least one step")
        starts, rates = [0.0], []
        last = len(schedule) - 1
        for i, step in enumerate(schedule):
            if not isinstance(step, Mapping):
                raise ValueError(f"schedule step {i} must be a mapping, got {step!r}")
            unknown = sorted(set(step) - {"until", "rate"})
            if unknown:
                raise ValueError(f"schedule step {i} does not take {', '.join(map(str, unknown))}")
            if "rate" not in step:
                raise ValueError(f"schedule step {i} needs a rate")
            rates.append(_number(f"schedule step {i} rate", step["rate"]))
            if i == last:
                if step.get("until") is not None:
                    raise ValueError("the last schedule step must not have until (it never ends)")
                continue
            if step.get("until") is None:
                raise ValueError(f"schedule step {i} needs until (only the last step has none)")
            until = _number(f"schedule step {i} until", step["until"])
            if until <= starts[-1]:
                raise ValueError(
                    f"schedule step {i} until must be greater than {starts[-1]:g}, got {until:g}"
                )
            starts.append(until)
        return starts, rates

    def times(self) -> Iterator[float]:
        if self.total == 0:
            return iter(())
        if self.rates.size == 1:
            return _chain(self._homogeneous())
        return _chain(self._piecewise())

    def _homogeneous(self) -> Iterator[np.ndarray]:
        rng, scale, last = self._rng, 1.0 / self.rates[0], 0.0
        while True:
            t = np.cumsum(rng.exponential(scale, BLOCK))
            t += last
            last = t[-1]
            yield t

    def _piecewise(self) -> Iterator[np.ndarray]:
        rng, starts, rates, cum = self._rng, self.starts, self.rates, self.cum
        e_last, t_last = 0.0, 0.0
        while True:
            e = np.cumsum(rng.exponential(1.0, BLOCK))  # unit-rate points on the Λ axis
            e += e_last
            e_last = e[-1]
            done = e_last >= self.total
            if done:
                e = e[e < self.total]
            # side="right" skips zero-rate steps: they share their cumulative value with the next.
            j = np.searchsorted(cum, e, side="right") - 1
            t = starts[j] + (e - cum[j]) / rates[j]
            np.maximum.accumulate(t, out=t)  # rounding at a step boundary must not step back
            np.maximum(t, t_last, out=t)
            if t.size:
                t_last = t[-1]
            yield t
            if done:
                return

    def _cumulative(self, t: float) -> float:
        j = int(np.searchsorted(self.starts, t, side="right")) - 1
        return float(self.cum[j] + self.rates[j] * (t - self.starts[j]))


class Constant(ArrivalProcess):
    """Deterministic arrivals at 0, I, 2I, ... (computed as k*I: no drift over long runs)."""

    name = "constant"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)
        if "interval" in spec:
            self.interval = _number("constant interval", spec["interval"], positive=True)
            self.long_run_rate = 1.0 / self.interval
        else:
            self.long_run_rate = _number("constant rate", spec["rate"], positive=True)
            self.interval = 1.0 / self.long_run_rate
        self._by_rate = "interval" not in spec  # k / rate is exact when the rate is a whole number

    def times(self) -> Iterator[float]:
        return _chain(self._blocks())

    def _blocks(self) -> Iterator[np.ndarray]:
        for k0 in itertools.count(0, BLOCK):
            k = np.arange(k0, k0 + BLOCK, dtype=np.float64)
            yield k / self.long_run_rate if self._by_rate else k * self.interval

    def _cumulative(self, t: float) -> float:
        if t <= 0:
            return 0.0
        return float(math.ceil(t * self.long_run_rate if self._by_rate else t / self.interval))


class Renewal(ArrivalProcess):
    """I.i.d. inter-arrival times from any distribution; the first arrival is after one gap."""

    name = "renewal"

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.spec, self._rng = dict(spec), rng
        try:
            self.interarrival = distributions.make(spec["interarrival"])
        except ValueError as e:
            raise ValueError(f"renewal interarrival: {e}") from None
        if not self.interarrival.mean > 0:
            raise ValueError("renewal needs an interarrival distribution with mean > 0")
        self.long_run_rate = 1.0 / self.interarrival.mean  # 0 for an infinite mean

    def times(self) -> Iterator[float]:
        return _chain(self._blocks())

    def _blocks(self) -> Iterator[np.ndarray]:
        draw, rng, last = self.interarrival.sample, self._rng, 0.0
        while True:
            t = np.cumsum(draw(rng, BLOCK))
            t += last
            last = t[-1]
            yield t

    def _cumulative(self, t: float) -> float:
        return t * self.long_run_rate  # the elementary renewal theorem's long-run count


class Bursty(ArrivalProcess):
    """Two-state MMPP: Poisson at `rates[s]` while in state s, exponential sojourns of mean
    `mean_durations[s]`, alternating low (0) and high (1), starting low at time 0."""

    name = "bursty"

    def __init__(self, spec: Mapping[str, Any], rng: np.random.Generator) -> None:
        self.spec, self._rng = dict(spec), rng
        self.low, self.high = _pair("bursty rates", spec["rates"], positive=False)
        self.dl, self.dh = _pair("bursty mean_durations", spec["mean_durations"], positive=True)
        self.long_run_rate = (self.low * self.dl + self.high * self.dh) / (self.dl + self.dh)

    def times(self) -> Iterator[float]:
        if self.low == 0 and self.high == 0:
            return iter(())
        return _chain(self._blocks())

    def _blocks(self) -> Iterator[np.ndarray]:
        rng = self._rng
        per_cycle = self.low * self.dl + self.high * self.dh  # expected arrivals per low+high
        cycles = int(min(max(math.ceil(BLOCK / per_cycle), 1), 65536))
        means = np.tile([self.dl, self.dh], cycles)
        rates = np.tile([self.low, self.high], cycles)
        start = 0.0
        while True:
            d = rng.exponential(1.0, means.size) * means
            ends = np.cumsum(d)
            ends += start
            begins = ends - d
            counts = rng.poisson(rates * d)  # given its length, a sojourn's points are uniform
            t = np.repeat(begins, counts) + rng.random(int(counts.sum())) * np.repeat(d, counts)
            t.sort()  # sojourns are disjoint and consecutive: one sort orders everything
            start = float(ends[-1])
            yield t

    def _cumulative(self, t: float) -> float:
        # P(high at t | low at 0) = pi_h (1 - exp(-q t)), with q the sum of the switch rates.
        q = 1.0 / self.dl + 1.0 / self.dh
        pi_h = self.dh / (self.dl + self.dh)
        high_time = pi_h * (t + math.expm1(-q * t) / q)  # expected time spent high in [0, t)
        return self.low * t + (self.high - self.low) * high_time


class Trace(ArrivalProcess):
    """Arrival times (and optional per-arrival fields) replayed from a CSV file."""

    name = "trace"

    def __init__(self, spec: Mapping[str, Any]) -> None:
        self.spec = dict(spec)
        path = spec["file"]
        if not isinstance(path, str) or not path:
            raise ValueError(f"trace needs a file path, got {path!r}")
        self.path = path
        self._times, self.rows = _read_trace(path)
        last = self._times[-1]
        self.long_run_rate = len(self._times) / last if last > 0 else math.inf

    def __len__(self) -> int:
        return len(self._times)

    def times(self) -> Iterator[float]:
        return iter(self._times)

    def _cumulative(self, t: float) -> float:
        return float(bisect.bisect_left(self._times, t))


def _read_trace(path: str) -> tuple[list[float], dict[str, list[Any]]]:
    """The times and the other present columns of a trace CSV; errors name the line."""
    times: list[float] = []
    columns: dict[str, list[Any]] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise ValueError(f"trace file {path} is empty")
            names = [h.strip() for h in header]
            unknown = [n for n in names if n not in TRACE_COLUMNS]
            if unknown or "time" not in names or len(set(names)) != len(names):
                raise ValueError(
                    f"trace file {path}: the header must name a time column and optionally "
                    f"{', '.join(TRACE_COLUMNS[1:])} (each once), got {', '.join(names)}"
                )
            columns = {n: [] for n in names if n != "time"}
            # A list[Any] each, so the time column (floats) and the others share one loop.
            parsers: list[tuple[Callable[[str, str], Any], list[Any]]] = [
                (_TRACE_PARSERS[n], times if n == "time" else columns[n]) for n in names
            ]
            previous = 0.0
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                where = f"trace file {path}, line {reader.line_num}"
                if len(row) != len(names):
                    raise ValueError(f"{where}: expected {len(names)} cells, got {len(row)}")
                for (parse, out), cell in zip(parsers, row, strict=True):
                    out.append(parse(cell.strip(), where))
                if times[-1] < previous:
                    raise ValueError(
                        f"{where}: time {times[-1]:g} is before the previous row's {previous:g}"
                        " (times must be non-decreasing)"
                    )
                previous = times[-1]
    except OSError as e:
        raise ValueError(f"cannot read trace file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"cannot read trace file {path}: not a UTF-8 text file") from None
    if not times:
        raise ValueError(f"trace file {path} has no rows")
    return times, columns


def _parse_time(cell: str, where: str) -> float:
    try:
        t = float(cell)
    except ValueError:
        raise ValueError(f"{where}: time {cell!r} is not a number") from None
    if not math.isfinite(t) or t < 0:
        raise ValueError(f"{where}: time must be >= 0, got {cell!r}")
    return t


def _parse_text(cell: str, where: str) -> str | None:
    return cell or None


def _parse_priority(cell: str, where: str) -> int | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not value.is_integer():
        raise ValueError(f"{where}: priority must be an integer, got {cell!r}")
    return int(value)


def _parse_service_time(cell: str, where: str) -> float | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{where}: service_time {cell!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{where}: service_time must be >= 0, got {cell!r}")
    return value


_TRACE_PARSERS = {
    "time": _parse_time,
    "key": _parse_text,
    "type": _parse_text,
    "priority": _parse_priority,
    "service_time": _parse_service_time,
}


def make(spec: Mapping[str, Any], rng: np.random.Generator) -> ArrivalProcess:
    """The arrival process of a resolved `arrivals` spec, drawing from `rng`."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"arrivals must be a mapping with process:, got {spec!r}")
    spec = {k: v for k, v in spec.items() if v is not None}  # a null key is an absent one
    kind = spec.get("process")
    keys = set(spec) - {"process"}
    forms: dict[str, list[set[str]]] = {
        "poisson": [{"rate"}, {"schedule"}],
        "constant": [{"interval"}, {"rate"}],
        "renewal": [{"interarrival"}],
        "bursty": [{"rates", "mean_durations"}],
        "trace": [{"file"}],
    }
    if kind not in forms:
        raise ValueError(f"unknown arrival process {kind!r}; expected one of {', '.join(forms)}")
    if keys not in forms[kind]:
        wanted = " or ".join(", ".join(sorted(f)) for f in forms[kind])
        got = ", ".join(sorted(map(str, keys))) or "nothing"
        raise ValueError(f"{kind} arrivals take {wanted}, got {got}")
    if kind == "poisson":
        return Poisson(spec, rng)
    if kind == "constant":
        return Constant(spec)
    if kind == "renewal":
        return Renewal(spec, rng)
    if kind == "bursty":
        return Bursty(spec, rng)
    return Trace(spec)
