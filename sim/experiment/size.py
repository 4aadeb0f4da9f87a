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
   wrong. A figure monotone the other way (cost grows with the workers) is an SLO met from
   the start of the range up to some value: the answer is then the first value meeting the
   other SLOs, if it meets those too. Otherwise the search simulates every value of the
   bracket (a grid) and says so.

``minimize`` (``--minimize cost.total``): among the values that meet the SLOs, the one with
the lowest mean of that figure, found by walking up from the smallest feasible value while the
figure keeps falling (it is assumed to have one minimum over the feasible values; the grid
fallback makes no assumption).

Where replications run (``jobs``, ``cluster``) never changes the answer: the extra
replications are decided on the replications in index order, as the stop rule does.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.experiment import executors, grid, size_range
from sim.experiment import slo as slos_
from sim.experiment.replications import Design, Precision, half_widths, run_designs
from sim.experiment.size_guess import closed_form_guess, describe_model
from sim.experiment.size_range import SizeError, make_param, parse_param
from sim.experiment.size_result import KIND, LARGEST, SMALLEST, Point, Sizing, json_number
from sim.experiment.sweep import OVERLOAD
from sim.experiment.units import Outcome, Unit
from sim.figures import flatten, unit
from sim.progress import NotedProgress
from sim.random.streams import replication_seed
from sim.scenario import Scenario, memory

# The range, the result and the first guess live in size_range, size_result and size_guess;
# the names callers use stay importable from here.
__all__ = ["KIND", "LARGEST", "OVERLOAD", "REPLICATIONS", "SMALLEST", "Point", "SizeError",
           "Sizing", "make_param", "parse_param", "size"]

