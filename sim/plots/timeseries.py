"""Queue depth and rates over simulated time, drawn from a run's timeseries table.

Stacked panels share the time axis: depth (ready and in-flight messages) on top, completion
and publish rates below, a calling producer's calls (answered and errors per second: what a
synchronous caller sees of an outage) when there is one, the number of workers up when it
changes (crashes, autoscaling), and a lag panel per kafka consumer group (each partition's lag,
its worst partition marked).
Rates are the per-interval counts divided by the sampling interval; when there are many
samples a rolling mean is drawn over the raw (faint) series so a trend reads at a glance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.plots import style

MAX_QUEUES_SEPARATE_RATES = 3  # above this, rates are summed over queues to stay readable
SMOOTH_TARGET_POINTS = 60  # roughly how many independent points the smoothed rate shows
LAG_PANEL_HEIGHT = 2.4  # inches added to the figure per consumer group's lag panel
WORST = style.color(1)  # the worst partition's line (vermillion)
OTHER_PARTITIONS = "#9A9A9A"


def timeseries(ts: pd.DataFrame, summary: dict, title: str | None = None) -> Figure:
    """Depth, in-flight, throughput and publish rate per queue against simulated time, and
    each calling producer's answered calls and errors."""
    summary, note = style.plotted_run(summary)
    frame = _prepare(ts)
    calls = _calls(ts)
    queues = sorted(frame["queue"].unique()) if not frame.empty else []
    show_workers = ((not frame.empty and "workers_up" in frame and _varies(frame, "workers_up"))
                    or (not calls.empty and _varies(calls, "workers_up", "producer")))
    logs = _group_logs(frame)  # kafka consumer groups: a lag panel each
    panels = (["depth", "rates"] if not frame.empty or calls.empty else [])
    panels += ["calls"] if not calls.empty else []
    panels += ["workers"] if show_workers else []
    panels += [f"lag {log}" for log in logs]
    heights = {"depth": 3, "rates": 3, "calls": 2.4, "workers": 1.3}  # as ratios, and inches
    heights.update({f"lag {log}": LAG_PANEL_HEIGHT / 0.92 for log in logs})
    with style.styled():
        # 6 inches for depth and rates (as before), about an inch per ratio beyond them.
        fig = style.new_figure(9.0, max(3.0, sum(heights[k] for k in panels)) * 0.92 + 0.5)
        ratios = [heights[k] for k in panels]
        axes = np.atleast_1d(fig.subplots(len(ratios), 1, sharex=True,
                                          gridspec_kw={"height_ratios": ratios}))
        fig.suptitle(title or style.title("Queues over time", summary, note), x=0.01, ha="left",
                     fontweight="bold")
        if frame.empty and calls.empty:
            for ax in axes:
                style.no_data(ax)
            return fig

        interval = _interval(frame if not frame.empty else calls, summary)
        drawn = dict(zip(panels, axes, strict=True))
        if "depth" in drawn:
            _depth_panel(drawn["depth"], frame, queues)
            _rate_panel(drawn["rates"], frame, queues, interval)
        if "calls" in drawn:
            _calls_panel(drawn["calls"], calls, interval)
        if "workers" in drawn:
            _workers_panel(drawn["workers"], frame, queues, calls)
        for log in logs:
            _lag_panel(drawn[f"lag {log}"], frame[frame["queue"] == log], log, summary)
        t_end = float(max(frame["time"].max() if not frame.empty else 0.0,
                          calls["time"].max() if not calls.empty else 0.0))
        _mark_phases(axes, summary, t_end)
        axes[-1].set_xlabel("Simulated time (s)")
        # A run that ended before its publishing window (nothing to publish) still shows it.
        window = style.setting(summary, "duration") or 0.0
        axes[-1].set_xlim(0.0, max(t_end, window) or 1.0)
        for ax in axes:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig


