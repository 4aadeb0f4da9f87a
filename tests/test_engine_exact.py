"""Exact semantics on small deterministic scenarios: every count and instant is known."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import burst, by_id, run_checked, scenario_from

from sim.cli import format_summary


def one_queue(trace_path, *, workers: str = "", queue: str = "{}", run: str = "",
              extra: str = "") -> str:
    """A scenario: a trace producer, one queue `q`, one pool `w` (service time from trace)."""
    return f"""
        name: exact
        run: {{duration: 1000, {run}}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace_path}}}, publish: q}}
        queues:
          q: {queue}
        workers:
          w: {{consumes: q, service_time: 1, {workers}}}
        {extra}
    """


def test_reordering_two_workers_slow_message_first(trace):
    path = trace([0, 1, 2], service_time=[10, 1, 1], key=["a", "a", "a"])
    result = run_checked(scenario_from(one_queue(path, workers="count: 2")))
    m = by_id(result)
    assert m["completed_at"].tolist() == [10.0, 2.0, 3.0]
    # Completion order of sequence numbers: 1, 2, 0.
    assert result.summary["reordering"] == {
        "reordered": 1, "reordered_ratio": pytest.approx(1 / 3), "inversions": 2,
        "max_displacement": 2,
    }
    assert result.summary["totals"]["completed"] == 3


def test_without_keys_nothing_is_ranked(trace):
    # The same overtaking as above, but no message has a key: nobody asked for an order, so
    # there is no reordering figure (null, not a count), and the printed summary says nothing.
    path = trace([0, 1, 2], service_time=[10, 1, 1])
    result = run_checked(scenario_from(one_queue(path, workers="count: 2")))
    assert by_id(result)["completed_at"].tolist() == [10.0, 2.0, 3.0]
    nothing = dict.fromkeys(("reordered", "reordered_ratio", "inversions", "max_displacement"))
    assert result.summary["reordering"] == nothing
    assert result.summary["queues"]["q"]["reordering"] == nothing
    assert "reorder" not in format_summary(result.summary)


def test_one_worker_never_reorders(trace):
    path = trace([0, 1, 2], service_time=[10, 1, 1], key=["a", "a", "a"])
    result = run_checked(scenario_from(one_queue(path)))
    assert result.summary["reordering"]["reordered"] == 0
    assert by_id(result)["completed_at"].tolist() == [10.0, 11.0, 12.0]


def test_reordering_is_per_key(trace):
    # Two keys; the slow message is the only one of key a, so nothing is out of order.
    path = trace([0, 1, 2], service_time=[10, 1, 1], key=["a", "b", "b"])
    result = run_checked(scenario_from(one_queue(path, workers="count: 2")))
    assert result.summary["reordering"]["reordered"] == 0
    assert result.summary["reordering"]["inversions"] == 0


@pytest.mark.parametrize(
    ("drain", "expected_end", "completed", "pending"),
    [("drain: true", 15.0, 5, 0), ("drain: false", 5.0, 1, 4),
     ("drain: true, drain_timeout: 4.5", 9.5, 3, 2)],
)
def test_drain(drain, expected_end, completed, pending):
    text = f"""
        name: drain
        run: {{duration: 5, {drain}}}
        producers:
          p: {{arrivals: {{process: constant, interval: 1}}, publish: q}}
        queues: {{q: {{}}}}
        workers:
          w: {{consumes: q, service_time: 3}}
    """
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert result.summary["sim_end"] == pytest.approx(expected_end)
    assert result.summary["duration"] == 5.0
    assert (totals["published"], totals["completed"], totals["pending"]) == (5, completed, pending)


def test_queue_without_consumers_does_not_hold_the_drain(trace):
    text = """
        name: no-consumer
        run: {duration: 3}
        producers:
          p: {arrivals: {process: constant, interval: 1}, publish: q}
          orphan-producer: {arrivals: {process: constant, interval: 1}, publish: orphan}
        queues: {q: {}, orphan: {}}
        workers:
          w: {consumes: q, service_time: 2}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["sim_end"] == pytest.approx(6.0)
    assert result.summary["queues"]["orphan"]["totals"]["pending"] == 3
    assert result.summary["queues"]["q"]["totals"]["completed"] == 3


def test_overflow_reject_publish(trace):
    path = trace(burst(5), service_time=[10] * 5)
    result = run_checked(scenario_from(one_queue(path, queue="{max_length: 2}")))
    totals = result.summary["totals"]
    assert (totals["published"], totals["rejected"], totals["enqueued"]) == (3, 2, 3)
    assert totals["completed"] == 3
    assert result.summary["producers"]["p"]["errors"] == 2
    assert result.summary["queues"]["q"]["max_depth"] == 2


def test_overflow_drop_head_loses_the_oldest(trace):
    path = trace(burst(5), service_time=[10] * 5)
    queue = "{max_length: 2, overflow: drop-head}"
    result = run_checked(scenario_from(one_queue(path, queue=queue)))
    m = by_id(result)
    assert m["state"].tolist() == ["completed", "lost", "lost", "completed", "completed"]
    totals = result.summary["totals"]
    assert (totals["published"], totals["rejected"], totals["lost"]) == (5, 0, 2)


