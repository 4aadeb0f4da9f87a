"""Broker types and mechanism keys: presets resolved, overridden on the broker and per queue,
``claim`` for postgres, the redis prefetch, the rules between keys, and the worker and producer
failure settings of issue 3."""

from __future__ import annotations

import textwrap

import pytest
import yaml

import sim.scenario as scenario
from sim.scenario import ScenarioError

BASE = """\
name: t
run: {duration: 1m}
producers:
  web: {arrivals: {process: poisson, rate: 10}, publish: orders}
workers:
  pool: {consumes: orders, service_time: 10ms, concurrency: 2}
"""


ORDERS = "queues: {orders: {}}\n"


def load(extra: str, **overrides: object) -> dict:
    return scenario.loads(BASE + textwrap.dedent(extra), overrides=overrides or None).data


def problems(extra: str, base: str = BASE) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario.loads(base + textwrap.dedent(extra), source="s.yaml")
    return str(info.value).splitlines()


def const(seconds: float) -> dict:
    return {"dist": "constant", "value": seconds}


def test_rabbitmq_preset_reaches_the_broker_and_its_queues() -> None:
    d = load("brokers: {main: {type: rabbitmq}}\nqueues: {orders: {}}\n")
    broker, queue = d["brokers"]["main"], d["queues"]["orders"]
    assert broker["publish_latency"] == broker["deliver_latency"] == const(0.0005)
    assert broker["delivery"] == "push" and broker["prefetch_on_auto_ack"] is False
    assert broker["redelivery"] == "on_disconnect" and broker["heartbeat"] == 60.0
    assert broker["disconnect_latency"] == {"dist": "uniform", "low": 0.003, "high": 0.007}
    assert broker["requeue"] == "original" and broker["claim"] is None
    for key in ("delivery", "prefetch_on_auto_ack", "heartbeat", "disconnect_latency", "requeue"):
        assert queue[key] == broker[key], key
    assert "publish_latency" not in queue and "durable" not in queue  # broker-level only
    assert d["workers"]["pool"]["prefetch"] == 2  # = concurrency


def test_sqs_and_sqs_fifo_presets() -> None:
    d = load(
        """\
        brokers: {std: {type: sqs}, fifo: {type: sqs-fifo}}
        queues:
          orders: {broker: std}
          ledger: {broker: fifo}
          loose: {broker: fifo, ordering: fifo}
        """
    )
    std, ledger = d["queues"]["orders"], d["queues"]["ledger"]
    assert d["brokers"]["std"]["publish_latency"] == const(0.01)
    assert (std["delivery"], std["batch_size"], std["wait_time"]) == ("pull", 10, 20.0)
    assert std["api_latency"] == const(0.01) and std["poll_interval"] == 0.0
    assert (std["redelivery"], std["visibility_timeout"]) == ("visibility_timeout", 30.0)
    assert (std["requeue"], std["dedup_window"], std["ordering"]) == ("tail", None, "fifo")
    assert (ledger["requeue"], ledger["dedup_window"], ledger["ordering"]) == (
        "head", 300.0, "per-key"
    )
    assert d["queues"]["loose"]["ordering"] == "fifo"  # the queue default, overridden


def test_postgres_claims_by_lease_unless_told_otherwise() -> None:
    d = load(
        """\
        brokers: {db: {type: postgres}, tx: {type: postgres, claim: transaction}}
        queues:
          orders: {broker: db}
          held: {broker: db, claim: transaction}
          leased: {broker: tx, claim: lease}
          plain: {broker: tx}
          direct: {broker: db, redelivery: transaction}
        """
    )
    db, q = d["brokers"]["db"], d["queues"]
    assert (db["delivery"], db["poll_interval"], db["notify"]) == ("pull", 1.0, False)
    assert db["api_latency"] == db["notify_latency"] == const(0.001)
    assert (db["redelivery"], db["claim"], db["lock_timeout"]) == ("lease", "lease", 14400.0)
    assert (d["brokers"]["tx"]["redelivery"], d["brokers"]["tx"]["claim"]) == (
        "transaction", "transaction"
    )
    assert {n: (q[n]["redelivery"], q[n]["claim"]) for n in q} == {
        "orders": ("lease", "lease"),
        "held": ("transaction", "transaction"),
        "leased": ("lease", "lease"),
        "plain": ("transaction", "transaction"),
        "direct": ("transaction", "transaction"),  # claim shows the redelivery in postgres words
    }


def test_redelivery_may_be_set_on_any_broker_and_claim_shows_only_on_postgres() -> None:
    d = load("brokers: {main: {type: rabbitmq, redelivery: none, claim: null}}\n" + ORDERS)
    assert (d["brokers"]["main"]["redelivery"], d["brokers"]["main"]["claim"]) == ("none", None)
    pg = load("brokers: {db: {type: postgres, redelivery: none}}\nqueues: {orders: {}}\n")
    assert (pg["queues"]["orders"]["redelivery"], pg["queues"]["orders"]["claim"]) == (
        "none", None
    )


