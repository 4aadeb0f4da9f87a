"""summarize(): every figure of a small hand-built run, computed by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from sim.metrics import check_conservation, check_messages, describe, summarize

NAN = math.nan
STATE_NAMES = ("pending", "completed", "dead_lettered", "expired", "lost")


def make_messages(rows: list[dict]) -> pd.DataFrame:
    """A messages table with the engine's dtypes; seq numbered per (queue, key) in row order."""
    defaults = {
        "copy": 0,
        "producer": "web",
        "key": None,
        "type": None,
        "first_delivered_at": NAN,
        "completed_at": NAN,
        "deliveries": 0,
        "processings": 0,
        "absorbed": 0,
        "worker": None,
        "state": "pending",
    }
    full = [{**defaults, **row} for row in rows]
    counts: dict = {}
    for row in full:
        row.setdefault("accepted_at", row["published_at"])
        group = (row["queue"], row["key"])
        row.setdefault("seq", counts.get(group, 0))
        counts[group] = counts.get(group, 0) + 1

    def column(name):
        return [row[name] for row in full]

    return pd.DataFrame(
        {
            "id": np.array(column("id"), dtype=np.int64),
            "copy": np.array(column("copy"), dtype=np.int16),
            "queue": pd.Categorical(column("queue")),
            "producer": pd.Categorical(column("producer")),
            "key": pd.Categorical(column("key")),
            "type": pd.Categorical(column("type")),
            "seq": np.array(column("seq"), dtype=np.int64),
            "published_at": np.array(column("published_at"), dtype=float),
            "accepted_at": np.array(column("accepted_at"), dtype=float),
            "first_delivered_at": np.array(column("first_delivered_at"), dtype=float),
            "completed_at": np.array(column("completed_at"), dtype=float),
            "deliveries": np.array(column("deliveries"), dtype=np.int32),
            "processings": np.array(column("processings"), dtype=np.int32),
            "absorbed": np.array(column("absorbed"), dtype=np.int32),
            "worker": pd.Categorical(column("worker")),
            "state": pd.Categorical(column("state"), categories=STATE_NAMES),
        }
    )


def done(published, delivered, completed, **extra):
    """A completed copy delivered and processed once (override counts through extra)."""
    row = {
        "published_at": published,
        "first_delivered_at": delivered,
        "completed_at": completed,
        "deliveries": 1,
        "processings": 1,
        "worker": "pool/0",
        "state": "completed",
    }
    row.update(extra)
    return row


# Queue a: rows 0-6 (row 0 is before the warm-up); queue b: rows 7-9 (row 7 is a fan-out copy
# of publish 6). Latencies of the measured completed copies: 1.0, 3.0, 7.0, 1.0 (a), 0.4 (b).
ROWS = [
    {"id": 0, "queue": "a", **done(1.0, 1.5, 2.0), "accepted_at": 1.01},
    {"id": 1, "queue": "a", **done(2.0, 2.5, 3.0)},
    {"id": 2, "queue": "a", **done(3.0, 4.0, 6.0, deliveries=2, processings=2), "accepted_at": 3.2},
    {"id": 3, "queue": "a", **done(4.0, 5.0, 11.0), "accepted_at": 4.1},  # after duration
    {"id": 4, "queue": "a", "published_at": 5.0},  # pending, never delivered
    {
        "id": 5,
        "queue": "a",
        "published_at": 6.0,
        "first_delivered_at": 6.5,
        "deliveries": 3,
        "state": "dead_lettered",
    },
    {"id": 6, "queue": "a", **done(7.0, 7.5, 8.0, deliveries=2, absorbed=1), "accepted_at": 7.2},
    {"id": 6, "copy": 1, "queue": "b", **done(7.0, 7.1, 7.4), "accepted_at": 7.2},
    {
        "id": 7,
        "queue": "b",
        "published_at": 8.0,
        "accepted_at": 8.1,
        "first_delivered_at": 8.2,
        "deliveries": 1,
        "state": "lost",
    },
    {"id": 8, "queue": "b", "published_at": 9.0, "accepted_at": 9.1, "state": "expired"},
]
ROWS = [{"key": "k", **row} for row in ROWS]  # one ordering key: every copy is ranked
COUNTERS = {
    "producers": {"web": {"sent": 10, "accepted": 9, "rejected": 1}},
    "queues": {
        "a": {"rejected": 1, "max_depth": 3, "unroutable": 0},
        "b": {"rejected": 0, "max_depth": 1, "unroutable": 0},
    },
    "workers": {"pool": {"count": 2, "slots": 4, "busy_time": 12.0, "up_time": 20.0, "crashes": 1}},
}
META = {
    "scenario": "hand",
    "seed": 7,
    "duration": 10.0,
    "warmup": 2.0,
    "sim_end": 12.0,
    "wall_seconds": 0.5,
}
TIMESERIES = pd.DataFrame(
    {
        "time": [1.0, 1.0, 2.0, 2.0, 3.0],
        "queue": pd.Categorical(["a", "b", "a", "b", "a"]),
        "depth": [1, 0, 3, 1, 2],
        "in_flight": [0, 0, 1, 1, 1],
        "workers_up": [2, 2, 2, 2, 2],
        "published": [1, 0, 1, 1, 1],
        "completed": [0, 0, 1, 0, 1],
        "rejected": [0, 0, 0, 0, 0],
    }
)