REPLICATIONS = 5  # per point when the scenario asks for fewer
BUDGET_FACTOR = 4  # default budget: this many times the first replications, per point
FLAT = 0.01  # relative: a wrong-way move this small does not make a figure non-monotone


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

    def __init__(self, spec: size_range.Param, points: list[Scenario], rules: list[slos_.SLO],
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
        self.against: list[slos_.SLO] = []  # SLOs whose figure gets worse along the search

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
        (see :func:`closed_form_guess`)."""
        curve = [closed_form_guess(p.data) for p in self.points]
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
        pass_min = self._bisect(self.rules, floor, top, guess)
        if pass_min is None and floor + 1 < top:
            # The best end fails: before saying no value meets, try the other end, which
            # meets only if the premise (better along the range) is wrong.
            self.evaluate(floor + 1)
        wrong = self._not_monotone()
        against = [r for r in self.rules if r.figure in wrong and self._monotone(r, -1)]
        if wrong and {r.figure for r in against} == set(wrong):
            # Monotone, but the other way (cost grows with the workers): those SLOs are met
            # from the start of the range up to some value, the others from some value on,
            # so the smallest value meeting the others is the answer if it meets these too.
            return self._with_against(against, floor, top, guess, curve)
        if wrong:
            return self._grid(wrong, floor, top, guess, curve)
        if pass_min is None:
            return self._finish(None, floor, guess, curve, "bisection")
        answer = self._descend(pass_min, top) if self.minimize else pass_min
        return self._finish(answer, floor, guess, curve, "bisection", boundary=pass_min)

    def _bisect(self, rules: Sequence[slos_.SLO], floor: int, top: int, guess: int | None
                ) -> int | None:
        """The first position (after ``floor``) meeting ``rules``, by bisection from what is
        simulated already; the guess (and its neighbour) first. None: the best end fails."""
        def meets(pos: int) -> bool:
            return all(_met(self.done[pos], rule) for rule in rules)

        passing = [pos for pos in self.done if pos > floor and meets(pos)]
        pass_min = min(passing) if passing else None
        fail_max = max([floor] + [pos for pos in self.done if floor < pos and not meets(pos)
                                  and (pass_min is None or pos < pass_min)])
        probes: list[int] = [] if guess is None else [guess]
        while pass_min is None or pass_min != fail_max + 1:
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
            self.evaluate(pos)
            if meets(pos):
                pass_min = pos
                if pos == guess and pos - 1 > fail_max:
                    probes.append(pos - 1)  # a good guess: its neighbour below settles it
            else:
                fail_max = pos
                if pos == guess and pos + 1 <= top:
                    probes.append(pos + 1)
        return pass_min

    def _with_against(self, against: list[slos_.SLO], floor: int, top: int,
                      guess: int | None, curve: list[dict[str, float]]) -> Sizing:
        """The search when ``against``'s figures get worse along the range (see `run`)."""
        self.against = against
        along = [r for r in self.rules if r not in against]
        names = ", ".join(r.text for r in against)
        grows = "falls" if self.direction == LARGEST else "grows"
        self.notes.append(
            f"{', '.join(dict.fromkeys(r.figure for r in against))} gets worse as "
            f"{self.spec.path} {grows}, so {names} holds up to some value, not from one on: "
            "the answer is the first value that meets the other SLOs, if it meets "
            f"{'these' if len(against) > 1 else 'this one'} too")
        first = self._bisect(along, floor, top, guess) if along else floor + 1
        if first is not None and not self.evaluate(first).meets:
            # "None meets" rests on those SLOs only getting worse beyond ``first``: with two
            # values seen, a figure that dips in between would look monotone; look once there.
            middle = (first + top) // 2
            if first < middle < top:
                self.evaluate(middle)
        wrong = self._not_monotone(against)
        if wrong:
            return self._grid(wrong, floor, top, guess, curve)
        if first is None or not self.done[first].meets:
            if first is not None:
                self.notes.append(
                    f"{self.value(first)} is the first value meeting the other SLOs and fails "
                    f"{names}, which only gets worse from there: no value meets them all")
            return self._finish(None, floor, guess, curve, "bisection")
        answer = self._descend(first, top) if self.minimize else first
        return self._finish(answer, floor, guess, curve, "bisection", boundary=first)

    def _grid(self, wrong: list[str], floor: int, top: int, guess: int | None,
              curve: list[dict[str, float]]) -> Sizing:
        """Every value of the bracket: the premise of bisection does not hold for ``wrong``."""
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

    def _descend(self, start: int, top: int) -> int:
        """From the smallest feasible position, walk on while the minimized figure falls."""
        assert self.minimize is not None
        best = start
        pos = start + 1
        while pos <= top:
            point = self.evaluate(pos)
            if not point.meets:
                if all(_met(point, r) for r in self.rules if r not in self.against):
                    break  # the end of the feasible values: an SLO against the search fails
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

    def _not_monotone(self, against: Sequence[slos_.SLO] = ()) -> list[str]:
        """The SLO figures that are not monotone the way the search takes them: better along
        it, or worse for those ``against`` (see `_monotone`)."""
        wrong = [r.figure for r in self.rules if not self._monotone(r, -1 if r in against else 1)]
        return list(dict.fromkeys(wrong))

    def _monotone(self, rule: slos_.SLO, way: int) -> bool:
        """Whether ``rule`` is monotone over the simulated values, getting better along the
        search (``way`` 1) or worse (-1): no move the other way by more than the intervals,
        no verdicts out of order (a met value before a failed one, for ``way`` 1)."""
        positions = sorted(self.done)
        verdicts = [self.done[p].verdicts[rule.text] for p in positions]
        before, after = (slos_.MEETS, slos_.FAILS) if way > 0 else (slos_.FAILS, slos_.MEETS)
        if any(a == before and b == after for i, a in enumerate(verdicts)
               for b in verdicts[i + 1:]):
            return False
        if rule.op == "==":
            return True
        sign = (-1.0 if rule.upper else 1.0) * way  # the sign of a move the expected way
        for a, b in itertools.pairwise(positions):
            (ma, ha), (mb, hb) = (self.done[a].figures[rule.figure],
                                  self.done[b].figures[rule.figure])
            if not (math.isfinite(ma) and math.isfinite(mb)):
                continue
            slack = (ha if math.isfinite(ha) else 0.0) + (hb if math.isfinite(hb) else 0.0)
            # A wrong-way move within 1% is a flat figure's wobble (one replication has no
            # interval to absorb it), not a trend.
            slack = max(slack, FLAT * max(abs(ma), abs(mb)))
            if sign * (mb - ma) < -slack:
                return False
        return True

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
            model = describe_model(curve[self.order[guess]])
            shown_guess = {"value": self.value(guess), "source": f"closed form ({model})"}
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
            out.append({"slo": rule.text, "best": json_number(mean), "ci95": json_number(half),
                        "at": best.value})
        return out


def _met(point: Point, rule: slos_.SLO) -> bool:
    """Whether ``point`` meets ``rule`` (an unsure verdict counted on its mean's side)."""
    verdict = point.verdicts[rule.text]
    return verdict == slos_.MEETS or (
        verdict == slos_.UNSURE and slos_.lean(rule, point.figures[rule.figure][0]))
