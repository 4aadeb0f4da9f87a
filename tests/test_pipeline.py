"""Pipelines (`then`) and batch jobs, exactly, on small deterministic scenarios."""

from __future__ import annotations

import pytest
from conftest import by_id, run_checked, scenario_from

TWO_STAGES = """
    name: two-stages
    run: {{duration: 100}}
    producers:
      web:
        arrivals: {{process: trace, file: {trace}}}
        message: {{key: {{sequence: "k"}}, type: order}}
        publish: orders
    queues: {{orders: {{}}, emails: {{}}}}
    workers:
      shop: {{consumes: orders, service_time: 1, then: {{publish: emails{then}}}}}
      mailer: {{consumes: emails, service_time: 2}}
"""


def test_a_follow_up_keeps_key_type_and_flow_and_is_judged_end_to_end(trace) -> None:
    path = trace([0, 10])
    result = run_checked(scenario_from(TWO_STAGES.format(trace=path, then="")))
    m = by_id(result)
    assert m[["id", "queue", "key", "type", "flow", "published_at", "completed_at"]].astype(
        str).values.tolist() == [
        ["0", "orders", "k1", "order", "0", "0.0", "1.0"],
        ["1", "emails", "k1", "order", "0", "1.0", "3.0"],  # published as the first ended
        ["2", "orders", "k2", "order", "2", "10.0", "11.0"],  # (ids go in creation order)
        ["3", "emails", "k2", "order", "2", "11.0", "13.0"],
    ]
    s = result.summary
    assert s["flows"]["count"] == 2 and s["flows"]["completed"] == 2
    assert s["flows"]["latency"]["mean"] == pytest.approx(3.0)  # 1 s + 2 s, no waiting
    assert s["producers"]["shop"]["sent"] == 2  # the pool publishes, as a producer does
    assert s["totals"]["published"] == 4 and s["totals"]["completed"] == 4


def test_follow_ups_with_a_probability_thin_out(trace) -> None:
    path = trace([float(t) for t in range(2000)])
    s = run_checked(scenario_from(TWO_STAGES.format(
        trace=path, then=", probability: 0.25").replace("duration: 100", "duration: 3000"))
    ).summary
    followed = s["queues"]["emails"]["totals"]["enqueued"]
    # Binomial(2000, 0.25): mean 500, sd 19.4; 4 sd either way.
    assert abs(followed - 500) < 4 * 19.4
    assert s["flows"]["count"] == 2000 and s["flows"]["completed"] == 2000


def test_a_redelivered_message_publishes_its_follow_up_again(trace) -> None:
    """The follow-up goes out as the processing ends, before its ack: a worker that dies
    with the ack still on its way has the message processed twice, and followed up twice."""
    path = trace([0])
    text = TWO_STAGES.format(trace=path, then="").replace(
        "shop: {consumes: orders, service_time: 1,",
        "shop: {consumes: orders, count: 2, ack_latency: 0.5, service_time: 1,",
    ) + "    faults:\n      - {crash: shop, workers: 1, at: 1.2}\n"
    result = run_checked(scenario_from(text))
    s = result.summary
    assert s["queues"]["orders"]["totals"]["duplicate_processing"] == 1
    assert s["queues"]["emails"]["totals"]["enqueued"] == 2
    emails = result.messages[result.messages["queue"] == "emails"]
    assert emails["flow"].tolist() == [0, 0] and emails["published_at"].tolist() == [1.0, 2.2]


def test_an_absorbed_repeat_publishes_nothing(trace) -> None:
    path = trace([0])
    text = TWO_STAGES.format(trace=path, then="").replace(
        "shop: {consumes: orders, service_time: 1,",
        "shop: {consumes: orders, count: 2, ack_latency: 0.5, idempotent: at_commit, "
        "service_time: 1,",
    ) + "    faults:\n      - {crash: shop, workers: 1, at: 1.2}\n"
    s = run_checked(scenario_from(text)).summary
    assert s["queues"]["orders"]["totals"]["duplicates_absorbed"] == 1
    assert s["queues"]["emails"]["totals"]["enqueued"] == 1


def test_a_lost_stage_leaves_its_flow_incomplete(trace) -> None:
    path = trace([0, 10])
    text = TWO_STAGES.format(trace=path, then="").replace(
        "emails: {}", "emails: {ttl: 0.5}").replace(
        "mailer: {consumes: emails, service_time: 2}",
        "mailer: {consumes: emails, count: 1, service_time: 2}")
    # With the mailer busy 2 s and a ttl of 0.5 s, both follow-ups are still delivered at
    # once (nothing waits): no expiry. Block the mailer with a crash to make one expire.
    text += "    faults:\n      - {crash: mailer, workers: 1, at: 0.5, restart_after: 3}\n"
    s = run_checked(scenario_from(text)).summary
    assert s["queues"]["emails"]["totals"]["expired"] == 1
    assert s["flows"] == {**s["flows"], "count": 2, "completed": 1}
    assert s["flows"]["latency"]["max"] == pytest.approx(3.0)


# --- batch jobs -----------------------------------------------------------------------------

BATCH = """
    name: batch
    run: {{duration: 25}}
    producers:
      web: {{arrivals: {{process: trace, file: {trace}}}, publish: jobs}}
    queues: {{jobs: {{}}}}
    workers:
      nightly: {{consumes: jobs, service_time: 0.1, batch: {{every: 10{max}}}{extra}}}
"""


