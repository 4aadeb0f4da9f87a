"""Plots from synthetic results tables: labelled axes, legends, percentile marks, PNG files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import plots
from sim.plots.latency import measured


def _messages(
    n: int = 4000, lam: float = 80.0, mu: float = 100.0, queue: str = "jobs", seed: int = 1
) -> pd.DataFrame:
    """An M/M/1-like table: Poisson publishes, FIFO single server (Lindley's recursion)."""
    rng = np.random.default_rng(seed)
    published = np.cumsum(rng.exponential(1 / lam, n))
    service = rng.exponential(1 / mu, n)
    start, done = np.empty(n), np.empty(n)
    free = 0.0
    for i in range(n):
        start[i] = max(published[i], free)
        free = done[i] = start[i] + service[i]
    return pd.DataFrame(
        {
            "id": np.arange(n), "copy": 0, "queue": pd.Categorical([queue] * n),
            "producer": "web", "key": None, "type": None, "seq": np.arange(n),
            "published_at": published, "accepted_at": published, "first_delivered_at": start,
            "completed_at": done, "deliveries": 1, "processings": 1, "worker": "w",
            "state": pd.Categorical(["completed"] * n),
        }
    )


def _timeseries(interval: float = 1.0, t_end: float = 60.0, workers_dip: bool = False):
    """A spike: publishes double in [20, 30) s, the backlog drains afterwards."""
    time = np.arange(interval, t_end + interval / 2, interval)
    published = np.where((time > 20) & (time <= 30), 20.0, 10.0) * interval
    completed = np.minimum(published, 15.0 * interval)
    depth = np.maximum(0.0, np.cumsum(published - 15.0 * interval))
    workers = np.where(workers_dip & (time > 40) & (time <= 45), 2, 3)
    return pd.DataFrame(
        {
            "time": time, "queue": pd.Categorical(["jobs"] * len(time)), "depth": depth,
            "in_flight": 3.0, "workers_up": workers, "published": published,
            "completed": completed, "rejected": 0.0,
        }
    )


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def _legend_labels(ax) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


# --------------------------------------------------------------------------- latency CDF


def test_latency_cdf_labels_legend_and_percentiles() -> None:
    msgs = _messages()
    summary = {"scenario": "mm1", "warmup": 5.0}
    fig = plots.latency_cdf(msgs, summary)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "Latency (ms)"  # median ~ 35 ms < 1 s
    assert ax.get_ylabel() == "Fraction of messages completed"
    assert "mm1" in ax.get_title(loc="left")
    assert _legend_labels(ax) == ["latency", "wait (to first delivery)"]
    labels = _texts(fig)
    assert [s.split()[0] for s in labels] == ["p50", "p90", "p99"]
    # The p50 line sits at the median latency of the measured copies, in ms.
    kept = msgs[msgs["published_at"] >= 5.0]
    p50_ms = float(np.median(kept["completed_at"] - kept["published_at"])) * 1000
    verticals = [ln.get_xdata()[0] for ln in ax.lines if len(ln.get_xdata()) == 2]
    assert verticals[0] == pytest.approx(p50_ms)
    assert f"{len(kept):,} messages" in ax.get_legend().get_title().get_text()


def test_latency_cdf_excludes_warmup_and_incomplete() -> None:
    msgs = _messages(n=1000)
    msgs.loc[:99, "completed_at"] += 50.0  # slow copies published early ...
    msgs.loc[500:549, "completed_at"] = np.nan  # ... and copies that never completed
    warm = float(msgs.loc[100, "published_at"])
    data = measured(msgs, {"warmup": warm})
    assert len(data) == 1000 - 100 - 50
    assert data["latency"].max() < 50.0


def test_latency_cdf_seconds_and_log_scale() -> None:
    rng = np.random.default_rng(2)
    msgs = _messages(n=2000)
    # Lognormal latencies with a median of 2 s and a bulk spanning several decades.
    msgs["completed_at"] = msgs["published_at"] + rng.lognormal(np.log(2.0), 2.5, len(msgs))
    ax = plots.latency_cdf(msgs, {}).axes[0]
    # A log axis is in seconds, ticked at durations that read as such.
    assert ax.get_xlabel() == "Latency (log scale)"
    assert ax.get_xscale() == "log"
    ticks = dict(zip(ax.get_xticks(), [t.get_text() for t in ax.get_xticklabels()],
                     strict=True))
    assert ticks[0.001] == "1 ms" and ticks[1.0] == "1 s" and ticks[60.0] == "1 min"
    narrow = plots.latency_cdf(_messages(n=2000), {}).axes[0]
    assert narrow.get_xscale() == "linear"


def test_latency_cdf_one_line_per_queue() -> None:
    msgs = pd.concat(
        [_messages(queue="orders", seed=3), _messages(lam=5, mu=10, queue="emails", seed=4)],
        ignore_index=True,
    )
    ax = plots.latency_cdf(msgs, {"scenario": "pipeline"}).axes[0]
    labels = _legend_labels(ax)
    assert labels[:2] == ["emails", "orders"]
    assert "wait" not in " ".join(labels)  # waits are left out with several queues
    assert len(_texts(ax.figure)) == 3


def test_latency_cdf_without_data() -> None:
    fig = plots.latency_cdf(_messages(n=10).iloc[:0], {"warmup": None})
    assert "no completed messages" in " ".join(_texts(fig))


# --------------------------------------------------------------------------- time series


def test_timeseries_panels_and_rates() -> None:
    ts = _timeseries(interval=1.0)
    summary = {
        "scenario": "spike", "duration": 50.0, "warmup": 5.0, "run": {"sample_interval": 1.0}
    }
    fig = plots.timeseries(ts, summary)
    top, bottom = fig.axes
    assert bottom.get_xlabel() == "Simulated time (s)"
    assert top.get_ylabel() == "Messages"
    assert bottom.get_ylabel() == "Rate (messages/s)"
    top_labels = _legend_labels(top)
    assert {"ready (queued)", "in flight (delivered, unacked)"} <= set(top_labels)
    assert "warm-up (excluded)" in top_labels and "publishing stops" in top_labels
    assert _legend_labels(bottom) == ["completed/s (throughput)", "published/s"]
    # 60 samples: no smoothing, so the published line is the raw count / interval.
    published = next(ln for ln in bottom.lines if ln.get_label() == "published/s")
    np.testing.assert_allclose(published.get_ydata(), ts["published"] / 1.0)
    assert max(published.get_ydata()) == pytest.approx(20.0)
    depth = next(ln for ln in top.lines if ln.get_label() == "ready (queued)")
    assert max(depth.get_ydata()) == pytest.approx(ts["depth"].max())
    assert len(top.patches) == 1  # the warm-up span


def test_timeseries_workers_panel_and_inferred_interval() -> None:
    ts = _timeseries(interval=2.0, t_end=60.0, workers_dip=True)
    fig = plots.timeseries(ts, {})  # no sample_interval given: inferred from the times
    assert len(fig.axes) == 3
    assert fig.axes[2].get_ylabel() == "Workers"
    rate = next(ln for ln in fig.axes[1].lines if ln.get_label() == "published/s")
    assert max(rate.get_ydata()) == pytest.approx(20.0)
    assert len(fig.axes[0].patches) == 0  # no warm-up


def test_timeseries_long_run_is_smoothed_and_shows_rejections() -> None:
    ts = _timeseries(interval=0.1, t_end=100.0)
    ts.loc[ts.index[-10:], "rejected"] = 4.0
    ax = plots.timeseries(ts, {"run": {"sample_interval": 0.1}}).axes[1]
    assert "rolling mean" in ax.get_title(loc="left")
    assert "rejected/s" in _legend_labels(ax)


def _group_log(name: str = "t@w", t_end: float = 30.0) -> pd.DataFrame:
    """A consumer group's log sampled every second: p1 (a hot key's) falls behind, p0 and
    p2 keep up; 'in flight' is what was fetched and not yet committed."""
    time = np.arange(1.0, t_end + 0.5)
    lags = np.stack([np.full(time.size, 2.0), np.minimum(time, 20.0) * 3, 1.0 + time % 2], 1)
    return pd.DataFrame({
        "time": time, "queue": pd.Categorical([name] * time.size), "depth": lags.sum(1) - 4,
        "in_flight": 4.0, "workers_up": 3, "published": 10.0, "completed": 8.0,
        "rejected": 0.0, "lag": lags.sum(1), "max_partition_lag": lags.max(1),
        "partition_lag": list(lags.astype(np.int64)),
    })


def _partitions(means: list[float]) -> list[dict]:
    return [{"owner": f"w/{i}", "records": 10, "mean_lag": m, "max_lag": 60}
            for i, m in enumerate(means)]


def test_timeseries_draws_a_lag_panel_per_consumer_group_with_its_worst_partition() -> None:
    ts = pd.concat([_timeseries(t_end=30.0), _group_log("t@w"), _group_log("t@audit")],
                   ignore_index=True)
    summary = {"scenario": "log", "duration": 25.0, "queues": {
        "t@w": {"group": "w", "partitions": _partitions([2.0, 45.0, 1.5])},
        # The summary's exact means rank partitions; the samples would say p1 here.
        "t@audit": {"group": "audit", "partitions": _partitions([50.0, 45.0, 1.5])},
    }}
    fig = plots.timeseries(ts, summary)
    assert len(fig.axes) == 4  # depth, rates, then one lag panel per group (in name order)
    audit, w = fig.axes[2:]
    assert audit.get_title(loc="left") == "Consumer lag: group audit (t@audit)"
    assert w.get_title(loc="left") == "Consumer lag: group w (t@w)"
    assert _legend_labels(w) == ["group total", "other partitions (2)",
                                 "partition 1 (most mean lag)"]
    assert "partition 0 (most mean lag)" in _legend_labels(audit)
    worst = next(ln for ln in w.lines if ln.get_label() == "partition 1 (most mean lag)")
    np.testing.assert_array_equal(worst.get_ydata(), np.minimum(np.arange(1, 31), 20) * 3)
    # Its peak, marked with the summary's exact max_lag (a sample may miss the peak).
    assert [t.get_text() for t in w.texts] == ["partition 1: max lag 60"]
    peak = next(ln for ln in w.lines if ln.get_marker() == "o")
    assert (peak.get_xdata()[0], peak.get_ydata()[0]) == (20.0, 60.0)
    assert w.get_xlabel() == "Simulated time (s)" and fig.axes[0].get_xlabel() == ""
    # A log's depth is what no member fetched yet; its "in flight", fetched but not committed.
    top = _legend_labels(fig.axes[0])
    assert {"t@w not fetched yet", "t@w fetched, not committed", "jobs ready",
            "jobs in flight"} <= set(top)


def test_a_lag_panel_without_the_summary_ranks_partitions_by_their_samples() -> None:
    fig = plots.timeseries(_group_log("t"), {})
    assert len(fig.axes) == 3
    assert fig.axes[2].get_title(loc="left") == "Consumer lag: group log t"
    assert "partition 1 (most mean lag)" in _legend_labels(fig.axes[2])
    assert {"not fetched yet", "fetched, not committed"} <= set(_legend_labels(fig.axes[0]))
    # A table written before partitions were sampled draws the group's lag alone.
    old = _group_log("t").drop(columns=["partition_lag"])
    assert _legend_labels(plots.timeseries(old, {}).axes[2]) == ["lag"]


def test_timeseries_without_data() -> None:
    fig = plots.timeseries(pd.DataFrame(), {})
    assert "no data" in _texts(fig)


# --------------------------------------------------------------------------- files


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_save_all_writes_pngs(tmp_path: Path) -> None:
    paths = plots.save_all(tmp_path, _messages(n=500), _timeseries(), {"scenario": "s"})
    assert paths == [tmp_path / "plots" / "latency_cdf.png", tmp_path / "plots" / "timeseries.png"]
    assert _png_size(paths[0]) == (960, 576)  # 8 x 4.8 in at 120 dpi
    width, height = _png_size(paths[1])
    assert width == 1080 and height > 600


def test_settings_are_also_read_from_the_run_section() -> None:
    msgs = _messages(n=1000)
    warm = float(msgs.loc[400, "published_at"])
    assert len(measured(msgs, {"run": {"warmup": warm}})) == 600
    ax = plots.timeseries(_timeseries(), {"run": {"warmup": 5.0, "duration": 50.0}}).axes[0]
    assert {"warm-up (excluded)", "publishing stops"} <= set(_legend_labels(ax))


def test_all_zero_latencies_still_draw() -> None:
    msgs = _messages(n=50)
    msgs["completed_at"] = msgs["published_at"]
    ax = plots.latency_cdf(msgs, {}).axes[0]
    left, right = ax.get_xlim()
    assert right > left
    assert "p50 0 s" in _texts(ax.figure)


def test_many_queues_sum_their_rates() -> None:
    ts = pd.concat(
        [_timeseries().assign(queue=name) for name in ("a", "b", "c", "d")], ignore_index=True
    )
    top, bottom = plots.timeseries(ts, {}).axes
    assert "summed over 4 queues" in bottom.get_title(loc="left")
    published = next(ln for ln in bottom.lines if ln.get_label() == "published/s")
    assert max(published.get_ydata()) == pytest.approx(4 * 20.0)
    assert len(_legend_labels(top)) == 8  # ready and in flight for each queue


# --------------------------------------------------------------------------- undefined figures


def test_undefined_settings_are_ignored() -> None:
    summary = {"scenario": None, "warmup": None, "duration": None, "sim_end": None,
               "run": {"sample_interval": None}, "throughput": None}
    ax = plots.latency_cdf(_messages(n=500), summary).axes[0]
    assert ax.get_title(loc="left") == "Latency distribution"
    assert "warm-up" not in ax.get_legend().get_title().get_text()
    fig = plots.timeseries(_timeseries(), summary)
    assert fig._suptitle.get_text() == "Queues over time"
    assert "warm-up (excluded)" not in _legend_labels(fig.axes[0])


def test_a_replicated_summary_draws_its_first_replication() -> None:
    first = {"scenario": "spike", "seed": 7, "warmup": 5.0, "duration": 50.0}
    aggregated = {
        "scenario": "spike", "seed": 7, "replications": 3,
        # Written by older versions: run settings as statistics.
        "warmup": {"mean": 5.0, "ci95": 0.0}, "duration": {"mean": 52.0, "ci95": 1.0},
        "replication_summaries": [first, {**first, "seed": 8}, {**first, "seed": 9}],
    }
    msgs = _messages(n=1000)
    ax = plots.latency_cdf(msgs, aggregated).axes[0]
    assert ax.get_title(loc="left") == (
        "Latency distribution — spike (first of 3 replications, seed 7)"
    )
    assert f"{int((msgs['published_at'] >= 5.0).sum()):,} messages, after 5 s warm-up" == (
        ax.get_legend().get_title().get_text()
    )
    fig = plots.timeseries(_timeseries(), aggregated)
    assert "first of 3 replications" in fig._suptitle.get_text()
    assert {"warm-up (excluded)", "publishing stops"} <= set(_legend_labels(fig.axes[0]))
    # Without the replications' own summaries, an old aggregate's means are read.
    del aggregated["replication_summaries"]
    assert len(measured(msgs, aggregated)) == int((msgs["published_at"] >= 5.0).sum())
    plots.timeseries(_timeseries(), aggregated)


def test_a_run_that_published_nothing_draws() -> None:
    # One sample at t = 0, all zeros, and no messages: panels with a visible axis, no errors.
    ts = _timeseries().iloc[:1].assign(time=0.0, depth=0.0, in_flight=0.0, published=0.0,
                                       completed=0.0)
    fig = plots.timeseries(ts, {"scenario": "idle", "duration": 20.0, "warmup": None})
    top, bottom = fig.axes
    assert bottom.get_xlim() == (0.0, 20.0)  # the publishing window
    assert top.get_ylim()[1] >= 1.0 and bottom.get_ylim()[1] >= 1.0
    assert all(line.get_marker() == "o" for line in top.lines)  # one point still shows
    no_messages = _messages(n=5).iloc[:0]
    assert "no completed messages" in " ".join(_texts(plots.latency_cdf(no_messages, {})))
    partial = _messages(n=50).drop(columns=["completed_at"])
    assert "no completed messages" in " ".join(_texts(plots.latency_cdf(partial, {})))


def test_a_comparison_of_logs_names_what_their_depth_and_in_flight_are() -> None:
    from sim.plots.compare import depth_overlay

    queue = depth_overlay(["a"], [_timeseries()], [{}]).axes
    assert queue[1].get_title(loc="left") == "In flight (delivered to a worker, unacknowledged)"
    both = depth_overlay(["a", "b"], [_timeseries(), _group_log("t")], [{}, {}]).axes
    assert both[0].get_title(loc="left").endswith("; on a log, records not fetched yet")
    assert both[1].get_title(loc="left").endswith("; on a log, fetched, not committed")
