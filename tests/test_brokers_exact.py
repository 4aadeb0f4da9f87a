"""Broker mechanisms and faults on small deterministic scenarios, with exact counts.

Each test is a ground-truth rule of a real broker (see docs/presets.md) or a mechanism of the
scenario reference (docs/scenario-reference.md), written as the smallest scenario that shows it.
"""

from __future__ import annotations

import pytest
from conftest import burst, by_id, run_checked, scenario_from


def scenario(trace_path, *, broker: str = "{type: ideal}", queue: str = "{}",
             workers: str = "", faults: str = "[]", run: str = "", extra: str = "") -> str:
    """A trace producer, queue `q` on broker `b`, pool `w` (1 s of service unless given)."""
    if "service_time" not in workers:
        workers = f"service_time: 1, {workers}"
    return f"""
        name: mechanisms
        run: {{duration: 100000, {run}}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace_path}}}, publish: q}}
        brokers:
          b: {broker}
        queues:
          q: {queue}
          {extra}
        workers:
          w: {{consumes: q, {workers}}}
        faults: {faults}
    """


# -- RabbitMQ: prefetch, acks and connection loss ---------------------------------------------
PREFETCH_EXAMPLE = """
    name: rabbitmq-prefetch-example
    run: {duration: 60s, warmup: 10s, seed: 1}
    producers:
      p: {arrivals: {process: constant, interval: 2ms}, publish: q}
    brokers:
      r: {type: rabbitmq, publish_latency: 0, deliver_latency: 50ms}
    queues: {q: {broker: r}}
    workers:
      w: {consumes: q, count: 1, prefetch: PREFETCH, ack_latency: 50ms, service_time: 4ms}
"""


@pytest.mark.parametrize(("prefetch", "rate", "busy"),
                         [(1, 1 / 0.104, 4 / 104), (26, 250.0, 1.0)])
def test_rabbitmq_prefetch_example_under_a_backlog(prefetch, rate, busy):
    # RabbitMQ's own prefetch example: 50 ms to deliver, 4 ms of work, 50 ms for the ack. With
    # prefetch 1 each message takes a 104 ms round trip (9.6/s, 3.8% busy); 26 in flight cover
    # the round trip (26 x 4 ms = 104 ms), so the consumer never waits (250/s, 100% busy).
    # Publishing (500/s) outruns both, so the copies completed in the measured window
    # [10 s, 60 s] were mostly published before it: throughput counts them all (it read 0.0/s
    # and 232/s when it counted only copies published after the warm-up).
    result = run_checked(scenario_from(PREFETCH_EXAMPLE.replace("PREFETCH", str(prefetch))))
    window = 60.0 - 10.0
    assert result.summary["throughput"] == pytest.approx(rate, abs=1.0 / window)
    assert result.summary["queues"]["q"]["throughput"] == result.summary["throughput"]
    assert result.summary["workers"]["w"]["utilization"] == pytest.approx(busy, abs=0.004 / window)


