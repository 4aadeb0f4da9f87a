"""Loading valid scenarios: every default resolved, units converted, files made absolute."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import pytest
import yaml

import sim.scenario as scenario
from sim.scenario import Scenario

DATA = Path(__file__).parent / "data" / "scenarios"
ZERO = {"dist": "constant", "value": 0.0}
# The ideal broker's mechanism keys, which every queue on it inherits.
IDEAL_MECHANISMS = {
    "delivery": "push",
    "prefetch_on_auto_ack": True,
    "api_latency": ZERO,
    "batch_size": 1,
    "wait_time": 0.0,
    "poll_interval": 0.0,
    "notify": False,
    "notify_latency": ZERO,
    "redelivery": "on_disconnect",
    "claim": None,
    "disconnect_latency": ZERO,
    "heartbeat": 0.0,
    "visibility_timeout": None,
    "restore_interval": None,
    "lock_timeout": None,
    "requeue": "original",
    "dedup_window": None,
    "embedded": False,
    "prefetch_multiplier": None,
}


def test_minimal_scenario_resolves_every_default() -> None:
    sc = scenario.load(DATA / "minimal.yaml")
    assert sc.data == {
        "name": "minimal",
        "description": None,
        "run": {
            "duration": 600.0,
            "messages": None,
            "warmup": 0.0,
            "drain": True,
            "drain_timeout": 6000.0,
            "seed": 0,
            "replications": 1,
            "sample_interval": 1.2,
        },
        "producers": {
            "web": {
                "count": 1,
                "arrivals": {"process": "poisson", "rate": 100.0},
                "message": {},
                "publish": "orders",
                "call": None,
                "routing_key": None,
                "on_reject": "fail",
                "retry": {"attempts": 3, "backoff": 0.1},
                "timeout": None,
            }
        },
        "brokers": {
            "default": {
                "type": "ideal",
                "publish_latency": ZERO,
                "deliver_latency": ZERO,
                "capacity": None,
                "durable": True,
                **IDEAL_MECHANISMS,
            }
        },
        "queues": {
            "orders": {
                "broker": "default",
                "max_length": None,
                "overflow": "reject-publish",
                "ttl": None,
                "max_deliveries": None,
                "dead_letter": None,
                "priority": False,
                "ordering": "fifo",
                **IDEAL_MECHANISMS,
            }
        },
        "exchanges": {},
        "workers": {
            "order-service": {
                "consumes": "orders",
                "count": 1,
                "concurrency": 1,
                "prefetch": 1,
                "ack": "after_processing",
                "ack_latency": ZERO,
                "service_time": {"dist": "exponential", "mean": 0.008},
                "service_time_by_type": {},
                "service_on_repeat": "same",
                "error_rate": 0.0,
                "retry": {"requeue": True, "delay": 0.0},
                "idempotent": False,
                "then": None,
                "batch": None,
                "autoscale": None,
            }
        },
        "faults": [],
    }
    assert list(sc.data) == [
        "name", "description", "run", "producers", "brokers", "queues", "exchanges", "workers",
        "faults",
    ]  # fmt: skip
    assert sc.name == "minimal" and sc.seed == 0 and sc.replications == 1
    assert sc.duration == 600.0 and sc.messages is None
    assert sc.source == str(DATA / "minimal.yaml")
    assert sc.base_dir == DATA.resolve()
    assert sc.raw["run"] == {"duration": "10m"}  # the user's own words
    # inherited values are copies: YAML must not write anchors and aliases for shared objects
    assert "&id" not in sc.to_yaml()


def test_rich_scenario_converts_units_and_resolves_files() -> None:
    sc = scenario.load(DATA / "rich.yaml")
    d = sc.data
    web = d["producers"]["web"]
    assert web["arrivals"] == {
        "process": "poisson",
        "schedule": [{"until": 60.0, "rate": 5.0}, {"rate": 10.0}],
    }
    assert web["message"]["key"] == {"zipf": {"n": 100, "s": 1.1}, "prefix": "user-"}
    assert web["message"]["type"] == {"choice": {"email": 0.7, "sms": 0.3}}
    assert web["message"]["priority"] == {"uniform_int": [1, 3]}
    assert set(web["message"]) == {"key", "type", "priority"}  # null fields are left out
    trace = d["producers"]["batch"]["arrivals"]
    assert trace == {"process": "trace", "file": str((DATA / "arrivals.csv").resolve())}
    assert d["brokers"]["main"]["publish_latency"] == {"dist": "constant", "value": 0.001}
    assert d["brokers"]["main"]["deliver_latency"] == {
        "dist": "uniform",
        "low": 0.001,
        "high": 0.002,
    }
    assert d["queues"]["orders"]["dead_letter"] == "orders-dlq"
    assert d["queues"]["emails"]["broker"] == "spare"
    pool = d["workers"]["order-service"]
    assert pool["prefetch"] == 2  # defaults to concurrency
    assert pool["ack_latency"] == {"dist": "constant", "value": 0.0005}
    assert pool["service_time"] == {
        "dist": "mixture",
        "components": [
            {"weight": 0.75, "dist": "exponential", "rate": 100.0},
            {"weight": 0.25, "dist": "empirical",
             "file": str(DATA.resolve() / "service_times.csv")},
        ],
    }
    assert pool["service_time_by_type"] == {"sms": {"dist": "constant", "value": 0.005}}
    assert d["workers"]["mailer"]["service_time"] == {"dist": "constant", "value": 0.25}
    # messages only: drain bounded by a day; the publishing time is estimated from the rates:
    # 2 x 5/s for 60 s (600) + 3 trace arrivals, then 2 x 10/s for the other 397 messages.
    assert d["run"]["duration"] is None and d["run"]["drain_timeout"] == 86400.0
    assert math.isclose(d["run"]["sample_interval"], (60 + 397 / 20) / 500, rel_tol=1e-6)


def test_resolved_data_is_plain_yaml_and_round_trips() -> None:
    sc = scenario.load(DATA / "rich.yaml")
    text = sc.to_yaml()
    assert yaml.safe_load(text) == sc.data
    assert text.startswith("name: rich\n")
    # the resolved scenario is itself a valid scenario that resolves to the same thing
    assert scenario.loads(text).data == sc.data


def test_loads_and_from_dict_agree_with_load() -> None:
    text = (DATA / "minimal.yaml").read_text()
    from_text = scenario.loads(text, base_dir=DATA)
    from_dict = scenario.from_dict(yaml.safe_load(text), base_dir=DATA)
    assert from_text.data == from_dict.data == scenario.load(DATA / "minimal.yaml").data
    assert from_text.source == "<string>" and from_dict.source is None


def test_relative_files_resolve_against_base_dir() -> None:
    text = """
