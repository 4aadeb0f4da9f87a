"""The command line: runs, results folders, and clear errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.format import MISSING
from sim.report import format_summary

SMALL = """\
name: small
run: {duration: 20, seed: 2}
producers:
  p: {arrivals: {process: poisson, rate: 5}, publish: q}
queues:
  q: {}
workers:
  w: {consumes: q, count: 2, service_time: {dist: exponential, mean: 0.2}}
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    return path


def run_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*") if p.is_dir())


def test_run_writes_a_complete_results_folder(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out)]) == 0
    [folder] = run_folders(out)
    for name in ("scenario.yaml", "summary.json", "messages.parquet", "timeseries.parquet",
                 "manifest.json", "plots/latency_cdf.png", "plots/timeseries.png"):
        assert (folder / name).is_file(), name
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["scenario"] == "small" and summary["seed"] == 2
    printed = capsys.readouterr().out
    assert "latency" in printed and str(folder) in printed


def test_runs_never_overwrite_each_other(scenario, tmp_path):
    out = tmp_path / "out"
    for _ in range(3):
        assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet"]) == 0
    assert len(run_folders(out)) == 3
    assert not list(out.glob("*/.tmp-*"))


def test_seed_set_and_replications(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", str(scenario), "--out", str(out), "--no-plots", "--seed", "9",
            "--set", "workers.w.count=3", "--replications", "3"]
    assert main(args) == 0
    [folder] = run_folders(out)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["replications"] == 3
    assert set(summary["latency"]["mean"]) == {"mean", "ci95"}
    assert len(list((folder / "replications").iterdir())) == 3
    resolved = (folder / "scenario.yaml").read_text()
    assert "count: 3" in resolved and "seed: 9" in resolved
    assert "±" in capsys.readouterr().out


def test_quiet_prints_nothing(scenario, tmp_path, capsys):
    assert main(["run", str(scenario), "--out", str(tmp_path), "--quiet", "--no-plots"]) == 0
    assert capsys.readouterr().out == ""


def test_validate_prints_the_resolved_scenario(scenario, capsys):
    assert main(["validate", str(scenario)]) == 0
    out = capsys.readouterr().out
    assert "drain_timeout: 200" in out and "prefetch: 1" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SMALL.replace("count: 2", "count: 2, cuont: 3"), "workers.w.cuont"),
        (SMALL.replace("count: 2", "count: -2"), "workers.w.count"),
        (SMALL.replace("publish: q", "publish: nowhere"), "producers.p.publish"),
        (SMALL.replace("queues:\n  q: {}", "queues:\n  q: {broker: rabbit}"), "queues.q.broker"),
        (SMALL.replace("rate: 5}", "rate: 5"), "line"),
        (SMALL.replace("mean: 0.2", "mean: 2 parsecs"), "workers.w.service_time"),
    ],
)
def test_bad_input_exits_2_with_a_clear_line(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not out.exists() or not run_folders(out)


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml" in capsys.readouterr().err


def test_bad_set_exits_2(scenario, capsys):
    assert main(["validate", str(scenario), "--set", "queues.q.max_lenght=3"]) == 2
    assert "max_lenght" in capsys.readouterr().err
    assert main(["validate", str(scenario), "--set", "novalue"]) == 2


def test_plot_redraws_a_saved_run(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet"]) == 0
    [folder] = run_folders(out)
    assert main(["plot", str(folder)]) == 0
    assert (folder / "plots" / "latency_cdf.png").is_file()


def test_an_interrupted_save_leaves_no_folder(scenario, tmp_path, monkeypatch):
    import sim
    from sim import results

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "write_parquet", broken)
    result = sim.run(sim.load(scenario))
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path / "out")
    assert not [p for p in (tmp_path / "out").rglob("*") if p.is_dir() and p.name != "small"]


def test_progress_bar_waits_then_draws_and_clears():
    import io
    import time

    from sim.progress import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, delay=0.05)
    bar(0.1)
    assert stream.getvalue() == ""  # a quick run shows nothing
    time.sleep(0.06)
    bar(0.5)
    assert "50.0%" in stream.getvalue() and "#" * 15 in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")


