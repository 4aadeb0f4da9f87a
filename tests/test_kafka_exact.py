"""Kafka-style logs and autoscaled pools on small deterministic scenarios, with exact counts.

Each test is a rule of Apache Kafka's consumer groups (docs/presets.md cites the configs) or of
a KEDA-style scaler, as the smallest scenario that shows it: a trace of records, 1 s of
processing each, no latencies, so every time below follows by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import burst, by_id, run_checked, scenario_from

import sim


def kafka(trace_path, *, topic: str = "{}", broker: str = "", workers: str = "count: 1",
          faults: str = "[]", groups: str = "", run: str = "", rebalance: float = 0,
          sample: float = 1) -> str:
    """Topic `t` on a kafka broker with no latencies and instant rebalances; group `w`.

    The consumers poll before the burst arrives, so the first poll returns record 0 alone (a
    fetch returns what is there); the next polls return ``max_poll_records``."""
    return f"""
        name: kafka
        run: {{duration: 100000, sample_interval: {sample}, {run}}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace_path}}}, publish: t}}
        brokers:
          k: {{type: kafka, publish_latency: 0, api_latency: 0, rebalance_time: {rebalance},
              {broker}}}
        queues:
          t: {topic}
        workers:
          w: {{consumes: t, service_time: 1, {workers}}}
          {groups}
        faults: {faults}
    """


# -- commits and crashes ------------------------------------------------------------------------
def test_a_crash_with_auto_commit_reprocesses_exactly_what_was_processed_since_the_commit(trace):
    # Polls at t = 0 (record 0), 1, 11, 21, 31 (10 records each); a poll commits what the ones
    # before returned once 5 s have passed since the last commit: offsets up to 31 at t = 31.
    # At the crash (35.5 s) 31-34 are processed since, 35 in progress.
    text = kafka(trace(burst(100)), broker="max_poll_records: 10",
                 workers="count: 2", faults="[{crash: w, workers: 1, at: 35.5}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    twice = m.index[m["processings"] == 2].tolist()
    assert twice == [31, 32, 33, 34]  # exactly those since the last commit
    assert (m["processings"] >= 1).all()
    totals = result.summary["totals"]
    assert (totals["completed"], totals["lost"], totals["duplicate_processing"]) == (100, 0, 4)
    # The session times out 45 s after the crash; w/1 resumes at offset 31 at 80.5 s.
    assert m.loc[35, "started_at"] == 35.0 and m.loc[35, "completed_at"] == 80.5 + 5
    assert m.loc[99, "completed_at"] == 80.5 + 69
    assert set(m["worker"].astype(str)) == {"w/0", "w/1"}


def test_a_crash_with_commit_after_processing_reprocesses_at_most_the_record_in_progress(trace):
    text = kafka(trace(burst(100)), broker="max_poll_records: 10, commit: after_processing",
                 workers="count: 2", faults="[{crash: w, workers: 1, at: 35.5}]")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    totals = result.summary["totals"]
    assert (totals["completed"], totals["lost"], totals["duplicate_processing"]) == (100, 0, 0)
    # Record 35 was in progress (cut short: its only processing is the new owner's); 35-40
    # were the crashed consumer's last poll, fetched again by the new owner.
    assert m.index[m["deliveries"] == 2].tolist() == [35, 36, 37, 38, 39, 40]
    assert (m["processings"] == 1).all()
    assert m.loc[35, "completed_at"] == 80.5 + 1


def test_a_clean_stop_rebalances_at_once_and_a_crash_after_the_session_timeout(trace):
    path = trace(burst(40))
    took_over = {}
    for kind in ("stop", "crash"):
        text = kafka(path, broker="max_poll_records: 10, commit: after_processing",
                     workers="count: 2", faults=f"[{{{kind}: w, workers: 1, at: 10.5}}]")
        result = run_checked(scenario_from(text))
        m = by_id(result)
        assert result.summary["totals"]["completed"] == 40
        took_over[kind] = m.loc[10, "completed_at"]
        assert result.summary["queues"]["t"]["rebalances"] == 1
    # Record 10 (10 s to 11 s) is cut short; w/1 starts it at once after a clean stop, and
    # after session.timeout.ms (45 s) after a crash.
    assert took_over["stop"] == 10.5 + 1
    assert took_over["crash"] == 10.5 + 45 + 1


def test_rebalance_time_pauses_the_moved_partitions(trace):
    text = kafka(trace(burst(40)), broker="max_poll_records: 10, commit: after_processing",
                 rebalance=3, workers="count: 2",
                 faults="[{stop: w, workers: 1, at: 10.5}]")
    m = by_id(run_checked(scenario_from(text)))
    assert m.loc[10, "completed_at"] == 10.5 + 3 + 1


# -- partitions, groups, order ------------------------------------------------------------------
def test_two_partitions_cap_four_consumers_at_two_consumers_worth(trace):
    text = kafka(trace(burst(100)), topic="{partitions: 2}", workers="count: 4")
    result = run_checked(scenario_from(text))
    m = by_id(result)
    assert result.summary["totals"]["completed"] == 100
    assert m["completed_at"].max() == 50.0  # unkeyed records round-robin: 50 per partition
    busy = m["worker"].astype(str).value_counts().to_dict()
    assert busy == {"w/0": 50, "w/1": 50}  # range: w/0 p0, w/1 p1; w/2 and w/3 sit idle


def test_two_groups_each_complete_every_message(trace):
    text = kafka(trace(burst(30)), topic="{partitions: 3}", workers="count: 3",
                 groups="audit: {consumes: t, service_time: 2, count: 1}")
    result = run_checked(scenario_from(text))
    queues = result.summary["queues"]
    assert set(queues) == {"t@w", "t@audit"}
    for name in queues:
        totals = queues[name]["totals"]
        assert (totals["enqueued"], totals["completed"], totals["lost"]) == (30, 30, 0)
    m = result.messages
    assert m.groupby("queue", observed=True)["id"].nunique().to_dict() == {"t@w": 30, "t@audit": 30}
    # Each group at its own speed: the slow group's lag is larger.
    assert queues["t@audit"]["lag"]["max"] == 30
    assert queues["t@audit"]["latency"]["max"] == 60.0  # 30 records, 2 s each, one consumer
    assert queues["t@w"]["latency"]["max"] == 10.0  # 3 partitions, 3 consumers, 1 s each


def test_keyed_records_go_to_a_stable_partition_and_keep_their_order_through_a_rebalance(trace):
    keys = [f"k{i % 5}" for i in range(60)]
    path = trace([0.0] * 60, key=keys)
    for assignment in ("range", "cooperative-sticky"):
        text = kafka(path, topic="{partitions: 4}",
                     broker=f"max_poll_records: 3, assignment: {assignment}",
                     workers="count: 3", faults="[{crash: w, workers: 1, at: 7.5, "
                     "restart_after: 20}]")
        result = run_checked(scenario_from(text))
        m = by_id(result)
        assert result.summary["totals"]["completed"] == 60
        assert result.summary["totals"]["lost"] == 0
        for _, rows in m.groupby("key", observed=True):
            first_done = rows.sort_values("seq")["completed_at"].to_numpy()
            assert (np.diff(first_done) > 0).all(), assignment  # per-key order holds
        assert result.summary["reordering"]["reordered"] == 0


def test_the_partition_of_a_key_is_the_same_in_every_process():
    from sim.model.partitions import stable_hash

    assert stable_hash("customer-1") == 3958365309  # CRC-32: no per-process salt
    assert stable_hash(1) == stable_hash("1")


def test_cooperative_sticky_moves_only_the_partitions_of_the_member_that_left():
    from sim.model.partitions import assign

    a, b, c = "a", "b", "c"
    owners = assign("range", 6, [a, b, c], [None] * 6)
    assert owners == [a, a, b, b, c, c]
    after = assign("cooperative-sticky", 6, [a, c], owners)
    assert after[:2] == [a, a] and after[4:] == [c, c]  # a and c keep theirs
    assert sorted(after[2:4]) == [a, c]  # b's two are shared out
    assert assign("range", 6, [a, c], owners) == [a, a, a, c, c, c]  # range moves c's too


def test_a_consumer_slower_than_max_poll_interval_is_removed_and_reprocesses(trace):
    # 10 records per poll at 1 s each: 10 s between polls, within a 15 s max_poll_interval,
    # until a slowdown makes a poll's records take 30 s: the consumer is removed 15 s after
    # its poll, rejoins at its next poll, and the group replays from the last commit.
    text = kafka(trace(burst(60)), broker="max_poll_records: 10, max_poll_interval: 15",
                 faults="[{slowdown: w, factor: 3, at: 11, duration: 20}]")
    result = run_checked(scenario_from(text))
    totals = result.summary["totals"]
    assert totals["completed"] == 60 and totals["lost"] == 0
    assert result.summary["queues"]["t"]["rebalances"] == 2  # removed, then rejoined
    # The batch polled at 11 s (records 11-20) is processed, but its commit is refused: the
    # consumer replays it from offset 11 after rejoining.
    m = by_id(result)
    assert m.index[m["processings"] == 2].tolist() == list(range(11, 21))


def test_a_consumer_always_slower_than_max_poll_interval_never_commits(trace):
    """The rebalance storm: every poll's records outlast max_poll_interval, so the member is
    always removed before it commits; the run only ends at its drain timeout."""
    text = kafka(trace(burst(40)), broker="max_poll_records: 10, max_poll_interval: 5",
                 run="drain_timeout: 200")
    result = run_checked(scenario_from(text))
    assert result.summary["drain_timed_out"]
    totals = result.summary["totals"]
    assert totals["lost"] == 0 and totals["duplicate_processing"] > 0
    assert result.summary["queues"]["t"]["lag"]["max"] == 40


def test_lag_is_sampled_per_group_and_per_partition(trace):
    # Unkeyed records alternate partitions (0, 2, 4, ... in p0). The poll at 0 s returns record
    # 0; the one at 1 s returns p0's nine others, then p1's ten: p0 is done at 10 s.
    text = kafka(trace(burst(20)), topic="{partitions: 2}", broker="commit: after_processing",
                 sample=0.5)
    result = run_checked(scenario_from(text))
    ts = result.timeseries.set_index("time")
    assert (ts.loc[0.5, "lag"], ts.loc[0.5, "max_partition_lag"]) == (20, 10)
    assert (ts.loc[10.0, "lag"], ts.loc[10.0, "max_partition_lag"]) == (10, 10)
    assert (ts.loc[15.0, "lag"], ts.loc[15.0, "max_partition_lag"]) == (5, 5)
    assert (ts.loc[20.0, "lag"], ts.loc[20.0, "max_partition_lag"]) == (0, 0)
    assert list(ts.loc[10.0, "partition_lag"]) == [0, 10]  # per partition: p0 done, p1 not
    assert list(ts.loc[15.0, "partition_lag"]) == [0, 5]
    lag = result.summary["queues"]["t"]["lag"]
    assert lag["max"] == 20 and 0 < lag["mean"] < 20


def test_each_partition_reports_its_records_mean_lag_max_lag_and_owner(trace):
    # The scenario above, one consumer: p0 (records 0, 2, ..., 18) has lag 10 over [0, 1),
    # then 9, 8, ..., 1 a second each (area 10 + 45); p1 waits at 10 until p0 is done at
    # 10 s, then drains the same way (area 10 x 11 + 45). The run ends at 20 s.
    text = kafka(trace(burst(20)), topic="{partitions: 2}", broker="commit: after_processing")
    result = run_checked(scenario_from(text))
    assert result.summary["sim_end"] == 20.0
    queue = result.summary["queues"]["t"]
    assert queue["group"] == "w"
    assert queue["partitions"] == [
        {"owner": "w/0", "records": 10, "mean_lag": 55 / 20, "max_lag": 10},
        {"owner": "w/0", "records": 10, "mean_lag": 155 / 20, "max_lag": 10},
    ]
    # The group's mean lag is theirs added up (exact; the samples would say otherwise: a
    # sample stands for the interval before it, while the lag steps down at its end).
    assert queue["lag"]["mean"] == (55 + 155) / 20


def test_a_hot_key_shows_as_its_partition_and_a_consumer_beyond_the_partitions_is_idle(trace):
    # "hot" hashes to p1, "cold" to p0 (CRC-32 mod 2). Each owner's first poll returns its
    # partition's first record alone, then the rest: a partition of n records has lag n over
    # [0, 1), then n - 1, ..., 1 a second each: area n (n + 1) / 2. Range assignment gives
    # p0 to w/0 and p1 to w/1; w/2 owns nothing while publishing.
    keys = ["hot", "cold", "hot", "hot"] * 5
    text = kafka(trace([0.0] * 20, key=keys), topic="{partitions: 2}",
                 broker="commit: after_processing", workers="count: 3")
    result = run_checked(scenario_from(text))
    summary = result.summary
    assert summary["sim_end"] == 15.0
    assert summary["queues"]["t"]["partitions"] == [
        {"owner": "w/0", "records": 5, "mean_lag": 15 / 15, "max_lag": 5},
        {"owner": "w/1", "records": 15, "mean_lag": 120 / 15, "max_lag": 15},
    ]
    assert summary["queues"]["t"]["lag"]["max"] == 20
    assert summary["workers"]["w"]["idle_consumers"] == 1


@pytest.mark.parametrize(("stop_at", "idle"), [(5.5, 0), (12.5, 1)])
def test_a_consumer_is_idle_when_it_owned_no_partition_while_producers_published(
        trace, stop_at, idle):
    # A record a second, then 21 at 9 s, on 2 partitions (a drain of about 10 s), 3
    # consumers: w/2 sits idle until w/0 stops and the group rebalances (range over w/1,
    # w/2: w/2 takes p1). Stopped at 5.5 s, producers still publish: w/2 worked while they
    # did. At 12.5 s publishing is over (the drain goes on): w/2 counts as idle.
    times = [float(t) for t in range(9)] + [9.0] * 21
    text = kafka(trace(times), topic="{partitions: 2}",
                 workers="count: 3", faults=f"[{{stop: w, workers: 1, at: {stop_at}}}]")
    result = run_checked(scenario_from(text))
    summary = result.summary
    assert summary["duration"] == 9.0  # publishing ends with the trace's last arrival
    assert summary["queues"]["t"]["rebalances"] == 1
    assert summary["workers"]["w"]["idle_consumers"] == idle
    assert [p["owner"] for p in summary["queues"]["t"]["partitions"]] == ["w/1", "w/2"]


# -- autoscaling --------------------------------------------------------------------------------
def scaled(trace_path, *, scale: str, queue: str = "{}", broker: str = "{type: ideal}",
           count: int = 1, extra: str = "") -> str:
    return f"""
        name: autoscale
        run: {{duration: 100000, sample_interval: 1}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace_path}}}, publish: q}}
        brokers:
          b: {broker}
        queues:
          q: {queue}
        workers:
          w: {{consumes: q, service_time: 1, count: {count}, autoscale: {scale}, {extra}}}
    """


SCALE = "{min: 1, max: 5, target_backlog: 1, interval: 10, startup: 5, cooldown: 60}"


def test_a_pool_grows_within_interval_plus_startup_and_shrinks_after_cooldown(trace):
    times = sorted([float(t) for t in range(300)] + [100.0] * 60)
    result = run_checked(scenario_from(scaled(trace(times), scale=SCALE)))
    ts = result.timeseries.set_index("time")
    up = ts["workers_up"]
    assert up.loc[:100].max() == 1  # 1 message a second: one worker keeps up
    grown = up[up > 1].index.min()
    assert 100 < grown <= 100 + 10 + 5  # the tick at 110 sees the step; they serve at 115
    assert up.loc[115] == 5
    # The tick at 130 s still sees the burst's last copies in flight on 5 workers (it wants 5);
    # the ones from 140 s want 1: the pool shrinks at the first tick a cooldown (60 s) after
    # 130 s (the sample at 190 s is taken just before or just after that tick).
    shrunk = up[(up.index > grown) & (up == 1)].index.min()
    assert shrunk in (190, 191)
    assert up.loc[189] == 5
    workers = result.summary["workers"]["w"]
    assert (workers["min_up"], workers["max_up"]) == (1, 5)
    assert result.summary["totals"]["lost"] == 0 and result.summary["totals"]["completed"] == 360


def test_scaling_down_loses_nothing_and_stays_within_min_and_max(trace):
    rng = np.random.default_rng(5)
    times = np.sort(np.concatenate([rng.uniform(0, 400, 300), rng.uniform(100, 140, 300)]))
    for broker in ("{type: rabbitmq}", "{type: sqs}"):
        text = scaled(trace([float(t) for t in times]), broker=broker, count=2,
                      scale="{min: 2, max: 6, target_backlog: 2, interval: 5, cooldown: 20}")
        result = run_checked(scenario_from(text))
        totals = result.summary["totals"]
        assert totals["completed"] == 600 and totals["lost"] == 0, broker
        up = result.timeseries["workers_up"]
        assert up.min() >= 2 and up.max() <= 6
        workers = result.summary["workers"]["w"]
        assert 2 <= workers["min_up"] <= workers["max_up"] <= 6


def test_an_autoscaled_consumer_group_never_outgrows_its_partitions(trace):
    text = f"""
        name: autoscale
        run: {{duration: 100000, sample_interval: 1}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace(burst(200))}}}, publish: t}}
        brokers:
          k: {{type: kafka, publish_latency: 0, api_latency: 0, rebalance_time: 0}}
        queues:
          t: {{partitions: 3}}
        workers:
          w: {{consumes: t, service_time: 1, autoscale: {SCALE}}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["workers"]["w"]["max_up"] == 3
    assert result.summary["totals"]["completed"] == 200
    assert result.summary["totals"]["lost"] == 0
    # Publishing ended with the burst: the consumers added since were not up while producers
    # published, so none counts as idle (w/0 owned all three partitions then).
    assert result.summary["duration"] == 0.0
    assert result.summary["workers"]["w"]["idle_consumers"] == 0


def test_worker_seconds_measure_what_a_pool_costs(trace):
    result = run_checked(scenario_from(scaled(trace(burst(10)), scale=SCALE)))
    workers = result.summary["workers"]["w"]
    assert workers["worker_seconds"] == pytest.approx(
        workers["mean_up"] * result.summary["sim_end"])


def test_autoscale_errors_name_the_yaml_path(tmp_path):
    base = {
        "name": "t", "run": {"duration": 10},
        "producers": {"p": {"arrivals": {"process": "poisson", "rate": 1}, "publish": "q"}},
        "queues": {"q": {}},
        "workers": {"w": {"consumes": "q", "service_time": 1, "count": 9,
                          "autoscale": {"min": 1, "max": 4, "target_backlog": 5}}},
    }  # fmt: skip
    with pytest.raises(sim.ScenarioError) as info:
        sim.scenario.from_dict(base)
    assert "workers.w.count: the starting count must be within autoscale [min, max] = [1, 4]" \
        in str(info.value)


# -- bad input: clear errors naming the YAML path ------------------------------------------------
KAFKA_BASE = {
    "name": "t", "run": {"duration": 10},
    "brokers": {"k": {"type": "kafka"}},
    "producers": {"p": {"arrivals": {"process": "poisson", "rate": 1}, "publish": "t"}},
    "queues": {"t": {"partitions": 2}},
    "workers": {"g": {"consumes": "t", "service_time": 1}},
}  # fmt: skip


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"queues.t.partitions": 0}, "--set queues.t.partitions: must be a whole number >= 1"),
        ({"brokers.k.commit": "sometimes"}, "--set brokers.k.commit: must be one of"),
        ({"queues.t.assignment": "sticky"}, "--set queues.t.assignment: must be one of"),
        ({"queues.t.ttl": "1m"}, "--set queues.t.ttl: ttl does not apply to a kafka topic"),
        ({"workers.g.concurrency": 2},
         "--set workers.g.concurrency: a kafka consumer processes its records one at a time"),
        ({"workers.g.prefetch": 5},
         "--set workers.g.prefetch: prefetch does not apply to a kafka consumer group"),
        ({"workers.g.error_rate": 0.1}, "--set workers.g.error_rate: failed processing on a "
         "kafka consumer group is not supported yet"),
        ({"brokers.k.type": "rabbitmq"},
         "queues.t.partitions: partitions is a kafka setting; this queue's broker is rabbitmq"),
        ({"workers.g.autoscale": {"min": 3, "max": 2, "target_backlog": 1}},
         "--set workers.g.autoscale.min: must be <= max (2), got 3"),
    ],
)  # fmt: skip
def test_kafka_and_autoscale_mistakes_are_named_by_their_path(overrides, expected):
    with pytest.raises(sim.ScenarioError) as info:
        sim.scenario.from_dict(KAFKA_BASE, overrides=overrides)
    lines = [str(p) for p in info.value.problems]
    assert any(line.startswith(expected) for line in lines), lines


