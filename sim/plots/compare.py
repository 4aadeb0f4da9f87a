"""A comparison's figures: latency CDFs overlaid, bars with 95% intervals, depth over time.

The CDFs and the depths are drawn from each design's first replication (the same seed in
every design, so the same traffic); the bars from the comparison's table (every
replication: the mean and its 95% confidence half-width).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.format import show_duration
from sim.plots import style
from sim.plots.latency import _ecdf_line, _left_edge, _wide_spread, axis_unit, log_ticks, measured

BARS = (
    ("latency.p50", "Latency p50"), ("latency.p99", "Latency p99"),
    ("throughput", "Throughput"), ("totals.lost", "Lost"),
    ("totals.duplicate_processing", "Processed more than once"),
    ("reordering.reordered", "Reordered"),
)


def latency_cdfs(names: Sequence[str], messages: Sequence[pd.DataFrame],
                 summaries: Sequence[dict]) -> Figure:
    """One latency ECDF per design, p99 marked on each."""
    data = [measured(m, s)["latency"].to_numpy(float) if m is not None else np.zeros(0)
            for m, s in zip(messages, summaries, strict=False)]
    data = [d[np.isfinite(d)] for d in data]
    with style.styled():
        fig = style.new_figure(8.0, 4.8)
        ax = fig.add_subplot()
        ax.set_title("Latency distribution by design (first replication of each)", loc="left")
        everything = np.concatenate(data) if data else np.zeros(0)
        if everything.size == 0:
            style.no_data(ax, "no completed messages after warm-up")
            return fig
        log_x = _wide_spread(everything)
        scale, unit = axis_unit(everything, log_x)
        x_min = _left_edge(everything, scale, log_x)
        for i, (name, values) in enumerate(zip(names, data, strict=False)):
            if values.size == 0:
                ax.plot([], [], color=style.color(i), label=f"{name}: nothing completed")
                continue
            p99 = float(np.percentile(values, 99))
            _ecdf_line(ax, values * scale, x_min, style.color(i), "-",
                       f"{name} (p99 {show_duration(p99)})")
            ax.plot([p99 * scale], [0.99], marker="o", markersize=5, color=style.color(i))
        if log_x:
            log_ticks(ax)
        x_max = float(everything.max()) * scale * (1.6 if log_x else 1.03)
        ax.set_xlim(x_min, max(x_max, x_min + 1e-9))
        ax.set_ylim(0.0, 1.02)
        ax.axhline(0.99, color=style.MUTED, linestyle=":", linewidth=1.0)
        ax.set_xlabel(f"Latency ({unit})")
        ax.set_ylabel("Fraction of messages completed")
        ax.legend(loc="lower right", title="design (dot: p99)", title_fontsize=9,
                  frameon=True, facecolor="white", edgecolor="none", framealpha=0.9)
    return fig


def figure_bars(table: pd.DataFrame, names: Sequence[str], title: str | None = None,
                figures: Sequence[tuple[str, str]] = BARS, currency: str | None = None) -> Figure:
    """One panel per figure, one bar per design, with its 95% interval. A figure undefined in
    every design (reordering when no message has a key) gets no panel; a cost axis names
    ``currency``."""
    figures = [(f, heading) for f, heading in figures
               if f in table and bool(table[f].notna().any())]
    with style.styled():
        columns = 3
        rows = max(1, int(np.ceil(len(figures) / columns)))
        fig = style.new_figure(11.0, 3.3 * rows + 0.5)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        fig.suptitle(title or "Designs compared (mean ± 95% CI)", x=0.01, ha="left",
                     fontweight="bold")
        for ax, (figure, heading) in zip(axes, figures, strict=False):
            _bars(ax, table, names, figure, heading, currency)
        for ax in axes[len(figures):]:
            ax.set_visible(False)
        if not figures:
            axes[0].set_visible(True)
            style.no_data(axes[0], "no figure defined in any design")
        handles: list[Artist] = [
            Patch(color=style.color(i), alpha=0.85) for i in range(len(names))
        ]
        handles.append(Line2D([], [], color="black", marker="_", markersize=10,
                              linestyle="-", linewidth=1.2))
        fig.legend(handles, [*names, "95% confidence interval"], loc="outside lower center",
                   ncols=min(len(handles), 5))
    return fig


def _bars(ax: Axes, table: pd.DataFrame, names: Sequence[str], figure: str,
          heading: str, currency: str | None = None) -> None:
    from sim.figures import unit

    rows = table.set_index("design").reindex(list(names))
    mean = rows[figure].to_numpy(float) if figure in rows else np.full(len(names), np.nan)
    half = (rows[figure + "_ci"].to_numpy(float) if figure + "_ci" in rows
            else np.full(len(names), np.nan))
    kind = unit(figure)
    top = float(np.nanmax(np.append(mean, 0.0))) if kind == "s" else 0.0
    scale, label = style.figure_axis(kind, top, currency, other="Copies per run")
    x = np.arange(len(names))
    colours = [style.color(i) for i in range(len(names))]
    shown = np.nan_to_num(mean * scale)
    ax.bar(x, shown, color=colours, alpha=0.85, width=0.6)
    ax.errorbar(x, shown, yerr=np.nan_to_num(half * scale), fmt="none", ecolor="black",
                elinewidth=1.2, capsize=5)
    ax.set_xticks(x, [_short(n, len(names)) for n in names])
    ax.set_title(heading, loc="left")
    ax.set_ylabel(label)
    ax.set_ylim(bottom=0)
    if not np.any(shown > 0):
        ax.set_ylim(0, 1)
        ax.text(0.5, 0.6, "none in any design", transform=ax.transAxes, ha="center",
                color=style.MUTED)
    ax.grid(axis="x", visible=False)


def _short(name: str, designs: int = 2) -> str:
    """A design's tick label, wrapped at spaces to its share of the panel's width (about 36
    characters for all the bars) on at most two lines, so neighbouring labels never touch."""
    width = max(6, 36 // max(designs, 1) - 1)
    lines = textwrap.wrap(name, width, break_long_words=False) or [name]
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    return "\n".join(line if len(line) <= width else line[: width - 1] + "…" for line in lines)


def depth_overlay(names: Sequence[str], timeseries: Sequence[pd.DataFrame],
                  summaries: Sequence[dict]) -> Figure:
    """Ready and in-flight copies (summed over queues) against time, one line per design."""
    with style.styled():
        fig = style.new_figure(9.0, 6.0)
        top, bottom = fig.subplots(2, 1, sharex=True)
        fig.suptitle("Queue depth over time by design (first replication of each)", x=0.01,
                     ha="left", fontweight="bold")
        drawn = False
        end = 0.0
        for i, (name, frame) in enumerate(zip(names, timeseries, strict=False)):
            if frame is None or len(frame) == 0 or "time" not in frame:
                continue
            if "producer" in frame and "queue" in frame:
                frame = frame[frame["queue"].notna()]  # a caller's calls are no queue's copies
            columns = [c for c in ("depth", "in_flight") if c in frame]
            total = frame.groupby("time", as_index=False)[columns].sum()
            end = max(end, float(total["time"].max()))
            if "depth" in total:
                top.plot(total["time"], total["depth"], color=style.color(i), label=name)
            if "in_flight" in total:
                bottom.plot(total["time"], total["in_flight"], color=style.color(i),
                            label=name)
            drawn = True
        if not drawn:
            style.no_data(top)
            style.no_data(bottom)
            return fig
        window = [w for w in (style.setting(s, "duration") for s in summaries) if w]
        for ax in (top, bottom):
            if window and 0 < max(window) < end:
                ax.axvline(max(window), color=style.MUTED, linestyle="-.", linewidth=1.0,
                           label="publishing stops" if ax is top else None)
            ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        # A kafka consumer group's log has no deliveries to acknowledge: its depth is what no
        # member fetched yet, its in-flight what was fetched and not committed.
        logs = any(frame is not None and "lag" in frame and bool(frame["lag"].notna().any())
                   for frame in timeseries)
        top.set_title("Ready (queued) copies, all queues"
                      + ("; on a log, records not fetched yet" if logs else ""), loc="left")
        top.set_ylabel("Messages")
        bottom.set_title("In flight (delivered to a worker, unacknowledged)"
                         + ("; on a log, fetched, not committed" if logs else ""), loc="left")
        bottom.set_ylabel("Messages")
        bottom.set_xlabel("Simulated time (s)")
        bottom.set_xlim(0, end or 1.0)
    return fig
