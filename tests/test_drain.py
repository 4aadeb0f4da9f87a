"""When a run ends: publishing stops, then the drain waits for every piece of work in progress.

Exact scenarios: each end instant and each final state is known.
"""

from __future__ import annotations

import pytest
from conftest import burst, by_id, run_checked, scenario_from

import sim
from sim import engine


def dead_letter_scenario(trace_path, *, queue: str, workers: str = "",
                         dlq_workers: str = "service_time: 1", run: str = "") -> str:
    """Queue `q` (pool `w`) dead-letters into `dlq`, which has its own pool `d`."""
    return f"""
        name: dead-letters
        run: {{duration: 1000, {run}}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace_path}}}, publish: q}}
        queues:
          q: {queue}
          dlq: {{}}
        workers:
          w: {{consumes: q, service_time: 1, {workers}}}
          d: {{consumes: dlq, {dlq_workers}}}
    """


def test_the_drain_waits_for_a_dead_letter_after_max_deliveries(trace):
    # The only message always fails; after its one delivery it is dead-lettered at t = 1,
    # and the dead-letter queue's worker completes it at t = 2. The drain used to stop at
    # t = 1, leaving the dead letter pending.
    path = trace([0.0])
    text = dead_letter_scenario(
        path, queue="{max_deliveries: 1, dead_letter: dlq}", workers="error_rate: 1.0")
    result = run_checked(scenario_from(text))
    rows = by_id(result)
    assert rows["state"].tolist() == ["dead_lettered", "completed"]
    assert rows["completed_at"].tolist()[1] == 2.0
    assert result.summary["sim_end"] == 2.0
    assert result.summary["totals"]["pending"] == 0


def test_the_drain_waits_for_a_dead_letter_after_a_ttl_expiry(trace):
    # Two messages at 0, one worker, ttl 0.5: the second expires when taken at t = 1 and goes
    # to the dead-letter queue, whose worker completes it at t = 2.
    path = trace(burst(2))
    text = dead_letter_scenario(path, queue="{ttl: 0.5, dead_letter: dlq}")
    result = run_checked(scenario_from(text))
    rows = by_id(result)
    assert rows["state"].tolist() == ["completed", "dead_lettered", "completed"]
    assert result.summary["sim_end"] == 2.0