def test_a_batch_job_processes_what_waits_at_each_window(trace) -> None:
    path = trace([t + 0.5 for t in range(25)])
    m = by_id(run_checked(scenario_from(BATCH.format(trace=path, max="", extra=""))))
    done = m["completed_at"].round(6).tolist()
    # 0.5..9.5 wait for 10 s and run one after another; 10.5 arrives during that run and
    # waits for the window at 20 s; the last five wait for 30 s (the drain goes on).
    assert done[:10] == [round(10 + 0.1 * k, 6) for k in range(1, 11)]
    assert done[10:20] == [round(20 + 0.1 * k, 6) for k in range(1, 11)]
    assert done[20:] == [round(30 + 0.1 * k, 6) for k in range(1, 6)]


def test_a_batch_job_takes_at_most_max_per_window(trace) -> None:
    path = trace([t + 0.5 for t in range(25)])
    m = by_id(run_checked(scenario_from(BATCH.format(trace=path, max=", max: 4", extra=""))))
    done = m["completed_at"].round(6).tolist()
    assert done[:4] == [10.1, 10.2, 10.3, 10.4]
    assert done[4:8] == [20.1, 20.2, 20.3, 20.4]
    assert max(done) == pytest.approx(70.1)  # 25 messages, 4 a window: the 7th window ends it


def test_a_batch_job_shares_a_window_between_its_workers(trace) -> None:
    path = trace([t + 0.5 for t in range(6)])
    m = by_id(run_checked(scenario_from(
        BATCH.format(trace=path, max="", extra=", count: 2").replace("duration: 25",
                                                                     "duration: 8"))))
    assert sorted(m["completed_at"].round(6)) == [10.1, 10.1, 10.2, 10.2, 10.3, 10.3]


CYCLE = """
    name: cycle
    run: {{duration: 10}}
    producers:
      p: {{arrivals: {{process: poisson, rate: 1}}, publish: a}}
    queues: {{a: {{}}, b: {{}}, c: {{}}}}
    workers:
      wa: {{consumes: a, service_time: 0.1, then: {{publish: b}}}}
      wb: {{consumes: b, service_time: 0.1, then: {{publish: a, probability: {p}}}}}
"""


def test_a_sure_pipeline_cycle_is_warned_and_a_thinning_one_is_not() -> None:
    assert scenario_from(CYCLE.format(p=1.0)).warnings == [
        "queues.c: nothing publishes to it, dead-letters into it or consumes it (unused)",
        "workers.wa.then: every message processed from queue a comes back to it (follow-ups "
        "with probability 1 through wa -> wb): messages circulate forever and the drain ends "
        "only at drain_timeout; give a probability below 1",
    ]
    assert scenario_from(CYCLE.format(p=0.5)).warnings == [
        "queues.c: nothing publishes to it, dead-letters into it or consumes it (unused)",
    ]


def test_a_queue_fed_only_by_follow_ups_or_an_exchange_is_not_unused() -> None:
    text = CYCLE.format(p=0.5).replace("publish: a, probability: 0.5", "publish: fan").replace(
        "    workers:", "    exchanges:\n      fan: {type: fanout, bindings: [{queue: c}]}\n"
        "    workers:")
    assert scenario_from(text).warnings == [
        "queues.c: no worker pool consumes it: the copies wb publishes to it (about 10) stay "
        "pending, and the drain does not wait for them"
    ]


def test_a_batch_run_on_a_per_key_queue_goes_on_as_keys_come_free(trace) -> None:
    """Per-key ordering lets one copy of a key out at a time: a window must not end because
    the rest of its copies wait for their key (they are still owed to this run)."""
    path = trace([t + 0.5 for t in range(6)], key=["x"] * 6)
    text = BATCH.format(trace=path, max="", extra=", count: 2").replace(
        "jobs: {}", "jobs: {ordering: per-key}").replace("duration: 25", "duration: 8")
    m = by_id(run_checked(scenario_from(text)))
    assert m["completed_at"].round(6).tolist() == [10.1, 10.2, 10.3, 10.4, 10.5, 10.6]


def test_pools_do_not_share_their_resolved_defaults() -> None:
    """Each pool's `then` gets its own copy of the defaults: the resolved YAML has no
    anchors and aliases (`&id001` ... `*id001`), and changing one pool changes no other."""
    sc = scenario_from(CYCLE.format(p=0.5))
    assert "&id" not in sc.to_yaml()
    wa, wb = sc.data["workers"]["wa"]["then"], sc.data["workers"]["wb"]["then"]
    assert wa["retry"] == wb["retry"] and wa["retry"] is not wb["retry"]


def test_the_latency_plot_draws_a_pipeline_end_to_end(trace) -> None:
    path = trace([0, 10])
    two = run_checked(scenario_from(TWO_STAGES.format(trace=path, then="")))
    labels = [line.get_label() for line in two.plot_latency_cdf().axes[0].get_lines()]
    assert "end to end (flows)" in labels
    line = next(ln for ln in two.plot_latency_cdf().axes[0].get_lines()
                if ln.get_label() == "end to end (flows)")
    assert max(line.get_xdata()) == pytest.approx(3.0)  # 1 s + 2 s, in seconds on this axis
    one = run_checked(scenario_from(TWO_STAGES.format(trace=path, then="").replace(
        ", then: {publish: emails}", "")))
    labels = [line.get_label() for line in one.plot_latency_cdf().axes[0].get_lines()]
    assert "end to end (flows)" not in labels  # one copy per flow: it would repeat the curve