def test_a_bad_kafka_scenario_exits_2_on_the_command_line(tmp_path):
    import subprocess
    import sys

    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**KAFKA_BASE, "queues": {"t": {"partitions": "many"}}}))
    done = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "queues.t.partitions" in done.stderr + done.stdout


# -- pools that grow: names and fault cycles follow new workers ----------------------------------
def test_new_workers_get_fresh_names_and_their_own_random_crash_cycles(trace):
    from sim.model.build import Model
    from sim.model.faults import _CrashCycle
    from sim.scenario.specs import model_spec

    text = scaled(trace(burst(5)), scale=SCALE, extra="")
    data = scenario_from(text).data
    data["faults"] = [{"kind": "crash", "target": "w", "mtbf": 100.0,
                       "mttr": {"dist": "constant", "value": 1.0}, "silent": False}]
    model = Model(model_spec(data), seed=1)
    model.start()
    pool = model.pools["w"]
    added = pool.add_worker()
    pool.retire(pool.workers[0])
    another = pool.add_worker()
    assert [w.code for w in pool.workers] == [0, 1, 2]
    assert model.records.workers.values == ["w/0", "w/1", "w/2"]
    assert pool.workers[0].retired and not pool.workers[0].up
    cycles = [ev.callbacks[0].__self__.worker for _, _, _, ev in model.env._queue
              if ev.callbacks and isinstance(getattr(ev.callbacks[0], "__self__", None),
                                             _CrashCycle)]
    assert added in cycles and another in cycles  # a crash cycle for each new worker
    pool.workers[0].start()
    assert not pool.workers[0].up  # a retired worker never starts again


