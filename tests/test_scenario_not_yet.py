"""Parts of the format the model does not implement yet fail clearly, naming the YAML path."""

from __future__ import annotations

import pytest

import sim.scenario as scenario
from sim.scenario import ScenarioError
from sim.scenario.not_yet import BROKER_TYPES, NOT_YET, SUPPORTED_BROKER_TYPES

BASE = {
    "name": "t",
    "run": {"duration": 60},
    "producers": {"web": {"arrivals": {"process": "poisson", "rate": 10}, "publish": "orders"}},
    "queues": {"orders": {}},
    "workers": {"pool": {"consumes": "orders", "service_time": "10ms"}},
}


def messages(overrides: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict(BASE, overrides=overrides)
    return [str(p) for p in info.value.problems]


def test_every_broker_type_is_supported_now() -> None:
    assert SUPPORTED_BROKER_TYPES == BROKER_TYPES
    assert "kafka" in BROKER_TYPES


def test_an_unknown_broker_type_is_a_typo_not_a_missing_feature() -> None:
    (line,) = messages({"brokers.main": {"type": "rabbit-mq"}})
    assert line.startswith("--set brokers.main.type: unknown broker type 'rabbit-mq'; did you mean")


@pytest.mark.parametrize(
    ("path", "value", "what"),
    [
        ("brokers.main", {"reject_on_worker_lost": True},
         "the broker setting 'reject_on_worker_lost'"),
        ("queues.orders.publish_latency", "1ms", "a per-queue publish_latency"),
        ("queues.orders.deliver_latency", "1ms", "a per-queue deliver_latency"),
        ("queues.orders.capacity", "100/s", "a per-queue capacity"),
        ("queues.orders.durable", False, "a per-queue durable"),
    ],
)  # fmt: skip
def test_features_not_supported_yet(path: str, value: object, what: str) -> None:
    overrides = {path: value}
    if path == "producers.web.call":
        overrides["producers.web.publish"] = None  # one or the other
    lines = messages(overrides)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"--set {path.split('.')[0]}"), lines
    assert f"{what} is not supported yet" in lines[0], lines


def test_a_pool_without_consumes_serves_calls_now() -> None:
    data = {**BASE, "workers": {"pool": {"service_time": "10ms"}}}
    sc = scenario.from_dict(
        data, overrides={"producers.web.publish": None, "producers.web.call": "pool"}
    )
    assert sc.data["workers"]["pool"]["consumes"] is None
    assert sc.data["producers"]["web"]["call"] == "pool"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("producers.web.routing_key", "order.{type}"),
        ("workers.pool.then", {"publish": "orders", "probability": 0.5}),
        ("workers.pool.batch", {"every": "5m", "max": 100}),
        ("exchanges", {"events": {"type": "fanout", "bindings": [{"queue": "orders"}]}}),
    ],
)
def test_features_of_issue_7_are_supported_now(path: str, value: object) -> None:
    sc = scenario.from_dict(BASE, overrides={path: value})
    assert sc.data["run"]["duration"] == 60.0


def test_defaults_of_unsupported_features_are_accepted() -> None:
    """The resolved scenario spells them out, and must load again as it is."""
    sc = scenario.from_dict(
        BASE,
        overrides={
            "producers.web.call": None,
            "producers.web.timeout": None,
            "producers.web.routing_key": None,
            "exchanges": {},
        },
    )
    assert sc.data["exchanges"] == {} and sc.data["producers"]["web"]["call"] is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("producers.web.on_reject", "retry"),
        ("producers.web.retry", {"attempts": 5, "backoff": "1s"}),
        ("brokers.main", {"type": "rabbitmq", "capacity": "1000/s", "durable": False}),
        ("queues.orders.ttl", "10m"),
        ("queues.orders.max_deliveries", 5),
        ("queues.orders.priority", True),
        ("queues.orders.ordering", "per-key"),
        ("queues.orders.heartbeat", "60s"),
        ("workers.pool.error_rate", 0.01),
        ("workers.pool.retry", {"requeue": False}),
        ("workers.pool.idempotent", True),
        ("faults", [{"crash": "pool", "workers": 1, "at": "1m"}]),
    ],
)
def test_features_of_issue_3_are_supported_now(path: str, value: object) -> None:
    sc = scenario.from_dict(BASE, overrides={path: value})
    assert sc.data["run"]["duration"] == 60.0


def test_values_of_unsupported_features_are_still_checked() -> None:
    lines = messages(
        {
            "brokers.main": {"reject_on_worker_lost": "soon"},
            "workers.pool.autoscale": {"max": 0, "target_backlog": 10},
            "faults": [{"outage": "nobroker", "at": "1m", "duration": "1m"}],
        }
    )
    assert any(m.startswith("--set brokers.main.reject_on_worker_lost:") for m in lines)
    assert "--set workers.pool.autoscale.max: must be a whole number >= 1, got 0" in lines
    assert any(m.startswith("--set faults[0].outage: no broker named 'nobroker'") for m in lines)


def test_the_table_covers_every_section() -> None:
    assert set(NOT_YET) == {"top", "producers", "message", "brokers", "queues", "workers"}