def test_rabbitmq_crash_under_backlog_redelivers_exactly_the_prefetch(trace):
    path = trace(burst(40))
    text = scenario(path, broker="{type: rabbitmq, publish_latency: 0, deliver_latency: 0}",
                    workers="count: 2, prefetch: 5",
                    faults="[{crash: w, workers: 1, at: 2.5}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    totals = result.summary["totals"]
    redelivered = m.index[m["deliveries"] == 2].tolist()
    # Worker 0 held copy 4 (in processing) and 6, 8, 10, 12 (its buffer): its prefetch.
    assert redelivered == [4, 6, 8, 10, 12]
    assert (totals["lost"], totals["completed"], totals["duplicate_deliveries"]) == (0, 40, 5)
    assert totals["duplicate_processing"] == 0  # 4 was cut short, not processed twice
    # Back at the head, in order, after the socket closes (3-7 ms): worker 1 takes them as
    # its own prefetch frees (7, 9, 11, 13 were already in its buffer).
    assert m.loc[redelivered, "completed_at"].tolist() == [8.0, 9.0, 10.0, 11.0, 12.0]
    assert result.summary["workers"]["w"]["crashes"] == 1


def test_rabbitmq_auto_ack_ignores_prefetch_and_a_crash_loses_all_pushed(trace):
    path = trace(burst(40))
    text = scenario(path, broker="{type: rabbitmq, publish_latency: 0, deliver_latency: 0}",
                    workers="count: 2, prefetch: 5, ack: on_delivery",
                    faults="[{crash: w, workers: 1, at: 2.5}]")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    # Every ready copy was pushed at once, 20 to each worker; worker 0 had finished 2.
    assert (totals["lost"], totals["completed"], totals["duplicate_deliveries"]) == (18, 22, 0)


def test_ideal_auto_ack_keeps_the_prefetch_bound(trace):
    path = trace(burst(40))
    text = scenario(path, workers="count: 2, prefetch: 5, ack: on_delivery",
                    faults="[{crash: w, workers: 1, at: 2.5}]")
    totals = run_checked(scenario_from(text)).summary["totals"]
    assert (totals["lost"], totals["completed"]) == (5, 35)


def test_silent_host_failure_is_noticed_after_the_heartbeat(trace):
    path = trace(burst(4))
    text = scenario(path, broker="{type: rabbitmq, publish_latency: 0, deliver_latency: 0}",
                    workers="count: 2, prefetch: 2",
                    faults="[{crash: w, workers: 1, at: 0.5, silent: true}]")
    m = by_id(run_checked(scenario_from(text)))
    # Worker 0 held copies 0 and 2; they come back 60 s later (RabbitMQ's heartbeat).
    assert m["completed_at"].tolist() == [61.5, 1.0, 62.5, 2.0]


def test_a_clean_stop_returns_messages_at_once(trace):
    path = trace(burst(4))
    text = scenario(path, workers="count: 2, prefetch: 2",
                    faults="[{stop: w, workers: 1, at: 0.5}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert m["completed_at"].tolist() == [3.0, 1.0, 4.0, 2.0]
    assert result.summary["workers"]["w"]["crashes"] == 0


def test_restart_after_a_crash(trace):
    path = trace(burst(6))
    text = scenario(path, faults="[{crash: w, workers: 1, at: 0.5, restart_after: 10}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert m["completed_at"].tolist() == [11.5, 12.5, 13.5, 14.5, 15.5, 16.5]
    assert result.summary["workers"]["w"]["mean_up"] == pytest.approx(
        (result.summary["sim_end"] - 10) / result.summary["sim_end"])


@pytest.mark.parametrize("kind", ["crash", "stop"])
def test_workers_all_takes_down_every_worker_whatever_the_count(trace, kind):
    # Pool of 2 raised to 5 by an override: `workers: all` still takes all five down at 1.5
    # (a count of 2 would leave 3 up), and they come back together 10 s later.
    path = trace(burst(20))
    text = scenario(path, workers="count: 2",
                    faults=f"[{{{kind}: w, workers: all, at: 1.5, restart_after: 10}}]")
    result = run_checked(scenario_from(text, **{"workers.w.count": 5}))
    m = by_id(result)
    pool = result.summary["workers"]["w"]
    assert (pool["min_up"], pool["max_up"]) == (0, 5)
    # 5 done at 1 s; 5 cut short at 1.5 s and done again from 11.5 s with the other 10.
    assert sorted(m["completed_at"].tolist()) == [1.0] * 5 + [12.5] * 5 + [13.5] * 5 + [14.5] * 5


@pytest.mark.parametrize(("ack", "at", "completed", "lost", "duplicates"), [
    # Copy 0 ends at 1.0 and its ack lands at 1.5: a crash at 1.2 means it runs again.
    ("after_processing", 1.2, 3, 0, 1),
    # Copy 1 starts at 1.0, its early ack lands at 1.5: a crash at 1.7 loses it.
    ("on_start", 1.7, 2, 1, 0),
    # ... and a crash at 1.2, before that ack landed, gives it back.
    ("on_start", 1.2, 3, 0, 0),
])
def test_the_ack_window(trace, ack, at, completed, lost, duplicates):
    path = trace(burst(3))
    text = scenario(path, workers=f"ack: {ack}, ack_latency: 0.5, prefetch: 1",
                    faults=f"[{{crash: w, workers: 1, at: {at}, restart_after: 1}}]")
    totals = run_checked(scenario_from(text)).summary["totals"]
    assert (totals["completed"], totals["lost"], totals["duplicate_processing"]) == (
        completed, lost, duplicates)


def test_idempotent_consumer_absorbs_the_repeat(trace):
    path = trace(burst(3))
    text = scenario(path, workers="ack_latency: 0.5, idempotent: true",
                    faults="[{crash: w, workers: 1, at: 1.2, restart_after: 1}]")
    totals = run_checked(scenario_from(text)).summary["totals"]
    assert (totals["duplicate_processing"], totals["duplicates_absorbed"]) == (0, 1)
    assert totals["completed"] == 3


# -- SQS: visibility timeout ------------------------------------------------------------------
@pytest.mark.parametrize(("visibility", "processings", "deliveries"), [(30, 2, 2), (60, 1, 1)])
def test_visibility_timeout_shorter_than_processing_duplicates_it(trace, visibility,
                                                                  processings, deliveries):
    # 40 s of work under a 30 s visibility timeout: at 30 s the message shows again and the
    # second worker runs it too (30-70 s). The first worker's delete at 40 s still works (SQS
    # deletes by message, whichever receipt handle is given), so the message completes at 40 s;
    # the repeat runs to its end for nothing. max_deliveries never comes into play.
    path = trace([0.0])
    text = scenario(path, broker=f"{{type: sqs, visibility_timeout: {visibility}}}",
                    queue="{max_deliveries: 3}", workers="count: 2, service_time: 40")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert totals["processings"] == processings
    assert totals["duplicate_processing"] == processings - 1
    assert totals["deliveries"] == deliveries
    row = by_id(result).iloc[0]
    assert row["state"] == "completed"
    assert row["completed_at"] == pytest.approx(40.0, abs=0.1)  # + the preset's API latencies


def test_a_job_longer_than_the_visibility_timeout_completes_and_the_run_ends(trace):
    # The livelock this used to be: two workers passing one 3 s job back and forth under a
    # 1 s visibility timeout, redelivered every second and never deleted. Now the first
    # processing's delete (at 3 s) settles it; the repeat received at 1 s runs until 4 s.
    path = trace([0.0])
    text = scenario(path, broker="{type: sqs, visibility_timeout: 1}",
                    workers="count: 2, service_time: 3")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert (totals["completed"], totals["deliveries"], totals["processings"]) == (1, 2, 2)
    assert result.summary["sim_end"] == pytest.approx(4.0, abs=0.1)


@pytest.mark.parametrize(("idempotent", "processings", "absorbed"),
                         [("false", 2, 0), ("at_start", 2, 0), ("true", 2, 0),
                          ("at_commit", 1, 1)])
def test_idempotence_at_start_or_at_commit_against_an_overlapping_repeat(
        trace, idempotent, processings, absorbed):
    # The repeat (received at 30 s) starts while the first processing (0-40 s) still runs: a
    # dedupe check at the start finds nothing done yet and runs it again with effect; a unique
    # constraint at commit refuses the repeat's effect at 70 s. Both cost the worker 40 s.
    path = trace([0.0])
    text = scenario(path, broker="{type: sqs, visibility_timeout: 30}",
                    workers=f"count: 2, service_time: 40, idempotent: {idempotent}")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert (totals["processings"], totals["duplicates_absorbed"]) == (processings, absorbed)
    assert totals["duplicate_processing"] == processings - 1
    assert totals["completed"] == 1
    # One message at 0 s: publishing ends at once, so there is no window to measure
    # utilization (or throughput) over; the cost is in worker_seconds.
    assert result.summary["workers"]["w"]["utilization"] is None
    assert result.summary["throughput"] is None


def test_idempotent_at_commit_also_absorbs_a_repeat_after_the_first_finished(trace):
    path = trace(burst(3))
    text = scenario(path, workers="ack_latency: 0.5, idempotent: at_commit",
                    faults="[{crash: w, workers: 1, at: 1.2, restart_after: 1}]")
    totals = run_checked(scenario_from(text)).summary["totals"]
    assert (totals["duplicate_processing"], totals["duplicates_absorbed"]) == (0, 1)
    assert totals["completed"] == 3


def test_a_late_delete_still_works_if_nobody_received_the_message_again(trace):
    # One worker: the message shows again at 30 s but nobody receives it before the worker
    # deletes it at 40 s with its (still current) receipt handle.
    path = trace([0.0])
    text = scenario(path, broker="{type: sqs, visibility_timeout: 30}",
                    workers="service_time: 40")
    totals = run_checked(scenario_from(text)).summary["totals"]
    assert (totals["processings"], totals["completed"], totals["deliveries"]) == (1, 1, 1)


# -- dead letters, ttl, ordering, priority ------------------------------------------------
def test_max_deliveries_dead_letters_after_exactly_that_many(trace):
    path = trace(burst(2))
    text = scenario(path, queue="{max_deliveries: 3, dead_letter: dlq}",
                    workers="error_rate: 1.0", extra="dlq: {}")
    result = run_checked(scenario_from(text))
    q, dlq = result.summary["queues"]["q"], result.summary["queues"]["dlq"]
    assert q["totals"]["dead_lettered"] == 2 and q["totals"]["deliveries"] == 6
    assert dlq["totals"]["enqueued"] == 2 and dlq["totals"]["pending"] == 2
    assert q["totals"]["processings"] == 0


def test_failed_message_without_requeue_is_dead_lettered_at_once(trace):
    path = trace(burst(1))
    text = scenario(path, queue="{dead_letter: dlq}",
                    workers="error_rate: 1.0, retry: {requeue: false}", extra="dlq: {}")
    q = run_checked(scenario_from(text)).summary["queues"]["q"]
    assert (q["totals"]["dead_lettered"], q["totals"]["deliveries"]) == (1, 1)


def test_ttl_expires_exactly_the_messages_that_waited_too_long(trace):
    path = trace(burst(5))
    text = scenario(path, queue="{ttl: 15}", workers="service_time: 10")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert m["state"].tolist() == ["completed", "completed", "expired", "expired", "expired"]


def test_ttl_in_a_queue_nobody_consumes(trace):
    path = trace([0, 1, 2, 3])
    text = scenario(path, queue="{ttl: 1.5}", extra="other: {}").replace(
        "consumes: q", "consumes: other")
    result = run_checked(scenario_from(text))
    q = result.summary["queues"]["q"]["totals"]
    # The run ends at 3 (the last arrival): copies published at 0 and 1 are older than 1.5.
    assert (q["expired"], q["pending"]) == (2, 2)


@pytest.mark.parametrize(("ordering", "reordered"), [("fifo", 1), ("per-key", 0)])
def test_fifo_with_two_workers_reorders_where_per_key_does_not(trace, ordering, reordered):
    path = trace([0, 0, 0, 0], service_time=[10, 1, 1, 1], key=["a", "a", "a", "b"])
    text = scenario(path, queue=f"{{ordering: {ordering}}}", workers="count: 2")
    result = run_checked(scenario_from(text))
    assert result.summary["reordering"]["reordered"] == reordered
    assert result.summary["totals"]["completed"] == 4


def test_priority_serves_higher_first_without_preemption(trace):
    path = trace([0, 0, 0, 0], priority=[0, 0, 5, 9])
    text = scenario(path, queue="{priority: true}")
    m = by_id(run_checked(scenario_from(text)))
    # Copy 0 is in service when the others arrive; then 9, 5, 0.
    assert m["completed_at"].tolist() == [1.0, 4.0, 3.0, 2.0]


# -- outages, capacity, publish retries ------------------------------------------------------
def test_an_outage_loses_only_non_durable_messages(trace):
    text = """
        name: outage
        run: {duration: 10}
        producers:
          a: {arrivals: {process: constant, interval: 1}, publish: kept}
          b: {arrivals: {process: constant, interval: 1}, publish: gone}
        brokers:
          durable-broker: {type: ideal}
          volatile-broker: {type: ideal, durable: false}
        queues:
          kept: {broker: durable-broker}
          gone: {broker: volatile-broker}
        workers:
          wa: {consumes: kept, service_time: 100}
          wb: {consumes: gone, service_time: 100}
        faults:
          - {outage: durable-broker, at: 4.5, duration: 2}
          - {outage: volatile-broker, at: 4.5, duration: 2}
    """
    result = run_checked(scenario_from(text))
    kept, gone = result.summary["queues"]["kept"], result.summary["queues"]["gone"]
    # 0..4 published before the outage, 5 and 6 refused during it, 7..9 after.
    assert kept["totals"]["lost"] == 0 and kept["totals"]["rejected"] == 2
    assert gone["totals"]["lost"] == 5 and gone["totals"]["rejected"] == 2
    assert result.summary["producers"]["a"]["errors"] == 2


def test_in_process_broker_crash_loses_everything_and_workers_come_back(trace):
    path = trace([0, 0, 0, 5])
    text = scenario(path, broker="{type: in-process}",
                    faults="[{outage: b, at: 0.5, duration: 2}]")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert (totals["lost"], totals["completed"]) == (3, 1)
    assert by_id(result)["completed_at"].tolist()[-1] == 6.0


def test_publish_retry_rides_out_an_outage(trace):
    path = trace([1.0])
    text = scenario(path, faults="[{outage: b, at: 0.5, duration: 2}]").replace(
        "publish: q}", "publish: q, on_reject: retry, retry: {attempts: 3, backoff: 1}}")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert m["accepted_at"].tolist() == [3.0]
    assert result.summary["producers"]["p"]["errors"] == 0


def test_rejected_counts_final_refusals_and_attempts_are_counted_apart(trace):
    # Two publishes into a 10 s outage, 3 retries 1 s apart: both are refused 4 times and
    # give up. The queue and the totals agree on 2 rejected; the 8 attempts are counted apart.
    path = trace([1.0, 1.0])
    text = scenario(path, faults="[{outage: b, at: 0.5, duration: 10}]").replace(
        "publish: q}", "publish: q, on_reject: retry, retry: {attempts: 3, backoff: 1}}")
    summary = run_checked(scenario_from(text)).summary
    queue = summary["queues"]["q"]
    assert summary["totals"]["rejected"] == queue["totals"]["rejected"] == 2
    assert summary["producers"]["p"]["errors"] == 2
    assert queue["refused_attempts"] == 8


def test_broker_capacity_makes_publishes_wait(trace):
    path = trace(burst(5))
    text = scenario(path, broker="{type: ideal, capacity: 10}")
    m = by_id(run_checked(scenario_from(text)))
    assert (m["accepted_at"] - m["published_at"]).tolist() == pytest.approx(
        [0.1, 0.2, 0.3, 0.4, 0.5])


def test_slowdown_stretches_service_in_its_window(trace):
    path = trace([0, 2, 4])
    text = scenario(path, faults="[{slowdown: w, factor: 3, at: 1.5, duration: 2}]")
    m = by_id(run_checked(scenario_from(text)))
    assert m["completed_at"].tolist() == [1.0, 5.0, 6.0]


# -- Postgres: SKIP LOCKED polling ------------------------------------------------------------
@pytest.mark.parametrize(("notify", "wait"), [(False, 0.502), (True, 0.002)])
def test_postgres_polling_latency_versus_notify(trace, notify, wait):
    path = trace([0.5])
    broker = f"{{type: postgres, publish_latency: 0, notify: {str(notify).lower()}}}"
    result = run_checked(scenario_from(scenario(path, broker=broker)))
    assert result.summary["wait"]["max"] == pytest.approx(wait)


@pytest.mark.parametrize(("claim", "returned_at"), [("transaction", 5.0), ("lease", 14400.0)])
def test_postgres_claim_modes_return_a_dead_workers_job(trace, claim, returned_at):
    path = trace([0.0])
    broker = f"{{type: postgres, publish_latency: 0, api_latency: 0, claim: {claim}}}"
    text = scenario(path, broker=broker, workers="count: 2, service_time: 10",
                    faults="[{crash: w, workers: 1, at: 5}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    # A transaction's job comes back when the worker dies (5 s); a lease's when its lock
    # times out, 4 h after the claim. A sleeping poller claims it within its 1 s interval.
    start = m["completed_at"].iloc[0] - 10
    assert returned_at <= start <= returned_at + 1.01
    assert result.summary["totals"]["duplicate_deliveries"] == 1


def test_postgres_claims_in_id_order(trace):
    path = trace([0, 0.1, 0.2, 0.3])
    broker = "{type: postgres, publish_latency: 0, api_latency: 0}"
    m = by_id(run_checked(scenario_from(scenario(path, broker=broker, workers="count: 1"))))
    assert m["completed_at"].is_monotonic_increasing


# -- Celery on Redis ---------------------------------------------------------------------------
def test_celery_early_ack_loses_the_running_task_and_restores_the_reserved(trace):
    path = trace(burst(4))
    broker = ("{type: redis, publish_latency: 0, deliver_latency: 0, visibility_timeout: 10, "
              "restore_interval: 7}")
    text = scenario(path, broker=broker, workers="count: 2, ack: on_start, service_time: 3",
                    faults="[{crash: w, workers: 1, at: 1}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    # Worker 0 reserved copies 0 and 2 (prefetch 4 x concurrency 1, round robin); 0 was
    # running (acknowledged at start: lost); 2 was reserved: timed out at 10 s, restored by
    # the restore check at 14 s.
    assert m["state"].tolist() == ["lost", "completed", "completed", "completed"]
    assert m.loc[2, "completed_at"] >= 14.0
    assert result.summary["totals"]["lost"] == 1


def test_postgres_worker_claims_again_at_once_after_a_job(trace):
    # The poller found nothing at 0 and sleeps until 1 s; it claims job 0 then, and after
    # finishing it claims job 1 at once instead of sleeping another second.
    path = trace([0.5, 0.6])
    broker = "{type: postgres, publish_latency: 0, api_latency: 0}"
    text = scenario(path, broker=broker, workers="service_time: 0.3")
    m = by_id(run_checked(scenario_from(text)))
    assert m["first_delivered_at"].tolist() == pytest.approx([1.0, 1.3])
    assert m["completed_at"].tolist() == pytest.approx([1.3, 1.6])


@pytest.mark.parametrize(("requeue", "completed"), [
    ("head", [2.5, 3.5, 4.5, 5.5]),
    ("tail", [5.5, 2.5, 3.5, 4.5]),
])
def test_requeue_position(trace, requeue, completed):
    # Copy 0 is in processing when its worker crashes at 0.5; it is back in the line at once
    # and the worker restarts at 1.5.
    path = trace(burst(4))
    text = scenario(path, broker=f"{{type: ideal, requeue: {requeue}}}",
                    faults="[{crash: w, workers: 1, at: 0.5, restart_after: 1}]")
    m = by_id(run_checked(scenario_from(text)))
    assert m["completed_at"].tolist() == completed


def test_per_key_a_key_freed_by_an_ack_goes_to_a_worker_that_already_had_room(trace):
    # One worker with prefetch 2, two copies of one key: the second waits for the first's ack
    # at 1 s and must then go to the same worker, which had a free slot all along.
    path = trace([0.0, 0.1], key=["k", "k"])
    text = scenario(path, queue="{ordering: per-key}", workers="prefetch: 2")
    rows = by_id(run_checked(scenario_from(text)))
    assert rows["completed_at"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(("queue", "workers"), [
    ("{ordering: per-key, ttl: 0.5}", ""),  # the second expires at the head at 1 s
    ("{ordering: per-key, max_deliveries: 1}", "error_rate: 1.0"),  # the first is lost
    ("{ordering: per-key}", "error_rate: 1.0, retry: {requeue: false}"),
])
def test_per_key_a_copy_that_ends_without_an_ack_frees_its_key(trace, queue, workers):
    # Three copies of one key: however a copy ends (expired, lost after its last delivery,
    # dead without requeue), the key is free again and the next copy is served.
    path = trace([0.0, 0.0, 0.0], key=["k", "k", "k"])
    result = run_checked(scenario_from(scenario(path, queue=queue, workers=workers)))
    summary = result.summary
    assert summary["totals"]["pending"] == 0
    assert summary["drain_timed_out"] is False
    assert summary["sim_end"] < 5.0