@pytest.fixture(scope="module")
def summary():
    return summarize(make_messages(ROWS), TIMESERIES, COUNTERS, META)


def test_shape_and_meta(summary):
    assert list(summary) == [
        "scenario",
        "seed",
        "duration",
        "warmup",
        "sim_end",
        "drain_timed_out",
        "wall_seconds",
        "totals",
        "latency",
        "wait",
        "queueing",
        "throughput",
        "reordering",
        "queues",
        "workers",
        "producers",
        "exchanges",
        "flows",
    ]
    assert (summary["scenario"], summary["seed"], summary["duration"]) == ("hand", 7, 10.0)
    assert (summary["warmup"], summary["sim_end"], summary["wall_seconds"]) == (2.0, 12.0, 0.5)
    assert list(summary["queues"]) == ["a", "b"]
    assert list(summary["queues"]["a"]) == [
        "totals",
        "latency",
        "wait",
        "queueing",
        "throughput",
        "reordering",
        "max_depth",
        "mean_depth",
        "refused_attempts",
        "republished_copies",
    ]


def test_totals(summary):
    assert summary["totals"] == {
        "published": 9,
        "rejected": 1,
        "unroutable": 0,
        "enqueued": 10,
        "completed": 6,
        "dead_lettered": 1,
        "expired": 1,
        "lost": 1,
        "pending": 1,
        "deliveries": 12,
        "duplicate_deliveries": 4,
        "processings": 7,
        "duplicate_processing": 1,
        "duplicates_absorbed": 1,
    }


def test_queue_totals(summary):
    a = summary["queues"]["a"]["totals"]
    b = summary["queues"]["b"]["totals"]
    assert a == {
        "published": 7,
        "rejected": 1,
        "unroutable": 0,
        "enqueued": 7,
        "completed": 5,
        "dead_lettered": 1,
        "expired": 0,
        "lost": 0,
        "pending": 1,
        "deliveries": 10,
        "duplicate_deliveries": 4,
        "processings": 6,
        "duplicate_processing": 1,
        "duplicates_absorbed": 1,
    }
    assert (b["enqueued"], b["completed"], b["lost"], b["expired"], b["deliveries"]) == (
        3,
        1,
        1,
        1,
        2,
    )
    assert check_conservation(summary) == []


def test_latency_excludes_warmup_and_interpolates(summary):
    # Measured latencies sorted: 0.4, 1, 1, 3, 7 (row 0, published before warm-up, is out).
    # Linear interpolation at index 4 * q: p90 = 3 + 0.6 * 4, p95 = 3 + 0.8 * 4, ...
    assert summary["latency"] == pytest.approx(
        {
            "mean": 12.4 / 5,
            "p50": 1.0,
            "p90": 5.4,
            "p95": 6.2,
            "p99": 6.84,
            "p999": 6.984,
            "max": 7.0,
        }
    )
    assert summary["queues"]["a"]["latency"] == pytest.approx(
        {"mean": 3.0, "p50": 2.0, "p90": 5.8, "p95": 6.4, "p99": 6.88, "p999": 6.988, "max": 7.0}
    )
    assert summary["queues"]["b"]["latency"]["mean"] == pytest.approx(0.4)


def test_wait(summary):
    # Measured first deliveries: 0.5, 1, 1, 0.5 (dead-lettered), 0.5, 0.1 (b), 0.2 (lost, b).
    assert summary["wait"]["mean"] == pytest.approx(3.8 / 7)
    assert summary["wait"]["p50"] == pytest.approx(0.5)
    assert summary["wait"]["max"] == pytest.approx(1.0)
    assert summary["queues"]["b"]["wait"]["mean"] == pytest.approx(0.15)


