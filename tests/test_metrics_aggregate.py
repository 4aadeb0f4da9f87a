"""Replication summaries: Student t quantiles and mean / 95% half-width of every figure."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from sim.metrics import aggregate, check_conservation, mean_ci95, t_quantile_975


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706), (2, 4.303), (5, 2.571), (10, 2.228), (30, 2.042), (100, 1.984)],
)
def test_t_quantile_known_values(df, expected):
    assert t_quantile_975(df) == pytest.approx(expected, abs=1e-3)


def test_t_quantile_smooth_past_the_table():
    # Table (df 30) and expansion (df 31+) meet without a jump, decrease, and tend to z.
    values = [t_quantile_975(df) for df in range(25, 60)]
    assert all(a > b for a, b in itertools.pairwise(values))
    assert t_quantile_975(30) - t_quantile_975(31) < 0.004
    assert t_quantile_975(40) == pytest.approx(2.021075, abs=1e-5)
    assert t_quantile_975(60) == pytest.approx(2.000298, abs=1e-5)
    assert t_quantile_975(10**7) == pytest.approx(1.959964, abs=1e-5)


def test_t_quantile_fractional_and_invalid():
    assert t_quantile_975(2) > t_quantile_975(2.5) > t_quantile_975(3)
    with pytest.raises(ValueError):
        t_quantile_975(0)


def test_mean_ci95():
    assert mean_ci95([1.0, 2.0, 3.0]) == pytest.approx(
        {"mean": 2.0, "ci95": 4.302652730 / math.sqrt(3)}
    )
    assert mean_ci95([5.0]) == {"mean": 5.0, "ci95": None}
    assert mean_ci95([]) == {"mean": None, "ci95": None}
    assert mean_ci95([4.0, 4.0])["ci95"] == 0.0


def _summary(seed, completed, latency_mean, queues):
    return {
        "scenario": "demo",
        "seed": seed,
        "throughput": float(completed) / 10,
        "totals": {"enqueued": completed + 1, "completed": completed, "pending": 1},
        "latency": {"mean": latency_mean, "p99": None},
        "queues": queues,
    }


def test_aggregate_shape_and_values():
    runs = [
        _summary(1, 10, 1.0, {"a": {"max_depth": 4}}),
        _summary(2, 12, 2.0, {"a": {"max_depth": 6}, "b": {"max_depth": 1}}),
        _summary(3, 14, None, {"a": {"max_depth": 8}}),
    ]
    result = aggregate(runs)
    assert result["scenario"] == "demo"
    assert result["replications"] == 3
    assert (result["seed"], result["seeds"]) == (1, [1, 2, 3])
    # completed 10, 12, 14: mean 12, s = 2, half-width t(2) * 2 / sqrt(3).
    assert result["totals"]["completed"] == pytest.approx(
        {"mean": 12.0, "ci95": 4.302652730 * 2 / math.sqrt(3)}
    )
    assert result["throughput"]["mean"] == pytest.approx(1.2)
    # Undefined in one replication: averaged over the other two (t with 1 df).
    assert result["latency"]["mean"] == pytest.approx(
        {"mean": 1.5, "ci95": 12.706204736 * math.sqrt(0.5) / math.sqrt(2)}
    )
    assert result["latency"]["p99"] == {"mean": None, "ci95": None}
    assert result["queues"]["a"]["max_depth"]["mean"] == pytest.approx(6.0)
    assert result["queues"]["b"]["max_depth"] == {"mean": 1.0, "ci95": None}
    json.dumps(result, allow_nan=False)


def test_aggregate_single_replication_and_conservation():
    run = {
        "scenario": "one",
        "seed": 0,
        "totals": {
            "published": 3,
            "rejected": 0,
            "unroutable": 0,
            "enqueued": 3,
            "completed": 2,
            "dead_lettered": 0,
            "expired": 0,
            "lost": 0,
            "pending": 1,
            "deliveries": 2,
            "duplicate_deliveries": 0,
            "processings": 2,
            "duplicate_processing": 0,
            "duplicates_absorbed": 0,
        },
    }
    result = aggregate([run])
    assert result["totals"]["enqueued"] == {"mean": 3.0, "ci95": None}
    assert result["replications"] == 1
    # The conservation check reads the means of an aggregated summary.
    assert check_conservation(result) == []
    broken = aggregate([run, {**run, "totals": {**run["totals"], "pending": 0}}])
    assert any("enqueued" in problem for problem in check_conservation(broken))


def test_aggregate_needs_summaries():
    with pytest.raises(ValueError):
        aggregate([])


def test_run_settings_stay_plain_values():
    runs = [
        {"scenario": "demo", "seed": s, "duration": 60.0, "warmup": 5.0, "sim_end": end,
         "wall_seconds": 0.25, "throughput": 1.0}
        for s, end in ((1, 61.0), (2, 63.0))
    ]
    result = aggregate(runs)
    # Settings, not statistics: the plain value every replication shares.
    assert (result["scenario"], result["duration"], result["warmup"]) == ("demo", 60.0, 5.0)
    assert result["wall_seconds"] == 0.5  # the wall time of all replications
    assert result["sim_end"]["mean"] == pytest.approx(62.0)  # a measurement like any other
    # A message budget ends each publishing window at its own time: no common duration.
    runs[1]["duration"] = 58.0
    assert aggregate(runs)["duration"] is None
    assert aggregate(runs)["warmup"] == 5.0


def test_a_consumer_groups_partitions_are_aggregated_partition_by_partition():
    def run(seed, lags):
        queues = {"t": {"partitions": [
            {"owner": f"w/{i}", "records": 10 + i, "mean_lag": lag, "max_lag": 5}
            for i, lag in enumerate(lags)]}}
        return _summary(seed, 10, 1.0, queues)

    merged = aggregate([run(1, [1.0, 3.0]), run(2, [2.0, 5.0])])
    first, second = merged["queues"]["t"]["partitions"]
    assert first["mean_lag"] == mean_ci95([1.0, 2.0])
    assert second["mean_lag"] == mean_ci95([3.0, 5.0])
    assert second["records"] == {"mean": 11.0, "ci95": 0.0}
    assert (first["owner"], second["owner"]) == ("w/0", "w/1")  # the first replication's


def test_a_figure_null_in_every_replication_stays_null():
    # Reordering without keys is null in each replication: its mean is null, not an error.
    nothing = dict.fromkeys(("reordered", "reordered_ratio", "inversions", "max_displacement"))
    runs = [{"seed": s, "reordering": dict(nothing), "queues": {"q": {"reordering": nothing}}}
            for s in range(3)]
    result = aggregate(runs)
    assert result["reordering"]["reordered"] == {"mean": None, "ci95": None}
    assert result["queues"]["q"]["reordering"]["inversions"] == {"mean": None, "ci95": None}
    json.dumps(result, allow_nan=False)
