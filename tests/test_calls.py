"""The synchronous baseline, exactly: who gets an error, when, and what the queue does instead."""

from __future__ import annotations

import pytest
from conftest import run_checked, scenario_from

SYNC_VS_QUEUE = """
    name: sync-vs-queue
    run: {duration: 20}
    producers:
      caller: {arrivals: {process: constant, interval: 1}, call: api}
      publisher: {arrivals: {process: constant, interval: 1}, publish: jobs}
    queues: {jobs: {}}
    workers:
      api: {service_time: 0.5}
      consumers: {consumes: jobs, service_time: 0.5}
    faults:
      - {crash: api, workers: 1, at: 5.25, restart_after: 4}
      - {crash: consumers, workers: 1, at: 5.25, restart_after: 4}
"""


def test_callers_get_errors_for_the_outage_and_the_queue_only_latency() -> None:
    s = run_checked(scenario_from(SYNC_VS_QUEUE)).summary
    caller = s["producers"]["caller"]
    # Calls at 0..19 s. The call of 5 s is being processed when the worker dies at 5.25 s
    # (its connection is reset); those of 6..9 s find no worker up (back at 9.25 s).
    assert caller["sent"] == 20
    assert caller["calls"] == {"answered": 15, "unavailable": 4, "timeouts": 0, "failed": 1}
    assert caller["errors"] == 5
    assert caller["response_time"]["p50"] == pytest.approx(0.5)
    assert caller["response_time"]["max"] == pytest.approx(0.5)
    # The queued design: nothing refused, nothing lost; the five messages of the outage wait.
    publisher = s["producers"]["publisher"]
    assert publisher["errors"] == 0
    assert s["totals"]["completed"] == 20 and s["totals"]["lost"] == 0
    assert s["totals"]["duplicate_deliveries"] == 1  # the one in processing at the crash
    # The message of 5 s, redelivered when its worker died, runs again from 9.25 s to 9.75 s.
    assert s["queues"]["jobs"]["latency"]["max"] == pytest.approx(9.75 - 5)
    # Calls leave no rows: the messages table holds the queue's copies only.
    assert s["totals"]["enqueued"] == 20


TIMEOUTS = """
    name: timeouts
    run: {duration: 4}
    producers:
      caller: {arrivals: {process: constant, interval: 1}, call: api, timeout: 2.5}
    queues: {after: {}}
    workers:
      api: {service_time: 2, then: {publish: after}}
      next: {consumes: after, service_time: 0}
"""


def test_a_call_past_its_timeout_fails_and_its_processing_still_runs() -> None:
    result = run_checked(scenario_from(TIMEOUTS))
    s = result.summary
    # Calls at 0, 1, 2, 3; one worker, 2 s each. 0 is answered at 2. 1 starts at 2 and times
    # out at 3.5 (it runs to 4); 2 starts at 4 and times out at 4.5 (runs to 6); 3 times out
    # at 5.5 while still waiting, and is never processed.
    assert s["producers"]["caller"]["calls"] == {
        "answered": 1, "unavailable": 0, "timeouts": 3, "failed": 0}
    assert s["producers"]["caller"]["response_time"]["mean"] == pytest.approx(2.0)
    assert s["sim_end"] == pytest.approx(6.0)  # the drain waits for the processing of 2
    assert s["workers"]["api"]["utilization"] == pytest.approx(1.0)
    # Each processing that ran had its effect: three follow-ups, published at its end.
    assert s["producers"]["api"]["sent"] == 3
    assert sorted(result.messages["published_at"]) == [2.0, 4.0, 6.0]


