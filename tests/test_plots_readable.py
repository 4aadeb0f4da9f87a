"""Figures a reader can read: labels that do not collide, axes in the unit that fits, unstable
sweep points that do not squash the others, multi-parameter sweeps named and with legends off
the curves, a calling producer's errors on the time series, and no panel for a null figure."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import run_checked, scenario_from
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim import plots
from sim.experiment.sweep import Sweep, save_plots, sweep
from sim.plots.compare import figure_bars
from sim.plots.sweep import sweep_figure


def _messages(latencies: dict[str, np.ndarray]) -> pd.DataFrame:
    """Completed copies with the given latencies per queue, published one per 10 ms."""
    frames = []
    for queue, lat in latencies.items():
        n = len(lat)
        published = np.arange(n) * 0.01
        frames.append(pd.DataFrame({
            "queue": [queue] * n, "published_at": published,
            "first_delivered_at": published, "completed_at": published + lat}))
    return pd.concat(frames, ignore_index=True)


def _boxes(fig) -> list:
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    return [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts]


def test_pooled_percentile_labels_do_not_collide():
    # Two queues (pooled percentiles, labels hung from the top); p90 and p99 are close.
    rng = np.random.default_rng(1)
    fast = rng.uniform(0.01, 0.02, 850)
    slow = rng.uniform(40.0, 41.0, 150)
    fig = plots.latency_cdf(_messages({"a": fast, "b": slow}), {})
    boxes = _boxes(fig)
    assert len(boxes) == 3
    for i in range(3):
        for j in range(i + 1, 3):
            assert not boxes[i].overlaps(boxes[j]), (i, j)


@pytest.mark.parametrize(("latencies", "unit"), [
    (np.concatenate([np.linspace(0.2, 0.8, 350), np.linspace(1.0, 5.0, 150)]), "s"),
    # (above: a median under 1 s, a tail to 5 s: not 5,000 ms)
    (np.linspace(300.0, 1800.0, 500), "min"),          # 5 to 30 minutes: not 1,800 s
    (np.linspace(0.001, 0.5, 500), "ms"),
])
def test_a_linear_axis_takes_the_unit_that_fits_its_top(latencies, unit):
    ax = plots.latency_cdf(_messages({"q": latencies}), {}).axes[0]
    assert ax.get_xscale() == "linear"
    assert ax.get_xlabel() == f"Latency ({unit})"
    assert ax.get_xlim()[1] < 1000


def _unstable_table() -> pd.DataFrame:
    return pd.DataFrame({
        "producers.p.arrivals.rate": [20, 50, 80, 120], "replications": 3,
        "unstable": [False, False, False, True],
        "latency.mean": [0.012, 0.020, 0.050, 30.0],
        "latency.mean_ci": [0.001, 0.001, 0.005, 2.0],
        "throughput": [20.0, 50.0, 80.0, 100.0], "throughput_ci": [0.5, 0.5, 0.5, 0.5],
    })


def test_an_unstable_point_is_marked_and_does_not_squash_the_others():
    fig = sweep_figure(_unstable_table(), ["producers.p.arrivals.rate"], "mm1")
    latency = next(ax for ax in fig.axes if ax.get_title(loc="left") == "Latency")
    assert latency.get_ylabel() == "Time (ms)"  # the stable points' unit
    assert latency.get_ylim()[1] == pytest.approx(55 * 1.25)  # sized to the stable points
    assert any(t.get_text() == "30.0 s ↑" for t in latency.texts)  # the clipped value
    legend = [t.get_text() for t in latency.get_legend().get_texts()]
    assert any(text.startswith("unstable") for text in legend)
    log = sweep_figure(_unstable_table(), ["producers.p.arrivals.rate"], "mm1", log_y=True)
    latency = next(ax for ax in log.axes if ax.get_title(loc="left") == "Latency")
    assert latency.get_yscale() == "log" and latency.get_ylim()[1] > 30_000
    through = next(ax for ax in log.axes if ax.get_title(loc="left") == "Throughput")
    assert through.get_yscale() == "linear"  # a rate does not span decades


OVERLOAD = """
    name: overload
    run: {duration: 20, seed: 2}
    producers:
      p: {arrivals: {process: poisson, rate: 50}, publish: q}
    queues:
      q: {}
    workers:
      w: {consumes: q, service_time: {dist: exponential, mean: 10ms}}