# -- undefined figures --------------------------------------------------------------------------
def test_a_run_with_nothing_published_prints_its_summary(tmp_path, capsys):
    # rate 0: nothing is published, so latency, utilization, mean up... are undefined (None).
    path = tmp_path / "idle.yaml"
    path.write_text(SMALL.replace("rate: 5", "rate: 0"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "error" not in captured.err
    [folder] = run_folders(out)
    assert (folder / "plots" / "latency_cdf.png").is_file()
    workers_row = next(line for line in captured.out.splitlines() if line.startswith("w "))
    assert workers_row.split()[1] == MISSING  # utilization
    assert f"latency    {MISSING}" in captured.out


def _undefined_summary() -> dict:
    """A summary with every figure that can be None set to None."""
    percentiles = dict.fromkeys(("mean", "p50", "p90", "p95", "p99", "p999", "max"))
    totals = dict.fromkeys(("published", "rejected", "enqueued", "completed", "lost", "pending"), 0)
    return {
        "scenario": "empty", "seed": None, "duration": None, "warmup": 0.0, "sim_end": None,
        "wall_seconds": None, "totals": {**totals, "duplicate_deliveries": 2},
        "latency": percentiles, "wait": {**percentiles, "mean": 1.5}, "throughput": None,
        "reordering": {"reordered": 1, "reordered_ratio": None, "inversions": None,
                       "max_displacement": None},
        "queues": {"q": {"totals": totals, "latency": percentiles, "max_depth": None,
                         "mean_depth": None, "throughput": None}},
        "workers": {"w": {"utilization": None, "crashes": None, "mean_up": None}},
        "producers": {"p": {"sent": None, "errors": None, "response_time": percentiles}},
        "warnings": [],
    }


def test_every_undefined_figure_prints_as_missing():
    text = format_summary(_undefined_summary(), Path("results/x"))
    assert "None" not in text and "nan" not in text
    lines = text.splitlines()
    assert lines[0] == (f"empty  seed {MISSING}  published for {MISSING}, simulated to "
                        f"{MISSING} in {MISSING} of wall time")
    assert f"throughput {MISSING}  completions from 0 s (start) to the end of publishing" in lines
    assert f"drain      {MISSING} after publishing ended" in text
    assert f"reordering 1 reordered ({MISSING}), {MISSING} inversions, " \
           f"max displacement {MISSING}" in lines
    assert f"wait       mean 1.50 s  p50 {MISSING}  p90 {MISSING}  p99 {MISSING}  max " \
           f"{MISSING}" in lines
    for name in ("q", "w", "p"):
        row = next(line for line in lines if line.startswith(f"{name} "))
        assert set(row.split()[1:]) <= {MISSING, "0"}, row
    # A summary without its sections (an old or partial one) prints too.
    assert format_summary({"scenario": "bare"}).startswith("bare")


def test_undefined_figures_of_replications_print_as_missing():
    from sim.metrics import aggregate

    summary = aggregate([_undefined_summary(), _undefined_summary()])
    summary["replication_summaries"] = []
    text = format_summary(summary)
    assert f"latency    mean {MISSING}  p50 {MISSING}  p90 {MISSING}  p99 {MISSING}" in text
    assert f"throughput {MISSING}  completions from" in text and "completed 0  " in text
    assert "± 0" not in text  # no spread: the mean alone, not "0.0 ± 0.0"


def test_replicated_intervals_print_the_digits_they_support():
    from sim.metrics import aggregate

    runs = [{**_undefined_summary(), "seed": s, "throughput": t,
             "latency": {"mean": m, "p50": m, "p90": m, "p99": m}}
            for s, t, m in ((1, 36.2871, 0.2013), (2, 36.4912, 0.1887), (3, 36.0127, 0.2215))]
    text = format_summary({**aggregate(runs), "replication_summaries": []})
    assert "throughput 36.26/s ± 0.60/s" in text
    assert "latency    mean 204 ms ± 41 ms" in text


def test_the_summary_says_what_each_figure_is_measured_over():
    summary = {**_undefined_summary(), "warmup": 10.0, "duration": 60.0, "sim_end": 624.0,
               "throughput": 9.615, "drain_timed_out": True}
    lines = format_summary(summary).splitlines()
    assert "           (latency, wait, queueing: copies published from 10.0 s, after the " \
           "warm-up)" in lines
    assert "throughput 9.62 msg/s  completions from 10.0 s (warm-up) to 60.0 s (end of " \
           "publishing)" in lines
    assert "drain      9.40 min after publishing ended (in neither throughput nor " \
           "utilization); timed out: 0 copies left pending" in lines
    assert "(utilization from 10.0 s to 60.0 s, as throughput; worker-hours over the whole " \
           "run)" in lines


# -- replications -------------------------------------------------------------------------------
def test_replications_draw_plots_and_redraw_them(scenario, tmp_path, capsys):
    out = tmp_path / "out"
    warm = SMALL.replace("seed: 2", "seed: 2, warmup: 2")
    scenario.write_text(warm)
    assert main(["run", str(scenario), "--out", str(out), "--replications", "3"]) == 0
    [folder] = run_folders(out)
    for name in ("latency_cdf.png", "timeseries.png"):
        assert (folder / "plots" / name).is_file()
    summary = json.loads((folder / "summary.json").read_text())
    # Run settings stay plain values; figures are {mean, ci95}.
    assert (summary["scenario"], summary["warmup"], summary["duration"]) == ("small", 2.0, 20.0)
    assert set(summary["throughput"]) == {"mean", "ci95"}
    assert len(summary["seeds"]) == 3 and summary["seed"] == summary["seeds"][0]
    assert isinstance(summary["wall_seconds"], float)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert isinstance(manifest["wall_seconds"], float)
    capsys.readouterr()
    assert main(["plot", str(folder)]) == 0
    assert capsys.readouterr().out.count(".png") == 2


def test_plots_of_a_replicated_result_in_python(scenario, tmp_path):
    import sim
    from sim.results import Result

    result = sim.run_replications(sim.load(scenario), n=2)
    fig = result.plot_latency_cdf()
    assert "first of 2 replications" in fig.axes[0].get_title(loc="left")
    assert "first of 2 replications" in result.plot_timeseries()._suptitle.get_text()
    loaded = Result.load(result.save(tmp_path / "out", plots=False))
    loaded.plot_latency_cdf()
    loaded.plot_timeseries()


# -- the results root -----------------------------------------------------------------------------
def _no_simulation(monkeypatch):
    import sim.engine

    def refuse(*args, **kwargs):
        raise AssertionError("simulated although --out cannot be written")

    monkeypatch.setattr(sim.engine, "simulate", refuse)


@pytest.mark.parametrize("where", ["under_a_file", "under_proc"])
def test_unwritable_out_is_refused_before_simulating(scenario, tmp_path, capsys, monkeypatch,
                                                     where):
    # Root-proof: nothing, not even root, creates a folder inside a regular file or in /proc.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    out = blocker / "results" if where == "under_a_file" else Path("/proc/mqsim-results")
    _no_simulation(monkeypatch)
    assert main(["run", str(scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot write results to {out}") and "Traceback" not in err
    assert blocker.read_text() == "not a folder\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "small.yaml"]


def test_check_writable_leaves_nothing_behind(tmp_path):
    from sim.results import check_writable

    assert check_writable(tmp_path / "new" / "root", "a b") == tmp_path / "new" / "root" / "a_b"
    assert list(tmp_path.iterdir()) == []  # the probe folder is gone, nothing was created
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "taken").write_text("")  # the scenario's folder is a file
    from sim.results import OutputError

    with pytest.raises(OutputError, match="is a file"):
        check_writable(tmp_path / "root", "taken")


# -- warnings -------------------------------------------------------------------------------------
WARNINGS = ["run.warmup is longer than run.duration", "queues.q: nothing consumes it"]


@pytest.fixture
def warned(monkeypatch):
    """``sim.load`` returning scenarios with ``warnings`` (as the scenario loader gives them)."""
    import sim

    real = sim.load

    def load(*args, **kwargs):
        scenario = real(*args, **kwargs)
        object.__setattr__(scenario, "warnings", list(WARNINGS))
        return scenario

    monkeypatch.setattr(sim, "load", load)
    return WARNINGS


@pytest.mark.parametrize("quiet", [False, True])
def test_run_prints_warnings_first_and_saves_them(scenario, tmp_path, capsys, monkeypatch,
                                                  warned, quiet):
    import sim.engine

    seen_before_run: list[str] = []
    real = sim.engine.simulate

    def simulate(*args, **kwargs):
        seen_before_run.append(capsys.readouterr().err)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.engine, "simulate", simulate)
    out = tmp_path / "out"
    args = ["run", str(scenario), "--out", str(out), "--no-plots"] + (["--quiet"] * quiet)
    assert main(args) == 0
    expected = "".join(f"warning: {text}\n" for text in warned)
    assert seen_before_run[0] == expected
    [folder] = run_folders(out)
    assert json.loads((folder / "summary.json").read_text())["warnings"] == warned
    if quiet:
        assert capsys.readouterr().out == ""


def test_validate_shows_warnings_on_stderr(scenario, capsys, warned):
    assert main(["validate", str(scenario)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "".join(f"warning: {text}\n" for text in warned)
    assert "warning" not in captured.out  # stdout stays the resolved YAML


def test_summary_always_has_warnings(scenario, tmp_path, warned):
    import sim

    assert sim.run(sim.load(scenario)).summary["warnings"] == warned
    replicated = sim.run_replications(sim.load(scenario), n=2)
    assert replicated.summary["warnings"] == warned
    assert all(s["warnings"] == warned for s in replicated.summary["replication_summaries"])


def test_summary_warnings_empty_without_any(scenario, tmp_path):
    import sim

    class Bare:  # a scenario object without the attribute
        data = sim.load(scenario).data

    assert sim.run(Bare()).summary["warnings"] == []
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--no-plots", "--quiet"]) == 0
    [folder] = run_folders(out)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["warnings"] == list(getattr(sim.load(scenario), "warnings", []))  # i.e. []


def test_parquet_written_in_blocks_reads_back_the_same(tmp_path):
    # A table larger than one block is converted a block at a time (bounded memory); what is
    # read back must be the same table, categories and NaNs included.
    import numpy as np
    import pandas as pd

    from sim.results import write_parquet

    n = 1000
    frame = pd.DataFrame({
        "id": np.arange(n),
        "queue": pd.Categorical(np.where(np.arange(n) % 3, "a", "b")),
        "key": pd.Categorical([None if i % 7 == 0 else f"k{i % 5}" for i in range(n)]),
        "completed_at": np.where(np.arange(n) % 4 == 0, np.nan, np.arange(n) * 0.5),
    })
    write_parquet(frame, tmp_path / "m.parquet", rows=128)
    back = pd.read_parquet(tmp_path / "m.parquet")
    pd.testing.assert_frame_equal(back, frame)


# -- kafka consumer groups ----------------------------------------------------------------------
HOT_KEY = """\
name: hot-key
run: {{duration: 100000}}
producers:
  p: {{arrivals: {{process: trace, file: {trace}}}, publish: t}}
brokers:
  k: {{type: kafka, publish_latency: 0, api_latency: 0, rebalance_time: 0,
      commit: after_processing}}
queues:
  t: {{partitions: 3}}
workers:
  w: {{consumes: t, service_time: 1, count: 4}}
"""


def test_a_kafka_run_prints_its_idle_consumers_and_hottest_partitions(tmp_path, capsys):
    # "hot" hashes to p2, "cold" to p1 (CRC-32 mod 3), nothing to p0. A partition of n
    # records burst at 0 has lag n, n - 1, ..., 1 a second each (its first poll returns its
    # first record alone): area n (n + 1) / 2, over a run that ends with p2 at 8 s.
    trace = tmp_path / "trace.csv"
    trace.write_text("time,key\n" + "".join(f"0,{k}\n" for k in ["hot", "cold", "hot"] * 4))
    path = tmp_path / "hot.yaml"
    path.write_text(HOT_KEY.format(trace=trace))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plots"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index(next(line for line in lines if line.startswith("consumer group log")))
    assert lines[at].split() == ["consumer", "group", "log", "group", "max", "lag", "mean",
                                 "lag", "rebalances", "idle", "consumers"]
    # 3 partitions for 4 consumers (range: w/0 p0, w/1 p1, w/2 p2): w/3 owns none; w/0 owns
    # an empty partition, which is not idle (records may come).
    assert lines[at + 1].split() == ["t", "w", "12", "5.8", "0", "1"]  # mean lag 46 / 8
    assert lines[at + 3].split() == ["hottest", "partitions", "partition", "records",
                                     "share", "mean", "lag", "max", "lag", "owner", "at", "end"]
    rows = [line.split() for line in lines[at + 4:at + 7]]
    assert rows == [
        ["t", "2", "8", "66.7%", "4.5", "8", "w/2"],  # area 36 over 8 s
        ["t", "1", "4", "33.3%", "1.2", "4", "w/1"],  # area 10: 1.25 (rounded half to even)
        ["t", "0", "0", "0.0%", "0.0", "0", "w/0"],
    ]


def test_every_command_names_a_handler_that_exists():
    # A handler is named "module:function" and imported only when its command runs: a typo
    # there would surface only then, so every command's is resolved here.
    import argparse

    from sim import cli

    parser = cli._parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(commands.choices) == ["run", "sweep", "compare", "size", "validate", "plot", "fit"]
    for name, sub in commands.choices.items():
        handler = cli._handler(sub.get_default("handler"))
        assert callable(handler), name
