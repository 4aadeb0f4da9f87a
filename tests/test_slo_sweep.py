"""``sweep --slo``: every point judged on its interval, the best passing point named, the
thresholds drawn and kept with the saved sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sim.cli import main
from sim.experiment import slo
from sim.experiment.sweep import Sweep

SCENARIO = """\
name: small
run: {duration: 300, warmup: 20, seed: 4}
producers: {orders: {arrivals: {process: poisson, rate: 30}, publish: jobs}}
queues: {jobs: {}}
workers: {pool: {consumes: jobs, count: 4, service_time: {dist: exponential, mean: 0.1}}}
"""


def test_point_verdicts_and_the_best_point_exactly():
    table = pd.DataFrame({"count": [3, 4, 5, 6],
                          "latency.p99": [2.0, 0.58, 0.48, 0.47],
                          "latency.p99_ci": [0.5, 0.05, 0.01, 0.01],
                          "totals.lost": [0.0, 0.0, 0.0, 1.0],
                          "totals.lost_ci": [0.0, 0.0, 0.0, 0.0]})
    rules = [slo.parse_slo("latency.p99<=0.6s"),
             slo.resolve_slo(slo.parse_slo("lost==0"), table.columns)]
    verdicts = [slo.point_verdict(table.iloc[i], rules) for i in range(4)]
    assert verdicts == ["fails", "unsure", "meets", "fails"]
    assert slo.best_point(table, rules) == 2
    priced = table.assign(**{"cost.total": [1.0, 2.0, 9.0, 3.0], "totals.lost": 0.0})
    rules = [slo.parse_slo("latency.p99<=0.7s")]
    assert slo.best_point(priced, rules) == 1  # 0.58 + 0.05 < 0.7, and cheaper than 5 or 6
    lines = slo.sweep_lines(priced, ["count"], rules)
    assert lines[-1] == "best passing point: count=4 (the cheapest that surely meets every SLO)"


def test_sweep_cli_with_slo(tmp_path: Path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(SCENARIO)
    out = tmp_path / "out"
    code = main(["sweep", str(path), "--param", "workers.pool.count=4,5,6", "--slo",
                 "latency.p99<=0.52s", "--slo", "lost==0", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "count=4: fails" in printed and "count=5: meets" in printed
    assert "best passing point: count=5 (the first in the grid's order" in printed
    [folder] = list(out.glob("*/sweep-*"))
    meta = json.loads((folder / "experiment.json").read_text())
    assert [r["figure"] for r in meta["slos"]] == ["latency.p99", "totals.lost"]
    table = pd.read_csv(folder / "table.csv")
    assert list(table["meets_slo"]) == ["fails", "meets", "meets"]
    assert (folder / "plots" / "sweep.png").is_file()
    again = Sweep.load(folder)
    assert [str(r) for r in again.rules()] == [str(r) for r in Sweep.load(folder).rules()]
    assert again.plot() is not None


def test_sweep_slo_on_an_unknown_figure_exits_2(tmp_path: Path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(SCENARIO)
    code = main(["sweep", str(path), "--param", "workers.pool.count=4,5", "--slo",
                 "latency.p98<=1s", "--out", str(tmp_path / "out"), "--no-plots"])
    assert code == 2
    err = capsys.readouterr().err
    assert "did you mean 'latency.p99'" in err or "did you mean 'latency.p90'" in err
