"""Compare verdicts that a user can trust: no verdict from rounding noise, an exact difference
where nothing varies, a practical threshold, intervals printed to their own precision, and
swept YAML values printed as YAML writes them."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import scenario_from

from sim.cli import format_comparison, format_sweep, main
from sim.experiment import grid
from sim.experiment.compare import Comparison, compare
from sim.experiment.replications import half_widths
from sim.format import MISSING, interval, yaml_value


def comparison(figures: dict[str, tuple[list[float], list[float]]],
               threshold: float = 0.01) -> Comparison:
    """A comparison of designs `a` (baseline) and `b` from per-replication values."""
    rows = []
    n = len(next(iter(figures.values()))[0])
    for design, side in (("a", 0), ("b", 1)):
        for i in range(n):
            rows.append({"design": design, "replication": i, "seed": i,
                         **{f: values[side][i] for f, values in figures.items()}})
    return Comparison(names=["a", "b"], scenarios=[{}, {}], replications=pd.DataFrame(rows),
                      threshold=threshold)


def verdicts(c: Comparison) -> pd.DataFrame:
    return c.differences.set_index("figure")


def test_rounding_noise_is_no_difference():
    # The same 1 ms wait computed at other absolute times: equal but for the last bits.
    base = [0.001, 0.001 + 2e-19, 0.001 - 1e-19, 0.001 + 4e-19]
    mine = [0.0009999999999976694, 0.001 + 3e-19, 0.001, 0.001 - 2e-19]
    row = verdicts(comparison({"wait.mean": (base, mine)})).loc["wait.mean"]
    assert row["difference"] == 0 and row["difference_ci"] == 0
    assert not row["significant"] and row["better"] == ""
    assert row["verdict"] == "no difference"


def test_rounding_noise_gives_no_half_width():
    frame = pd.DataFrame({"wait": [0.001, 0.001 + 2e-19, 0.0009999999999976694]})
    assert half_widths(frame).at["wait", "ci95"] == 0.0


def test_below_the_practical_threshold_is_no_difference():
    # Throughput 0.3% higher in every replication: significant, but not worth a verdict.
    base = [100.0, 101.0, 99.0, 100.5, 99.5]
    mine = [v * 1.003 for v in base]
    c = comparison({"throughput": (base, mine)})
    row = verdicts(c).loc["throughput"]
    assert row["significant"] and not row["practical"]
    assert row["better"] == "" and row["verdict"] == "no difference (under 1%)"
    strict = verdicts(comparison({"throughput": (base, mine)}, threshold=0.001))
    assert strict.loc["throughput", "better"] == "b"
    assert strict.loc["throughput", "verdict"] == "b better"
    assert verdicts(comparison({"throughput": (base, mine)}, threshold=0)).loc[
        "throughput", "practical"]


def test_no_variance_on_either_side_is_an_exact_difference():
    c = comparison({"totals.lost": ([100.0] * 4, [105.0] * 4),
                    "totals.published": ([500.0] * 4, [500.0] * 4),
                    "totals.expired": ([0.0] * 4, [2.0] * 4)})
    rows = verdicts(c)
    lost = rows.loc["totals.lost"]
    assert lost["exact"] and lost["difference"] == 5 and lost["difference_ci"] == 0
    assert lost["better"] == "a" and lost["verdict"] == "a better (exact)"
    assert rows.loc["totals.published", "verdict"] == "no difference"
    # Any difference from a baseline of 0 is practical.
    assert rows.loc["totals.expired", "verdict"] == "a better (exact)"


def test_a_noisy_figure_keeps_its_interval():
    base = [1.0, 2.0, 3.0, 4.0]
    mine = [1.5, 2.4, 3.6, 4.5]
    row = verdicts(comparison({"latency.mean": (base, mine)})).loc["latency.mean"]
    d = np.array(mine) - np.array(base)
    assert row["difference"] == pytest.approx(d.mean())
    assert row["difference_ci"] == pytest.approx(3.182446305 * d.std(ddof=1) / 2)
    assert not row["exact"] and row["verdict"] == "a better"


def test_one_replication_has_no_interval_and_no_verdict():
    row = verdicts(comparison({"latency.mean": ([1.0], [2.0])})).loc["latency.mean"]
    assert not row["exact"] and not row["significant"]
    assert row["verdict"] == "no interval (one replication)"


def test_an_undefined_figure_has_no_verdict_and_is_not_printed():
    c = comparison({"latency.mean": ([1.0, 2.0], [1.0, 2.0]),
                    "reordering.reordered": ([math.nan] * 2, [math.nan] * 2)})
    assert verdicts(c).loc["reordering.reordered", "verdict"] == "undefined"
    text = format_comparison(c.table, c.differences, c.names)
    assert "reordered" not in text and "nan" not in text


@pytest.mark.parametrize(("value", "half", "kind", "expected"), [
    (1.234567e-3, 1.23e-5, "s", "1.235 ms ± 0.012 ms"),
    (0.2012, 0.0220, "s", "201 ms ± 22 ms"),
    (8.2779, 0.6958, "s", "8.28 s ± 0.70 s"),
    (12345.0, 2345.0, "count", "12,300 ± 2,300"),
    (36.27485, 0.4213, "msg/s", "36.27/s ± 0.42/s"),
    (0.001, 0.0005, "msg/s", "0.00100/s ± 0.00050/s"),
    (0.4123, 0.0012, "ratio", "41.23% ± 0.12%"),
    (0.0996, 0.0996, "count", "0.10 ± 0.10"),   # the half-width rounds up a decade
    (-0.0001, 0.02, "count", "0.000 ± 0.020"),  # no "-0.000"
    (0.0002, 0.03, "s", "0 ms ± 30 ms"),        # the unit of the larger of the two
])
def test_an_interval_has_two_significant_digits_and_the_value_its_place(
        value, half, kind, expected):
    assert interval(value, half, kind) == expected


def test_no_half_width_prints_the_value_alone():
    assert interval(1.0, 0.0) == MISSING and interval(1.0, math.nan) == MISSING
    assert interval(None, 1.0) == MISSING
    assert interval(5.0, 1.0, signed=True) == "+5.0 ± 1.0"


def test_the_printed_comparison_has_no_noise_and_no_zero_intervals():
    c = comparison({"wait.mean": ([0.001, 0.001 + 2e-19, 0.001 - 1e-19],
                                  [0.0009999999999976694, 0.001, 0.001 + 1e-19]),
                    "throughput": ([36.27, 36.70, 35.85], [36.27, 36.70, 35.85])})
    text = format_comparison(c.table, c.differences, c.names, threshold=0.01)
    [wait] = [line for line in text.splitlines() if line.startswith("wait.mean")]
    assert "±" not in wait and "µs" not in wait and wait.endswith("no difference")
    [through] = [line for line in text.splitlines() if line.startswith("throughput")]
    assert "better" not in through and through.endswith("no difference")
    assert "a difference under 1% of a's is none" in text


def test_yaml_values_print_as_yaml():
    assert [yaml_value(v) for v in (True, False, np.bool_(True), None, 0.5, 4, "lazy")] == [
        "true", "false", "true", "null", "0.5", "4", "lazy"]
    assert grid.describe({"queues.q.priority": True, "queues.q.ttl": None}) == (
        "priority=true ttl=null")
    table = pd.DataFrame({"queues.q.durable": [True, False], "replications": [2, 2],
                          "latency.mean": [1.0, 2.0], "latency.mean_ci": [0.1, 0.2]})
    text = format_sweep(table, ["queues.q.durable"])
    assert "true" in text and "false" in text and "True" not in text


DETERMINISTIC = """
    name: exact
    run: {duration: 10, seed: 1}
    producers:
      p: {arrivals: {process: constant, interval: 1}, publish: q}
    queues:
      q: {}
    workers:
      w: {consumes: q, service_time: 0.5}