name: t
run: {duration: 5}
producers: {p: {arrivals: {process: trace, file: arrivals.csv}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, service_time: {dist: empirical, file: service_times.csv}}}
"""
    sc = scenario.loads(text, base_dir=DATA)
    resolved = sc.data["workers"]["w"]["service_time"]["file"]
    assert resolved == str(DATA.resolve() / "service_times.csv")
    with pytest.raises(scenario.ScenarioError, match="file not found"):
        scenario.loads(text, base_dir=DATA / "nowhere")


@pytest.mark.parametrize(
    ("arrivals", "expected"),
    [
        ("{process: constant, rate: 4/s}", {"process": "constant", "interval": 0.25}),
        ("{process: constant, interval: 20ms}", {"process": "constant", "interval": 0.02}),
        (
            "{process: renewal, interarrival: {dist: gamma, mean: 10ms, cv: 2}}",
            {"process": "renewal", "interarrival": {"dist": "gamma", "mean": 0.01, "cv": 2.0}},
        ),
        (
            "{process: bursty, rates: [1/s, 1/ms], mean_durations: [1m, 10s]}",
            {"process": "bursty", "rates": [1.0, 1000.0], "mean_durations": [60.0, 10.0]},
        ),
    ],
)
def test_arrival_processes_resolve(arrivals: str, expected: dict) -> None:
    text = f"""
name: t
run: {{duration: 5}}
producers: {{p: {{arrivals: {arrivals}, publish: q}}}}
queues: {{q: {{}}}}
workers: {{w: {{consumes: q, service_time: 1ms}}}}
"""
    assert scenario.loads(text).data["producers"]["p"]["arrivals"] == expected


def test_sample_interval_from_messages_and_constant_rate() -> None:
    text = """
name: t
run: {messages: 1000}
producers: {p: {count: 2, arrivals: {process: constant, rate: 50}, publish: q}}
queues: {q: {}}
workers: {w: {consumes: q, service_time: 1ms}}
"""
    run = scenario.loads(text).data["run"]
    # 2 producers x 50/s, arriving at 0, 20 ms, ...: the 1000th message is out at 9.98 s.
    assert math.isclose(run["sample_interval"], 9.98 / 500, rel_tol=1e-6)
    assert run["drain_timeout"] == 86400.0


def test_brokers_default_and_explicit_choices() -> None:
    base = """
name: t
run: {duration: 5, sample_interval: 1s, drain_timeout: 0}
producers: {p: {arrivals: {process: poisson, rate: 1}, publish: q}}
workers: {w: {consumes: q, service_time: 1ms}}
"""
    one = scenario.loads(base + "brokers: {only: {}}\nqueues: {q: {}}\n")
    assert one.data["queues"]["q"]["broker"] == "only"
    assert one.data["run"]["sample_interval"] == 1.0 and one.data["run"]["drain_timeout"] == 0.0
    # a component may be called "default": the implicit broker then takes another name
    clash = scenario.loads(
        base.replace("q}", "default}").replace("q,", "default,") + "queues: {default: {}}\n"
    )
    assert clash.data["queues"]["default"]["broker"] == "default-broker"
    assert list(clash.data["brokers"]) == ["default-broker"]


def test_with_overrides_revalidates_and_keeps_the_original() -> None:
    sc = scenario.load(DATA / "minimal.yaml")
    more = sc.with_overrides({"workers.order-service.count": "4", "run.seed": 3})
    assert isinstance(more, Scenario)
    assert more.data["workers"]["order-service"]["count"] == 4 and more.seed == 3
    assert sc.data["workers"]["order-service"]["count"] == 1 and sc.seed == 0
    again = more.with_overrides({"run.seed": 5})
    assert again.seed == 5 and again.data["workers"]["order-service"]["count"] == 4
    with pytest.raises(scenario.ScenarioError, match=r"--set run\.seed: must be a whole number"):
        sc.with_overrides({"run.seed": "-1"})


def test_sample_interval_when_the_rate_runs_dry_before_the_budget() -> None:
    text = """
name: t
run: {messages: 1000}
producers:
  p: {arrivals: {process: poisson, schedule: [{until: 1s, rate: 10}, {rate: 0}]}, publish: q}
queues: {q: {}}
workers: {w: {consumes: q, service_time: 1ms}}
"""
    # The 10 expected messages are out by 1 s, when the arrivals stop: publishing ends there.
    assert scenario.loads(text).data["run"]["sample_interval"] == pytest.approx(1 / 500)


def test_scenarios_pickle_for_worker_processes() -> None:
    sc = scenario.load(DATA / "minimal.yaml", overrides={"run.seed": 2})
    copy = pickle.loads(pickle.dumps(sc))
    assert copy.data == sc.data and copy.seed == 2
    assert copy.with_overrides({"run.seed": 9}).seed == 9
