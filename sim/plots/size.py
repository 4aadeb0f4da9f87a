"""A sizing's plot: each SLO figure against the searched setting, the threshold and the answer.

One panel per SLO (and one for the minimized figure): the simulated values' means with their
95% confidence bands (error bars too: the points are few and far apart, a band alone would
suggest values nobody ran), each point filled where it met that SLO and hollow where it failed,
the threshold as a dashed line, the answer as a vertical line, the closed form's curve where
the scenario is a textbook queue, and the values not simulated (load above capacity) as
crosses along the bottom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.format import show_figure, yaml_value
from sim.plots import style


# What the plot reads of a sizing (sim.experiment.size.Sizing), so that plots, below
# experiment, depend on no module above them.
class Rule(Protocol):
    """An SLO: ``figure op threshold``; its str is how the legend shows it."""

    @property
    def figure(self) -> str: ...
    @property
    def threshold(self) -> float: ...
    @property
    def text(self) -> str: ...


class SizedPoint(Protocol):
    """One simulated value: figure -> (mean, 95% half-width), SLO text -> verdict, all met."""

    @property
    def value(self) -> Any: ...
    @property
    def figures(self) -> Mapping[str, tuple[float, float]]: ...
    @property
    def verdicts(self) -> Mapping[str, str]: ...
    @property
    def meets(self) -> bool: ...


class SearchedRange(Protocol):
    """The searched setting: its YAML path, step and candidate values."""

    @property
    def path(self) -> str: ...
    @property
    def step(self) -> float: ...
    @property
    def values(self) -> Sequence[Any]: ...


class SizingResult(Protocol):
    """A sizing's answer, its simulated points and theory curve."""

    @property
    def scenario(self) -> Mapping[str, Any]: ...
    @property
    def param(self) -> SearchedRange: ...
    @property
    def slos(self) -> Sequence[Rule]: ...
    @property
    def direction(self) -> str: ...
    @property
    def answer(self) -> Any: ...
    @property
    def sure(self) -> bool: ...
    @property
    def evaluated(self) -> Sequence[SizedPoint]: ...
    @property
    def not_simulated(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def minimize(self) -> str | None: ...
    @property
    def theory(self) -> Sequence[Mapping[str, float]]: ...
    @property
    def name(self) -> str: ...
    def point(self, value: Any) -> SizedPoint | None: ...


PASS, FAIL, ANSWER, UNSURE = "#1b7837", "#b2182b", "#2166ac", "#e08214"


def size_figure(sizing: SizingResult) -> Figure:
    """The sizing's panels (see the module's docstring)."""
    panels: list[tuple[str, Rule | None]] = [(r.figure, r) for r in sizing.slos]
    if sizing.minimize and sizing.minimize not in [f for f, _ in panels]:
        panels.append((sizing.minimize, None))
    with style.styled():
        columns = 2 if len(panels) > 1 else 1
        rows = max(1, math.ceil(len(panels) / columns))
        fig = style.new_figure(6.4 * columns, 4.0 * rows + 0.6)
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        answer = "none in the range" if sizing.answer is None else (
            f"{sizing.name} = {yaml_value(sizing.answer)}")
        how = ("" if sizing.answer is None else " (sure)" if sizing.sure else " (not sure)")
        goal = (f"the value with the lowest {sizing.minimize} meeting every SLO"
                if sizing.minimize else f"the {sizing.direction} value meeting every SLO")
        fig.suptitle(f"Sizing {sizing.param.path} — {sizing.scenario.get('name', '')}\n"
                     f"{goal}: {answer}{how}",
                     x=0.01, ha="left", fontweight="bold", fontsize=11)
        for ax, (figure, rule) in zip(axes, panels, strict=False):
            _panel(ax, sizing, figure, rule)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    return fig


def _panel(ax: Axes, sizing: SizingResult, figure: str, rule: Rule | None) -> None:
    from sim.figures import label, unit

    points = sorted(sizing.evaluated, key=lambda p: p.value)
    x = np.array([float(p.value) for p in points])
    mean = np.array([p.figures.get(figure, (math.nan, math.nan))[0] for p in points])
    half = np.nan_to_num(np.array([p.figures.get(figure, (math.nan, math.nan))[1]
                                   for p in points]))
    kind = unit(figure)
    values = [v for v in mean if math.isfinite(v)]
    if rule is not None:
        values.append(rule.threshold)
    costs = sizing.scenario.get("costs") or {}
    scale, ylabel = _scale(kind, values, str(costs.get("currency") or ""))
    y, h = mean * scale, half * scale
    ax.fill_between(x, y - h, y + h, color=style.MUTED, alpha=0.15, linewidth=0)
    ax.plot(x, y, color=style.MUTED, linewidth=1.0, zorder=2)
    handles: list[Artist] = []
    texts: list[str] = []
    unsure = False
    for p, xi, yi, hi in zip(points, x, y, h, strict=True):
        if not math.isfinite(yi):
            continue
        verdict = p.verdicts.get(rule.text) if rule is not None else (
            "meets" if p.meets else "fails")
        if verdict == "unsure":
            unsure = True
        colour = {"meets": PASS, "fails": FAIL}.get(str(verdict), UNSURE)
        ax.errorbar([xi], [yi], yerr=[[hi], [hi]], color=colour, capsize=3, linewidth=1.2,
                    zorder=3)
        ax.plot([xi], [yi], marker="o", markersize=7, linestyle="none", zorder=4,
                color=colour, markerfacecolor=colour if verdict == "meets" else "white",
                markeredgewidth=1.6)
    what = "meets this SLO" if rule is not None else "meets every SLO"
    handles += [Line2D([], [], marker="o", color=PASS, linestyle="none", markersize=7),
                Line2D([], [], marker="o", color=FAIL, markerfacecolor="white",
                       linestyle="none", markersize=7, markeredgewidth=1.6),
                Patch(color=style.MUTED, alpha=0.15, linewidth=0)]
    texts += [f"simulated: {what}", "simulated: fails", "95% confidence interval"]
    if unsure:
        handles.insert(2, Line2D([], [], marker="o", color=UNSURE, markerfacecolor="white",
                                 linestyle="none", markersize=7, markeredgewidth=1.6))
        texts.insert(2, "unsure: interval straddles the\nthreshold after the budget")
    curve = [(float(v), t[figure] * scale) for v, t in
             zip(sizing.param.values, sizing.theory, strict=False) if t and figure in t]
    if curve:
        tx, ty = zip(*curve, strict=True)
        ax.plot(tx, ty, color=style.color(2), linestyle=(0, (4, 2)), linewidth=1.2, zorder=1)
        handles.append(Line2D([], [], color=style.color(2), linestyle=(0, (4, 2))))
        erlang = any("latency.p99" in t for t in sizing.theory)
        relaxed = any(t.get("relaxed") for t in sizing.theory)
        texts.append("closed form (" + ("M/M/c, Erlang C" if erlang else "M/G/1")
                     + (",\nbroker latencies left out" if relaxed else "") + ")")
    if rule is not None:
        ax.axhline(rule.threshold * scale, color=FAIL, linestyle="--", linewidth=1.2, zorder=1)
        handles.append(Line2D([], [], color=FAIL, linestyle="--"))
        texts.append(f"SLO: {rule}")
    if sizing.answer is not None:
        ax.axvline(float(sizing.answer), color=ANSWER, linewidth=1.6, alpha=0.8, zorder=1)
        handles.append(Line2D([], [], color=ANSWER, linewidth=1.6))
        texts.append(f"answer: {sizing.name} = {yaml_value(sizing.answer)}")
    skipped = [float(s["value"]) for s in sizing.not_simulated]
    if skipped:
        ax.plot(skipped, [0.0] * len(skipped), marker="x", color=FAIL, linestyle="none",
                markersize=6, clip_on=False, zorder=4)
        handles.append(Line2D([], [], marker="x", color=FAIL, linestyle="none"))
        texts.append("load above capacity (not simulated)")
    ax.set_xlim(*_x_range(sizing))
    top = max([v * scale for v in values] + [0.0])
    if top <= 0:  # all zero (lost==0 met everywhere): a plain 0..1 axis, not 1e-17 noise
        ax.set_ylim(-0.05, 1.0)
    elif curve:  # theory near an unstable value runs off to infinity: keep the data in view
        ax.set_ylim(bottom=0, top=top * 1.3)
    else:
        ax.set_ylim(bottom=0)
    ax.set_title(f"{label(figure)}" + (f"   SLO {rule}" if rule is not None else
                                        "   (minimized)"), loc="left")
    ax.set_xlabel(f"{sizing.param.path} ({len(sizing.evaluated)} of "
                  f"{len(sizing.param.values)} values simulated)")
    ax.set_ylabel(ylabel)
    ax.legend(handles, texts, loc="best", fontsize=8)
    if sizing.answer is not None and rule is not None:
        point = sizing.point(sizing.answer)
        if point is not None and math.isfinite(point.figures[figure][0]):
            ax.annotate(show_figure(figure, point.figures[figure][0]),
                        xy=(float(sizing.answer), point.figures[figure][0] * scale),
                        xytext=(6, 8), textcoords="offset points", fontsize=8, color=ANSWER)


def _scale(kind: str, values: list[float], currency: str = "") -> tuple[float, str]:
    """The y axis's scale and label (`sim.plots.style.figure_axis`)."""
    top = max([abs(v) for v in values if math.isfinite(v)] + [0.0])
    other = "Count (mean per run)" if kind == "count" else "Value (mean per run)"
    return style.figure_axis(kind, top, currency or None, other)


def _x_range(sizing: SizingResult) -> tuple[float, float]:
    """The values simulated or known (and the answer), with a margin: the search looks at
    few values, and the whole range would squash them into a corner."""
    shown = [float(p.value) for p in sizing.evaluated] + [
        float(s["value"]) for s in sizing.not_simulated]
    if not shown:
        return float(sizing.param.values[0]), float(sizing.param.values[-1])
    low, high = min(shown), max(shown)
    margin = max(sizing.param.step, 0.08 * (high - low))
    first, last = float(sizing.param.values[0]), float(sizing.param.values[-1])
    return max(first - margin / 2, low - margin), min(last + margin / 2, high + margin)
