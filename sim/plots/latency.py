"""Empirical latency CDF of a run, drawn from its messages table (never from the model).

Latency is first completion minus publish, over completed copies published at or after the
warm-up (docs/scenario-reference.md, "Figures"), so the curve agrees with the summary's
percentiles. A replicated result is drawn from its first replication (see
``style.plotted_run``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.format import show_duration
from sim.metrics.summary import flow_spans
from sim.plots import style

MARKED_PERCENTILES = (50, 90, 99)  # the percentiles a latency CDF marks and labels
MAX_POINTS = 4000  # points per drawn curve; more adds nothing visible and costs seconds
LABEL_ROW = 12.0  # points: the height of a percentile label's row (8.5 pt text and its box)


def measured(messages: pd.DataFrame, summary: dict) -> pd.DataFrame:
    """Completed copies published at or after warm-up, with ``latency`` and ``wait`` columns.

    A copy is completed when it has a ``completed_at`` (its first completion), as in the
    summary's ``latency``.
    """
    warmup = _warm(style.plotted_run(summary)[0])
    if (messages is None or len(messages) == 0
            or not {"published_at", "completed_at"} <= set(messages.columns)):
        return pd.DataFrame({"queue": [], "latency": [], "wait": []})
    done = messages["completed_at"].notna() & (messages["published_at"] >= warmup)
    rows = messages.loc[done]
    queue = rows["queue"].astype(str) if "queue" in rows else pd.Series("all", index=rows.index)
    wait = (
        rows["first_delivered_at"] - rows["published_at"]
        if "first_delivered_at" in rows
        else pd.Series(np.nan, index=rows.index)
    )
    return pd.DataFrame(
        {
            "queue": queue.to_numpy(),
            "latency": (rows["completed_at"] - rows["published_at"]).to_numpy(dtype=float),
            "wait": wait.to_numpy(dtype=float),
        }
    )


def latency_cdf(
    messages: pd.DataFrame,
    summary: dict,
    title: str | None = None,
    show_wait: bool | None = None,
) -> Figure:
    """Empirical CDF of latency, one line per queue, with p50/p90/p99 marked.

    ``show_wait`` adds the waiting-time CDF dashed (time to first delivery); by default it is
    drawn when there is a single queue, where it does not clutter the figure.
    """
    summary, note = style.plotted_run(summary)
    data = measured(messages, summary)
    data = data[np.isfinite(data["latency"])]
    queues = sorted(data["queue"].unique())
    if show_wait is None:
        show_wait = len(queues) == 1
    with style.styled():
        fig = style.new_figure(8.0, 4.8)
        ax = fig.add_subplot()
        ax.set_title(title or style.title("Latency distribution", summary, note), loc="left")
        if data.empty:
            style.no_data(ax, "no completed messages after warm-up")
            return fig

        lat = data["latency"].to_numpy()
        flows = _end_to_end(messages, summary)
        log_x = _wide_spread(lat)
        scale, unit = axis_unit(np.concatenate([lat, flows]) if flows is not None else lat,
                                log_x)
        x_min = _left_edge(lat, scale, log_x)
        waits = data["wait"].to_numpy()
        waits = waits[np.isfinite(waits) & (waits > 0)]
        if show_wait and log_x and waits.size:
            # Waits can sit far left of latencies (a large prefetch): keep them on the chart.
            x_min = min(x_min, _left_edge(waits, scale, log_x))

        for i, queue in enumerate(queues):
            sub = data[data["queue"] == queue]
            colour = style.color(i)
            label = queue if len(queues) > 1 else "latency"
            _ecdf_line(ax, sub["latency"].to_numpy() * scale, x_min, colour, "-", label)
            wait = sub["wait"].to_numpy()
            wait = wait[np.isfinite(wait)]
            if show_wait and wait.size:
                wait_label = f"{queue} wait" if len(queues) > 1 else "wait (to first delivery)"
                _ecdf_line(ax, wait * scale, x_min, colour, "--", wait_label, alpha=0.7)

        if flows is not None:
            # A pipeline (or a fan-out): what a message's whole journey took, stage to stage.
            _ecdf_line(ax, flows * scale, x_min, style.INK, "-", "end to end (flows)",
                       linewidth=2.2)
            lat = np.concatenate([lat, flows])
        x_max = float(lat.max()) * scale * (1.6 if log_x else 1.03)
        if x_max <= x_min:  # every latency zero: keep a visible, valid axis
            x_max = x_min + 1.0
        if log_x:
            log_ticks(ax)
        ax.set_xlim(x_min, x_max)
        stages = data["latency"].to_numpy()
        _mark_percentiles(ax, stages, scale, (x_min, x_max, log_x), pooled=len(queues) > 1)
        ax.set_ylim(0.0, 1.02)
        ax.set_xlabel(f"Latency ({unit})")
        ax.set_ylabel("Fraction of messages completed")
        heading = f"{len(stages):,} messages"
        if _warm(summary) > 0:
            heading += f", after {_warm(summary):g} s warm-up"
        # An opaque box: percentile lines near the right edge must not run through the text.
        ax.legend(loc="lower right", title=heading, title_fontsize=9, frameon=True,
                  facecolor="white", edgecolor="none", framealpha=0.9)
    return fig


def _end_to_end(messages: pd.DataFrame, summary: dict) -> np.ndarray | None:
    """End-to-end times of the completed flows, when some flow made several copies (stages,
    fan-out, dead letters); None when every flow is one copy (the curve would repeat)."""
    if messages is None or "flow" not in messages:
        return None
    spans = flow_spans(messages, _warm(summary))
    if spans is None or spans[1] <= spans[0] or spans[2].size == 0:
        return None
    return spans[2]


# The unit of a linear latency axis: the first whose span holds the axis' top (1,000 ms,
# 1,000 s, 1,000 min), so a tail of minutes does not read 10⁵ ms.
_UNITS = ((1.0, 1000.0, "ms"), (1000.0, 1.0, "s"), (60_000.0, 1 / 60, "min"),
         (float("inf"), 1 / 3600, "h"))
# A log axis is in seconds with its ticks at durations that read as such, each in its unit.
LOG_TICKS = ((1e-6, "1 µs"), (1e-5, "10 µs"), (1e-4, "100 µs"), (1e-3, "1 ms"),
             (1e-2, "10 ms"), (0.1, "100 ms"), (1.0, "1 s"), (10.0, "10 s"), (60.0, "1 min"),
             (600.0, "10 min"), (3600.0, "1 h"), (36_000.0, "10 h"), (86_400.0, "1 day"),
             (864_000.0, "10 days"))


def axis_unit(seconds: np.ndarray, log_x: bool) -> tuple[float, str]:
    """(scale, unit) of a latency axis: seconds on a log axis (`log_ticks` labels it), else
    the unit that fits the largest of ``seconds``."""
    if log_x:
        return 1.0, "log scale"
    top = float(np.max(seconds)) * 1.03 if np.size(seconds) else 0.0
    for below, scale, unit in _UNITS:
        if top < below:
            return scale, unit
    return _UNITS[-1][1], _UNITS[-1][2]


def log_ticks(ax: Axes) -> None:
    """A log axis in seconds ticked at 1 ms, 10 ms, ..., 1 s, 10 s, 1 min, 10 min, 1 h."""
    from matplotlib.ticker import FixedFormatter, FixedLocator, NullFormatter, NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator([t for t, _ in LOG_TICKS]))
    ax.xaxis.set_major_formatter(FixedFormatter([label for _, label in LOG_TICKS]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _warm(summary: dict) -> float:
    return style.setting(summary, "warmup") or 0.0


def _wide_spread(values: np.ndarray) -> bool:
    """Log x when the bulk of the distribution (p10 to p99) spans more than two decades."""
    positive = values[values > 0]
    if positive.size < 2:
        return False
    lo, hi = np.quantile(positive, [0.10, 0.99])
    return bool(lo > 0 and hi / lo > 100.0)


def _left_edge(values: np.ndarray, scale: float, log_x: bool) -> float:
    """0 on a linear axis; on a log axis a bit below the smallest positive value."""
    if not log_x:
        return 0.0
    positive = values[values > 0] * scale
    return float(10 ** math.floor(math.log10(np.quantile(positive, 0.001))))


def _ecdf_line(
    ax: Axes,
    values: np.ndarray,
    x_min: float,
    colour: str,
    linestyle: str,
    label: str,
    alpha: float = 1.0,
    linewidth: float | None = None,
) -> None:
    """A step ECDF, thinned to MAX_POINTS but keeping every point of the upper tail."""
    x = np.sort(values)
    n = x.size
    y = np.arange(1, n + 1) / n
    if n > MAX_POINTS:
        body = np.linspace(0, n - 1, MAX_POINTS // 2).astype(np.int64)
        # Geometric spacing towards the top keeps p99.9 and the maximum visible.
        tail = n - np.unique(np.geomspace(1, n, MAX_POINTS // 2).astype(np.int64))
        idx = np.unique(np.concatenate([body, tail, [n - 1]]))
        x, y = x[idx], y[idx]
    # Start at the axis edge at the mass below it (the atom at zero of the wait, say).
    below = float(np.mean(values <= x_min)) if x_min > 0 else 0.0
    keep = x > x_min if x_min > 0 else np.ones_like(x, dtype=bool)
    x = np.concatenate([[x_min], x[keep]])
    y = np.concatenate([[below], y[keep]])
    ax.step(x, y, where="post", color=colour, linestyle=linestyle, label=label, alpha=alpha,
            linewidth=linewidth)


def _mark_percentiles(
    ax: Axes,
    seconds: np.ndarray,
    scale: float,
    x_axis: tuple[float, float, bool],
    pooled: bool,
) -> None:
    """Dotted verticals at p50/p90/p99, labelled with the value in its own natural unit.

    With one curve the line stops at the curve with a dot; with several (pooled percentiles
    over all queues) it spans the plot and the label sits at the top.
    """
    x_min, x_max, log_x = x_axis
    for row, (p, value) in enumerate(
            zip(MARKED_PERCENTILES, np.percentile(seconds, MARKED_PERCENTILES), strict=True)):
        x = value * scale
        level = 1.0 if pooled else p / 100.0
        ax.plot([x, x], [0.0, level], color=style.MUTED, linestyle=":", linewidth=1.2, zorder=1)
        if not pooled:
            ax.plot([x], [level], marker="o", markersize=4, color=style.MUTED, zorder=3)
        # Labels near the right edge go on the line's left so they stay inside the axes.
        left = _axis_fraction(x, x_min, x_max, log_x) > 0.8
        # Pooled, every label hangs from the top: each gets its own row, since p90 and p99
        # are often close and on one row would run into each other ("p90 43.1p99 2.26
        # min"). On one curve each hangs at its own level (0.5, 0.9, 0.99) already.
        drop = -10 - LABEL_ROW * row if pooled else -2
        ax.annotate(
            f"p{p} {show_duration(value)}",
            xy=(x, level),
            xytext=(-4 if left else 4, drop),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top",
            fontsize=8.5,
            color=style.MUTED,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    if pooled:
        ax.plot([], [], color=style.MUTED, linestyle=":", label="p50/p90/p99, all queues")


def _axis_fraction(x: float, lo: float, hi: float, log_x: bool) -> float:
    if log_x and x > 0 and lo > 0:
        return (math.log10(x) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    return (x - lo) / (hi - lo) if hi > lo else 0.0