"""


def test_a_deterministic_comparison_states_exact_differences():
    # Nothing random: every replication is the same run, so every difference is exact.
    slow = scenario_from(DETERMINISTIC)
    fast = slow.with_overrides({"workers.w.service_time": 0.25})
    c = compare({"slow": slow, "fast": fast}, replications=3)
    rows = verdicts(c)
    assert rows.loc["latency.mean", "exact"]
    assert rows.loc["latency.mean", "difference"] == pytest.approx(-0.25)
    assert rows.loc["latency.mean", "verdict"] == "fast better (exact)"
    assert rows.loc["totals.published", "verdict"] == "no difference"
    text = format_comparison(c.table, c.differences, c.names, threshold=c.threshold)
    [line] = [x for x in text.splitlines() if x.startswith("latency.mean")]
    assert "±" not in line and "-250 ms" in line


def test_cli_threshold(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(DETERMINISTIC)
    assert main(["compare", str(path), "--vary", "workers.w.service_time=0.5,0.498",
                 "--replications", "2", "--out", str(tmp_path), "--no-plots"]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("latency.mean")]
    assert line.endswith("no difference (under 1%)")  # 2 ms of 1 s... of 500 ms: 0.4%
    [folder] = tmp_path.glob("compare/*")
    assert json.loads((folder / "experiment.json").read_text())["threshold"] == 0.01
    assert Comparison.load(folder).threshold == 0.01
    assert main(["compare", str(path), "--vary", "workers.w.service_time=0.5,0.498",
                 "--replications", "2", "--out", str(tmp_path / "b"), "--no-plots",
                 "--threshold", "0.1%"]) == 0
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("latency.mean")]
    assert "better (exact)" in line


@pytest.mark.parametrize("bad", ["-1%", "lots", "inf", "nan"])
def test_cli_bad_threshold_exits_2(tmp_path, capsys, bad):
    path = tmp_path / "s.yaml"
    path.write_text(DETERMINISTIC)
    assert main(["compare", str(path), "--vary", "workers.w.count=1,2", f"--threshold={bad}",
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"--threshold {bad}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_python_threshold_is_checked():
    slow = scenario_from(DETERMINISTIC)
    with pytest.raises(ValueError, match="threshold"):
        compare([slow, slow], replications=2, threshold=-0.1)


def test_a_figure_of_one_design_only_says_so():
    c = comparison({"workers.api.utilization": ([0.5, 0.6], [math.nan, math.nan]),
                    "workers.w.utilization": ([math.nan, math.nan], [0.4, 0.5])})
    rows = verdicts(c)
    assert rows.loc["workers.api.utilization", "verdict"] == "defined only in a"
    assert rows.loc["workers.w.utilization", "verdict"] == "defined only in b"