def test_throughput_window(summary):
    # Completed in [warmup, duration] = [2, 10], whenever published: rows 0 (published at 1,
    # before the warm-up, completed at 2), 1, 2, 6 in a (row 3 completes at 11, after the
    # window), row 7 in b. Window length 8 s.
    assert summary["throughput"] == pytest.approx(5 / 8)
    assert summary["queues"]["a"]["throughput"] == pytest.approx(4 / 8)
    assert summary["queues"]["b"]["throughput"] == pytest.approx(1 / 8)


def test_reordering(summary):
    # Queue a, measured: seqs 1, 2, 3, 6 complete at 3, 6, 11, 8 -> order 1, 2, 6, 3.
    assert summary["queues"]["a"]["reordering"] == pytest.approx(
        {"reordered": 1, "reordered_ratio": 0.25, "inversions": 1, "max_displacement": 1}
    )
    assert summary["queues"]["b"]["reordering"] == {
        "reordered": 0,
        "reordered_ratio": 0.0,
        "inversions": 0,
        "max_displacement": 0,
    }
    assert summary["reordering"] == pytest.approx(
        {"reordered": 1, "reordered_ratio": 0.2, "inversions": 1, "max_displacement": 1}
    )


def test_depth_workers_producers(summary):
    assert summary["queues"]["a"]["max_depth"] == 3
    assert summary["queues"]["a"]["mean_depth"] == pytest.approx(2.0)
    assert summary["queues"]["b"]["mean_depth"] == pytest.approx(0.5)
    # utilization = 12 / (concurrency 2 * 20 worker-seconds): counters without readings give
    # the whole run; mean_up = 20 / 12.
    assert summary["workers"] == {
        "pool": {"utilization": pytest.approx(0.3), "crashes": 1, "mean_up": pytest.approx(20 / 12),
                 "worker_seconds": 20.0, "min_up": None, "max_up": None}
    }
    web = summary["producers"]["web"]
    assert (web["sent"], web["errors"]) == (10, 1)
    # One answer per publish at or after warm-up: 0, .2, .1, 0, 0, .2 (fan-out once), .1, .1.
    assert web["response_time"] == pytest.approx(
        {"mean": 0.0875, "p50": 0.1, "p90": 0.2, "p95": 0.2, "p99": 0.2, "p999": 0.2, "max": 0.2}
    )


def test_json_serialisable_and_plain_types(summary):
    text = json.dumps(summary, allow_nan=False)
    assert json.loads(text) == summary

    def walk(node):
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        else:
            assert node is None or type(node) in (int, float, str, bool), (node, type(node))

    walk(summary)


def test_utilization_is_cut_out_of_the_readings_at_warmup_and_end_of_publishing():
    # Cumulative (time, busy, up) of a 2-slot pool of 2 workers (count 2, slots 4): idle to
    # 4 s, then 3 slots busy. Window [2, 10]: busy 3 * 6 = 18 slot-seconds of 2 * 2 * 8 = 32.
    # Between readings the ends are interpolated (a warm-up chosen after the run).
    readings = [(0.0, 0.0, 0.0), (4.0, 0.0, 8.0), (8.0, 12.0, 16.0), (10.0, 18.0, 20.0)]
    pool = {"count": 2, "slots": 4, "busy_time": 40.0, "up_time": 24.0, "readings": readings}
    counters = {**COUNTERS, "workers": {"pool": pool}}
    summary = summarize(make_messages(ROWS), TIMESERIES, counters, META)
    assert summary["workers"]["pool"]["utilization"] == pytest.approx(18 / 32)
    # The cost stays the whole run's, drain included.
    assert summary["workers"]["pool"]["worker_seconds"] == 24.0
    later = summarize(make_messages(ROWS), TIMESERIES, counters, META | {"warmup": 6.0})
    assert later["workers"]["pool"]["utilization"] == pytest.approx((18 - 6) / (2 * 2 * 4))
    # An empty window (publishing over by the warm-up) has no utilization, as no throughput.
    empty = summarize(make_messages(ROWS), TIMESERIES, counters, META | {"warmup": 10.0})
    assert empty["workers"]["pool"]["utilization"] is None and empty["throughput"] is None


