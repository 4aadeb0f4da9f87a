"""Scenario.warnings: valid but suspicious scenarios, each warning naming its YAML path."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import write_trace

import sim
import sim.scenario as scenario
from sim.scenario import Scenario
from sim.scenario.warnings import compute

SCENARIOS = Path(__file__).parent.parent / "scenarios"
FLAGSHIP = SCENARIOS / "traffic_spike.yaml"

BASE = """\
name: t
run: {duration: 10m}
producers:
  web: {arrivals: {process: poisson, rate: 10}, publish: orders}
queues:
  orders: {}
workers:
  pool: {consumes: orders, count: 2, service_time: 100ms}
"""


def warnings_of(text: str = BASE, **overrides: Any) -> list[str]:
    return scenario.loads(text, overrides=overrides or None).warnings


def follow(data: dict[str, Any], path: str) -> Any:
    """The resolved value at a warning's path (KeyError/IndexError if there is none)."""
    value: Any = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        value = value[int(part[1:-1])] if part.startswith("[") else value[part]
    return value


def assert_paths_exist(sc: Scenario) -> None:
    for warning in sc.warnings:
        path, sep, _ = warning.partition(": ")
        assert sep and " " not in path, warning
        follow(sc.data, path)


# --- clean scenarios ------------------------------------------------------------------------


def test_the_flagship_scenario_has_no_warnings() -> None:
    sc = sim.load(FLAGSHIP)
    assert sc.warnings == []
    assert isinstance(sc.warnings, list)


def test_the_base_scenario_has_no_warnings() -> None:
    assert warnings_of() == []


# Shipped scenarios that warn, and why: their dead-letter queues have no consumer, so what
# reaches them stays pending (the point of those scenarios is to count dead-lettered copies);
# kafka_partitions_cap is overloaded because its partitions cap the group at 2 consumers
# (the point of that scenario).
SHIPPED_WARNINGS = {
    "kafka_partitions_cap.yaml": [
        'queues.images: offered load above capacity: about 12/s arrive but its pools complete abo'
        'ut 10/s (resizer: 2 slots / 200 ms mean service time); a backlog of about 600 copies bui'
        'lds up by the end of publishing ((12/s − 10/s) × 5.00 min); the drain needs about 60.0 s'
        ' to clear it'
    ],
    "poison_messages.yaml": [
        "queues.payments-dlq: no worker pool consumes it: the copies dead-lettered into it (from "
        "payments) stay pending; add a pool with consumes: payments-dlq to process them"
    ],
    "sqs_visibility_duplicates.yaml": [
        "queues.reports-dlq: no worker pool consumes it: the copies dead-lettered into it (from "
        "reports) stay pending; add a pool with consumes: reports-dlq to process them"
    ],
}


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_warn_only_when_genuinely_suspicious(path: Path) -> None:
    sc = sim.load(path)
    assert sc.warnings == SHIPPED_WARNINGS.get(path.name, [])
    assert_paths_exist(sc)


# --- a queue nothing consumes -----------------------------------------------------------------


def test_a_queue_that_nothing_consumes() -> None:
    text = """\
name: t
run: {duration: 10m}
producers:
  web: {arrivals: {process: poisson, rate: 10}, publish: orders}
  audit: {arrivals: {process: poisson, rate: 1}, publish: audit-log}
queues:
  orders: {}
  audit-log: {}
workers:
  pool: {consumes: orders, count: 2, service_time: 100ms}
"""
    assert warnings_of(text) == [
        "queues.audit-log: no worker pool consumes it: the copies audit publishes to it (about "
        "600) stay pending, and the drain does not wait for them"
    ]


def test_a_dead_letter_queue_that_nothing_consumes() -> None:
    found = warnings_of(**{"queues.orders.dead_letter": "dlq", "queues.dlq": {}})
    assert found == [
        "queues.dlq: no worker pool consumes it: the copies dead-lettered into it (from orders) "
        "stay pending; add a pool with consumes: dlq to process them"
    ]
    consumed = warnings_of(
        **{
            "queues.orders.dead_letter": "dlq",
            "queues.dlq": {},
            "workers.dlq-reader": {"consumes": "dlq", "service_time": "1ms"},
        }
    )
    assert consumed == []