def test_an_exchange_and_a_dead_letter_reach_every_group_of_a_topic(trace):
    text = f"""
        name: routes
        run: {{duration: 100000}}
        producers:
          p: {{arrivals: {{process: trace, file: {trace(burst(10))}}}, publish: fan}}
          p2: {{arrivals: {{process: trace, file: {trace(burst(10), name="jobs.csv")}}},
                publish: jobs}}
        brokers:
          b: {{type: ideal}}
          k: {{type: kafka, publish_latency: 0, api_latency: 0, rebalance_time: 0}}
        exchanges:
          fan: {{type: fanout, broker: k, bindings: [{{queue: t}}]}}
        queues:
          jobs: {{broker: b, max_deliveries: 1, dead_letter: t}}
          t: {{broker: k, partitions: 2}}
        workers:
          failing: {{consumes: jobs, service_time: 1, error_rate: 1, retry: {{requeue: false}}}}
          g1: {{consumes: t, service_time: 1}}
          g2: {{consumes: t, service_time: 1}}
    """
    result = run_checked(scenario_from(text))
    queues = result.summary["queues"]
    # Each group reads the 10 records of the exchange and the 10 dead letters from jobs.
    for group in ("t@g1", "t@g2"):
        totals = queues[group]["totals"]
        assert (totals["enqueued"], totals["completed"]) == (20, 20)
    assert queues["jobs"]["totals"]["dead_lettered"] == 10