def _prepare(ts: pd.DataFrame | None) -> pd.DataFrame:
    """The queues' rows (a calling producer's rows have no queue: `_calls`)."""
    if ts is None or len(ts) == 0 or "time" not in ts:
        return pd.DataFrame({"time": [], "queue": []})
    frame = ts.copy()
    if "queue" in frame and "producer" in frame:
        frame = frame[frame["queue"].notna()].copy()
    frame["time"] = pd.to_numeric(frame["time"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["time"])].copy()
    frame["queue"] = frame["queue"].astype(str) if "queue" in frame else "all"
    for column in ("depth", "in_flight", "workers_up", "published", "completed", "rejected",
                   "lag"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    return frame.sort_values(["queue", "time"], kind="stable").reset_index(drop=True)


def _calls(ts: pd.DataFrame | None) -> pd.DataFrame:
    """The calling producers' rows: calls made (``published``), answered (``completed``),
    errors (``rejected``) per interval, calls waiting (``in_flight``), the pool's workers."""
    columns = ["time", "producer", "published", "completed", "rejected", "in_flight",
               "workers_up"]
    if ts is None or len(ts) == 0 or "producer" not in ts or "time" not in ts:
        return pd.DataFrame({c: [] for c in columns})
    frame = ts[ts["producer"].notna()]
    frame = frame[[c for c in columns if c in frame]].copy()
    frame["producer"] = frame["producer"].astype(str)
    for column in columns[2:]:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["time"] = pd.to_numeric(frame["time"], errors="coerce").astype(float)
    frame = frame[np.isfinite(frame["time"])]
    return frame.sort_values(["producer", "time"], kind="stable").reset_index(drop=True)


def _interval(frame: pd.DataFrame, summary: dict) -> float:
    """The sampling interval: from the summary if given, else the typical gap between samples."""
    given = style.setting(summary, "sample_interval")
    if given is not None and given > 0:
        return given
    times = np.unique(frame["time"].to_numpy(dtype=float))
    gaps = np.diff(np.concatenate([[0.0], times]))
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 1.0


def _varies(frame: pd.DataFrame, column: str, by: str = "queue") -> bool:
    return bool((frame.groupby(by)[column].nunique(dropna=True) > 1).any())


def _smooth_window(n: int) -> int:
    return max(1, round(n / SMOOTH_TARGET_POINTS))


def _depth_panel(ax: Axes, frame: pd.DataFrame, queues: list[str]) -> None:
    single = len(queues) == 1
    for i, queue in enumerate(queues):
        sub = frame[frame["queue"] == queue]
        colour = style.color(i)
        # A consumer group's log: its depth is what no member has fetched yet, and what is
        # "in flight" was fetched but not committed (a log has no deliveries to acknowledge).
        log = _is_log(sub)
        if "depth" in sub:
            what = "not fetched yet" if log else "ready"
            label = ("ready (queued)" if not log else what) if single else f"{queue} {what}"
            ax.plot(sub["time"], sub["depth"], color=colour, linewidth=1.3, label=label,
                    marker=_marker(sub))
        if "in_flight" in sub:
            what = "fetched, not committed" if log else "in flight"
            label = (("in flight (delivered, unacked)" if not log else what) if single
                     else f"{queue} {what}")
            ax.plot(sub["time"], sub["in_flight"], color=colour, linestyle="--", linewidth=1.1,
                    alpha=0.8, label=label, marker=_marker(sub))
    ax.set_ylabel("Messages")
    ax.set_title("Queue depth" + (f": {queues[0]}" if single else ""), loc="left")
    _from_zero(ax)
    _whole_ticks(ax)  # whole messages


def _rate_panel(ax: Axes, frame: pd.DataFrame, queues: list[str], interval: float) -> None:
    separate = len(queues) <= MAX_QUEUES_SEPARATE_RATES
    if separate:
        groups = [(q, frame[frame["queue"] == q]) for q in queues]
    else:
        summed = frame.groupby("time", as_index=False)[
            [c for c in ("published", "completed", "rejected") if c in frame]
        ].sum()
        groups = [("all queues", summed)]
    single = len(groups) == 1
    n = max(len(g) for _, g in groups)
    window = _smooth_window(n)
    for i, (name, sub) in enumerate(groups):
        series = [
            ("completed", "completed/s (throughput)", "-"),
            ("published", "published/s", "--"),
            ("rejected", "rejected/s", ":"),
        ]
        for j, (column, what, linestyle) in enumerate(series):
            if column not in sub or (column == "rejected" and not sub[column].sum() > 0):
                continue
            # One queue: a colour per series; several: a colour per queue, a style per series.
            colour = style.color(j) if single else style.color(i)
            label = what if single else f"{name} {what.split(' ')[0]}"
            rate = sub[column].to_numpy(dtype=float) / interval
            _rate_line(ax, sub["time"].to_numpy(dtype=float), rate, window, colour,
                       "-" if single else linestyle, label,
                       linewidth=1.6 if single or column == "completed" else 1.1)
    ax.set_ylabel("Rate (messages/s)")
    notes = [] if separate else [f"summed over {len(queues)} queues"]
    if window > 1:
        notes.append(f"rolling mean over {window * interval:g} s")
    note = f" ({'; '.join(notes)})" if notes else ""
    ax.set_title("Throughput and publish rate" + note, loc="left")
    _from_zero(ax)


def _rate_line(
    ax: Axes, t: np.ndarray, rate: np.ndarray, window: int, colour: str, linestyle: str,
    label: str, linewidth: float,
) -> None:
    if window > 1:
        ax.plot(t, rate, color=colour, linewidth=0.6, alpha=0.25)
        rate = pd.Series(rate).rolling(window, center=True, min_periods=1).mean().to_numpy()
    ax.plot(t, rate, color=colour, linestyle=linestyle, linewidth=linewidth, label=label,
            marker="o" if len(t) < 2 else None)


def _marker(sub: pd.DataFrame) -> str | None:
    """A dot when a series has a single sample: a line through one point draws nothing."""
    return "o" if len(sub) < 2 else None


def _from_zero(ax: Axes) -> None:
    """Counts and rates start at 0; an all-zero panel still spans one message (not 0.05)."""
    ax.set_ylim(bottom=0, top=max(1.0, ax.get_ylim()[1]))


def _calls_panel(ax: Axes, calls: pd.DataFrame, interval: float) -> None:
    """Per calling producer: calls answered and calls that ended in an error, per second."""
    names = sorted(calls["producer"].unique())
    window = _smooth_window(max(len(calls[calls["producer"] == n]) for n in names))
    for i, name in enumerate(names):
        sub = calls[calls["producer"] == name]
        t = sub["time"].to_numpy(dtype=float)
        prefix = "" if len(names) == 1 else f"{name} "
        _rate_line(ax, t, sub["completed"].to_numpy(dtype=float) / interval, window,
                   style.color(2 * i), "-", f"{prefix}answered/s", linewidth=1.6)
        _rate_line(ax, t, sub["rejected"].to_numpy(dtype=float) / interval, window,
                   style.color(2 * i + 1), "-", f"{prefix}errors/s", linewidth=1.8)
    ax.set_ylabel("Calls/s")
    who = names[0] if len(names) == 1 else f"{len(names)} callers"
    smooth = " (rolling mean)" if window > 1 else ""
    ax.set_title(f"Calls of {who}: answered, and errors: timed out, refused, failed{smooth}",
                 loc="left")
    _from_zero(ax)


def _workers_panel(ax: Axes, frame: pd.DataFrame, queues: list[str],
                   calls: pd.DataFrame | None = None) -> None:
    lines = [(queue, frame[frame["queue"] == queue]) for queue in queues]
    if calls is not None and not calls.empty:
        lines += [(f"called by {name}", calls[calls["producer"] == name])
                  for name in sorted(calls["producer"].unique())]
    top = 1.0
    for i, (name, sub) in enumerate(lines):
        label = "workers up" if len(lines) == 1 else f"{name} workers"
        if name.startswith("called by ") and len(lines) > 1:
            label = f"workers {name}"
        # A dashed line for the second of two equal steps (a queue's pool and a called one
        # crashing together): one must not hide the other.
        ax.step(sub["time"], sub["workers_up"], where="post", color=style.color(i), label=label,
                linestyle="-" if i == 0 else ("--", ":", "-.")[(i - 1) % 3])
        top = max(top, float(sub["workers_up"].max()))
    ax.set_ylabel("Workers")
    ax.set_ylim(bottom=0, top=top * 1.15)
    _whole_ticks(ax)


def _is_log(sub: pd.DataFrame) -> bool:
    """Whether a queue's samples are a kafka consumer group's log (they carry its lag)."""
    return "lag" in sub and bool(sub["lag"].notna().any())


def _group_logs(frame: pd.DataFrame) -> list[str]:
    """The consumer groups' logs among the sampled queues, in name order."""
    if frame.empty or "lag" not in frame:
        return []
    return sorted(str(q) for q, sub in frame.groupby("queue", observed=True) if _is_log(sub))


def _whole_ticks(ax: Axes) -> None:
    """Ticks on whole numbers only, on the y axis's default (MaxNLocator) locator."""
    locator = ax.yaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):
        locator.set_params(integer=True)