def test_overflow_drop_head_to_dead_letter(trace):
    path = trace(burst(5), service_time=[10] * 5)
    text = one_queue(path, queue="{max_length: 2, overflow: drop-head, dead_letter: dlq}")
    text = text.replace("q: {max_length", "dlq: {}\n          q: {max_length")
    result = run_checked(scenario_from(text))
    q, dlq = result.summary["queues"]["q"], result.summary["queues"]["dlq"]
    assert q["totals"]["dead_lettered"] == 2 and q["totals"]["lost"] == 0
    assert dlq["totals"]["enqueued"] == 2 and dlq["totals"]["pending"] == 2
    assert result.summary["totals"]["enqueued"] == 7


def test_overflow_block_makes_the_publisher_wait(trace):
    path = trace(burst(5), service_time=[10] * 5)
    result = run_checked(scenario_from(one_queue(path, queue="{max_length: 2, overflow: block}")))
    m = by_id(result)
    totals = result.summary["totals"]
    assert (totals["published"], totals["rejected"], totals["completed"]) == (5, 0, 5)
    # Copies 3 and 4 wait at the publisher until delivering 1 and 2 makes room.
    assert (m["accepted_at"] - m["published_at"]).tolist() == [0, 0, 0, 10, 20]
    assert m["completed_at"].tolist() == [10, 20, 30, 40, 50]
    assert result.summary["producers"]["p"]["response_time"]["max"] == 20


def test_loss_system_erlang_b_shape(trace):
    # max_length 0 with reject-publish: a message is taken only by a free worker.
    path = trace([0, 0, 0, 5], service_time=[10] * 4)
    text = one_queue(path, workers="count: 2", queue="{max_length: 0}")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert (totals["published"], totals["rejected"]) == (2, 2)


@pytest.mark.parametrize(
    ("prefetch", "completed"), [(1, [10, 1, 2, 3]), (2, [10, 1, 11, 2])]
)
def test_prefetch_holds_messages_at_a_busy_worker(trace, prefetch, completed):
    path = trace(burst(4), service_time=[10, 1, 1, 1])
    workers = f"count: 2, prefetch: {prefetch}"
    result = run_checked(scenario_from(one_queue(path, workers=workers)))
    m = by_id(result)
    assert m["completed_at"].tolist() == completed
    assert m["worker"].tolist()[:2] == ["w/0", "w/1"]


@pytest.mark.parametrize(
    ("ack", "completed"),
    [("after_processing", [1, 2.5, 4, 5.5]), ("on_start", [1, 2, 3, 4]),
     ("on_delivery", [1, 2, 3, 4])],
)
def test_ack_modes_and_ack_latency(trace, ack, completed):
    # The prefetch slot frees when the ack reaches the broker: 0.5 s after processing ends with
    # manual ack, as processing starts with early ack, at the end of processing with auto-ack.
    path = trace(burst(4))
    workers = f"ack: {ack}, ack_latency: 500ms"
    result = run_checked(scenario_from(one_queue(path, workers=workers)))
    m = by_id(result)
    assert m["completed_at"].tolist() == completed
    totals = result.summary["totals"]
    counts = (totals["deliveries"], totals["processings"], totals["duplicate_processing"])
    assert counts == (4, 4, 0)


def test_concurrency_and_prefetch_on_one_worker(trace):
    # A last, instant message at 8 s keeps publishing (the measured window) open to 8 s.
    path = trace([*burst(3), 8.0], service_time=[4, 4, 4, 0])
    result = run_checked(scenario_from(one_queue(path, workers="concurrency: 2, prefetch: 2")))
    assert by_id(result)["completed_at"].tolist() == [4, 4, 8, 8]
    assert result.summary["workers"]["w"]["utilization"] == pytest.approx(12 / 16)


def test_stop_after_messages():
    text = """
        name: count
        run: {messages: 7}
        producers:
          a: {arrivals: {process: constant, interval: 1}, publish: q}
          b: {arrivals: {process: constant, interval: 1.5}, publish: q}
        queues: {q: {}}
        workers: {w: {consumes: q, service_time: 0.1}}
    """
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert totals["published"] == 7 and totals["completed"] == 7
    sent = {name: p["sent"] for name, p in result.summary["producers"].items()}
    # a at 0,1,2,3,4; b at 0,1.5,3 -> the 7th send is at t=3 (a and b), then publishing stops.
    assert sum(sent.values()) == 7
    assert result.summary["duration"] == pytest.approx(3.0)


def test_service_time_by_type_and_publish_latency(trace):
    path = trace([0, 10], type=["fast", "slow"])
    text = one_queue(
        path, workers="service_time_by_type: {fast: 0.25, slow: 2}",
        extra="brokers: {b: {type: ideal, publish_latency: 10ms, deliver_latency: 5ms}}",
    )
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert m["accepted_at"].tolist() == pytest.approx([0.01, 10.01])
    assert m["first_delivered_at"].tolist() == pytest.approx([0.015, 10.015])
    assert m["completed_at"].tolist() == pytest.approx([0.265, 12.015])
    response = result.summary["producers"]["p"]["response_time"]
    assert response["mean"] == pytest.approx(0.01)