def test_an_unused_queue() -> None:
    assert warnings_of(**{"queues.spare": {}}) == [
        "queues.spare: nothing publishes to it, dead-letters into it or consumes it (unused)"
    ]


# --- dead-letter cycles -----------------------------------------------------------------------


def _chain(*links: tuple[str, str]) -> dict[str, Any]:
    """Overrides adding consumed queues with the given dead-letter links."""
    out: dict[str, Any] = {}
    for source, target in links:
        for name in (source, target):
            if name != "orders":
                out.setdefault(f"queues.{name}", {})
                out[f"workers.{name}-pool"] = {"consumes": name, "service_time": "1ms"}
    for source, target in links:
        if source == "orders":
            out["queues.orders.dead_letter"] = target
        else:
            out[f"queues.{source}"] = {"dead_letter": target}
    return out


def test_a_two_queue_dead_letter_cycle() -> None:
    found = warnings_of(**_chain(("orders", "b"), ("b", "orders")))
    assert found == [
        "queues.orders.dead_letter: dead-letter cycle orders → b → orders: a message that keeps "
        "failing or expiring is copied round it (a new copy each time) until the run ends, "
        "instead of settling as dead-lettered"
    ]


def test_a_longer_cycle_is_reported_once_from_the_first_queue_written() -> None:
    found = warnings_of(**_chain(("orders", "b"), ("b", "c"), ("c", "d"), ("d", "b")))
    assert len(found) == 1
    assert found[0].startswith("queues.b.dead_letter: dead-letter cycle b → c → d → b: ")


def test_a_dead_letter_chain_without_a_cycle_is_fine() -> None:
    assert warnings_of(**_chain(("orders", "b"), ("b", "c"))) == []


# --- faults after publishing ----------------------------------------------------------------


def test_a_fault_during_the_drain() -> None:
    found = warnings_of(**{"faults": [{"crash": "pool", "workers": 1, "at": "11m"}]})
    assert found == [
        "faults[0].at: the crash of pool at 11.0 min only hits the drain: publishing ends at "
        "10.0 min (run.duration), so it happens only if the queues are still being drained "
        "then, and no new messages meet it"
    ]


def test_a_fault_after_the_drain_timeout_never_happens() -> None:
    found = warnings_of(
        **{"run.drain_timeout": "5m", "faults": [{"outage": "default", "at": "1h", "duration": 5}]}
    )
    assert found == [
        "faults[0].at: the outage of default at 60.0 min never happens: publishing ends at "
        "10.0 min (run.duration) and the drain is over by 15.0 min (drain_timeout 5.00 min)"
    ]


def test_a_fault_after_publishing_without_drain_never_happens() -> None:
    stop = {"stop": "pool", "workers": 1, "at": 601}
    found = warnings_of(**{"run.drain": False, "faults": [stop]})
    assert found == [
        "faults[0].at: the stop of pool at 10.0 min never happens: publishing ends at 10.0 min "
        "(run.duration) and the run with it (run.drain: false)"
    ]


def test_faults_while_publishing_and_random_crashes_are_fine() -> None:
    faults = [
        {"crash": "pool", "workers": 1, "at": "5m", "restart_after": "1m"},
        {"slowdown": "pool", "factor": 3, "at": "9m", "duration": "5m"},
        {"crash": "pool", "mtbf": "1h", "mttr": "30s"},
    ]
    assert warnings_of(**{"faults": faults}) == []


def test_a_fault_after_an_estimated_end_of_publishing() -> None:
    # 1000 messages at 10/s: publishing is expected to end at about 100 s.
    crash = {"crash": "pool", "workers": 1, "at": "5m"}
    late = warnings_of(**{"run": {"messages": 1000}, "faults": [crash]})
    assert late == [
        "faults[0].at: the crash of pool at 5.00 min only hits the drain: publishing is "
        "expected to end at about 100 s, so it happens only if the queues are still being "
        "drained then, and no new messages meet it"
    ]
    # Random arrivals may well run past the estimate: no warning within 10% of it.
    near = warnings_of(**{"run": {"messages": 1000}, "faults": [{**crash, "at": 105}]})
    assert near == []


# --- offered load above capacity ----------------------------------------------------------------