"""


def test_a_sweep_flags_its_unstable_points_and_offers_a_log_plot(tmp_path):
    result = sweep(scenario_from(OVERLOAD), {"producers.p.arrivals.rate": [50, 150]}, 2)
    assert result.unstable == [False, True]
    assert result.table["unstable"].tolist() == [False, True]
    written = save_plots(result, tmp_path)
    assert [p.name for p in written] == ["sweep.png", "sweep_log.png"]
    folder = result.save(tmp_path, plots=False)
    assert Sweep.load(folder).unstable == [False, True]


def _grid_table() -> pd.DataFrame:
    rows = []
    for durable in (True, False):
        for count in (1, 2, 4):
            rows.append({"workers.w.count": count, "queues.q.durable": durable,
                         "replications": 2, "latency.mean": 0.1 / count,
                         "latency.mean_ci": 0.01, "latency.p99": 0.5 / count,
                         "latency.p99_ci": 0.05, "throughput": 10.0, "throughput_ci": 0.1})
    return pd.DataFrame(rows)


def test_a_two_parameter_sweep_names_both_and_keeps_its_legends_off_the_curves():
    fig = sweep_figure(_grid_table(), ["workers.w.count", "queues.q.durable"], "grid")
    assert fig._suptitle.get_text().startswith(
        "Sweep of workers.w.count × queues.q.durable — grid")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        legend = ax.get_legend()
        assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
        texts = [t.get_text() for t in legend.get_texts()]
        assert "durable=true" in texts and "durable=false" in texts  # YAML, not True
    latency = fig.axes[0]
    texts = [t.get_text() for t in latency.get_legend().get_texts()]
    # A colour per combination, a line style per figure: not one entry per curve.
    assert texts[:4] == ["durable=true", "durable=false", "latency mean", "latency p99"]


CALLS = """
    name: calls
    run: {duration: 60, seed: 4, sample_interval: 1}
    producers:
      caller: {arrivals: {process: constant, interval: 0.1}, call: api, timeout: 1}
      sender: {arrivals: {process: constant, interval: 0.1}, publish: q}
    queues:
      q: {}
    workers:
      api: {count: 2, service_time: 0.05}
      w: {consumes: q, count: 2, service_time: 0.05}
    faults:
      - {crash: api, workers: 2, at: 20, restart_after: 10, silent: true}
"""


def test_a_calling_producers_errors_are_in_the_time_series_and_its_plot():
    result = run_checked(scenario_from(CALLS))
    ts = result.timeseries
    calls = ts[ts["producer"] == "caller"]
    summary = result.summary["producers"]["caller"]
    assert calls["queue"].isna().all()
    assert calls["published"].sum() == summary["sent"]
    assert calls["completed"].sum() == summary["calls"]["answered"]
    assert calls["rejected"].sum() == summary["errors"] == summary["calls"]["timeouts"] > 0
    assert calls["in_flight"].min() >= 0 and calls["in_flight"].iloc[-1] == 0
    # Errors reach the caller in the outage (each after its 1 s timeout), not before it.
    erring = calls.loc[calls["rejected"] > 0, "time"]
    assert erring.min() > 20 and erring.max() <= 31 + 1
    # The queue's rows are unchanged: the summary still sees one queue.
    assert sorted(result.summary["queues"]) == ["q"]
    fig = result.plot_timeseries()
    [panel] = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("Calls of caller")]
    labels = [t.get_text() for t in panel.get_legend().get_texts()]
    assert labels == ["answered/s", "errors/s"]
    errors = next(line for line in panel.get_lines() if line.get_label() == "errors/s")
    assert np.nanmax(errors.get_ydata()) > 0
    workers = fig.axes[-1]
    assert "workers called by caller" in [t.get_text() for t in workers.get_legend().get_texts()]


def test_only_callers_still_draw():
    text = CALLS.replace("      sender: {arrivals: {process: constant, interval: 0.1}, "
                         "publish: q}\n", "").replace(
        "    queues:\n      q: {}\n", "").replace(
        "      w: {consumes: q, count: 2, service_time: 0.05}\n", "")
    result = run_checked(scenario_from(text))
    titles = [ax.get_title(loc="left") for ax in result.plot_timeseries().axes]
    assert titles[0].startswith("Calls of caller")


def test_compare_bars_leave_out_a_figure_undefined_in_every_design():
    table = pd.DataFrame({
        "design": ["a", "b"], "latency.p50": [0.1, 0.2], "latency.p50_ci": [0.01, 0.01],
        "reordering.reordered": [np.nan, np.nan], "reordering.reordered_ci": [np.nan] * 2,
        "totals.lost": [0.0, 0.0], "totals.lost_ci": [0.0, 0.0]})
    fig = figure_bars(table, ["a", "b"])
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    assert "Reordered" not in titles
    assert "Latency p50" in titles and "Lost" in titles  # 0 is a value: "none in any design"
    assert "nan" not in " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_a_callers_rows_are_not_queue_depth_in_a_comparison():
    from sim.plots.compare import depth_overlay

    result = run_checked(scenario_from(CALLS))
    ts = result.timeseries
    fig = depth_overlay(["d"], [ts], [result.summary])
    bottom = fig.axes[1]
    [line] = [ln for ln in bottom.get_lines() if ln.get_label() == "d"]
    queue = ts[ts["queue"] == "q"].groupby("time")["in_flight"].sum()
    assert np.array_equal(line.get_ydata(), queue.to_numpy())


def test_compare_tick_labels_of_neighbouring_designs_do_not_touch():
    # The comparing-designs notebook's four presets: "rabbitmq" beside "ideal, per-key".
    names = ["sqs", "sqs-fifo", "rabbitmq", "ideal, per-key"]
    table = pd.DataFrame({"design": names, "latency.p50": [0.08, 0.1, 0.07, 0.1],
                          "latency.p50_ci": [0.01] * 4})
    fig = figure_bars(table, names)
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = next(ax for ax in fig.axes if ax.get_title(loc="left") == "Latency p50")
    boxes = [label.get_window_extent(renderer) for label in ax.get_xticklabels()]
    assert len(boxes) == 4
    for left, right in itertools.pairwise(boxes):
        assert left.x1 < right.x0, "tick labels overlap"