def test_a_window_without_work_reads_zero_utilization_never_below():
    # A processing starting at the end of publishing: busy_time_until subtracts the time left
    # from the whole service, (1.04 + 0.1) - 1.04 is not 0.1 in floating point, and the busy
    # reading comes out a hair below 0 (printed "-0.0%").
    pool = {"count": 1, "slots": 1, "busy_time": 0.1, "up_time": 1.2,
            "readings": [(0.0, 0.0, 0.0), (1.04, -1.4e-17, 1.04)]}
    meta = META | {"warmup": 0.0, "duration": 1.04}
    summary = summarize(make_messages(ROWS), TIMESERIES, {**COUNTERS, "workers": {"p": pool}},
                        meta)
    utilization = summary["workers"]["p"]["utilization"]
    assert utilization == 0.0 and math.copysign(1.0, utilization) == 1.0


def test_one_message_through_a_fanout_and_a_dead_letter_queue_reads_no_negative_figure():
    from conftest import run_checked, scenario_from

    from sim.cli import format_summary

    result = run_checked(scenario_from("""
        name: one
        run: {duration: 60, messages: 1, seed: 1}
        producers: {p: {arrivals: {process: poisson, rate: 1}, publish: ex}}
        exchanges: {ex: {type: fanout, bindings: [{queue: a}, {queue: b}]}}
        queues:
          a: {max_deliveries: 1, dead_letter: dlq}
          b: {}
          dlq: {}
        workers:
          wa: {consumes: a, service_time: 0.1, error_rate: 1, retry: {requeue: false}}
          wb: {consumes: b, service_time: 0.1}
          wd: {consumes: dlq, service_time: 0.1}
    """))
    totals = result.summary["totals"]
    assert (totals["published"], totals["enqueued"], totals["completed"],
            totals["dead_lettered"]) == (1, 3, 2, 1)
    for pool in result.summary["workers"].values():
        assert pool["utilization"] is None or math.copysign(1.0, pool["utilization"]) == 1.0
    assert "-0.0%" not in format_summary(result.summary)


def test_nothing_completed_gives_none_not_nan():
    rows = [{"id": 0, "queue": "a", "published_at": 1.0}]
    summary = summarize(make_messages(rows), TIMESERIES.iloc[:0], COUNTERS, META)
    json.dumps(summary, allow_nan=False)
    assert summary["latency"]["mean"] is None
    assert summary["queues"]["a"]["latency"]["p99"] is None
    assert summary["queues"]["a"]["mean_depth"] is None
    assert summary["reordering"]["reordered_ratio"] is None
    assert summary["throughput"] == 0.0
    assert summary["totals"]["pending"] == 1


def test_empty_run():
    summary = summarize(make_messages([]), TIMESERIES.iloc[:0], COUNTERS, META)
    json.dumps(summary, allow_nan=False)
    assert summary["totals"]["enqueued"] == 0
    assert summary["totals"]["published"] == 9  # from the counters
    assert summary["queues"]["a"]["totals"]["rejected"] == 1
    assert summary["producers"]["web"]["response_time"]["max"] is None
    assert check_conservation(summary) == []


def test_keys_make_separate_sequences():
    # Two keys interleaved, each completing in its own order, the queue as a whole not.
    rows = [
        {"id": 0, "queue": "a", "key": "x", **done(0.0, 0.1, 2.0)},
        {"id": 1, "queue": "a", "key": "y", **done(0.5, 0.6, 1.0)},
        {"id": 2, "queue": "a", "key": "x", **done(1.0, 2.1, 3.0)},
        {"id": 3, "queue": "a", "key": "y", **done(1.5, 1.6, 2.5)},
    ]
    summary = summarize(make_messages(rows), TIMESERIES.iloc[:0], COUNTERS, META | {"warmup": 0})
    assert summary["reordering"]["reordered"] == 0
    assert summary["reordering"]["inversions"] == 0
    for row in rows:
        row["key"] = "x"
    summary = summarize(make_messages(rows), TIMESERIES.iloc[:0], COUNTERS, META | {"warmup": 0})
    assert (summary["reordering"]["reordered"], summary["reordering"]["inversions"]) == (2, 2)
    # Without keys nothing is ranked: no reordering figure at all, per queue or in total.
    for row in rows:
        row["key"] = None
    summary = summarize(make_messages(rows), TIMESERIES.iloc[:0], COUNTERS, META | {"warmup": 0})
    nothing = dict.fromkeys(("reordered", "reordered_ratio", "inversions", "max_displacement"))
    assert summary["reordering"] == summary["queues"]["a"]["reordering"] == nothing
    assert check_conservation(summary) == []


def test_messages_table_is_consistent():
    assert check_messages(make_messages(ROWS)) == []


