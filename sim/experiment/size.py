"""Sizing: the smallest (or largest) value of one setting that meets every service level.

A sweep simulates every point a user picked and leaves the reading to them; ``size`` answers
the question directly and simulates few points. The candidate values are the range
``LO..HI`` (whole numbers, or every ``step`` for durations and fractions); meeting the SLOs is
assumed monotone in the setting (more workers never make the p99 worse), and checked:

1. **Bracket with what is known.** A value whose offered load is above a queue's capacity
   (utilization >= 1; the scenario's load check) fails every SLO that bounds a time figure
   from above, so the values before the first stable one are failures, not simulated. Where
   the scenario is a textbook queue (`sim.experiment.theory`: M/M/c and kin), the closed form
   gives a first guess: the first value theory says meets the SLOs it covers.
2. **Bisect** between the largest value known to fail and the smallest known to meet, with
   common random numbers: replication ``i`` of every point runs with the same seed, so two
   points differ by the setting, not by the dice. A point is judged on each SLO's confidence
   interval (`sim.experiment.slo`); a point whose interval straddles a threshold gets more
   replications, up to the budget, before it is judged, and the answer says how sure it is.
3. **Check the monotonicity** on what was simulated: a figure that moves the wrong way by
   more than its intervals (or a verdict out of order) means the bisection's premise is
   wrong; the search then simulates every value of the bracket (a grid) and says so.

``minimize`` (``--minimize cost.total``): among the values that meet the SLOs, the one with
the lowest mean of that figure, found by walking up from the smallest feasible value while the
figure keeps falling (it is assumed to have one minimum over the feasible values; the grid
fallback makes no assumption).

Where replications run (``jobs``, ``cluster``) never changes the answer: the extra
replications are decided on the replications in index order, as the stop rule does.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.experiment import executors, grid, theory
from sim.experiment import slo as slos_
from sim.experiment.replications import Design, Precision, half_widths, run_designs
from sim.experiment.sweep import OVERLOAD
from sim.experiment.units import Outcome, Unit
from sim.figures import flatten, unit
from sim.progress import NotedProgress
from sim.random.streams import replication_seed
from sim.results import manifest, safe_name, write_folder
from sim.scenario import Scenario, ScenarioError, memory
from sim.scenario.errors import Problem
from sim.scenario.overrides import split_path
from sim.scenario.units import parse_duration

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND = "size"
REPLICATIONS = 5  # per point when the scenario asks for fewer
BUDGET_FACTOR = 4  # default budget: this many times the first replications, per point
SMALLEST, LARGEST = "smallest", "largest"
FLAT = 0.01  # relative: a wrong-way move this small does not make a figure non-monotone


class SizeError(ScenarioError):
    """A ``--param`` range or setting ``size`` cannot search (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__([Problem("", None, message)])


# --------------------------------------------------------------------------- the parameter


@dataclass(frozen=True)
class Param:
    """The setting searched and its candidate values, in increasing order."""

    path: str
    low: float
    high: float
    step: float
    values: list[Any]
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "low": self.low, "high": self.high, "step": self.step,
                "values": len(self.values), "text": self.text}


def parse_param(text: str, step: Any = None) -> tuple[str, Any, Any, Any]:
    """``"workers.api.count=1..64"`` -> ``(path, low, high, step)`` as written."""
    key, sep, span = str(text).partition("=")
    low, dots, high = span.partition("..")
    if not sep or not key.strip() or not dots or not low.strip() or not high.strip():
        raise SizeError(f"--param {text}: expected KEY=LO..HI, e.g. workers.api.count=1..64 "
                        "(durations and fractions with --step, e.g. "
                        "queues.q.visibility_timeout=5s..60s --step 5s)")
    return key.strip(), low.strip(), high.strip(), step


