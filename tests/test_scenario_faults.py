"""Faults: every input form resolved to its ``kind:`` form, in file order, and every
mistake reported at its path and line."""

from __future__ import annotations

import pytest
import yaml

import sim.scenario as scenario
from sim.scenario import ScenarioError

BASE = """\
name: t
run: {duration: 20m}
producers:
  web: {arrivals: {process: poisson, rate: 10}, publish: orders}
brokers:
  main: {type: rabbitmq}
queues:
  orders: {}
workers:
  pool: {consumes: orders, service_time: 10ms, count: 3}
faults:
"""
FIRST_LINE = 12  # the line of the first fault


def faults(*items: str) -> list[dict]:
    text = BASE + "".join(f"  - {item}\n" for item in items)
    return scenario.loads(text).data["faults"]


def problems(*items: str) -> list[str]:
    text = BASE + "".join(f"  - {item}\n" for item in items)
    with pytest.raises(ScenarioError) as info:
        scenario.loads(text, source="s.yaml")
    return str(info.value).splitlines()


def test_every_input_form_resolves_in_file_order() -> None:
    assert faults(
        "{crash: pool, workers: 2, at: 5m, restart_after: 30s}",
        "{crash: pool, workers: 1, at: 6m, silent: true}",
        "{crash: pool, mtbf: 1h, mttr: {dist: exponential, mean: 30s}}",
        "{stop: pool, workers: 1, at: 8m}",
        "{outage: main, at: 10m, duration: 1m}",
        "{slowdown: pool, factor: 5, at: 12m, duration: 2m}",
    ) == [
        {"kind": "crash", "target": "pool", "workers": 2, "at": 300.0,
         "restart_after": {"dist": "constant", "value": 30.0}, "silent": False},
        {"kind": "crash", "target": "pool", "workers": 1, "at": 360.0, "restart_after": None,
         "silent": True},
        {"kind": "crash", "target": "pool", "mtbf": 3600.0,
         "mttr": {"dist": "exponential", "mean": 30.0}, "silent": False},
        {"kind": "stop", "target": "pool", "workers": 1, "at": 480.0, "restart_after": None},
        {"kind": "outage", "target": "main", "at": 600.0, "duration": 60.0},
        {"kind": "slowdown", "target": "pool", "workers": "all", "factor": 5.0, "at": 720.0,
         "duration": 120.0},
    ]  # fmt: skip


def test_defaults_of_scheduled_crashes_and_stops() -> None:
    crash, stop = faults("{crash: pool, workers: 1, at: 0}",
                         "{stop: pool, workers: 2, at: 1s, restart_after: 2s}")
    assert (crash["workers"], crash["restart_after"], crash["silent"]) == (1, None, False)
    assert (stop["workers"], stop["restart_after"]) == (2, {"dist": "constant", "value": 2.0})


def test_workers_all_hits_every_worker_and_is_the_only_slowdown() -> None:
    crash, stop, slow = faults(
        "{crash: pool, workers: all, at: 1m}",
        "{stop: pool, workers: all, at: 2m}",
        "{slowdown: pool, workers: all, factor: 2, at: 1m, duration: 1m}",
    )
    assert (crash["workers"], stop["workers"], slow["workers"]) == ("all", "all", "all")
    # A count above the pool's is an error; `all` follows whatever count an override sets.
    text = BASE + "  - {crash: pool, workers: all, at: 1m}\n"
    raised = scenario.loads(text, overrides={"workers.pool.count": 40})
    assert raised.data["faults"][0]["workers"] == "all"


@pytest.mark.parametrize("kind", ["crash", "stop"])
def test_a_scheduled_crash_or_stop_without_workers_is_an_error(kind: str) -> None:
    # Neither a silent one (the old default) nor a silent all: the user says how many.
    assert problems(f"{{{kind}: pool, at: 1m}}") == [
        f"s.yaml:{FIRST_LINE}: faults[0]: missing required key 'workers': how many workers the "
        f"{kind} hits, a count (workers: 1) or workers: all"
    ]


def test_the_resolved_form_is_accepted_as_input() -> None:
    resolved = faults(
        "{crash: pool, mtbf: 1h, mttr: 30s, silent: true}",
        "{stop: pool, workers: 3, at: 8m}",
        "{outage: main, at: 10m, duration: 1m}",
    )
    again = faults(*(yaml.safe_dump(fault, default_flow_style=True).strip() for fault in resolved))
    assert "kind: crash" in yaml.safe_dump(resolved[0], default_flow_style=True)
    assert again == resolved