@pytest.mark.parametrize(("silent", "outcome"), [(False, "failed"), (True, "timeouts")])
def test_a_silent_crash_leaves_the_caller_waiting_until_its_timeout(silent, outcome) -> None:
    text = f"""
        name: silent
        run: {{messages: 1}}
        producers:
          caller: {{arrivals: {{process: constant, interval: 1}}, call: api, timeout: 5}}
        workers:
          api: {{service_time: 10}}
        faults:
          - {{crash: api, workers: 1, at: 1, silent: {str(silent).lower()}}}
    """
    s = run_checked(scenario_from(text)).summary
    calls = s["producers"]["caller"]["calls"]
    assert calls[outcome] == 1 and s["producers"]["caller"]["errors"] == 1
    assert s["sim_end"] == pytest.approx(5.0 if silent else 1.0)


def test_calls_waiting_for_a_worker_fail_when_the_last_one_goes_down() -> None:
    text = """
        name: backlog
        run: {duration: 3}
        producers:
          caller: {arrivals: {process: constant, interval: 1}, call: api}
        workers:
          api: {service_time: 10}
        faults:
          - {crash: api, workers: 1, at: 2.5}
    """
    s = run_checked(scenario_from(text)).summary
    # 0 is in processing, 1 and 2 wait (no timeout): at 2.5 the only worker dies.
    assert s["producers"]["caller"]["calls"] == {
        "answered": 0, "unavailable": 2, "timeouts": 0, "failed": 1}
    assert s["sim_end"] == pytest.approx(3.0)  # nothing left to wait for


def test_a_call_pool_is_an_m_m_c_loss_free_server_when_healthy() -> None:
    """No faults, no timeout: every call is answered, and the pool's utilization is the
    offered load (rate x mean service / slots) within the run's noise."""
    text = """
        name: healthy
        run: {duration: 2000, seed: 5}
        producers:
          caller: {arrivals: {process: poisson, rate: 8}, call: api}
        workers:
          api: {count: 2, service_time: {dist: exponential, mean: 0.1}}
    """
    s = run_checked(scenario_from(text)).summary
    calls = s["producers"]["caller"]["calls"]
    assert calls["answered"] == s["producers"]["caller"]["sent"]
    assert s["producers"]["caller"]["errors"] == 0
    # rho = 8 * 0.1 / 2 = 0.4; ~16,000 calls: the standard error of the busy fraction is
    # well under 1% here, so 0.03 is a wide margin.
    assert s["workers"]["api"]["utilization"] == pytest.approx(0.4, abs=0.03)


def test_call_only_keys_are_checked() -> None:
    with pytest.raises(Exception) as info:
        scenario_from(SYNC_VS_QUEUE, **{"producers.publisher.timeout": 2})
    assert "only a call has a timeout" in str(info.value)
    with pytest.raises(Exception) as info:
        scenario_from(SYNC_VS_QUEUE, **{"producers.caller.call": "consumers"})
    assert "a call needs a pool with no consumes" in str(info.value)
    with pytest.raises(Exception) as info:
        scenario_from(SYNC_VS_QUEUE, **{"workers.api.prefetch": 4})
    assert "prefetch is for a pool that consumes a queue" in str(info.value)


@pytest.mark.parametrize(("silent", "cause"), [(False, "unavailable"), (True, "timeouts")])
def test_calls_to_vanished_hosts_wait_for_their_timeout(silent, cause) -> None:
    text = f"""
        name: vanished
        run: {{duration: 4}}
        producers:
          caller: {{arrivals: {{process: constant, interval: 1}}, call: api, timeout: 0.5}}
        workers:
          api: {{service_time: 0.1}}
        faults:
          - {{crash: api, workers: 1, at: 1.5, silent: {str(silent).lower()}}}
    """
    s = run_checked(scenario_from(text)).summary
    # Calls at 0 and 1 are answered; those at 2 and 3 find the only worker gone: refused at
    # once after a crash the OS reports, timed out 0.5 s later after a silent one.
    calls = s["producers"]["caller"]["calls"]
    assert calls["answered"] == 2 and calls[cause] == 2 and s["producers"]["caller"]["errors"] == 2
    assert s["sim_end"] == pytest.approx(4.0)
