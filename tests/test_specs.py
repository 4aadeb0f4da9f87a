"""The agreement between the scenario layer and the model, both ways (`sim.scenario.specs`).

Every key of the resolved model sections of every shipped scenario is either a field of its
spec, holding the resolved value, or listed in `NOT_READ` with the reason the model does not
read it; and every key the spec reads, taken out of the resolved scenario, fails at
`model_spec` with a `SpecError` naming its YAML path. A run built from the spec is the run
built from the dict, exactly.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.engine import simulate
from sim.scenario.specs import (
    LATENCIES,
    BindingSpec,
    LogSpec,
    ModelSpec,
    QueueSpec,
    SpecError,
    WorkerStopSpec,
    model_spec,
)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))

_MECHANISM = "a broker's mechanism default: each of its queues carries it resolved (QueueSpec)"
# (section, key): why the model does not read it. A section is the YAML path without
# component names: "queues" for queues.NAME, "workers.then" for workers.NAME.then.
NOT_READ: dict[tuple[str, str], str] = {
    ("", "description"): "for people: the report prints it, the model has no use for it",
    ("run", "replications"): "the experiment layer's: one run is one replication",
    ("brokers", "type"): "the preset's label: the model never asks which product it simulates",
    **{("brokers", key): _MECHANISM for key in (
        "api_latency", "assignment", "batch_size", "claim", "commit", "commit_interval",
        "dedup_window", "deliver_latency", "delivery", "disconnect_latency", "heartbeat",
        "lock_timeout", "max_poll_interval", "max_poll_records", "notify", "notify_latency",
        "poll_interval", "prefetch_multiplier", "prefetch_on_auto_ack", "rebalance_time",
        "redelivery", "requeue", "restore_interval", "session_timeout", "visibility_timeout",
        "wait_time")},
    ("queues", "claim"): "postgres' word for redelivery: lease|transaction, resolved into it",
    ("queues", "dedup_window"): "carried, not simulated: a refused publish is never stored",
    ("queues", "embedded"): "the broker's embedded (BrokerSpec) is the one that acts",
    ("queues", "prefetch_multiplier"): "resolved into its consumers' prefetch (PoolSpec)",
    ("faults", "kind"): "chooses the fault's spec class (WorkerStopSpec keeps crash or stop)",
    ("faults", "workers"): "a slowdown's is always all: it slows the whole pool",
}
# Keys the model may go without: taking one out is a value, not an error.
OPTIONAL = {("", "costs"), ("producers.message", "key"), ("producers.message", "type"),
            ("producers.message", "priority"), ("producers.message", "headers")}
# Sections whose entries are named components (their names are not keys of the format).
NAMED = ("brokers", "queues", "exchanges", "workers", "producers")


@dataclasses.dataclass
class Read:
    """A resolved key the spec reads: where it is, so a test can take it out."""

    holder: dict[str, Any]
    key: str
    parent: str  # the YAML path of its holder ("" at the top)
    section: str


def _fields_of(spec: Any) -> dict[str, Any]:
    """A spec's fields by name; a queue's log is read from the queue's own keys."""
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    if isinstance(spec, QueueSpec) and spec.log is not None:
        values.update(_fields_of(spec.log))
    return values


def _walk(resolved: Any, spec: Any, parent: str, section: str, unread: set[tuple[str, str]],
          problems: list[str]) -> Iterator[Read]:
    """Check ``resolved`` against ``spec`` and yield every key the spec reads."""
    values = _fields_of(spec)
    for key, value in resolved.items():
        where = f"{parent}.{key}" if parent else key
        inner = f"{section}.{key}" if section else key
        if key not in values:
            if (section, key) in NOT_READ:
                unread.add((section, key))
            else:
                problems.append(f"{where}: not a field of {type(spec).__name__}, nor in NOT_READ")
            continue
        yield Read(resolved, key, parent, section)
        field = values[key]
        if key in NAMED and parent == "":
            for name, entry in value.items():
                yield from _walk(entry, field[name], f"{key}.{name}", key, unread, problems)
        elif key == "faults" and parent == "":
            for i, entry in enumerate(value):
                yield from _walk(entry, field[i], f"faults[{i}]", key, unread, problems)
        elif dataclasses.is_dataclass(field):
            yield from _walk(value, field, where, inner, unread, problems)
        elif isinstance(field, tuple) and all(isinstance(b, BindingSpec) for b in field):
            if len(field) != len(value):
                problems.append(f"{where}: {len(field)} bindings in the spec, {len(value)} given")
            for i, entry in enumerate(value):
                yield from _walk(entry, field[i], f"{where}[{i}]", inner, unread, problems)
        elif field != value:
            problems.append(f"{where}: the spec holds {field!r}, the resolved scenario {value!r}")


def _resolved(path: Path) -> dict[str, Any]:
    return sim.load(path).data


_USED: set[tuple[str, str]] = set()


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_resolved_key_is_a_spec_field_holding_its_value_or_listed(path: Path) -> None:
    data = _resolved(path)
    problems: list[str] = []
    reads = list(_walk(data, model_spec(data), "", "", _USED, problems))
    assert problems == []
    assert len(reads) > 50  # (the walk reached into the sections)


