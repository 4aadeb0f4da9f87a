"""Warnings: scenarios that are valid but probably not what their author meant.

`compute(data)` takes the resolved scenario (after overrides) and returns one human-readable
string per suspicion, each starting with the YAML path it is about (``queues.emails: ...``).
They never stop a run; `Scenario.warnings` holds them. Loads, rates and message counts are
expectations from the analytic means (`sim.scenario.estimates`), so the figures are rough.

Warned about:

- a queue no worker pool consumes (its copies stay pending; a dead-letter queue's too);
- dead-letter cycles (a -> b -> a, any length): a failing message is copied round forever;
- a fault scheduled when publishing is over: it only hits the drain, or never happens (when
  the end of publishing is an estimate, only faults more than 10% after it);
- offered load above the capacity of a queue's pools (arrival rate against count x
  concurrency / mean service time, counting retries), with the backlog left when publishing
  ends (when at least 10 copies);
- a run expected to publish more than 50 million messages (memory: ~200 bytes a message);
- a producer expected to send nothing (``rate: 0``): without a word the run prints "published
  for 0.0 s" and empty plots;
- a pool whose every processing fails (``error_rate: 1``) with retries requeued and no
  ``max_deliveries`` on its queue: the copies loop until the drain gives up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sim.format import show_duration
from sim.scenario.estimates import RESOLUTION, Estimates
from sim.scenario.memory import count_text as _count
from sim.scenario.memory import need
from sim.scenario.workers import pipeline_cycles, retries_forever

HUGE_MESSAGES = 50_000_000
MIN_BACKLOG = 10  # copies: an overload that leaves fewer behind is not worth a warning
ESTIMATE_SLACK = 0.1  # a fault is late only 10% after an estimated end of publishing


def compute(data: Mapping[str, Any], built: Mapping[str, Any] | None = None) -> list[str]:
    """Every warning about a resolved scenario, in the order of its sections (``built``: arrival
    processes already built, by `sim.scenario.arrival_specs.arrival_key` of their spec)."""
    estimates = Estimates(data, built)
    return [
        *_huge_run(data, estimates),
        *_silent_producers(data, estimates),
        *_unconsumed_queues(data, estimates),
        *_dead_letter_cycles(data),
        *_pipeline_cycles(data),
        *_overloaded_queues(data, estimates),
        *_endless_retries(data),
        *_late_faults(data, estimates),
    ]


def scenario_warnings(scenario: object) -> list[str]:
    """A loaded scenario's warnings (its ``warnings``), one text each: the one definition the
    CLI (before a run) and the API (into every summary) both print."""
    return [str(text) for text in getattr(scenario, "warnings", None) or []]


def _time(seconds: float) -> str:
    """A duration for reading: 850 µs, 12.3 ms, 4.56 s, 10.0 min (below 1 µs: in seconds)."""
    if 0 < seconds < 1e-6:
        return f"{seconds:.3g} s"
    return show_duration(seconds)


def _rate(x: float) -> str:
    """A rate per second, three significant figures: 120/s, 0.5/s."""
    return f"{x:,.0f}/s" if x >= 100 else f"{x:.3g}/s"


def _names(names: list[str]) -> str:
    return ", ".join(names)


def _huge_run(data: Mapping[str, Any], estimates: Estimates) -> list[str]:
    needed = need(data, estimates)
    if needed.messages <= HUGE_MESSAGES:
        return []
    return [
        f"{'.'.join(needed.path)}: {needed.describe()} (shorten the run or lower the rates to "
        "try the scenario out first)"
    ]


def _silent_producers(data: Mapping[str, Any], estimates: Estimates) -> list[str]:
    """Producers whose arrivals are expected to send nothing at all."""
    if estimates.publishing is None:
        return []
    silent = [s for s in estimates.sources if estimates.sent.get(s.name, 0.0) == 0]
    everyone = len(silent) == len(estimates.sources)
    out = []
    for source in silent:
        arrivals = data["producers"][source.name]["arrivals"]
        why = " (rate 0)" if arrivals.get("rate") == 0 else ""
        if arrivals.get("schedule") and all(s["rate"] == 0 for s in arrivals["schedule"]):
            why = " (every step of its schedule has rate 0)"
        then = ": nothing is published, and the run ends at once" if everyone else ""
        out.append(f"producers.{source.name}.arrivals: this producer sends nothing{why}{then}")
    return out


def _unconsumed_queues(data: Mapping[str, Any], estimates: Estimates) -> list[str]:
    consumed = {pool["consumes"] for pool in data["workers"].values()}
    out = []
    for name in data["queues"]:
        if name in consumed:
            continue
        publishers = [p for p, spec in data["producers"].items()
                      if _reaches(data, spec["publish"], name)]
        publishers += [p for p, spec in data["workers"].items()
                       if spec.get("then") and _reaches(data, spec["then"]["publish"], name)]
        feeding = [q for q, spec in data["queues"].items() if spec["dead_letter"] == name]
        if publishers:
            copies = estimates.into.get(name)
            about = f" (about {_count(copies)})" if copies is not None else ""
            out.append(
                f"queues.{name}: no worker pool consumes it: the copies {_names(publishers)} "
                f"publish{'es' if len(publishers) == 1 else ''} to it{about} stay pending, "
                "and the drain does not wait for them"
            )
        elif feeding:
            out.append(
                f"queues.{name}: no worker pool consumes it: the copies dead-lettered into it "
                f"(from {_names(feeding)}) stay pending; add a pool with consumes: {name} "
                "to process them"
            )
        else:
            out.append(
                f"queues.{name}: nothing publishes to it, dead-letters into it or consumes it "
                "(unused)"
            )
    return out


def _reaches(data: Mapping[str, Any], target: str | None, queue: str) -> bool:
    """Whether publishing to ``target`` (a queue or an exchange) can put a copy in ``queue``."""
    if target is None:
        return False
    exchange = data.get("exchanges", {}).get(target)
    if exchange is None:
        return target == queue
    if exchange["type"] == "custom" and not exchange["bindings"]:  # every queue of its broker
        return data["queues"][queue]["broker"] == exchange["broker"]
    return queue == exchange.get("alternate") or any(
        b["queue"] == queue for b in exchange["bindings"])


def _pipeline_cycles(data: Mapping[str, Any]) -> list[str]:
    """A pool whose follow-ups surely come back to its own queue (probability 1, through a
    queue or a fanout exchange, pool after pool): every message then circulates forever, so
    the drain can only end at its timeout. (A loop that also takes no time is refused when
    the scenario is loaded: see `sim.scenario.workers.pipeline_cycles`.)"""
    out = []
    for start, path in pipeline_cycles(data):
        chain = " -> ".join(path)
        out.append(
            f"workers.{path[0]}.then: every message processed from queue {start} comes "
            f"back to it (follow-ups with probability 1 through {chain}): messages "
            "circulate forever and the drain ends only at drain_timeout; give a "
            "probability below 1"
        )
    return out


def _dead_letter_cycles(data: Mapping[str, Any]) -> list[str]:
    queues = data["queues"]
    order = {name: i for i, name in enumerate(queues)}
    done: set[str] = set()
    out = []
    for start in queues:
        walk: list[str] = []
        position: dict[str, int] = {}
        name: str | None = start
        while name is not None and name not in position and name not in done:
            position[name] = len(walk)
            walk.append(name)
            name = queues[name]["dead_letter"]
        done.update(walk)
        if name is None or name not in position:
            continue  # the chain ends, or joins one already walked
        cycle = walk[position[name] :]
        first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
        cycle = cycle[first:] + cycle[:first]  # start at the queue written first
        shown = " → ".join([*cycle, cycle[0]])
        out.append(
            f"queues.{cycle[0]}.dead_letter: dead-letter cycle {shown}: a message that keeps "
            "failing or expiring is copied round it (a new copy each time) until the run ends, "
            "instead of settling as dead-lettered"
        )
    return out


def _overloaded_queues(data: Mapping[str, Any], estimates: Estimates) -> list[str]:
    run, publishing = data["run"], estimates.publishing
    if not publishing:  # unknown, or everything is published at t = 0: no rate to compare
        return []
    out = []
    for name, spec in data["queues"].items():
        if name in estimates.uncertain:
            continue  # routed by keys, headers or code: how many arrive is not known here
        copies = estimates.into.get(name, 0.0)
        pools = [p for p in estimates.pools_of(name) if not math.isinf(p.processings)]
        if copies <= 0 or not pools:
            continue  # nothing arrives, nobody consumes, or copies always fail (warned there)
        arrival = copies / publishing
        capacity = sum(p.rate for p in pools)
        if not arrival > capacity * (1 + 1e-9):
            continue
        parts = []
        for p in pools:
            retries = (
                f", {p.processings:.3g} processings a copy with retries"
                if p.processings > 1 + 1e-9
                else ""
            )
            service = "an infinite" if math.isinf(p.service) else _time(p.service)
            parts.append(
                f"{p.name}: {p.slots} slot{'s' if p.slots != 1 else ''} / "
                f"{service} mean service time{retries}"
            )
        backlog = (arrival - capacity) * publishing
        if backlog < MIN_BACKLOG:
            continue
        text = (
            f"queues.{name}: offered load above capacity: about {_rate(arrival)} arrive but "
            f"its pools complete about {_rate(capacity)} ({'; '.join(parts)}); "
        )
        limit, overflow = spec["max_length"], spec["overflow"]
        if limit is not None and backlog > limit and overflow != "block":
            fate = "refused at publish" if overflow == "reject-publish" else "dropped from its head"
            text += (
                f"it holds at most {limit} ready copies, so about {_count(backlog - limit)} "
                f"copies are {fate} (overflow: {overflow}) over {_time(publishing)}"
            )
        else:
            if limit is not None and backlog > limit:
                text += (
                    f"it holds at most {limit} ready copies and the publishes beyond them wait "
                    "(overflow: block), slowing their producers; "
                )
            text += (
                f"a backlog of about {_count(backlog)} copies builds up by the end of "
                f"publishing (({_rate(arrival)} − {_rate(capacity)}) × "
                f"{_time(publishing)})"
            )
            text += _after_publishing(run, backlog, capacity)
        out.append(text)
    return out


def _after_publishing(run: Mapping[str, Any], backlog: float, capacity: float) -> str:
    """What becomes of a backlog once publishing ends."""
    if not run["drain"]:
        return ", left pending (run.drain: false)"
    clearing = backlog / capacity if capacity > 0 else math.inf
    timeout = run["drain_timeout"]
    if clearing <= timeout:
        return f"; the drain needs about {_time(clearing)} to clear it"
    left = backlog - capacity * timeout
    return (
        f"; the drain gives up after drain_timeout {_time(timeout)}, leaving about "
        f"{_count(left)} copies pending"
    )


def _endless_retries(data: Mapping[str, Any]) -> list[str]:
    run, out = data["run"], []
    for name, pool in data["workers"].items():
        queue = pool["consumes"]
        if not retries_forever(pool, data["queues"].get(queue)):
            continue
        until = (
            f"until the drain gives up (drain_timeout {_time(run['drain_timeout'])})"
            if run["drain"]
            else "until publishing ends"
        )
        out.append(
            f"workers.{name}.error_rate: every processing fails (error_rate: 1) and failed "
            f"copies are requeued (retry.requeue: true) with no max_deliveries on queue "
            f"{queue}: each copy is retried over and over {until}; set "
            f"queues.{queue}.max_deliveries (and a dead_letter queue) to stop them"
        )
    return out


def _late_faults(data: Mapping[str, Any], estimates: Estimates) -> list[str]:
    run, publishing = data["run"], estimates.publishing
    if publishing is None:
        return []
    exact = run["duration"] is not None and publishing == run["duration"]
    when = (
        f"publishing ends at {_time(publishing)} (run.duration)"
        if exact
        else f"publishing is expected to end at about {_time(publishing)}"
    )
    # An estimated end (a message budget met by random arrivals) varies from run to run.
    end = publishing + (0.0 if exact else ESTIMATE_SLACK * publishing) + RESOLUTION
    out = []
    for i, fault in enumerate(data["faults"]):
        at = fault.get("at")
        if at is None or at <= end:
            continue  # random crashes (mtbf) have no time; this one strikes while publishing
        what = f"faults[{i}].at: the {fault['kind']} of {fault['target']} at {_time(at)}"
        if not run["drain"]:
            out.append(f"{what} never happens: {when} and the run with it (run.drain: false)")
        elif at > end + run["drain_timeout"]:
            over = publishing + run["drain_timeout"]
            out.append(
                f"{what} never happens: {when} and the drain is over by "
                f"{_time(over)} (drain_timeout {_time(run['drain_timeout'])})"
            )
        else:
            out.append(
                f"{what} only hits the drain: {when}, so it happens only if the queues are "
                "still being drained then, and no new messages meet it"
            )
    return out