def _partition_lags(sub: pd.DataFrame) -> np.ndarray | None:
    """The samples' per-partition lags as a (samples × partitions) array, or None when the
    table has none (written before it had them) or they do not line up."""
    if "partition_lag" not in sub or len(sub) == 0:
        return None
    if any(v is None for v in sub["partition_lag"]):
        return None
    rows = [np.asarray(v, dtype=float) for v in sub["partition_lag"]]
    if any(r.ndim != 1 for r in rows) or len({r.size for r in rows}) != 1:
        return None
    return np.vstack(rows)


def _worst_partition(summary: dict, log: str, lags: np.ndarray, t: np.ndarray) -> int:
    """The partition with the most mean lag: the summary's (exact) figure when it has one
    per partition, else the time average of the samples (each standing for the time since
    the one before, as the summary's mean depth)."""
    entry = (summary.get("queues") or {}).get(log)
    parts = entry.get("partitions") if isinstance(entry, dict) else None
    if isinstance(parts, list) and len(parts) == lags.shape[1]:
        lag = [p.get("mean_lag") if isinstance(p, dict) else None for p in parts]
        lag = [m.get("mean") if isinstance(m, dict) else m for m in lag]  # replications
        means = [m for m in lag if isinstance(m, (int, float))]
        if len(means) == len(lag):
            return int(np.argmax(means))
    weight = np.diff(t, prepend=0.0)
    if not weight.sum() > 0:
        weight = np.ones_like(t)
    return int(np.argmax(weight @ lags))