def test_no_faults() -> None:
    assert scenario.loads(BASE.replace("faults:\n", "")).data["faults"] == []
    assert scenario.loads(BASE).data["faults"] == []  # `faults:` with nothing under it


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("{crash: pool, workers: 4, at: 1m}",
         "faults[0].workers: must be <= the pool's count (3), got 4"),
        ("{stop: pool, workers: 0, at: 1m}",
         "faults[0].workers: must be a whole number >= 1 or all, got 0"),
        ("{crash: pool, workers: most, at: 1m}",
         "faults[0].workers: must be a whole number >= 1 or all, got 'most'"),
        ("{crash: pool, workers: 4, at: 1m}",
         "faults[0].workers: must be <= the pool's count (3), got 4; workers: all hits every "
         "worker, whatever the count"),
        ("{slowdown: pool, workers: 1, factor: 2, at: 1m, duration: 1m}",
         "faults[0].workers: must be all, got 1: a slowdown slows every worker of the pool"),
        ("{outage: orders, at: 1m, duration: 1m}",
         "faults[0].outage: 'orders' is a queue; an outage takes down a broker: name its "
         "broker ('main')"),
        ("{outage: nobroker, at: 1m, duration: 1m}",
         "faults[0].outage: no broker named 'nobroker'"),
        ("{crash: main, at: 1m}", "faults[0].crash: 'main' is a broker, not a worker pool"),
        ("{slowdown: pol, factor: 2, at: 1m, duration: 1m}",
         "faults[0].slowdown: no worker pool named 'pol'; did you mean 'pool'?"),
        ("{crash: pool, at: 1m, mtbf: 1h, mttr: 1s}",
         "faults[0]: a crash needs either at (scheduled) or mtbf (random), not both"),
        ("{crash: pool}", "faults[0]: a crash needs either at (scheduled) or mtbf (random)"),
        ("{crash: pool, mtbf: 1h}", "faults[0]: missing required key 'mttr'"),
        ("{crash: pool, mtbf: 0, mttr: 1s}", "faults[0].mtbf: must be a duration > 0, got 0"),
        ("{crash: pool, mtbf: 1h, mttr: 1s, workers: 1}",
         "faults[0].workers: workers is for scheduled crashes (at:); a random crash (mtbf:) "
         "strikes every worker of the pool, each coming back after mttr"),
        ("{crash: pool, at: 1m, mttr: 1s}",
         "faults[0].mttr: mttr is for random crashes (mtbf:); a scheduled crash comes back "
         "after restart_after"),
        ("{crash: pool, workers: 1, at: -1s}", "faults[0].at: must be a duration >= 0, got '-1s'"),
        ("{crash: pool, workers: 1, at: 1m, silent: maybe}",
         "faults[0].silent: must be true or false"),
        ("{crash: pool, workers: 1, at: 1m, restart_after: {dist: expo}}",
         "faults[0].restart_after.dist: unknown distribution 'expo'"),
        ("{stop: pool, workers: 1, at: 1m, silent: true}",
         "faults[0].silent: unknown key 'silent' (allowed: stop, workers, at, restart_after)"),
        ("{slowdown: pool, factor: 0, at: 1m, duration: 1m}",
         "faults[0].factor: must be a number > 0, got 0"),
        ("{slowdown: pool, at: 1m, duration: 1m}", "faults[0]: missing required key 'factor'"),
        ("{outage: main, at: 1m, duration: 0}",
         "faults[0].duration: must be a duration > 0, got 0"),
        ("{crash: pool, stop: pool, at: 1m}",
         "faults[0]: a fault needs exactly one of crash, stop, outage, slowdown"),
        ("{at: 1m}", "faults[0]: a fault needs exactly one of crash, stop, outage, slowdown"),
        ("{kind: crash, target: pool, crash: pool, at: 1m}",
         "faults[0]: give {crash: NAME} or {kind: ..., target: NAME}, not both"),
        ("{kind: explode, target: pool}",
         "faults[0].kind: must be one of crash, stop, outage, slowdown, got 'explode'"),
        ("{kind: stop, at: 1m}", "faults[0]: missing required key 'target'"),
        ("{kind: outage, target: orders, at: 1m, duration: 1m}",
         "faults[0].target: 'orders' is a queue; an outage takes down a broker"),
        ("crash pool at 1m", "faults[0]: must be a mapping such as {crash: POOL, at: 5m}"),
    ],
)  # fmt: skip
def test_bad_faults_name_path_and_line(item: str, expected: str) -> None:
    lines = problems(item)
    assert any(line.startswith(f"s.yaml:{FIRST_LINE}: {expected}") for line in lines), lines


def test_every_bad_fault_is_reported_and_the_good_ones_do_not_hide_them() -> None:
    lines = problems(
        "{crash: pool, workers: 1, at: 1m}",
        "{outage: orders, at: 1m, duration: 1m}",
        "{slowdown: pool, factor: -2, at: 1m, duration: 1m}",
    )
    assert [line.split(": ")[0] for line in lines] == [
        f"s.yaml:{FIRST_LINE + 1}",
        f"s.yaml:{FIRST_LINE + 2}",
    ]


def test_faults_must_be_a_list() -> None:
    with pytest.raises(ScenarioError, match=r"s\.yaml:11: faults: must be a list of faults"):
        scenario.loads(BASE.replace("faults:\n", "faults: {crash: pool}\n"), source="s.yaml")


def test_a_fault_set_by_override_is_reported_as_one() -> None:
    sc = scenario.loads(BASE, overrides={"faults": "[{crash: pool, workers: 1, at: 1m}]"})
    assert sc.data["faults"][0]["at"] == 60.0
    with pytest.raises(ScenarioError) as info:
        sc.with_overrides({"faults[0].at": "-1"})
    assert [str(p) for p in info.value.problems] == [
        "--set faults[0].at: must be a duration >= 0, got -1"
    ]