def test_an_overloaded_queue_says_how_many_copies_are_left() -> None:
    # 10/s against 2 workers x 1 / 250 ms = 8/s: 2/s x 600 s = 1200 copies behind.
    found = warnings_of(**{"workers.pool.service_time": "250ms"})
    assert found == [
        "queues.orders: offered load above capacity: about 10/s arrive but its pools complete "
        "about 8/s (pool: 2 slots / 250 ms mean service time); a backlog of about 1,200 copies "
        "builds up by the end of publishing ((10/s − 8/s) × 10.0 min); the drain needs about "
        "2.50 min to clear it"
    ]


def test_the_flagship_overloaded_uses_the_types_mean_service_time() -> None:
    # 36/s on average; 0.8 x 80 ms + 0.2 x 250 ms = 114 ms a message: 2 workers do 17.5/s.
    sc = sim.load(FLAGSHIP, overrides={"workers.mailer.count": 2})
    (warning,) = sc.warnings
    assert warning.startswith(
        "queues.emails: offered load above capacity: about 36/s arrive but its pools complete "
        "about 17.5/s (mailer: 2 slots / 114 ms mean service time); a backlog of about 11,000 "
        "copies builds up by the end of publishing"
    )


def test_overload_from_a_trace_uses_its_service_times_and_types(tmp_path: Path) -> None:
    # One arrival a second for 100 s; half give service_time 3 s, half are of type slow (1 s).
    times = [float(i) for i in range(101)]
    services = ["3" if i % 2 == 0 else "" for i in range(101)]
    types = ["" if i % 2 == 0 else "slow" for i in range(101)]
    path = write_trace(tmp_path / "t.csv", times, service_time=services, type=types)
    text = f"""\
name: t
run: {{duration: 10m}}
producers:
  p: {{arrivals: {{process: trace, file: {path}}}, publish: q}}
queues: {{q: {{}}}}
workers:
  w: {{consumes: q, service_time: 10ms, service_time_by_type: {{slow: 1s}}}}
"""
    (warning,) = warnings_of(text)
    # 101 arrivals over the 100 s the trace lasts: (51 x 3 s + 50 x 1 s) / 101 = 2.01 s each
    assert warning.startswith(
        "queues.q: offered load above capacity: about 1.01/s arrive but its pools complete "
        "about 0.498/s (w: 1 slot / 2.01 s mean service time); a backlog of about 51 copies"
    )


def test_overload_left_pending_when_the_drain_is_short_or_off() -> None:
    short = warnings_of(**{"workers.pool.service_time": "250ms", "run.drain_timeout": "1m"})
    assert short[0].endswith(
        "; the drain gives up after drain_timeout 60.0 s, leaving about 720 copies pending"
    )
    off = warnings_of(**{"workers.pool.service_time": "250ms", "run.drain": False})
    assert off[0].endswith("× 10.0 min), left pending (run.drain: false)")


def test_overload_on_a_bounded_queue() -> None:
    found = warnings_of(**{"workers.pool.service_time": "250ms", "queues.orders.max_length": 100})
    assert found[0].endswith(
        "it holds at most 100 ready copies, so about 1,100 copies are refused at publish "
        "(overflow: reject-publish) over 10.0 min"
    )


def test_overload_counts_retries() -> None:
    # error_rate 0.5 with up to 3 deliveries: 1.75 processings a copy; 2 / 175 ms = 11.4/s.
    found = warnings_of(
        **{
            "workers.pool.error_rate": 0.5,
            "queues.orders.max_deliveries": 3,
            "producers.web.arrivals.rate": 15,
        }
    )
    assert len(found) == 1
    assert (
        "(pool: 2 slots / 100 ms mean service time, 1.75 processings a copy with retries)"
        in (found[0])
    )


def test_load_below_capacity_or_a_tiny_backlog_is_fine() -> None:
    assert warnings_of(**{"workers.pool.service_time": "199ms"}) == []  # 10.05/s > 10/s
    # 10/s against 9.9/s for 10 s: a backlog of 1 copy is not worth a warning
    assert warnings_of(**{"workers.pool.service_time": "202ms", "run.duration": 10}) == []


# --- a huge run -------------------------------------------------------------------------------


def test_a_huge_run_states_the_messages_and_the_memory() -> None:
    found = warnings_of(**{"producers.web.arrivals.rate": 100_000, "workers.pool.count": 20_000})
    assert found == [
        "run.duration: about 60,000,000 messages expected (100,000/s for 10.0 min); at about 200 "
        "bytes a message the run needs about 12.0 GB of memory (shorten the run or lower the "
        "rates to try the scenario out first)"
    ]