def _partition_figure(summary: dict, log: str, part: int, figure: str) -> float | None:
    """A partition's figure from the summary (a replicated one's mean), None if it has none."""
    entry = (summary.get("queues") or {}).get(log)
    parts = entry.get("partitions") if isinstance(entry, dict) else None
    if not isinstance(parts, list) or part >= len(parts) or not isinstance(parts[part], dict):
        return None
    value = parts[part].get(figure)
    value = value.get("mean") if isinstance(value, dict) else value
    return float(value) if isinstance(value, (int, float)) and np.isfinite(value) else None


def _lag_panel(ax: Axes, sub: pd.DataFrame, log: str, summary: dict) -> None:
    """One consumer group's lag (records not yet committed) over time: each partition's, the
    worst one (most mean lag) marked at its peak, and the group's total beside them."""
    t = sub["time"].to_numpy(dtype=float)
    lags = _partition_lags(sub)
    entry = (summary.get("queues") or {}).get(log)
    group = entry.get("group") if isinstance(entry, dict) else None
    name = f"group {group} ({log})" if group and group != log else f"group log {log}"
    ax.set_title(f"Consumer lag: {name}", loc="left")
    total = sub["lag"].to_numpy(dtype=float)
    if lags is None or lags.shape[1] < 2:
        ax.plot(t, total, color=WORST, linewidth=1.6, marker="o" if len(t) < 2 else None,
                label="lag" if lags is None else "lag (1 partition)")
    else:
        worst = _worst_partition(summary, log, lags, t)
        others = [p for p in range(lags.shape[1]) if p != worst]
        # Drawn back to front: the total, the other partitions, the worst one on top.
        ax.plot(t, total, color=style.INK, linewidth=0.9, linestyle="--", alpha=0.6,
                label="group total", zorder=1)
        for p in others:
            ax.plot(t, lags[:, p], color=OTHER_PARTITIONS, linewidth=0.8, alpha=0.8,
                    label=f"other partitions ({len(others)})" if p == others[0] else None,
                    zorder=2)
        ax.plot(t, lags[:, worst], color=WORST, linewidth=1.8, zorder=3,
                label=f"partition {worst} (most mean lag)")
        peak = int(np.argmax(lags[:, worst]))
        if lags[peak, worst] > 0:  # its peak, named on the plot itself
            # The summary's max_lag is exact; a sample may fall just after the peak.
            largest = _partition_figure(summary, log, worst, "max_lag")
            largest = lags[peak, worst] if largest is None else largest
            ax.plot([t[peak]], [lags[peak, worst]], "o", color=WORST, markersize=5, zorder=4)
            ax.annotate(f"partition {worst}: max lag {largest:,.0f}",
                        (t[peak], lags[peak, worst]), xytext=(6, 3),
                        textcoords="offset points", color=WORST, fontsize=9, zorder=5,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                              "edgecolor": "none", "alpha": 0.85})
    ax.set_ylabel("Records not\ncommitted")
    _from_zero(ax)
    _whole_ticks(ax)


def _mark_phases(axes: np.ndarray, summary: dict, t_end: float) -> None:
    """Shade the warm-up and mark when publishing stopped (the drain that follows)."""
    warmup = style.setting(summary, "warmup") or 0.0
    duration = style.setting(summary, "duration")
    for k, ax in enumerate(axes):
        if warmup > 0:
            ax.axvspan(0.0, warmup, color=style.SHADE, alpha=0.3, linewidth=0,
                       label="warm-up (excluded)" if k == 0 else None)
        if duration is not None and 0 < duration < t_end:
            ax.axvline(duration, color=style.MUTED, linestyle="-.", linewidth=1.0,
                       label="publishing stops" if k == 0 else None)