def test_the_drain_follows_a_chain_of_dead_letter_queues(trace):
    # q -> dlq -> last: each stage fails once; the last one completes at t = 3.
    path = trace([0.0])
    text = f"""
        name: chain
        run: {{duration: 1000}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{max_deliveries: 1, dead_letter: dlq}}
          dlq: {{max_deliveries: 1, dead_letter: last}}
          last: {{}}
        workers:
          w: {{consumes: q, service_time: 1, error_rate: 1.0}}
          d: {{consumes: dlq, service_time: 1, error_rate: 1.0}}
          l: {{consumes: last, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    assert by_id(result)["state"].tolist() == ["dead_lettered", "dead_lettered", "completed"]
    assert result.summary["sim_end"] == 3.0


def test_a_dead_letter_queue_without_workers_does_not_hold_the_drain(trace):
    path = trace([0.0])
    text = f"""
        name: parked
        run: {{duration: 1000, drain_timeout: 500}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{max_deliveries: 1, dead_letter: dlq}}
          dlq: {{}}
        workers:
          w: {{consumes: q, service_time: 1, error_rate: 1.0}}
    """
    result = run_checked(scenario_from(text))
    assert by_id(result)["state"].tolist() == ["dead_lettered", "pending"]
    assert result.summary["sim_end"] == 1.0  # not the drain timeout


@pytest.mark.parametrize("arrivals", [
    "{process: poisson, rate: 0}",
    "{process: poisson, schedule: [{until: 2, rate: 0}, {rate: 0}]}",
])
def test_a_budget_that_never_comes_ends_publishing_when_arrivals_run_out(arrivals):
    # Rate 0 with a message budget and no duration: no arrival will ever come, so publishing
    # ends at once instead of waiting forever for the budget.
    text = f"""
        name: silent
        run: {{messages: 10, sample_interval: 1}}
        producers:
          p: {{arrivals: {arrivals}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["totals"]["enqueued"] == 0
    assert result.summary["sim_end"] == 0.0


def test_a_timed_out_drain_is_reported(trace):
    path = trace(burst(3))
    text = f"""
        name: slow
        run: {{duration: 1000, drain_timeout: 1.5}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["sim_end"] == 1.5
    assert result.summary["totals"]["pending"] == 2
    assert result.summary["drain_timed_out"] is True


def test_a_finished_drain_is_not_a_time_out(trace):
    path = trace(burst(3))
    text = f"""
        name: quick
        run: {{duration: 1000}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["sim_end"] == 3.0
    assert result.summary["drain_timed_out"] is False


def test_arrivals_that_run_out_end_the_publishing_window_before_the_duration():
    # Rate 0 for a 20 s run: nothing will ever arrive, so publishing (and the run) ends at
    # once, and the summary's publishing window says so instead of claiming 20 s.
    text = """
        name: silent
        run: {duration: 20, sample_interval: 1}
        producers:
          p: {arrivals: {process: poisson, rate: 0}, publish: q}
        queues:
          q: {}
        workers:
          w: {consumes: q, service_time: 1}
    """
    summary = run_checked(scenario_from(text)).summary
    assert (summary["duration"], summary["sim_end"]) == (0.0, 0.0)
    assert summary["workers"]["w"]["utilization"] is None


def test_a_loop_that_takes_no_time_is_stopped_with_a_clear_error(monkeypatch):
    # Two queues dead-letter into each other, and their pools fail every copy at once: each
    # failure makes a new copy in the other queue at the same instant, forever. (The simpler
    # loop, one queue requeueing at once without max_deliveries, is refused when the scenario
    # is loaded.) The engine notices the still clock and says what is wrong, instead of
    # hanging.
    monkeypatch.setattr(engine, "STILL_CLOCK_EVENTS", 50_000)
    text = """
        name: zero-time-loop
        run: {messages: 1, sample_interval: 1}
        producers:
          p: {arrivals: {process: poisson, rate: 1}, publish: a}
        queues:
          a: {max_deliveries: 1, dead_letter: b}
          b: {max_deliveries: 1, dead_letter: a}
        workers:
          wa: {consumes: a, service_time: 0, error_rate: 1.0}
          wb: {consumes: b, service_time: 0, error_rate: 1.0}
    """
    with pytest.raises(engine.ModelStuck, match="clock stood still"):
        sim.run(scenario_from(text))


def test_a_burst_at_one_instant_is_not_mistaken_for_a_loop(trace, monkeypatch):
    # 20,000 messages at t = 0 cost far more events at that instant than the (lowered) still
    # clock limit: the allowance per message sent at that instant lets the burst through.
    monkeypatch.setattr(engine, "STILL_CLOCK_EVENTS", 1_000)
    path = trace(burst(20_000))
    text = f"""
        name: burst
        run: {{duration: 1000}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, count: 4, service_time: 0.001}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["totals"]["completed"] == 20_000


def test_a_drain_stuck_for_a_day_skips_the_samples_that_would_repeat(trace):
    # The only worker crashes for good at 0.5 s with copies waiting: nothing can happen until
    # the one-day drain timeout. Sampling every millisecond, that used to be 86 million
    # samples; the monitor jumps over the stretch where nothing is scheduled.
    path = trace(burst(5))
    text = f"""
        name: stuck
        run: {{duration: 1000, drain_timeout: 1d, sample_interval: 1ms}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
        queues:
          q: {{}}
        workers:
          w: {{consumes: q, service_time: 1}}
        faults:
          - {{crash: w, workers: 1, at: 0.5}}
    """
    result = run_checked(scenario_from(text))
    summary = result.summary
    assert summary["drain_timed_out"] is True
    assert summary["sim_end"] == pytest.approx(86400.0)
    assert (summary["totals"]["pending"], summary["totals"]["completed"]) == (5, 0)
    assert len(result.timeseries) < 2000
    # The depth was 4 (one copy held by the worker) for 0.5 s, then 5 for the rest of the day.
    assert summary["queues"]["q"]["mean_depth"] == pytest.approx(5.0, abs=1e-4)


def test_an_unconsumed_queue_expires_on_time_into_a_consumed_one(trace):
    # Nobody consumes `parking`; its copies expire after 0.5 s into `work`, which a pool
    # serves. The expiry happens on time (no consumer ever reaches the head), and the drain
    # waits for it: the copy is completed at 1.5 s.
    path = trace([0.0])
    text = f"""
        name: parking
        run: {{duration: 1000}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: parking}}
        queues:
          parking: {{ttl: 0.5, dead_letter: work}}
          work: {{}}
        workers:
          w: {{consumes: work, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    rows = by_id(result)
    assert rows["state"].tolist() == ["dead_lettered", "completed"]
    assert rows["completed_at"].tolist()[1] == 1.5
    assert result.summary["drain_timed_out"] is False
