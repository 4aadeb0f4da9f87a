"""A sweep's headline figures against its parameter, with 95% confidence bands and theory.

Drawn from the sweep's table only (one row per point: ``X`` and ``X_ci`` per figure, and
``theory.X`` where a closed form applies), so ``mqsim plot`` redraws a saved sweep. The x
axis is the first parameter (log scale when its values span a factor of 20 or more; evenly
spaced categories when they are not numbers); with more parameters each combination of the
others is its own line, and the legends sit beside the panels, off the curves.

An unstable point (the table's ``unstable``: offered load above capacity, its latency grows
with the run) is ringed. On a linear axis its figures would squash every other point's, so
the axis is sized to the stable points and an unstable value above it is drawn as a triangle
at the top edge with its value written beside it; ``log_y`` draws the time panels on a log
axis, where every point fits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.format import show_figure, yaml_value
from sim.plots import style

LATENCY = ("latency.mean", "latency.p50", "latency.p99")
PROBLEMS = ("totals.lost", "totals.rejected", "totals.dead_lettered", "totals.expired",
            "totals.duplicate_deliveries", "totals.duplicate_processing",
            "reordering.reordered")
THEORY = "theory."
UNSTABLE = "unstable"
SLO_COLOUR = "#b2182b"  # thresholds and the best passing point of `sweep --slo`
HEADROOM = 1.25  # a clipped axis' top above the stable points' highest band


def panels(table: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """The default panels: (title, figures), only those with something to show."""
    out: list[tuple[str, list[str]]] = []
    latency = [f for f in LATENCY if _has(table, f)]
    if latency:
        out.append(("Latency", latency))
    if _has(table, "throughput"):
        out.append(("Throughput", ["throughput"]))
    pools = [c for c in table.columns if c.startswith("workers.") and c.endswith(".utilization")
             and not c.endswith("_ci")]
    if any(_has(table, p) for p in pools):
        out.append(("Worker utilization", [p for p in pools if _has(table, p)]))
    problems = [f for f in PROBLEMS if _has(table, f) and (table[f].fillna(0) > 0).any()]
    if problems:
        out.append(("Lost, duplicated, reordered", problems))
    if _has(table, "cost.total"):  # a scenario with `costs:`
        out.append(("Cost in all", ["cost.total"]))
    return out


def _has(table: pd.DataFrame, figure: str) -> bool:
    return figure in table and bool(table[figure].notna().any())


def sweep_figure(table: pd.DataFrame, parameters: Sequence[str], name: str | None = None,
                 figures: Sequence[str] | None = None, log_y: bool = False,
                 slos: Sequence[Any] = (), best: int | None = None,
                 currency: str | None = None) -> Figure:
    """One panel per group of figures (default :func:`panels`), against ``parameters[0]``;
    with ``slos`` (`sim.experiment.slo.SLO`, from ``sweep --slo``) each SLO's threshold is
    drawn on its figure's panel (a panel of its own if the defaults lack it) and the best
    passing point (``best``, its row in ``table``) is marked. A cost axis names
    ``currency`` (the results' ``cost.currency``, the scenario's ``costs.currency``)."""
    groups = ([(_label(f, [f]).capitalize(), [f]) for f in figures if _has(table, f)]
              if figures else panels(table))  # an undefined figure gets no empty panel
    drawn = {f for _, group in groups for f in group}
    groups += [(f"SLO {rule}", [rule.figure]) for rule in slos
               if rule.figure not in drawn and _has(table, rule.figure)]
    with style.styled():
        columns = 2 if len(groups) > 1 else 1
        rows = max(1, math.ceil(len(groups) / columns))
        wide = 2.2 if len(parameters) > 1 else 0.0  # room for the legends beside the panels
        fig = style.new_figure((5.2 + wide) * columns, 3.6 * rows + 0.5)
        axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
        what = f"Sweep of {' × '.join(parameters)}" + (f" — {name}" if name else "")
        n = table["replications"].min() if "replications" in table and len(table) else None
        note = f" ({int(n)} replications per point, mean ± 95% CI)" if n else ""
        fig.suptitle(what + note, x=0.01, ha="left", fontweight="bold")
        if table.empty or not groups:
            style.no_data(axes[0], "no figures to plot")
            for ax in axes[1:]:
                ax.set_visible(False)
            return fig
        for ax, (title, group) in zip(axes, groups, strict=False):
            _panel(ax, table, parameters, title, group, log_y, slos, best, currency)
        for ax in axes[len(groups):]:
            ax.set_visible(False)
    return fig


def unstable(table: pd.DataFrame) -> np.ndarray:
    """Per row: whether the point is unstable (False where the table does not say)."""
    if UNSTABLE not in table:
        return np.zeros(len(table), dtype=bool)
    return table[UNSTABLE].fillna(False).astype(bool).to_numpy()


def _panel(ax: Axes, table: pd.DataFrame, parameters: Sequence[str], title: str,
           figures: Sequence[str], log_y: bool = False, slos: Sequence[Any] = (),
           best: int | None = None, currency: str | None = None) -> None:
    x_name, others = parameters[0], list(parameters[1:])
    x_values, positions, labels = _x_axis(table[x_name])
    combos = [()] if not others else list(dict.fromkeys(
        tuple(row) for row in _shown(table[others]).itertuples(index=False)))
    shaky = unstable(table)
    log_y = log_y and _is_time(figures)  # rates and percentages do not span decades
    # Units from the stable points: an unstable one's minutes must not turn ms into s.
    scale, unit = _scale(table[~shaky] if (~shaky).any() else table, figures, currency)
    theory_drawn = False
    stable_top = 0.0
    marked: list[tuple[float, float, str, str]] = []  # unstable points: x, y, colour, text
    for i, figure in enumerate(figures):
        for j, combo in enumerate(combos):
            mask = (np.ones(len(table), dtype=bool) if not others else
                    (_shown(table[others]) == pd.Series(combo, index=others)).all(axis=1)
                    .to_numpy())
            rows = table[mask]
            x = np.array([positions[_key(v)] for v in rows[x_name]], dtype=float)
            order = np.argsort(x)
            x = x[order]
            mean = rows[figure].to_numpy(float)[order] * scale
            ci = rows.get(figure + "_ci", pd.Series(np.nan, index=rows.index))
            half = np.nan_to_num(ci.to_numpy(float)[order] * scale)
            bad = shaky[mask][order]
            colour = style.color(i if len(combos) == 1 else j)
            dash = "-" if len(combos) == 1 else ("-", "--", ":", "-.")[i % 4]
            label = _label(figure, figures)
            if others:
                shown = ", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, combo,
                                                                             strict=True))
                label = f"{label}, {shown}" if len(figures) > 1 else shown
            ax.plot(x, mean, color=colour, linestyle=dash, marker="o", markersize=4,
                    label=label)
            low = mean - half
            if log_y:  # a band reaching 0 or below would stretch a log axis to nothing
                low = np.where(low > 0, low, mean)
            ax.fill_between(x, low, mean + half, color=colour, alpha=0.18, linewidth=0)
            good = ~bad & np.isfinite(mean)
            if good.any():
                stable_top = max(stable_top, float(np.max((mean + half)[good])))
            for xi, yi in zip(x[bad], mean[bad], strict=True):
                if np.isfinite(yi):
                    marked.append((xi, yi, colour, show_figure(figure, yi / scale)))
            theory = THEORY + figure
            if theory in rows and rows[theory].notna().any():
                y = rows[theory].to_numpy(float)[order] * scale
                ax.plot(x, y, color=colour, linestyle=(0, (4, 2)), linewidth=1.2, alpha=0.9)
                ax.plot(x, y, color=colour, linestyle="none", marker="x", markersize=5)
                theory_drawn = True
    handles, texts = ax.get_legend_handles_labels()
    if others and len(figures) > 1:
        # A colour per combination and a line style per figure, not one entry per curve.
        handles = [Line2D([], [], color=style.color(j), marker="o", markersize=4)
                   for j in range(len(combos))]
        texts = [", ".join(f"{k.split('.')[-1]}={v}" for k, v in zip(others, combo,
                                                                    strict=True))
                 for combo in combos]
        handles += [Line2D([], [], color=style.MUTED, linestyle=("-", "--", ":", "-.")[i % 4])
                    for i in range(len(figures))]
        texts += [_label(f, figures) for f in figures]
    if theory_drawn:
        handles.append(Line2D([], [], color=style.MUTED, linestyle=(0, (4, 2)), marker="x"))
        texts.append("theory (closed form)")
    handles.append(_band_handle())
    texts.append("95% confidence band")
    marks = _slo_marks(ax, table, x_name, positions, figures, scale, slos, best)
    handles += marks[0]
    texts += marks[1]
    if marked:
        handles.append(Line2D([], [], color=style.MUTED, linestyle="none", marker="o",
                              markersize=9, markerfacecolor="none", markeredgewidth=1.4))
        texts.append("unstable: load above capacity\n(grows with the run)")
    if others or marked:  # many entries: beside the panel, never over a curve
        # One figure drawn per combination: the legend's title says which figure it is.
        heading = _label(figures[0], figures) if others and len(figures) == 1 else None
        ax.legend(handles, texts, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize=8, title=heading, title_fontsize=8,
                  alignment="left")
    else:
        ax.legend(handles, texts, loc="best")
    ax.set_title(title, loc="left")
    ax.set_xlabel(_axis_label(x_name))
    ax.set_ylabel(unit)
    if labels is not None:
        ax.set_xticks(list(positions.values()), labels)
    else:
        if _log(x_values):
            ax.set_xscale("log")
        if len(x_values) <= 12:  # a tick at every point, not at values nobody ran
            ticks = sorted(float(v) for v in x_values)
            ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
            ax.minorticks_off()
    _mark_unstable(ax, marked, stable_top, log_y)


def _slo_marks(ax: Axes, table: pd.DataFrame, x_name: str, positions: dict[Any, float],
               figures: Sequence[str], scale: float, slos: Sequence[Any],
               best: int | None) -> tuple[list[Any], list[str]]:
    """The thresholds of the SLOs on this panel's figures (dashed), and the best passing
    point (``best``, its row in ``table``: a vertical line); their legend entries."""
    mine = [rule for rule in slos if rule.figure in figures]
    if not mine:
        return [], []
    handles: list[Any] = []
    texts: list[str] = []
    for rule in mine:
        ax.axhline(rule.threshold * scale, color=SLO_COLOUR, linestyle="--", linewidth=1.2)
        handles.append(Line2D([], [], color=SLO_COLOUR, linestyle="--"))
        texts.append(f"SLO: {rule}")
    if best is not None:
        value = table[x_name].tolist()[best]  # a Python value, as positions are keyed
        ax.axvline(positions[_key(value)], color=SLO_COLOUR, linestyle=":", linewidth=1.6)
        handles.append(Line2D([], [], color=SLO_COLOUR, linestyle=":", linewidth=1.6))
        texts.append(f"best passing point: {x_name.split('.')[-1]}={yaml_value(value)}")
    return handles, texts


def _mark_unstable(ax: Axes, marked: list[tuple[float, float, str, str]], stable_top: float,
                   log_y: bool) -> None:
    """Ring the unstable points; on a linear axis size it to the stable points and draw an
    unstable value above them as a triangle at the top, its value beside it."""
    if log_y:
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log", nonpositive="mask")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    else:
        ax.set_ylim(bottom=0)
    for x, y, _colour, _text in marked:
        ax.plot([x], [y], linestyle="none", marker="o", markersize=9, markerfacecolor="none",
                markeredgecolor=style.MUTED, markeredgewidth=1.4, zorder=4)
    if log_y or not marked or stable_top <= 0:
        return
    top = stable_top * HEADROOM
    clipped = [m for m in marked if m[1] > top]
    if not clipped:
        return
    ax.set_ylim(0, top)
    rows: dict[float, int] = {}  # several figures clipped at one x: one row each, highest first
    for x, _y, colour, text in sorted(clipped, key=lambda m: -m[1]):
        row = rows[x] = rows.get(x, -1) + 1
        ax.plot([x], [top], linestyle="none", marker="^", markersize=8, color=colour,
                clip_on=False, zorder=5)
        ax.annotate(f"{text} ↑", xy=(x, top), xytext=(-6, -4 - 11 * row),
                    textcoords="offset points",
                    ha="right", va="top", fontsize=8, color=colour,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.8})


def _is_time(figures: Sequence[str]) -> bool:
    from sim.figures import unit

    return unit(figures[0]) == "s"


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """Parameter values as they read in YAML (``true``, not ``True``), for labels and
    matching alike."""
    return frame.apply(lambda column: column.map(yaml_value))


def _band_handle() -> Any:
    from matplotlib.patches import Patch

    return Patch(color=style.MUTED, alpha=0.18, linewidth=0)


def _key(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)


def _x_axis(column: pd.Series) -> tuple[list[Any], dict[Any, float], list[str] | None]:
    """(values, position of each value, tick labels for categories or None)."""
    values = list(dict.fromkeys(column.tolist()))
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                  and math.isfinite(v) for v in values)
    if numeric:
        return values, {v: float(v) for v in values}, None
    shown = [yaml_value(v) for v in values]
    return values, {str(v): float(i) for i, v in enumerate(values)}, shown


def _log(values: list[Any]) -> bool:
    numbers = [float(v) for v in values]
    return bool(numbers) and min(numbers) > 0 and max(numbers) / min(numbers) >= 20


def _scale(table: pd.DataFrame, figures: Sequence[str],
           currency: str | None = None) -> tuple[float, str]:
    """The y axis's scale and label for ``figures`` (`sim.plots.style.figure_axis`)."""
    from sim.figures import unit

    kind = unit(figures[0])
    top = 0.0
    if kind == "s":
        top = np.nanmax([np.nanmax(table[f].to_numpy(float)) for f in figures] + [0.0])
    return style.figure_axis(kind, float(top), currency)


def _label(figure: str, figures: Sequence[str]) -> str:
    parts = figure.split(".")
    if figure.startswith("workers."):
        return parts[1]
    if parts[0] in ("latency", "wait", "queueing"):
        return f"{parts[0]} {parts[-1]}"
    return parts[-1].replace("_", " ")


def _axis_label(name: str) -> str:
    """The parameter's path, with its unit where the key says it."""
    last = name.split(".")[-1]
    units = {"rate": " (msg/s)", "visibility_timeout": " (s)", "mean": " (s)",
             "max_length": " (messages)", "duration": " (s)", "prefetch": " (messages)",
             "heartbeat": " (s)", "lock_timeout": " (s)", "poll_interval": " (s)"}
    return name + units.get(last, "")