def test_every_listed_key_is_in_some_shipped_scenario() -> None:
    """NOT_READ has no stale entry (a key renamed in the format must leave it too)."""
    used: set[tuple[str, str]] = set()
    for path in SCENARIOS:
        data = _resolved(path)
        list(_walk(data, model_spec(data), "", "", used, []))
    assert sorted(set(NOT_READ) - used) == []


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_each_key_the_spec_reads_taken_out_fails_naming_its_path(path: Path) -> None:
    data = _resolved(path)
    reads = list(_walk(data, model_spec(data), "", "", set(), []))
    for read in reads:
        value = read.holder.pop(read.key)
        try:
            if (read.section, read.key) in OPTIONAL:
                model_spec(data)  # goes without it
            elif read.section == "queues" and read.key in LATENCIES:
                # A queue without its own latency takes its broker's.
                queue = model_spec(data).queues[read.parent.split(".", 1)[1]]
                broker = data["brokers"][read.holder["broker"]]
                assert getattr(queue, read.key) == broker[read.key]
            else:
                where = f"{read.parent}: the resolved scenario" if read.parent else (
                    "the resolved scenario")
                with pytest.raises(SpecError) as raised:
                    model_spec(data)
                assert raised.value.args[0] == f"{where} has no {read.key}", read
        finally:
            read.holder[read.key] = value


def test_a_renamed_key_fails_at_model_spec_naming_its_path() -> None:
    data = _resolved(ROOT / "scenarios" / "kafka_slow_consumer.yaml")
    topic = next(iter(data["queues"]))
    data["queues"][topic]["rebalance"] = data["queues"][topic].pop("rebalance_time")
    with pytest.raises(SpecError, match=rf"^'queues\.{topic}: the resolved scenario has no "
                                        r"rebalance_time'$"):
        model_spec(data)
    data = _resolved(ROOT / "scenarios" / "rabbitmq_crashes.yaml")
    data["run"]["drain_for"] = data["run"].pop("drain_timeout")
    with pytest.raises(SpecError, match=r"^'run: the resolved scenario has no drain_timeout'$"):
        model_spec(data)


def test_a_fault_is_typed_by_its_kind() -> None:
    data = _resolved(ROOT / "scenarios" / "rabbitmq_crashes.yaml")
    data["faults"] = [{"kind": "stop", "target": next(iter(data["workers"])), "workers": 1,
                       "at": 5.0, "restart_after": None}]
    (stop,) = model_spec(data).faults
    assert stop == WorkerStopSpec(kind="stop", target=stop.target, workers=1, at=5.0,
                                  restart_after=None, silent=False)
    data["faults"] = [{"kind": "meltdown", "target": "x", "at": 1.0}]
    with pytest.raises(SpecError, match=r"faults\[0\]\.kind: .* unknown kind 'meltdown'"):
        model_spec(data)


def test_a_scenario_makes_its_spec_once_frozen_slotted_and_picklable() -> None:
    scenario = sim.load(ROOT / "scenarios" / "kafka_slow_consumer.yaml")
    spec = scenario.spec
    assert scenario.spec is spec
    assert isinstance(spec, ModelSpec) and spec == model_spec(scenario.data)
    assert isinstance(next(iter(spec.queues.values())).log, LogSpec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.run.seed = 2  # type: ignore[misc]  # (frozen: that is the point)
    assert not hasattr(spec.run, "__dict__")  # slotted
    assert pickle.loads(pickle.dumps(spec)) == spec  # (a process pool may carry it)


def _run_fingerprint(data: Any) -> tuple[Any, ...]:
    records = data.records
    columns = tuple(np.asarray(records.view(c)).tobytes()
                    for c in ("state", "queue", "published_at", "accepted_at", "completed_at"))
    workers = {name: {k: v for k, v in w.items() if k != "readings"}
               for name, w in data.counters["workers"].items()}
    readings = [w["readings"].tobytes() for w in data.counters["workers"].values()]
    rest = {k: v for k, v in data.counters.items() if k != "workers"}
    return columns, repr(workers), readings, repr(rest), repr(data.timeseries), data.meta["sim_end"]


@pytest.mark.parametrize("name", ["kafka_slow_consumer", "rabbitmq_crashes", "custom_routing"])
def test_a_run_from_the_spec_is_the_run_from_the_dict(name: str) -> None:
    scenario = sim.load(ROOT / "scenarios" / f"{name}.yaml", overrides={"run.duration": 120})
    from_dict = simulate(copy.deepcopy(scenario.data), 5)
    from_spec = simulate(scenario.spec, 5)
    assert len(from_dict.records.view("state")) > 100
    assert _run_fingerprint(from_dict) == _run_fingerprint(from_spec)
    assert from_spec.meta["scenario"] == scenario.name


def test_the_model_reads_no_scenario_data_by_string_key() -> None:
    """No ``spec["..."]``, ``scenario["..."]`` or ``spec.get("...")`` in sim/model or the
    engine: components get attributes (a renamed field then fails the type checker)."""
    found = []
    for path in [*sorted((ROOT / "sim" / "model").glob("*.py")), ROOT / "sim" / "engine.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = key = None
            if isinstance(node, ast.Subscript):
                target, key = node.value, node.slice
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "get" and node.args):
                target, key = node.func.value, node.args[0]
            if (isinstance(target, ast.Name) and isinstance(key, ast.Constant)
                    and isinstance(key.value, str)
                    and any(w in target.id for w in ("spec", "scenario", "run"))):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []


def test_a_section_that_is_not_a_mapping_is_a_spec_error() -> None:
    data: Mapping[str, Any] = {**_resolved(ROOT / "scenarios" / "topic_routing.yaml"),
                               "run": [1, 2]}
    with pytest.raises(SpecError, match=r"^'run: the resolved scenario has \[1, 2\], not a "):
        model_spec(data)