def test_claim_is_for_postgres_and_must_agree_with_redelivery() -> None:
    lines = problems(
        """\
        brokers: {main: {type: rabbitmq, claim: lease}, db: {type: postgres}}
        queues:
          orders: {broker: main, claim: transaction}
          jobs: {broker: db, claim: lease, redelivery: transaction}
          other: {broker: db, claim: forever}
        """
    )
    assert lines == [
        "s.yaml:7: brokers.main.claim: claim is a postgres setting; on a rabbitmq broker set "
        "redelivery instead",
        "s.yaml:9: queues.orders.claim: claim is a postgres setting; on a rabbitmq broker set "
        "redelivery instead",
        "s.yaml:10: queues.jobs.redelivery: contradicts claim: lease (which means redelivery: "
        "lease); give one of them",
        "s.yaml:11: queues.other.claim: must be one of lease, transaction, got 'forever'",
    ]


def test_redis_prefetch_is_the_multiplier_times_concurrency() -> None:
    base = "brokers: {r: {type: redis}}\nqueues: {orders: {}}\n"
    d = load(base)
    assert d["workers"]["pool"]["prefetch"] == 8  # 4 x concurrency 2
    q = d["queues"]["orders"]
    assert (q["redelivery"], q["visibility_timeout"], q["restore_interval"]) == (
        "visibility_timeout", 3600.0, 100.0
    )
    assert (q["requeue"], q["prefetch_multiplier"], q["delivery"]) == ("head", 4, "push")
    assert load(base, **{"workers.pool.prefetch": 3})["workers"]["pool"]["prefetch"] == 3
    one = load(base, **{"queues.orders.prefetch_multiplier": 1})
    assert one["workers"]["pool"]["prefetch"] == 2
    # any broker can have one; without it a pool holds its concurrency
    rabbit = load("queues: {orders: {prefetch_multiplier: 3}}\n")
    assert rabbit["workers"]["pool"]["prefetch"] == 6
    with pytest.raises(ScenarioError, match=r"workers\.pool\.prefetch: must be >= concurrency"):
        load(base, **{"workers.pool.prefetch": 1})


def test_a_queue_overrides_its_brokers_mechanism_keys() -> None:
    d = load(
        """\
        brokers: {main: {type: sqs, visibility_timeout: 45s, batch_size: 5}}
        queues:
          orders: {broker: main}
          reports: {broker: main, visibility_timeout: 15m, wait_time: 0, heartbeat: 30s}
        """
    )
    assert d["brokers"]["main"]["visibility_timeout"] == 45.0
    orders, reports = d["queues"]["orders"], d["queues"]["reports"]
    assert (orders["visibility_timeout"], orders["batch_size"], orders["wait_time"]) == (
        45.0, 5, 20.0
    )
    assert (reports["visibility_timeout"], reports["batch_size"], reports["wait_time"]) == (
        900.0, 5, 0.0
    )
    assert reports["heartbeat"] == 30.0 and orders["heartbeat"] == 0.0


def test_in_process_broker_is_embedded_and_not_durable() -> None:
    d = load("brokers: {local: {type: in-process}}\nqueues: {orders: {}}\n")
    broker = d["brokers"]["local"]
    assert (broker["durable"], broker["embedded"], broker["redelivery"]) == (False, True, "none")
    assert d["queues"]["orders"]["embedded"] is True


def test_broker_capacity_and_durability_are_supported() -> None:
    d = load("brokers: {main: {type: rabbitmq, capacity: 300/m, durable: false}}\n" + ORDERS)
    assert (d["brokers"]["main"]["capacity"], d["brokers"]["main"]["durable"]) == (5.0, False)


def test_rules_between_mechanism_keys() -> None:
    lines = problems(
        """\
        brokers:
          a: {type: sqs, visibility_timeout: null}
          b: {type: rabbitmq, redelivery: lease}
          c: {type: sqs, wait_time: 0, api_latency: 0}
        queues:
          orders: {broker: a, visibility_timeout: 30s}
          jobs: {broker: b, lock_timeout: 1h}
          polls: {broker: c, poll_interval: 100ms}
          hot: {broker: c, api_latency: {dist: uniform, low: 0, high: 0}}
        """
    )
    assert lines == [
        "s.yaml:8: brokers.a.visibility_timeout: redelivery: visibility_timeout needs "
        "visibility_timeout (a duration such as 30s), got null; for messages that never come "
        "back, use redelivery: none",
        "s.yaml:9: brokers.b.lock_timeout: redelivery: lease needs lock_timeout (a duration "
        "such as 30s), got null; for messages that never come back, use redelivery: none",
        "s.yaml:10: brokers.c.delivery: a pull consumer that finds nothing would receive again "
        "at the same instant, forever: set wait_time (long poll), poll_interval or api_latency "
        "above 0",
        "s.yaml:15: queues.hot.delivery: a pull consumer that finds nothing would receive again "
        "at the same instant, forever: set wait_time (long poll), poll_interval or api_latency "
        "above 0",
    ]  # the queues that fix their broker's problem are fine


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("delivery: poll", "queues.orders.delivery: must be one of push, pull, got 'poll'; "
         "did you mean 'pull'?"),
        ("batch_size: 0", "queues.orders.batch_size: must be a whole number >= 1, got 0"),
        ("heartbeat: -1s", "queues.orders.heartbeat: must be a duration >= 0, got '-1s'"),
        ("heartbeat: null", "queues.orders.heartbeat: must be a duration"),
        ("visibility_timeout: 0", "queues.orders.visibility_timeout: must be a duration > 0"),
        ("requeue: front", "queues.orders.requeue: must be one of original, head, tail"),
        ("redelivery: never", "queues.orders.redelivery: must be one of on_disconnect, "
         "visibility_timeout, lease, transaction, none, got 'never'"),
        ("notify: sometimes", "queues.orders.notify: must be true or false"),
        ("api_latency: {dist: expo, mean: 1ms}", "queues.orders.api_latency.dist: unknown "
         "distribution 'expo'"),
        ("prefetch_multiplier: 0", "queues.orders.prefetch_multiplier: must be a whole number"),
        ("visiblity_timeout: 30s", "queues.orders.visiblity_timeout: unknown key "
         "'visiblity_timeout'; did you mean 'visibility_timeout'?"),
    ],
)  # fmt: skip
def test_bad_mechanism_values_name_path_and_line(setting: str, expected: str) -> None:
    lines = problems(f"brokers: {{main: {{type: sqs}}}}\nqueues:\n  orders: {{{setting}}}\n")
    assert any(line.startswith(f"s.yaml:9: {expected}") for line in lines), lines