def _number(raw: Any, what: str) -> tuple[float, bool]:
    """(value, whole) of a bound or step: a number, or a duration with a unit (seconds)."""
    if isinstance(raw, bool):
        raise SizeError(f"{what}: {raw!r} is not a number")
    if isinstance(raw, (int, float)):
        return float(raw), isinstance(raw, int) or float(raw).is_integer()
    text = str(raw).strip()
    try:
        return float(int(text)), True
    except ValueError:
        pass
    try:
        value = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        return value, False
    except ValueError:
        pass
    try:
        return parse_duration(text), False
    except ValueError:
        raise SizeError(f"{what}: {text!r} is not a number or a duration such as 30s"
                        ) from None


def make_param(scenario: Scenario, path: str, low: Any, high: Any, step: Any = None) -> Param:
    """The candidate values of ``path`` over ``low..high``; SizeError when the setting does
    not exist, is not a number, or the range is reversed or holds one value."""
    current = _setting(scenario.data, path)
    if isinstance(current, bool) or not (current is None or isinstance(current, (int, float))):
        raise SizeError(f"--param {path}: the scenario's value is {current!r}, not a number; "
                        "size searches a numeric setting (a count, a duration, a fraction)")
    text = f"{path}={low}..{high}"
    lo, lo_whole = _number(low, f"--param {text}")
    hi, hi_whole = _number(high, f"--param {text}")
    if step is None:
        if not (lo_whole and hi_whole):
            raise SizeError(f"--param {text}: a range of durations or fractions needs "
                            "--step, e.g. --step 0.05 or --step 100ms")
        size, whole = 1.0, True
    else:
        size, step_whole = _number(step, f"--step {step}")
        if not size > 0:
            raise SizeError(f"--step {step}: must be above 0")
        whole = lo_whole and hi_whole and step_whole and isinstance(current, int)
    if hi < lo:
        raise SizeError(f"--param {text}: the range is reversed (write the low value first)")
    count = math.floor((hi - lo) / size + 1e-9) + 1
    if count < 2:
        raise SizeError(f"--param {text}: the range holds one value; size needs at least two "
                        "to search (widen the range or use a smaller --step)")
    values: list[Any] = [round(lo + i * size) if whole else round(lo + i * size, 12)
                         for i in range(count)]
    return Param(path, lo, hi, size, values, text + ("" if step is None else f" step {step}"))


def _setting(data: dict[str, Any], path: str) -> Any:
    """The resolved scenario's value at ``path``; SizeError with a did-you-mean if none."""
    parts = split_path(path)
    if parts is None:
        raise SizeError(f"--param {path}: not a valid path (dotted keys, e.g. "
                        "workers.api.count)")
    current: Any = data
    walked: list[str] = []
    for part in parts:
        inside = (part in current if isinstance(current, dict) else
                  isinstance(current, list) and isinstance(part, int) and part < len(current))
        if inside:
            current = current[part]
        else:
            keys = [str(k) for k in current] if isinstance(current, dict) else []
            close = difflib.get_close_matches(str(part), keys, n=1)
            where = ".".join([*walked, str(part)])
            hint = f"; did you mean {'.'.join([*walked, close[0]])!r}?" if close else ""
            raise SizeError(f"--param {path}: the scenario has no setting {where}{hint}")
        walked.append(str(part))
    return current


# --------------------------------------------------------------------------- points


@dataclass
class Point:
    """One simulated value: its figures' means and half-widths, and the SLOs' verdicts."""

    value: Any
    replications: int
    figures: dict[str, tuple[float, float]]  # figure -> (mean, 95% half-width)
    verdicts: dict[str, slos_.Verdict]  # SLO text -> meets | fails | unsure (after the budget)
    meets: bool  # every SLO met (an unsure one counted on the side of its mean)
    sure: bool  # no verdict left unsure

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "replications": self.replications,
                "figures": {k: {"mean": _json(m), "ci95": _json(h)}
                            for k, (m, h) in self.figures.items()},
                "verdicts": self.verdicts, "meets": self.meets, "sure": self.sure}


