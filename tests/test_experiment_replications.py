"""Replications: sim.run honours run.replications, the per-replication table, the stop rule."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.experiment import executors
from sim.experiment.replications import Precision

SMALL = """
name: reps
run: {duration: 60, warmup: 5, seed: 2, replications: 3}
producers: {p: {arrivals: {process: poisson, rate: 6}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, count: 2, service_time: {dist: exponential, mean: 0.25}}}
"""


@pytest.fixture(scope="module")
def scenario() -> sim.Scenario:
    return sim.loads(SMALL)


def test_run_honours_run_replications(scenario):
    result = sim.run(scenario)
    assert result.summary["replications"] == 3
    assert result.summary["seeds"] == sim.api.seeds(scenario, 3)
    assert set(result.summary["latency"]["p99"]) == {"mean", "ci95"}
    single = sim.run(scenario, replications=1)
    assert single.summary["latency"]["p99"] == result.replications[0].summary["latency"]["p99"]


def test_replication_table_has_every_figure(scenario):
    result = sim.run(scenario)
    table = result.replication_table
    assert list(table["replication"]) == [0, 1, 2]
    assert list(table["seed"]) == result.summary["seeds"]
    for figure in ("latency.p99", "wait.p50", "queueing.p90", "throughput", "totals.lost",
                   "totals.duplicate_processing", "reordering.reordered",
                   "queues.q.latency.p99", "workers.w.utilization",
                   "producers.p.response_time.p99", "sim_end", "drain_timed_out"):
        assert figure in table, figure
    ci = table.ci()
    assert ci.at["latency.p99", "mean"] == pytest.approx(result.summary["latency"]["p99"]["mean"])
    assert ci.at["latency.p99", "ci95"] == pytest.approx(result.summary["latency"]["p99"]["ci95"])


def test_replicate_matches_single_runs(scenario):
    reps = sim.replicate(scenario, n=2)
    for i, seed in enumerate(sim.api.seeds(scenario, 2)):
        alone = sim.run(scenario, seed=seed, replications=1)
        assert reps.at[i, "latency.mean"] == alone.summary["latency"]["mean"]


def test_stop_rule_stops_at_the_first_precise_count_on_any_executor(scenario):
    rule = Precision("throughput", 0.02, max_replications=12)
    serial = sim.replicate(scenario, n=2, precision=rule)
    with executors.Processes(2) as pool:
        parallel = sim.replicate(scenario, n=2, precision=rule, executor=pool)
    pd.testing.assert_frame_equal(serial, parallel)
    n = len(serial)
    assert 2 <= n <= 12
    if n < 12:
        assert rule.met(serial["throughput"].tolist())
    # No earlier count was precise enough.
    assert not any(rule.met(serial["throughput"][:k].tolist()) for k in range(2, n))


def test_stop_rule_caps_at_its_maximum(scenario):
    rule = Precision("latency.p99", 1e-6, max_replications=4)
    assert len(sim.replicate(scenario, n=2, precision=rule)) == 4


def test_a_stop_rule_on_a_figure_no_run_measures_exits_2(tmp_path, capsys):
    # No message has a key: reordering is null in every replication, so the rule could never
    # be met and would run to its maximum. It is refused after the first batch.
    path = tmp_path / "reps.yaml"
    path.write_text(SMALL)
    assert main(["run", str(path), "--precision", "reordering.reordered=5%",
                 "--max-replications", "50", "--out", str(tmp_path), "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "reordering.reordered is null (not measured) in every replication" in err


def test_cli_run_with_precision_and_jobs(tmp_path, capsys):
    path = tmp_path / "reps.yaml"
    path.write_text(SMALL)
    assert main(["run", str(path), "--jobs", "2", "--precision", "throughput=3%",
                 "--max-replications", "8", "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    assert "replications (mean ± 95% confidence half-width)" in out
    assert "wait " in out and "queueing " in out  # every headline figure, not five
    [folder] = tmp_path.glob("reps/*")
    table = pd.read_csv(folder / "replications.csv")
    assert 2 <= len(table) <= 8 and "workers.w.utilization" in table


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mqsim {sim.__version__}"


def test_progress_bar_shows_its_note():
    import io
    import time

    from sim.cli import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar(stream, delay=0.0)
    time.sleep(0.01)
    bar(0.5, "3 of 6 replications")
    assert "50.0%" in stream.getvalue() and "3 of 6 replications" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")