def masked_reference(messages, counters, warmup, window_end):
    """Per-queue and per-producer figures computed the plain way: one boolean mask per name."""
    published = messages["published_at"].to_numpy(float)
    completed_at = messages["completed_at"].to_numpy(float)
    delivered_at = messages["first_delivered_at"].to_numpy(float)
    measured = published >= warmup
    completed = measured & ~np.isnan(completed_at)
    delivered = measured & ~np.isnan(delivered_at)
    queues = {}
    for name in messages["queue"].cat.categories:
        here = (messages["queue"] == name).to_numpy()
        # completions in the window, whenever published
        done_in_window = here & (completed_at >= warmup) & (completed_at <= window_end)
        queues[name] = {
            "latency": describe((completed_at - published)[completed & here]),
            "wait": describe((delivered_at - published)[delivered & here]),
            "throughput": np.count_nonzero(done_in_window) / (window_end - warmup),
            "enqueued": int(here.sum()),
            "completed": int((here & (messages["state"] == "completed").to_numpy()).sum()),
            "deliveries": int(messages["deliveries"].to_numpy()[here].sum()),
        }
    first = ~messages["id"].duplicated().to_numpy()
    accepted_at = messages["accepted_at"].to_numpy(float)
    answered = first & measured & ~np.isnan(accepted_at)
    producers = {
        name: describe(
            (accepted_at - published)[answered & (messages["producer"] == name).to_numpy()]
        )
        for name in messages["producer"].cat.categories
    }
    return queues, producers


def test_interleaved_queues_and_producers_match_a_masked_reference():
    # Queues, producers and keys interleaved row by row (the index-array path of the
    # per-queue figures), copies without a queue or a state, fan-out copies one after another.
    rng = np.random.default_rng(8)
    rows = []
    for publish in range(400):
        published = publish * 0.25
        producer = ["web", "batch"][int(rng.integers(2))]
        for copy in range(int(rng.integers(1, 3))):
            queue = [None, "a", "b", "c"][int(rng.choice(4, p=[0.03, 0.4, 0.4, 0.17]))]
            states = ["completed", "pending", "lost", None]
            state = states[int(rng.choice(4, p=[0.8, 0.1, 0.07, 0.03]))]
            row = {"id": publish, "copy": copy, "queue": queue, "producer": producer,
                   "key": ["x", "y", None][int(rng.integers(3))], "published_at": published,
                   "accepted_at": published + float(rng.random()) * 0.1}  # fmt: skip
            if state == "completed":
                delivered = published + float(rng.exponential(2.0))
                row.update(done(published, delivered, delivered + float(rng.exponential(1.0))))
            elif state == "lost":
                row.update(first_delivered_at=published + 1.0, deliveries=2, state="lost")
            else:
                row["state"] = state
            rows.append(row)
    # Dead-letter copies come later in the table under their message's id, accepted later:
    # each publish's response time still counts once, from its first copy.
    for source in rng.choice(len(rows) - 50, 30, replace=False):
        rows.append(rows[source] | {"copy": 1, "queue": "c", "state": "pending",
                                    "accepted_at": rows[source]["published_at"] + 9.0})  # fmt: skip
    messages = make_messages(rows)
    counters = {**COUNTERS, "queues": {"c": {}, "b": {}, "a": {}}}  # not the table's order
    meta = META | {"warmup": 5.0, "duration": 90.0}
    summary = summarize(messages, TIMESERIES.iloc[:0], counters, meta)
    queues, producers = masked_reference(messages, counters, 5.0, 90.0)
    assert list(summary["queues"]) == ["c", "b", "a"]
    for name, expected in queues.items():
        got = summary["queues"][name]
        for field in ("latency", "wait", "throughput"):
            assert got[field] == expected[field], (name, field)  # same values, same order
        for field in ("enqueued", "completed", "deliveries"):
            assert got["totals"][field] == expected[field], (name, field)
    # Copies without a queue are in no queue's counts, so in no total either.
    with_queue = sum(1 for row in rows if row["queue"] is not None)
    assert with_queue < len(rows)
    assert summary["totals"]["enqueued"] == with_queue
    for name, expected in producers.items():
        assert summary["producers"][name]["response_time"] == expected
    assert summary["producers"]["web"]["response_time"]["mean"] is not None


@pytest.mark.parametrize("with_nan", [False, True])
def test_describe_overwrite_gives_the_same_figures(with_nan):
    values = np.random.default_rng(2).exponential(1.0, 5001)
    if with_nan:
        values[::7] = NAN
    expected = describe(values.copy())
    scratch = values.copy()
    assert describe(scratch, overwrite=True) == expected
    untouched = values.copy()
    describe(untouched)
    np.testing.assert_array_equal(untouched, values)  # without overwrite the input is kept
