"""Sweeps: grids, common random numbers, theory beside the points, the folder and its errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim import analytic
from sim.cli import main
from sim.experiment import grid
from sim.experiment.sweep import Sweep, sweep
from sim.experiment.theory import closed_form
from sim.scenario import ScenarioError

MMC = """
name: mmc
run: {duration: 400, warmup: 20, seed: 4}
producers: {p: {arrivals: {process: poisson, rate: 3}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, count: 4, service_time: {dist: exponential, mean: 1}}}
"""


@pytest.fixture(scope="module")
def mmc() -> sim.Scenario:
    return sim.loads(MMC)


@pytest.fixture(scope="module")
def result(mmc) -> Sweep:
    return sweep(mmc, {"workers.w.count": [4, 6]}, 3)


def test_values_split_like_yaml():
    assert grid.split_values("1, 2,{a: 1, b: 2},[3, 4],'x,y'") == [
        "1", "2", "{a: 1, b: 2}", "[3, 4]", "'x,y'"]
    assert grid.parse("--param", "workers.w.count=1,2,4") == ("workers.w.count", [1, 2, 4])
    assert grid.parse("--param", "queues.q.ttl=2s,1m")[1] == ["2s", "1m"]
    for bad in ("novalue", "=1,2", "k=", "k=1,,2", "k=1,1"):
        with pytest.raises(ScenarioError, match="--param"):
            grid.parse("--param", bad)


def test_points_vary_the_first_key_slowest():
    assert grid.points({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    with pytest.raises(ValueError):
        grid.points({"a": []})


def test_common_random_numbers_across_points(result, mmc):
    reps = result.replications
    seeds = reps.pivot(index="replication", columns="point", values="seed")
    assert (seeds[0] == seeds[1]).all()  # the same seed per replication index
    assert list(seeds[0]) == sim.api.seeds(mmc, 3)
    # The same arrivals in every point: every replication publishes the same count.
    published = reps.pivot(index="replication", columns="point", values="totals.published")
    assert (published[0] == published[1]).all()


def test_table_has_a_mean_and_ci_per_figure_and_theory(result):
    table = result.table
    assert list(table["workers.w.count"]) == [4, 6]
    assert (table["replications"] == 3).all()
    for figure in ("latency.p99", "totals.lost", "throughput", "workers.w.utilization",
                   "queues.q.latency.p50", "producers.p.response_time.p99"):
        assert figure in table and figure + "_ci" in table
    assert "wall_seconds" not in table  # depends on the machine, not a figure
    assert result.outcomes == []  # only the summaries were kept
    theory = analytic.mmc(3.0, 1.0, 4)
    assert table.at[0, "theory.latency.mean"] == pytest.approx(theory.W)
    assert table.at[0, "theory.latency.p99"] == pytest.approx(theory.latency_quantile(0.99))


def test_figures_added_to_the_summary_are_carried(mmc, monkeypatch):
    # A figure the summary gains later (a new section, say) reaches the table untouched.
    import sim.experiment.units as work

    real = work.summarize

    def richer(*args, **kwargs):
        summary = real(*args, **kwargs)
        summary["flows"] = {"checkout": {"count": 7, "latency": {"p99": 1.5}}}
        return summary

    monkeypatch.setattr(work, "summarize", richer)
    table = sweep(mmc, {"workers.w.count": [4]}, 2).table
    assert table.at[0, "flows.checkout.count"] == 7 and table.at[0, "flows.checkout.count_ci"] == 0
    assert table.at[0, "flows.checkout.latency.p99"] == 1.5


def test_theory_only_where_a_closed_form_applies(mmc):
    assert closed_form(mmc.data)["latency.mean"] == pytest.approx(analytic.mmc(3, 1, 4).W)
    for change in ({"workers.w.prefetch": 2}, {"queues.q.max_length": 10},
                   {"workers.w.error_rate": 0.1}, {"workers.w.count": 2},  # unstable
                   {"brokers": {"b": {"type": "rabbitmq"}}, "queues.q.broker": "b"}):
        assert closed_form(mmc.with_overrides(change).data) == {}, change
    one = mmc.with_overrides({"workers.w.count": 1, "producers.p.arrivals.rate": 0.5,
                              "workers.w.service_time": {"dist": "constant", "value": 1}})
    assert closed_form(one.data)["latency.mean"] == pytest.approx(analytic.md1(0.5, 1).W)
    assert "latency.p99" not in closed_form(one.data)  # M/D/1: means only


def test_cli_sweep_writes_its_folder_and_redraws(tmp_path, capsys):
    path = tmp_path / "mmc.yaml"
    path.write_text(MMC)
    assert main(["sweep", str(path), "--param", "workers.w.count=4,6", "--replications", "2",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "sweep of workers.w.count" in out and "±" in out
    assert "reordered" not in out  # no keys: no reordering figure, so no column
    [folder] = tmp_path.glob("mmc/sweep-*")
    for name in ("table.csv", "table.parquet", "replications.csv", "replications.parquet",
                 "scenario.yaml", "experiment.json", "manifest.json", "plots/sweep.png"):
        assert (folder / name).is_file(), name
    csv = pd.read_csv(folder / "table.csv")
    pd.testing.assert_frame_equal(csv, pd.read_parquet(folder / "table.parquet"),
                                  check_dtype=False)
    assert json.loads((folder / "experiment.json").read_text())["kind"] == "sweep"
    (folder / "plots" / "sweep.png").unlink()
    assert main(["plot", str(folder)]) == 0
    assert (folder / "plots" / "sweep.png").is_file()


@pytest.mark.parametrize(("param", "expected"), [
    ("workers.w.count=2,0", "--param workers.w.count=0: workers.w.count: must be"),
    ("workers.nope.count=1",
     "--param workers.nope.count=1: workers.nope.count: no worker pool named"),
    ("workers.w.count", "--param workers.w.count: expected KEY=v1,v2"),
])
def test_bad_param_exits_2_before_running(tmp_path, capsys, param, expected):
    path = tmp_path / "mmc.yaml"
    path.write_text(MMC)
    assert main(["sweep", str(path), "--param", param, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # nothing written, not even the root


def test_precision_rule_bad_figure_exits_2(tmp_path, capsys):
    path = tmp_path / "mmc.yaml"
    path.write_text(MMC)
    code = main(["sweep", str(path), "--param", "workers.w.count=4", "--precision",
                 "latency.p98=5%", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "no figure named 'latency.p98'" in err
    assert not list((tmp_path / "out").glob("*/sweep-*"))
    assert main(["sweep", str(path), "--param", "workers.w.count=4", "--precision",
                 "latency.p99", "--out", str(tmp_path / "out")]) == 2
    assert "--precision latency.p99: expected FIGURE=REL" in capsys.readouterr().err


def test_an_interrupted_save_leaves_no_folder(result, tmp_path, monkeypatch):
    from sim.experiment import tables

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables, "write_parquet", broken)
    with pytest.raises(KeyboardInterrupt):
        result.save(tmp_path)
    assert [p for p in tmp_path.rglob("*") if p.is_dir()] == [tmp_path / "mmc"]
    assert not list((tmp_path / "mmc").iterdir())


def test_progress_reaches_the_end_in_order(mmc):
    seen: list[tuple[float, str]] = []
    sweep(mmc, {"workers.w.count": [4, 6]}, 2, progress=lambda f, note: seen.append((f, note)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert seen[-1][1] == "2 of 2 replications"