def test_bad_broker_values_name_path_and_line() -> None:
    lines = problems("brokers:\n  main: {type: redis, restore_interval: soon, capacity: -1}\n"
                     "queues: {orders: {}}\n")  # fmt: skip
    assert lines[0].startswith("s.yaml:8: brokers.main.capacity: must be a rate > 0, got -1")
    assert lines[1].startswith("s.yaml:8: brokers.main.restore_interval: bad duration 'soon'")


def test_workers_failure_settings_resolve() -> None:
    d = load(
        ORDERS,
        **{
            "workers.pool.error_rate": 0.05,
            "workers.pool.retry": "{delay: 2s}",
            "workers.pool.idempotent": True,
            "workers.pool.ack": "on_delivery",
        },
    )
    pool = d["workers"]["pool"]
    assert pool["error_rate"] == 0.05 and pool["idempotent"] == "at_start"  # true is at_start
    assert pool["retry"] == {"requeue": True, "delay": 2.0} and pool["ack"] == "on_delivery"
    lines = problems(
        "queues: {orders: {}}\n"
        "workers: {w2: {consumes: orders, service_time: 1ms, error_rate: 2, "
        "retry: {requeue: maybe, dely: 1s}}}\n",
        base=BASE.split("workers:")[0],
    )
    assert "s.yaml:6: workers.w2.error_rate: must be a number >= 0 and <= 1, got 2" in lines
    assert any(line.startswith("s.yaml:6: workers.w2.retry.dely: unknown key") for line in lines)
    assert "s.yaml:6: workers.w2.retry.requeue: must be true or false, got 'maybe'" in lines


def test_producers_reject_policy_resolves() -> None:
    d = load(
        ORDERS,
        **{
            "producers.web.on_reject": "retry",
            "producers.web.retry": "{attempts: 5, backoff: 250ms}",
        },
    )
    web = d["producers"]["web"]
    assert (web["on_reject"], web["retry"]) == ("retry", {"attempts": 5, "backoff": 0.25})
    partial = load(ORDERS, **{"producers.web.retry": "{attempts: 1}"})
    assert partial["producers"]["web"]["retry"] == {"attempts": 1, "backoff": 0.1}
    with pytest.raises(ScenarioError, match=r"producers\.web\.retry\.attempts: must be a whole"):
        load(ORDERS, **{"producers.web.retry": "{attempts: 0}"})
    with pytest.raises(ScenarioError, match=r"producers\.web\.on_reject: must be one of fail"):
        load(ORDERS, **{"producers.web.on_reject": "drop"})


def test_a_resolved_scenario_of_every_broker_type_loads_again_as_it_is() -> None:
    sc = scenario.loads(
        BASE
        + textwrap.dedent(
            """\
            brokers:
              i: {type: ideal}
              r: {type: rabbitmq}
              s: {type: sqs}
              f: {type: sqs-fifo}
              p: {type: postgres, claim: transaction}
              d: {type: redis}
              l: {type: in-process}
            queues:
              orders: {broker: d}
              q-i: {broker: i}
              q-r: {broker: r}
              q-s: {broker: s}
              q-f: {broker: f}
              q-p: {broker: p, claim: lease}
              q-l: {broker: l}
            faults:
              - {crash: pool, workers: 1, at: 5m, restart_after: 30s}
              - {crash: pool, mtbf: 1h, mttr: {dist: exponential, mean: 30s}, silent: true}
              - {outage: r, at: 1m, duration: 10s}
            """
        )
    )
    text = sc.to_yaml()
    assert "&id" not in text and yaml.safe_load(text) == sc.data
    assert scenario.loads(text).data == sc.data
