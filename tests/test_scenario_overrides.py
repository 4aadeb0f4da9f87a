"""``--set`` overrides: dotted paths applied before validation, reported as ``--set PATH``."""

from __future__ import annotations

from pathlib import Path

import pytest

import sim.scenario as scenario
from sim.scenario import ScenarioError
from sim.scenario.overrides import apply_overrides, parse_value, split_path

DATA = Path(__file__).parent / "data" / "scenarios"
MINIMAL = DATA / "minimal.yaml"


def errors(overrides: dict) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        scenario.load(MINIMAL, overrides=overrides)
    return str(info.value).splitlines()


def test_values_are_read_as_yaml() -> None:
    assert parse_value("100") == 100
    assert parse_value("2.5") == 2.5
    assert parse_value("true") is True
    assert parse_value("2s") == "2s"
    assert parse_value("orders") == "orders"
    assert parse_value("{dist: exponential, mean: 5ms}") == {"dist": "exponential", "mean": "5ms"}
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value(7) == 7  # non-strings (Python callers, sweeps) are taken as they are
    assert parse_value("a: b: c") == "a: b: c"  # not YAML on its own: kept as text


def test_split_path() -> None:
    assert split_path("workers.order-service.count") == ["workers", "order-service", "count"]
    assert split_path("faults[0].at") == ["faults", 0, "at"]
    assert split_path("a.b[1][2]") == ["a", "b", 1, 2]
    assert split_path("a..b") is None
    assert split_path("") is None


def test_overrides_set_values_and_names_may_contain_dashes() -> None:
    sc = scenario.load(
        MINIMAL,
        overrides={
            "workers.order-service.count": "4",
            "run.seed": "3",
            "run.duration": "2s",
            "producers.web.arrivals.rate": "5/ms",
        },
    )
    assert sc.data["workers"]["order-service"]["count"] == 4
    assert sc.data["run"]["seed"] == 3 and sc.data["run"]["duration"] == 2.0
    assert sc.data["producers"]["web"]["arrivals"]["rate"] == 5000.0
    assert sc.raw["workers"]["order-service"]["count"] == 4
    assert sc.overrides["run.seed"] == "3"


def test_overrides_create_keys_absent_from_the_file() -> None:
    sc = scenario.load(
        MINIMAL,
        overrides={
            "queues.orders.max_length": 100,
            "run.warmup": "10s",
            "producers.web.message.type": "{choice: [a, b]}",
            "workers.order-service.service_time_by_type.a": "1ms",
        },
    )
    assert sc.data["queues"]["orders"]["max_length"] == 100
    assert sc.data["run"]["warmup"] == 10.0
    assert sc.data["producers"]["web"]["message"]["type"] == {"choice": ["a", "b"]}
    assert sc.data["workers"]["order-service"]["service_time_by_type"] == {
        "a": {"dist": "constant", "value": 0.001}
    }


def test_a_whole_new_component_can_be_set() -> None:
    sc = scenario.load(MINIMAL, overrides={"queues.extra": "{max_length: 5}"})
    assert sc.data["queues"]["extra"]["max_length"] == 5


def test_a_typo_in_a_component_name_is_not_a_new_component() -> None:
    (line,) = errors({"queues.ordrs.max_length": 5})
    assert line.startswith(
        "--set queues.ordrs.max_length: no queue named 'ordrs'; did you mean 'orders'?"
    )


def test_unknown_keys_reached_by_overrides_are_reported_as_overrides() -> None:
    lines = sorted(errors({"queues.orders.max_lenght": 5, "rn.seed": 1}))
    assert lines[0].startswith(
        "--set queues.orders.max_lenght: unknown key 'max_lenght'; did you mean 'max_length'?"
    )
    assert lines[1].startswith("--set rn: unknown key 'rn'; did you mean 'run'?")


def test_bad_values_from_overrides_have_no_line() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario.load(MINIMAL, overrides={"queues.orders.max_length": "-3"})
    (problem,) = info.value.problems
    assert problem.line is None and problem.source == "--set"
    assert str(problem) == "--set queues.orders.max_length: must be a whole number >= 0, got -3"


def test_bad_paths() -> None:
    lines = errors({"a..b": 1, "run.duration.x": 1, "faults.0.at": 1})
    assert lines[0] == "--set a..b: not a valid path (expected dotted keys, e.g. run.seed)"
    assert lines[1] == "--set run.duration.x: run.duration is '10m', not a mapping"
    # a missing section is created as a mapping, which the validator then refuses
    assert lines[2].startswith("--set faults: must be a list of faults")


def test_list_items_are_reached_by_index(tmp_path: Path) -> None:
    text = MINIMAL.read_text().replace("rate: 100}", "schedule: [{until: 1s, rate: 1}, {rate: 2}]}")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    sc = scenario.load(path, overrides={"producers.web.arrivals.schedule[1].rate": "300/m"})
    assert sc.data["producers"]["web"]["arrivals"]["schedule"][1] == {"rate": 5.0}
    with pytest.raises(ScenarioError, match="is a list of 2 items; 2 is not an index"):
        scenario.load(path, overrides={"producers.web.arrivals.schedule.2.rate": 1})


def test_file_and_override_problems_are_reported_together(tmp_path: Path) -> None:
    text = MINIMAL.read_text().replace("orders: {}", "orders: {max_length: -1}")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        scenario.load(path, overrides={"run.seed": -2})
    assert [(p.path, p.line, p.source) for p in info.value.problems] == [
        ("run.seed", None, "--set"),
        ("queues.orders.max_length", 9, str(path)),
    ]


def test_apply_overrides_leaves_the_input_untouched() -> None:
    raw = {"run": {"duration": 1}}
    data, touched, found = apply_overrides(raw, {"run.seed": "4", "x.y": "1"})
    assert raw == {"run": {"duration": 1}}
    assert data == {"run": {"duration": 1, "seed": 4}, "x": {"y": 1}}
    assert touched == {("run", "seed"), ("x", "y")} and found == []
