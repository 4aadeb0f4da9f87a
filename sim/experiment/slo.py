"""Service levels: ``latency.p99<=1s``, ``lost==0``, parsed, checked and judged with intervals.

An SLO names one figure of ``summary.json`` by its dotted name (`sim.figures`;
``lost`` and ``duplicate_processing`` are read as ``totals.lost`` and
``totals.duplicate_processing``), an operator (``<=``, ``<``, ``>=``, ``>``, ``==``) and a
threshold. A threshold on a time figure may carry a unit (``1s``, ``250ms``), one on a ratio
(utilization, reordered ratio) may be a percentage (``80%``).

A point is judged on its replications' mean and 95% confidence half-width, never on the mean
alone where an interval exists: it *meets* ``<=`` when the interval's upper end is at most the
threshold, *fails* when its lower end is above it, and is *unsure* when the interval straddles
the threshold (the caller adds replications, then judges on the mean and says it is not sure).
``==`` is exact: it holds when every replication has the value (a mean equal to it with no
spread); one replication off is a failure, and a sure one. A figure no replication measured
(a null latency: nothing completed) fails: it cannot be shown to meet anything.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.figures import unit
from sim.format import percent, show_figure
from sim.scenario import ScenarioError
from sim.scenario.errors import Problem
from sim.scenario.units import parse_duration

OPERATORS = ("<=", ">=", "==", "<", ">")  # longest first: "<=" is not "<" then "=2"
SHORTHAND_PREFIX = "totals."  # ``lost==0`` means ``totals.lost==0``
SYMBOL = {"<=": "≤", ">=": "≥", "==": "=", "<": "<", ">": ">"}

Verdict = Literal["meets", "fails", "unsure"]
MEETS: Verdict = "meets"
FAILS: Verdict = "fails"
UNSURE: Verdict = "unsure"

_SLO_RE = re.compile(r"^\s*([A-Za-z0-9_.\-\[\]]+)\s*(<=|>=|==|<|>)\s*(\S.*?)\s*$")
_EXACT = 1e-9  # relative: equal up to floating-point rounding


class SLOError(ScenarioError):
    """A malformed ``--slo`` or one on a figure the summary does not have (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("", None, message)])


@dataclass(frozen=True)
class SLO:
    """One service level: ``figure op threshold`` (threshold in the figure's own unit)."""

    figure: str
    op: str
    threshold: float
    text: str  # as the user wrote it

    def __str__(self) -> str:
        return f"{self.figure} {SYMBOL[self.op]} {show_figure(self.figure, self.threshold)}"

    def holds(self, value: float) -> bool:
        """Whether a single value satisfies the SLO (no interval)."""
        if value is None or not math.isfinite(value):
            return False
        if self.op == "==":
            return _equal(value, self.threshold)
        return {"<=": value <= self.threshold, "<": value < self.threshold,
                ">=": value >= self.threshold, ">": value > self.threshold}[self.op]

    @property
    def upper(self) -> bool:
        """Whether the SLO bounds the figure from above (``<=``, ``<``): lower is better."""
        return self.op in ("<=", "<")

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "figure": self.figure, "op": self.op,
                "threshold": self.threshold}


def parse_slo(text: str) -> SLO:
    """``"latency.p99<=1s"`` -> SLO; SLOError naming ``--slo`` when malformed."""
    match = _SLO_RE.match(str(text))
    if not match:
        raise SLOError(f"--slo {text}: expected FIGURE OP THRESHOLD with OP one of "
                       "<=, <, >=, >, ==, e.g. 'latency.p99<=1s' or 'lost==0'")
    figure, op, raw = match.groups()
    return SLO(figure, op, _threshold(figure, raw, text, known=False), str(text).strip())


def _threshold(figure: str, raw: str, text: str, known: bool = True) -> float:
    """The threshold in the figure's unit. Before the figure is known to exist (``known``
    False) a duration is also taken, so a misspelt time figure gets its did-you-mean from
    :func:`resolve_slo` rather than a complaint about its unit."""
    kind = unit(figure)
    if not known and kind != "s":
        try:
            return _threshold(figure, raw, text)
        except SLOError:
            try:
                return parse_duration(raw)
            except ValueError:
                pass
    try:
        if kind == "s":
            value = parse_duration(float(raw) if _is_number(raw) else raw)
        elif raw.endswith("%"):
            value = float(raw[:-1]) / 100.0
        else:
            value = float(raw)
        if not math.isfinite(value):
            raise ValueError("not a finite number")
    except ValueError as error:
        wanted = ("a duration such as 1s or 250ms" if kind == "s"
                  else "a number (a percentage such as 80% for a ratio)")
        raise SLOError(f"--slo {text}: the threshold {raw!r} is not {wanted} ({error})"
                       ) from None
    return value


def _is_number(raw: str) -> bool:
    try:
        float(raw)
    except ValueError:
        return False
    return True