def _json(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class Sizing:
    """A finished search: the answer (None when no value meets every SLO) and every point."""

    scenario: dict[str, Any]
    param: Param
    slos: list[slos_.SLO]
    direction: str
    answer: Any
    sure: bool
    search: str  # "bisection" or "grid"
    evaluated: list[Point]  # in the order they were simulated
    not_simulated: list[dict[str, Any]] = field(default_factory=list)  # value, reason
    guess: dict[str, Any] | None = None  # value, source
    notes: list[str] = field(default_factory=list)
    minimize: str | None = None
    smallest_meeting: Any = None  # with minimize: the boundary value
    out_of_reach: list[dict[str, Any]] = field(default_factory=list)
    theory: list[dict[str, float]] = field(default_factory=list)  # per value, or []
    wall_seconds: float = 0.0
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.param.path.split(".")[-1]

    def point(self, value: Any) -> Point | None:
        """The simulated point of ``value``, or None."""
        return next((p for p in self.evaluated if p.value == value), None)

    @property
    def below(self) -> Any:
        """The value just before the answer in the search's order (the next one that
        fails), or None when the answer is the range's first value or there is no answer."""
        if self.answer is None:
            return None
        order = self._order()
        at = order.index(self.answer)
        return order[at - 1] if at > 0 else None

    def _order(self) -> list[Any]:
        values = list(self.param.values)
        return values if self.direction == SMALLEST else values[::-1]

    def table(self) -> pd.DataFrame:
        """One row per simulated value, in increasing order: value, replications, each
        figure's mean and ``_ci``, each SLO's verdict, ``meets``."""
        rows = []
        for p in sorted(self.evaluated, key=lambda p: p.value):
            row: dict[str, Any] = {self.param.path: p.value, "replications": p.replications}
            for figure, (mean, half) in p.figures.items():
                row[figure] = mean
                row[figure + "_ci"] = half
            row.update(p.verdicts)
            row["meets"] = p.meets
            rows.append(row)
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """The content of ``size.json``."""
        return {
            "kind": KIND, "scenario": self.scenario.get("name"),
            "param": {**self.param.as_dict(), "direction": self.direction},
            "slo": [s.as_dict() for s in self.slos],
            "minimize": self.minimize, "answer": self.answer, "sure": self.sure,
            "smallest_meeting": self.smallest_meeting if self.minimize else None,
            "search": self.search, "first_guess": self.guess, "notes": self.notes,
            "out_of_reach": self.out_of_reach,
            "evaluated": [p.as_dict() for p in self.evaluated],
            "not_simulated": self.not_simulated,
            "theory": [{"value": v, **{k: _json(x) for k, x in t.items()}}
                       for v, t in zip(self.param.values, self.theory, strict=False) if t],
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def plot(self) -> Figure:
        """Each SLO figure (and the minimized one) against the setting: means with 95%
        bands, the threshold line, the answer marked."""
        from sim.plots.size import size_figure

        return size_figure(self)

    def save(self, root: str | os.PathLike[str] = "results", plots: bool = True,
             command: list[str] | None = None) -> Path:
        """Write ``ROOT/<name>/size-<time>/`` atomically (never over an earlier folder):
        ``size.json``, ``table.csv``, ``scenario.yaml``, ``manifest.json``,
        ``plots/size.png``."""
        base = Path(root) / safe_name(self.scenario["name"])
        self.path = write_folder(base, "size-", "", lambda tmp: self._write(tmp, plots, command))
        return self.path

    def _write(self, folder: Path, plots: bool, command: list[str] | None) -> None:
        from sim.plots.style import DPI

        folder.mkdir()
        (folder / "size.json").write_text(json.dumps(self.as_dict(), indent=2, default=str)
                                          + "\n")
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(self.scenario, sort_keys=False, allow_unicode=True))
        (folder / "manifest.json").write_text(json.dumps(manifest(
            {"scenario": self.scenario.get("name"), "seed": self.scenario["run"]["seed"],
             "wall_seconds": round(self.wall_seconds, 3)}, command), indent=2) + "\n")
        self.table().to_csv(folder / "table.csv", index=False)
        if plots:
            (folder / "plots").mkdir()
            self.plot().savefig(folder / "plots" / "size.png", dpi=DPI)


# --------------------------------------------------------------------------- the search


def size(scenario: Scenario, param: str, slos: Sequence[str | slos_.SLO], *,
         step: Any = None, largest: bool = False, minimize: str | None = None,
         replications: int | None = None, max_replications: int | None = None,
         precision: Precision | None = None, jobs: int | None = None, cluster: Any = None,
         executor: executors.Executor | None = None, progress: NotedProgress | None = None,
         force: bool = False) -> Sizing:
    """The smallest value of ``param`` (``"workers.api.count=1..64"``; ``step`` for
    durations and fractions) that meets every SLO (``["latency.p99<=1s", "lost==0"]``);
    ``largest`` for the largest; ``minimize``: the value meeting them with the lowest mean
    of that figure. ``replications`` per point to start (default ``run.replications``, at
    least 5); a point whose interval straddles a threshold gets more, up to
    ``max_replications`` (default 4 times as many). See the module's docstring."""
    started = time.perf_counter()
    rules = [s if isinstance(s, slos_.SLO) else slos_.parse_slo(s) for s in slos]
    if not rules:
        raise SizeError("size needs at least one --slo, e.g. --slo 'latency.p99<=1s'")
    path, low, high, raw_step = parse_param(param, step)
    spec = make_param(scenario, path, low, high, raw_step)
    points = [grid.apply(scenario, {path: v}) for v in spec.values]  # all valid, up front
    for point in points:
        memory.check(point, force)
    n = replications or max(int(scenario.data["run"]["replications"]), REPLICATIONS)
    budget = max(n, max_replications or BUDGET_FACTOR * n)
    made = executor is None
    where = executor or executors.make(jobs, cluster)
    try:
        search = _Search(spec, points, rules, largest, minimize, n, budget, precision, where,
                         progress)
        result = search.run()
    finally:
        if made:
            where.close()
    result.scenario = scenario.data
    result.wall_seconds = time.perf_counter() - started
    return result


class _Search:
    """The state of one search (see the module's docstring)."""

    def __init__(self, spec: Param, points: list[Scenario], rules: list[slos_.SLO],
                 largest: bool, minimize: str | None, n: int, budget: int,
                 precision: Precision | None, executor: executors.Executor,
                 progress: NotedProgress | None) -> None:
        self.spec, self.rules, self.minimize = spec, rules, minimize
        self.n, self.budget, self.precision = n, budget, precision
        self.executor, self.progress = executor, progress
        self.direction = LARGEST if largest else SMALLEST
        order = list(range(len(spec.values)))
        self.order = order[::-1] if largest else order  # search positions -> value indices
        self.points = points
        self.done: dict[int, Point] = {}  # position -> point
        self.sequence: list[Point] = []
        self.resolved = False
        self.notes: list[str] = []

    # ----------------------------------------------------------------- helpers

    def value(self, pos: int) -> Any:
        return self.spec.values[self.order[pos]]

    def scenario(self, pos: int) -> Scenario:
        return self.points[self.order[pos]]

    def figures(self) -> list[str]:
        names = [r.figure for r in self.rules]
        if self.minimize and self.minimize not in names:
            names.append(self.minimize)
        return list(dict.fromkeys(names))

    def _check_names(self, summary: dict[str, Any]) -> None:
        """Resolve the SLOs' figures against the first summary (did-you-mean otherwise)."""
        names = flatten(summary)
        self.rules = [slos_.resolve_slo(r, names) for r in self.rules]
        if self.minimize is not None:
            self.minimize = slos_.resolve_slo(
                slos_.SLO(self.minimize, "<=", 0.0, f"--minimize {self.minimize}"), names
            ).figure
        self.resolved = True

    # ----------------------------------------------------------------- one point

    def evaluate(self, pos: int) -> Point:
        """Simulate the value at ``pos`` (its replications, more while a verdict straddles)."""
        if pos in self.done:
            return self.done[pos]
        point = self.scenario(pos)
        design = Design(point.data, tuple(str(w) for w in point.warnings))
        if self.progress is not None:
            self.progress(min(0.99, len(self.sequence) / self._expected()),
                          f"{self.spec.path.split('.')[-1]}={self.value(pos)}: "
                          f"{len(self.sequence) + 1}th value")
        [outcomes] = run_designs([design], self.n, self.executor, self.precision)
        runs = list(outcomes)
        if not self.resolved:
            self._check_names(runs[0].summary)
        stats = self._stats(runs)
        while self._unsure(stats) and len(runs) < self.budget:
            start = len(runs)
            stop = min(self.budget, start + max(1, self.executor.parallelism))
            units = [Unit(scenario=point.data, seed=replication_seed(point.data["run"]["seed"], r),
                          replication=r, warnings=design.warnings) for r in range(start, stop)]
            runs += self.executor.run(units)
            # The first count (in index order) at which nothing straddles is kept, so the
            # batch size (the executor's parallelism) never changes the verdict.
            for k in range(start + 1, len(runs) + 1):
                stats = self._stats(runs[:k])
                if not self._unsure(stats):
                    runs = runs[:k]
                    break
        verdicts = slos_.judge_all(self.rules, stats)
        meets = all(v == slos_.MEETS or (v == slos_.UNSURE and slos_.lean(r, stats[r.figure][0]))
                    for r, v in zip(self.rules, verdicts.values(), strict=True))
        result = Point(self.value(pos), len(runs), stats, verdicts, meets,
                       sure=slos_.UNSURE not in verdicts.values())
        self.done[pos] = result
        self.sequence.append(result)
        return result

    def _expected(self) -> float:
        return max(2.0, math.log2(len(self.spec.values)) + 2)

    def _stats(self, runs: Sequence[Outcome]) -> dict[str, tuple[float, float]]:
        frame = pd.DataFrame([{f: flatten(o.summary).get(f, math.nan) for f in self.figures()}
                              for o in runs], columns=self.figures(), dtype=float)
        table = half_widths(frame)
        means, halves = table["mean"].astype(float), table["ci95"].astype(float)
        return {f: (float(means[f]), float(halves[f]))
                for f in self.figures()}

    def _unsure(self, stats: dict[str, tuple[float, float]]) -> bool:
        return slos_.UNSURE in slos_.judge_all(self.rules, stats).values()

    # ----------------------------------------------------------------- the bracket

    def known_failing(self) -> int:
        """The last position of the leading run of values whose load is above capacity
        (-1: none), when an SLO bounds a time figure from above: those fail, unsimulated."""
        if not any(r.upper and unit(r.figure) == "s" for r in self.rules):
            return -1
        last = -1
        for pos in range(len(self.order)):
            if not any(OVERLOAD in str(w) for w in self.scenario(pos).warnings):
                break
            last = pos
        return last

    def first_guess(self, floor: int) -> tuple[int | None, list[dict[str, float]]]:
        """The first position theory says meets the SLOs it covers, and theory per value
        (see :func:`first_guess`)."""
        curve = [first_guess(p.data) for p in self.points]
        covered = [r for r in self.rules if any(r.figure in t for t in curve)]
        if not covered:
            return None, curve
        for pos in range(floor + 1, len(self.order)):
            figures = curve[self.order[pos]]
            if figures and all(r.figure in figures and r.holds(figures[r.figure])
                               for r in covered):
                return pos, curve
        return None, curve

    # ----------------------------------------------------------------- the whole search

    def run(self) -> Sizing:
        floor = self.known_failing()
        guess, curve = self.first_guess(floor)
        top = len(self.order) - 1
        if floor >= top:
            return self._finish(None, floor, guess, curve, "bisection")
        fail_max, pass_min = floor, None
        probes: list[int] = [] if guess is None else [guess]
        while True:
            if pass_min is not None and pass_min == fail_max + 1:
                break
            if probes:
                pos = probes.pop(0)
            elif pass_min is None:
                if top in self.done:
                    break  # the range's best value fails: no answer
                pos = top
            else:
                pos = (fail_max + pass_min) // 2
            if pos in self.done or pos <= fail_max or (pass_min is not None and pos >= pass_min):
                continue
            point = self.evaluate(pos)
            if point.meets:
                pass_min = pos
                if guess is not None and pos == guess and pos - 1 > fail_max:
                    probes.append(pos - 1)  # a good guess: its neighbour below settles it
            else:
                fail_max = pos
                if guess is not None and pos == guess and pos + 1 <= top:
                    probes.append(pos + 1)
        if pass_min is None and floor + 1 < top:
            # The best end fails: before saying no value meets, try the other end, which
            # meets only if the premise (better along the range) is wrong.
            self.evaluate(floor + 1)
        wrong = self._not_monotone()
        if wrong:
            self.notes.append(
                f"{', '.join(wrong)} is not monotone in {self.spec.path} over the values "
                "simulated, so bisection cannot be trusted: every value of the bracket "
                f"({self.value(floor + 1)}..{self.value(top)}) was simulated instead (a grid)")
            for pos in range(floor + 1, top + 1):
                self.evaluate(pos)
            meeting = [pos for pos in range(floor + 1, top + 1) if self.done[pos].meets]
            answer = self._minimum(meeting) if self.minimize else (
                meeting[0] if meeting else None)
            return self._finish(answer, floor, guess, curve, "grid",
                                boundary=meeting[0] if meeting else None)
        if pass_min is None:
            return self._finish(None, floor, guess, curve, "bisection")
        answer = pass_min
        if self.minimize:
            answer = self._descend(pass_min, top)
        return self._finish(answer, floor, guess, curve, "bisection", boundary=pass_min)

    def _descend(self, start: int, top: int) -> int:
        """From the smallest feasible position, walk on while the minimized figure falls."""
        assert self.minimize is not None
        best = start
        pos = start + 1
        while pos <= top:
            point = self.evaluate(pos)
            if not point.meets:
                self.notes.append(f"{point.value} fails an SLO although a value before it "
                                  "meets them all: the feasible values are not one range")
                break
            if not point.figures[self.minimize][0] < self.done[best].figures[self.minimize][0]:
                break
            best, pos = pos, pos + 1
        return best

    def _minimum(self, meeting: list[int]) -> int | None:
        minimize = self.minimize
        assert minimize is not None
        defined = [p for p in meeting if math.isfinite(self.done[p].figures[minimize][0])]
        if not defined:
            return meeting[0] if meeting else None
        return min(defined, key=lambda p: self.done[p].figures[minimize][0])

    def _not_monotone(self) -> list[str]:
        """The SLO figures that move the wrong way between simulated values by more than
        their intervals, or whose verdicts are out of order (a met value before a failed
        one, in the search's order)."""
        positions = sorted(self.done)
        wrong: list[str] = []
        for rule in self.rules:
            verdicts = [self.done[p].verdicts[rule.text] for p in positions]
            out_of_order = any(a == slos_.MEETS and b == slos_.FAILS
                               for i, a in enumerate(verdicts) for b in verdicts[i + 1:])
            moved = False
            if rule.op != "==":
                sign = -1.0 if rule.upper else 1.0  # along the search the figure gets better
                for a, b in itertools.pairwise(positions):
                    (ma, ha), (mb, hb) = (self.done[a].figures[rule.figure],
                                          self.done[b].figures[rule.figure])
                    if not (math.isfinite(ma) and math.isfinite(mb)):
                        continue
                    slack = (ha if math.isfinite(ha) else 0.0) + (hb if math.isfinite(hb)
                                                                   else 0.0)
                    # A wrong-way move within 1% is a flat figure's wobble (one replication
                    # has no interval to absorb it), not a trend.
                    slack = max(slack, FLAT * max(abs(ma), abs(mb)))
                    if sign * (mb - ma) < -slack:
                        moved = True
            if out_of_order or moved:
                wrong.append(rule.figure)
        return list(dict.fromkeys(wrong))

    def _finish(self, answer: int | None, floor: int, guess: int | None,
                curve: list[dict[str, float]], search: str, boundary: int | None = None
                ) -> Sizing:
        skipped = [{"value": self.value(p), "reason": "offered load above capacity: fails "
                    "every SLO on a time figure, not simulated"} for p in range(floor + 1)]
        sure = False
        edge = boundary if self.minimize and boundary is not None else answer
        if edge is not None:  # with minimize, how sure the feasible values' edge is
            here = self.done[edge]
            below = edge - 1
            # Sure: every SLO surely met here, and the value before surely fails one (or is
            # known to: load above capacity, or there is none).
            sure = here.sure
            if below > floor and below in self.done:
                sure = sure and slos_.FAILS in self.done[below].verdicts.values()
        reach = [] if answer is not None else self._out_of_reach()
        shown_guess = None
        if guess is not None:
            shown_guess = {"value": self.value(guess),
                           "source": "closed form (" + _model(curve[self.order[guess]]) + ")"}
        return Sizing(
            scenario={}, param=self.spec, slos=self.rules, direction=self.direction,
            answer=None if answer is None else self.value(answer), sure=sure, search=search,
            evaluated=list(self.sequence), not_simulated=skipped, guess=shown_guess,
            notes=self.notes, minimize=self.minimize,
            smallest_meeting=None if boundary is None else self.value(boundary),
            out_of_reach=reach, theory=curve if any(curve) else [],
        )

    def _out_of_reach(self) -> list[dict[str, Any]]:
        """The SLOs no simulated value meets, each with its best value and where."""
        out: list[dict[str, Any]] = []
        points = list(self.done.values())
        never = [r for r in self.rules
                 if not any(p.verdicts[r.text] == slos_.MEETS for p in points)]
        if not never and points:  # each is met somewhere, never all at once: the best end's
            end = self.done.get(len(self.order) - 1, points[-1])
            never = [r for r in self.rules if end.verdicts[r.text] != slos_.MEETS]
        for rule in never:
            best = None
            for p in points:
                mean = p.figures[rule.figure][0]
                if best is None or slos_.better(rule, mean, best.figures[rule.figure][0]):
                    best = p
            if best is None:
                out.append({"slo": rule.text, "best": None, "at": None})
                continue
            mean, half = best.figures[rule.figure]
            out.append({"slo": rule.text, "best": _json(mean), "ci95": _json(half),
                        "at": best.value})
        return out


def _model(figures: dict[str, float]) -> str:
    model = "M/M/c, Erlang C" if "latency.p99" in figures else "M/G/1"
    return model + ("; broker latencies left out" if figures.get(RELAXED) else "")


RELAXED = "relaxed"  # a closed form's key: 1.0 when the broker's own latencies were left out


def first_guess(data: dict[str, Any]) -> dict[str, float]:
    """The closed form of the textbook queue the scenario is (`sim.experiment.theory`), or,
    for a first guess only, of the same queue on an ideal broker: a RabbitMQ or SQS pool with
    Poisson arrivals and exponential service is M/M/c but for the broker's sub-millisecond
    latencies, close enough to start a search that then simulates the real thing."""
    exact = theory.closed_form(data)
    if exact:
        return exact
    try:
        [queue] = data["queues"].values()
        broker = dict(data["brokers"][queue["broker"]])
    except (KeyError, ValueError, AttributeError, TypeError):
        return {}
    zero = {"dist": "constant", "value": 0.0}
    broker.update(type="ideal", capacity=None, publish_latency=zero, deliver_latency=zero)
    ideal = {**data, "brokers": {**data["brokers"], queue["broker"]: broker}}
    relaxed = theory.closed_form(ideal)
    return {**relaxed, RELAXED: 1.0} if relaxed else {}