def test_a_huge_message_budget() -> None:
    found = warnings_of(
        **{"run": {"messages": 60_000_000}, "producers.web.arrivals.rate": 1_000_000,
           "workers.pool.count": 200_000}
    )  # fmt: skip
    assert found == [
        "run.messages: about 60,000,000 messages expected (1,000,000/s for 60.0 s); at about "
        "200 bytes a message the run needs about 12.0 GB of memory (shorten the run or lower "
        "the rates to try the scenario out first)"
    ]


def test_fifty_million_is_not_huge() -> None:
    assert warnings_of(**{"run": {"messages": 50_000_000}, "workers.pool.count": 10}) == []


# --- a pool that always fails and retries forever ---------------------------------------------


def test_a_pool_that_always_fails_and_requeues_forever() -> None:
    found = warnings_of(**{"workers.pool.error_rate": 1})
    assert found == [
        "workers.pool.error_rate: every processing fails (error_rate: 1) and failed copies are "
        "requeued (retry.requeue: true) with no max_deliveries on queue orders: each copy is "
        "retried over and over until the drain gives up (drain_timeout 100 min); set "
        "queues.orders.max_deliveries (and a dead_letter queue) to stop them"
    ]


def test_always_failing_is_fine_with_max_deliveries_or_without_requeue() -> None:
    # (at 5/s: three processings of 100 ms each leave 2 workers enough room)
    bounded = {"queues.orders.max_deliveries": 3, "producers.web.arrivals.rate": 5}
    assert warnings_of(**{"workers.pool.error_rate": 1, **bounded}) == []
    assert warnings_of(**{"workers.pool.error_rate": 1, "workers.pool.retry.requeue": False}) == []


# --- the attribute ----------------------------------------------------------------------------


def test_warnings_are_computed_after_overrides_and_again_with_more() -> None:
    sc = sim.load(FLAGSHIP)
    assert sc.warnings == []
    slow = sc.with_overrides({"workers.mailer.count": 2})
    assert len(slow.warnings) == 1 and slow.warnings[0].startswith("queues.emails: ")
    assert slow.with_overrides({"workers.mailer.count": 6}).warnings == []
    assert sim.loads(FLAGSHIP.read_text(), overrides={"workers.mailer.count": 2}).warnings == (
        slow.warnings
    )


def test_warnings_are_plain_strings_that_survive_pickling() -> None:
    sc = scenario.loads(BASE, overrides={"queues.spare": {}, "workers.pool.error_rate": 1})
    assert all(type(w) is str for w in sc.warnings) and len(sc.warnings) == 2
    assert pickle.loads(pickle.dumps(sc)).warnings == sc.warnings
    assert compute(sc.data) == sc.warnings
    assert_paths_exist(sc)


def test_every_kind_of_warning_names_an_existing_path() -> None:
    sc = scenario.loads(
        BASE,
        overrides={
            "queues.spare": {},
            "queues.orders.dead_letter": "b",
            "queues.b": {"dead_letter": "orders"},
            "workers.pool.error_rate": 1,
            "workers.other": {"consumes": "b", "service_time": "10s"},
            "producers.batch": {"arrivals": {"process": "poisson", "rate": 1}, "publish": "b"},
            "producers.web.arrivals.rate": 100_000,
            "faults": [{"crash": "pool", "workers": 1, "at": "20m"}],
        },
    )
    assert len(sc.warnings) == 6
    assert_paths_exist(sc)


def test_the_cli_and_the_api_print_the_warnings_of_one_definition() -> None:
    """``mqsim`` prints before a run what every summary carries as ``warnings``: one function,
    in the scenario layer, not a copy in the CLI beside the API's."""
    import sim.api
    import sim.commands
    import sim.scenario.warnings

    one = sim.scenario.warnings.scenario_warnings
    assert sim.api.scenario_warnings is one
    assert sim.commands.scenario_warnings is one
    assert not hasattr(sim.commands, "warning_texts")
    loaded = scenario.loads(BASE, overrides={"queues.spare": {}})  # nothing consumes it
    assert one(loaded) == loaded.warnings and len(loaded.warnings) == 1
    assert sim.run(loaded).summary["warnings"] == loaded.warnings