def resolve_slo(slo: SLO, names: Iterable[str]) -> SLO:
    """``slo`` with its figure found among ``names`` (a summary's flattened figures):
    ``lost`` becomes ``totals.lost``; SLOError with a did-you-mean when there is none."""
    known = list(names)
    for figure in (slo.figure, SHORTHAND_PREFIX + slo.figure):
        if figure in known:
            return SLO(figure, slo.op, _threshold(figure, _raw(slo), slo.text), slo.text)
    close = difflib.get_close_matches(slo.figure, known, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(SHORTHAND_PREFIX + slo.figure, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise SLOError(f"--slo {slo.text}: no figure named {slo.figure!r} in summary.json{hint}")


def _raw(slo: SLO) -> str:
    match = _SLO_RE.match(slo.text)
    return match.group(3) if match else repr(slo.threshold)


def judge(slo: SLO, mean: float, half: float) -> Verdict:
    """Meets, fails or unsure, from the mean and 95% half-width (NaN: one replication, judged
    on the mean, which is then never sure; see the module's docstring)."""
    if mean is None or not math.isfinite(mean):
        return FAILS
    if slo.op == "==":
        if not _equal(mean, slo.threshold):
            return FAILS  # a replication is off the value: surely not always equal
        if half is None or not math.isfinite(half):
            return UNSURE  # one replication: equal this once
        return MEETS if half == 0 else FAILS
    if half is None or not math.isfinite(half):
        return UNSURE
    low, high = mean - half, mean + half
    if slo.upper:
        if slo.holds(high):
            return MEETS
        return FAILS if not slo.holds(low) else UNSURE
    if slo.holds(low):
        return MEETS
    return FAILS if not slo.holds(high) else UNSURE


def judge_all(slos: Iterable[SLO], figures: Mapping[str, tuple[float, float]]
              ) -> dict[str, Verdict]:
    """Per SLO text, its verdict from ``figures`` (``{figure: (mean, half)}``)."""
    out: dict[str, Verdict] = {}
    for slo in slos:
        mean, half = figures.get(slo.figure, (math.nan, math.nan))
        out[slo.text] = judge(slo, mean, half)
    return out


def lean(slo: SLO, mean: float) -> bool:
    """An unsure point's verdict once the budget is spent: the side its mean is on."""
    return slo.holds(mean)


def better(slo: SLO, a: float, b: float) -> bool:
    """Whether value ``a`` is nearer to meeting ``slo`` than ``b`` (NaN is never better)."""
    if a is None or not math.isfinite(a):
        return False
    if b is None or not math.isfinite(b):
        return True
    if slo.op == "==":
        return abs(a - slo.threshold) < abs(b - slo.threshold)
    return a < b if slo.upper else a > b


def show_threshold(slo: SLO, value: float) -> str:
    """A value of the SLO's figure in its unit."""
    if unit(slo.figure) == "ratio":
        return percent(value)
    return show_figure(slo.figure, value)


def _equal(a: float, b: float) -> bool:
    return abs(a - b) <= _EXACT * max(1.0, abs(a), abs(b))


# --------------------------------------------------------------------------- sweeps

COST = "cost.total"  # with it in a sweep's table, the best passing point is the cheapest


def point_verdict(row: Mapping[Any, Any], rules: Iterable[SLO]) -> Verdict:
    """One sweep point's verdict on every SLO at once, from its ``X`` and ``X_ci``."""
    verdicts = [judge(r, _float(row.get(r.figure)), _float(row.get(r.figure + "_ci")))
                for r in rules]
    if FAILS in verdicts:
        return FAILS
    return UNSURE if UNSURE in verdicts else MEETS


def best_point(table: Any, rules: Sequence[SLO]) -> int | None:
    """The row of the best point that surely meets every SLO: the cheapest (lowest
    ``cost.total``) when the table has costs, else the first in the grid's order; None."""
    rows = [i for i in range(len(table))
            if point_verdict(table.iloc[i], rules) == MEETS]
    if not rows:
        return None
    if COST in table and table[COST].notna().any():
        priced = [i for i in rows if math.isfinite(_float(table[COST].iloc[i]))]
        if priced:
            return min(priced, key=lambda i: float(table[COST].iloc[i]))
    return rows[0]


def sweep_lines(table: Any, parameters: Sequence[str], rules: Sequence[SLO]) -> list[str]:
    """What ``sweep --slo`` prints under its table: each point's verdict, the best one."""
    from sim.experiment.grid import describe

    def name(i: int) -> str:
        return describe({p: table[p].iloc[i] for p in parameters})

    verdicts = [point_verdict(table.iloc[i], rules) for i in range(len(table))]
    lines = ["SLO " + " and ".join(str(r) for r in rules) + " (judged on the 95% interval):"]
    lines += [f"  {name(i)}: {v}" for i, v in enumerate(verdicts)]
    best = best_point(table, rules)
    if best is None:
        lines.append("best passing point: none surely meets every SLO")
    else:
        how = "the cheapest" if COST in table else "the first in the grid's order"
        lines.append(f"best passing point: {name(best)} ({how} that surely meets every SLO)")
    return lines


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan
