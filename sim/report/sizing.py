"""The printed report of ``mqsim size`` (`sim.experiment.size`): the answer, how sure it is,
the figures at it and at the next value that fails, and how the search went.

If no value in the range meets every SLO, it says which SLO is out of reach and its best
value (the command then exits 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sim.report.layout as layout
from sim.experiment import slo as slos_
from sim.experiment.size import SMALLEST, Point, Sizing
from sim.figures import unit
from sim.format import MISSING, currency_of, interval, show_value, with_currency, yaml_value


def format_sizing(sizing: Sizing, path: Path | None = None) -> str:
    """The answer, the figures at it and at the next value that fails, and the search."""
    name = sizing.name
    currency = currency_of(sizing.scenario)
    wanted = " and ".join(_rule(r, currency) for r in sizing.slos)
    what = "smallest" if sizing.direction == SMALLEST else "largest"
    goal = (f"the value with the lowest {sizing.minimize} among those meeting {wanted}"
            if sizing.minimize else f"the {what} value meeting {wanted}")
    lines = [f"size {sizing.param.path} over {_span(sizing)}: {goal}", ""]
    if sizing.answer is None:
        lines.append(f"answer: none: no value of {name} in {_span(sizing)} meets every SLO")
        for entry in sizing.out_of_reach:
            rule = next(r for r in sizing.slos if r.text == entry["slo"])
            best = (MISSING if entry["best"] is None else
                    _with_ci(rule.figure, entry["best"], entry.get("ci95")))
            at = "" if entry["at"] is None else f" at {name}={yaml_value(entry['at'])}"
            lines.append(f"out of reach: {_rule(rule, currency)}: its best value is {best}{at}")
    else:
        lines.append(f"answer: {name} = {yaml_value(sizing.answer)} ({_sureness(sizing)})")
        if sizing.minimize and sizing.smallest_meeting != sizing.answer:
            lines.append(f"the {what} value meeting every SLO is "
                         f"{name} = {yaml_value(sizing.smallest_meeting)}; "
                         f"{sizing.minimize} is lower at {yaml_value(sizing.answer)}")
    lines += ["", _table(sizing)]
    if sizing.guess is not None:
        lines.append(f"first guess: {name} = {yaml_value(sizing.guess['value'])} from the "
                     f"{sizing.guess['source']}")
    if sizing.not_simulated:
        values = [s["value"] for s in sizing.not_simulated]
        shown = (yaml_value(values[0]) if len(values) == 1
                 else f"{yaml_value(values[0])}..{yaml_value(values[-1])}")
        lines.append(f"not simulated: {name} {shown} (offered load above capacity: fails "
                     "every SLO on a time figure)")
    lines += [f"note: {text}" for text in sizing.notes]
    runs = sum(p.replications for p in sizing.evaluated)
    lines.append(f"simulated {len(sizing.evaluated)} of {len(sizing.param.values)} values "
                 f"({runs} replications, common random numbers) by {sizing.search} "
                 f"in {sizing.wall_seconds:.1f} s")
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _rule(rule: slos_.SLO, currency: str | None) -> str:
    """An SLO as printed; an amount of money names its currency (``cost.total ≤ 0.50 USD``)."""
    if currency and unit(rule.figure) == "money":
        return f"{rule} {currency}"
    return str(rule)


def _span(sizing: Sizing) -> str:
    values = sizing.param.values
    step = "" if sizing.param.step == 1 else f" step {yaml_value(sizing.param.step)}"
    return f"{yaml_value(values[0])}..{yaml_value(values[-1])}{step}"


def _sureness(sizing: Sizing) -> str:
    edge = sizing.smallest_meeting if sizing.minimize else sizing.answer
    here = sizing.point(edge)
    below = sizing.below if not sizing.minimize else _before(sizing, edge)
    if sizing.sure:
        tail = ("" if below is None else
                f", and at {sizing.name}={yaml_value(below)} one surely fails")
        return f"sure: every SLO's 95% interval is on the passing side{tail}"
    parts = []
    if here is not None:
        parts += [f"{r.figure}'s interval still straddles {slos_.show_threshold(r, r.threshold)} "
                  f"after {here.replications} replications (judged on its mean)"
                  for r in sizing.slos if here.verdicts[r.text] == slos_.UNSURE]
    other = sizing.point(below) if below is not None else None
    if other is not None and slos_.FAILS not in other.verdicts.values():
        parts.append(f"at {sizing.name}={yaml_value(below)} no SLO surely fails")
    return "not sure: " + "; ".join(parts or ["the intervals are wide"])


def _before(sizing: Sizing, value: Any) -> Any:
    values = list(sizing.param.values)
    order = values if sizing.direction == SMALLEST else values[::-1]
    at = order.index(value)
    return order[at - 1] if at > 0 else None


def _table(sizing: Sizing) -> str:
    """The answer's row and the next failing value's row, then the other simulated ones."""
    first: list[tuple[Point, str]] = []
    edge = sizing.smallest_meeting if sizing.minimize else sizing.answer
    marks = {sizing.answer: "answer"}
    before = _before(sizing, edge) if edge is not None else None
    if before is not None:
        marks.setdefault(before, "next, fails")
    if sizing.minimize and edge is not None:
        marks.setdefault(edge, "smallest meeting")
    for value, mark in marks.items():
        point = sizing.point(value)
        if point is not None:
            first.append((point, mark))
    rest = [(p, "") for p in sorted(sizing.evaluated, key=lambda p: p.value)
            if p.value not in marks]
    figures = [r.figure for r in sizing.slos]
    if sizing.minimize and sizing.minimize not in figures:
        figures.append(sizing.minimize)
    currency = currency_of(sizing.scenario)
    header = [sizing.name, "n"]
    for figure in figures:  # the figure, then its SLO's verdict; an amount names its currency
        header += [with_currency(figure, currency) if unit(figure) == "money" else figure, ""]
    header.append("meets all")
    shown = first + rest
    columns = {f: layout.cells(f, [p.figures[f][0] for p, _ in shown],
                               [p.figures[f][1] for p, _ in shown]) for f in figures}
    rows = []
    for i, (point, mark) in enumerate(shown):
        cells = [yaml_value(point.value) + (f" ({mark})" if mark else ""), str(point.replications)]
        for figure in figures:
            verdicts = [point.verdicts[r.text] for r in sizing.slos if r.figure == figure]
            cells += [columns[figure][i], verdicts[0] if verdicts else ""]
        cells.append("yes" if point.meets else "no")
        rows.append(cells)
    if not rows:
        return "(no value was simulated)"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    return "\n".join(lines) + "\n(mean ± 95% confidence half-width per value)\n"


def _with_ci(figure: str, mean: Any, half: Any) -> str:
    kind = unit(figure)
    shown = interval(mean, half, kind)
    return shown if shown != MISSING else show_value(mean, kind)