def test_warmup_excludes_early_messages_from_latency(trace):
    path = trace([0, 1, 2, 3], service_time=[5, 1, 1, 1])
    result = run_checked(scenario_from(one_queue(path, run="warmup: 1.5")))
    # Only copies published at 2 and 3 are measured: they finish at 7 and 8.
    assert result.summary["latency"]["max"] == pytest.approx(5.0)
    assert result.summary["latency"]["mean"] == pytest.approx(5.0)
    assert result.summary["totals"]["completed"] == 4


def test_timeseries_counts_add_up():
    text = """
        name: ts
        run: {duration: 50, sample_interval: 1, seed: 3}
        producers: {p: {arrivals: {process: poisson, rate: 5}, publish: q}}
        queues: {q: {max_length: 3}}
        workers: {w: {consumes: q, service_time: {dist: exponential, mean: 0.25}}}
    """
    result = run_checked(scenario_from(text))
    ts, totals = result.timeseries, result.summary["totals"]
    assert ts["published"].sum() == totals["enqueued"]
    assert ts["completed"].sum() == totals["completed"]
    assert ts["rejected"].sum() == totals["rejected"] > 0
    assert ts["depth"].max() <= 3
    assert np.all(np.diff(ts["time"].to_numpy()) > 0)
    assert ts["time"].iloc[-1] == pytest.approx(result.summary["sim_end"])
    assert not math.isnan(result.summary["queues"]["q"]["mean_depth"])


def test_with_duration_and_messages_the_first_to_come_ends_publishing():
    text = """
        name: both
        run: {duration: 100, messages: 5}
        producers: {p: {arrivals: {process: constant, interval: 2}, publish: q}}
        queues: {q: {}}
        workers: {w: {consumes: q, service_time: 0.5}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["duration"] == 8.0  # the 5th send, at 0, 2, 4, 6, 8
    assert result.summary["throughput"] == pytest.approx(4 / 8)  # the 5th ends after 8
    longer = run_checked(scenario_from(text.replace("messages: 5", "messages: 500")))
    assert longer.summary["duration"] == 100.0


def test_queueing_counts_the_time_in_the_prefetch_buffer(trace):
    # Three messages at 0, one worker with prefetch 3: all are delivered at once (wait 0), but
    # they start processing at 0, 1 and 2 s. `wait` ends at delivery, `queueing` at the start.
    path = trace(burst(3))
    result = run_checked(scenario_from(one_queue(path, workers="prefetch: 3")))
    rows = by_id(result)
    assert rows["first_delivered_at"].tolist() == [0.0, 0.0, 0.0]
    assert rows["started_at"].tolist() == [0.0, 1.0, 2.0]
    summary = result.summary
    assert summary["wait"]["max"] == 0.0
    assert (summary["queueing"]["mean"], summary["queueing"]["max"]) == (1.0, 2.0)
    assert summary["latency"]["mean"] == 2.0
    assert summary["queues"]["q"]["queueing"]["max"] == 2.0


def test_utilization_and_throughput_are_measured_over_the_publishing_window():
    # Pool a: a message a second, 0.4 s each: 40% busy. Pool b: a message a second, 3.7 s
    # each: always busy, and it drains for about 270 s after publishing stops at 100 s. Over
    # the whole run pool a read 4% (its busy time over worker-seconds to the end of b's drain);
    # over the window [warmup, end of publishing] = [10, 100] it reads 40%, and b 100%.
    text = """
        name: window
        run: {duration: 100, warmup: 10, drain_timeout: 1000}
        producers:
          pa: {arrivals: {process: constant, interval: 1}, publish: qa}
          pb: {arrivals: {process: constant, interval: 1}, publish: qb}
        queues: {qa: {}, qb: {}}
        workers:
          a: {consumes: qa, service_time: 0.4}
          b: {consumes: qb, service_time: 3.7}
    """
    result = run_checked(scenario_from(text))
    summary = result.summary
    assert summary["sim_end"] == pytest.approx(100 * 3.7)  # b's last copy ends at 370 s
    assert summary["workers"]["a"]["utilization"] == pytest.approx(0.4)
    assert summary["workers"]["b"]["utilization"] == pytest.approx(1.0)
    # What the design costs stays over the whole run, drain included.
    assert summary["workers"]["a"]["worker_seconds"] == pytest.approx(370.0)
    # Completions in [10, 100], whenever published: a's copies sent at 10..99 (the one sent
    # at 9 completed at 9.4); b's 25 completions at 3.7 k for k = 3..27 (11.1 s to 99.9 s),
    # although every copy published after the warm-up completed after the window.
    assert summary["queues"]["qa"]["throughput"] == pytest.approx(90 / 90)
    assert summary["queues"]["qb"]["throughput"] == pytest.approx(25 / 90)
    assert summary["throughput"] == pytest.approx(115 / 90)
