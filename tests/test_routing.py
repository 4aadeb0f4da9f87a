"""Routing: each exchange strategy alone, then exact counts through whole runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import run_checked, scenario_from

import sim
from sim.cli import main
from sim.model.message import new
from sim.model.routing import (
    CustomExchange,
    DirectExchange,
    FanoutExchange,
    HeadersExchange,
    RoutingError,
    TopicExchange,
    headers_match,
    topic_matches,
)

# --- the strategies alone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("order.*", "order.created", True),
        ("order.*", "order", False),  # * is exactly one word
        ("order.*", "order.created.eu", False),
        ("order.#", "order", True),  # # is zero or more words
        ("order.#", "order.created.eu", True),
        ("#", "", True),
        ("#", "a.b.c", True),
        ("*", "", False),
        ("*.created", "order.created", True),
        ("*.created", "created", False),
        ("#.eu", "order.created.eu", True),
        ("#.eu", "eu", True),
        ("order.#.eu", "order.eu", True),
        ("order.#.eu", "order.a.b.eu", True),
        ("order.#.eu", "order.a.b.us", False),
        ("*.*.eu", "order.created.eu", True),
        ("*.*.eu", "order.eu", False),
        ("#.*", "", False),  # at least one word
        ("#.*", "x", True),
        ("order.created", "order.created", True),
        ("order.created", "order.createdx", False),
    ],
)
def test_topic_wildcards(pattern: str, key: str, matches: bool) -> None:
    assert topic_matches(pattern, key) is matches


@pytest.mark.parametrize(
    ("match", "x_match", "headers", "expected"),
    [
        ({"region": "eu", "tier": "gold"}, "all", {"region": "eu", "tier": "gold"}, True),
        ({"region": "eu", "tier": "gold"}, "all", {"region": "eu", "tier": "free"}, False),
        ({"region": "eu", "tier": "gold"}, "any", {"region": "eu", "tier": "free"}, True),
        ({"region": "eu", "tier": "gold"}, "any", {"region": "us"}, False),
        ({"region": "eu"}, "all", None, False),
        ({}, "all", {"region": "eu"}, True),  # an empty all-match takes everything
        ({"level": 1}, "all", {"level": "1"}, True),  # values compare as text
    ],
)
def test_headers_any_and_all(match, x_match, headers, expected) -> None:
    assert headers_match(match, x_match, headers) is expected


class FakeQueue:
    """A queue as routing sees it: a name (and an identity)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


def queue(name: str) -> FakeQueue:
    return FakeQueue(name)


BROKER = FakeQueue("b")  # (routing reads no more of a broker than of a queue)


def message(routing_key: str | None = None, headers: dict | None = None, key: int = -1):
    m = new(0, key, -1, 0, 0.0, 0)
    m.routing_key, m.headers = routing_key, headers
    return m


def test_direct_exchange_matches_whole_keys_and_counts_the_unroutable() -> None:
    a, b, alt = queue("a"), queue("b"), queue("alt")
    exchange = DirectExchange("d", BROKER, None, [(a, "x"), (b, "x"), (b, "y"), (a, "x")])
    assert exchange.route(message("x")) == (a, b)  # a bound twice gets one copy
    assert exchange.route(message("y")) == (b,)
    assert exchange.route(message("z")) == ()
    assert exchange.counters() == {"routed": 2, "unroutable": 1, "to_alternate": 0, "dropped": 1}
    with_alternate = DirectExchange("d", BROKER, alt, [(a, "x")])
    assert with_alternate.route(message("z")) == (alt,)
    assert with_alternate.counters()["to_alternate"] == 1


def test_topic_exchange_gives_one_copy_per_queue_and_caches_per_key() -> None:
    a, b = queue("a"), queue("b")
    exchange = TopicExchange("t", BROKER, None, [(a, "order.*"), (b, "#"), (a, "#.eu")])
    assert exchange.route(message("order.eu")) == (a, b)
    assert exchange.route(message("order.eu")) == (a, b)  # from the cache: same answer
    assert exchange.route(message("user.created.us")) == (b,)
    assert exchange.route(message("")) == (b,)
    assert exchange.routed == 4 and exchange.unroutable == 0


def test_fanout_and_headers_exchanges() -> None:
    a, b = queue("a"), queue("b")
    fanout = FanoutExchange("f", BROKER, None, [a, b, a])
    assert fanout.route(message()) == (a, b)
    headers = HeadersExchange(
        "h", BROKER, None, [(a, {"region": "eu"}, "all"), (b, {"region": "eu", "vip": 1}, "any")]
    )
    assert headers.route(message(headers={"region": "eu"})) == (a, b)
    assert headers.route(message(headers={"vip": "1"})) == (b,)
    assert headers.route(message(headers={})) == ()
    assert headers.unroutable == 1


def test_custom_exchange_answers_and_errors() -> None:
    a, b = queue("a"), queue("b")

    def describe(m):
        return {"key": m.key}

    def make(function):
        return CustomExchange("c", BROKER, None, function, [a, b], describe)

    assert make(lambda m, names: ["b", "a", "b"]).route(message()) == (b, a)
    assert make(lambda m, names: names[m["key"] % 2 :]).route(message(key=1)) == (b,)
    assert make(lambda m, names: []).route(message()) == ()
    with pytest.raises(RoutingError, match="returned 'nope', not a queue it may use"):
        make(lambda m, names: ["nope"]).route(message())
    with pytest.raises(RoutingError, match="must return a list of queue names, got 'a'"):
        make(lambda m, names: "a").route(message())
    with pytest.raises(RoutingError, match="the router raised ZeroDivisionError"):
        make(lambda m, names: [1 / 0]).route(message())


# --- whole runs: exact counts -----------------------------------------------------------------

TOPIC = """
    name: topic
    run: {duration: 10}
    producers:
      web:
        arrivals: {process: constant, interval: 1}
        message:
          type: {sequence: "t"}
          headers: {region: {choice: [eu]}}
        publish: events
        routing_key: "order.{type}.{headers[region]}"
    exchanges:
      events:
        type: topic
        bindings:
          - {queue: first, key: "order.t1.*"}
          - {queue: all, key: "order.#"}
          - {queue: first, key: "#.t1.eu"}
          - {queue: late, key: "*.t9.eu"}
    queues: {first: {}, all: {}, late: {}}
    workers:
      w1: {consumes: first, service_time: 0.1}
      w2: {consumes: all, service_time: 0.1}
      w3: {consumes: late, service_time: 0.1}
"""


def test_topic_routing_through_a_run_counts_each_copy_once_per_queue() -> None:
    result = run_checked(scenario_from(TOPIC))
    s = result.summary
    assert s["producers"]["web"]["sent"] == 10
    enqueued = {name: q["totals"]["enqueued"] for name, q in s["queues"].items()}
    assert enqueued == {"first": 1, "all": 10, "late": 1}  # t1 matched twice: one copy
    assert s["totals"]["published"] == 10 and s["totals"]["enqueued"] == 12
    assert s["totals"]["completed"] == 12 and s["totals"]["unroutable"] == 0
    assert s["exchanges"]["events"] == {"routed": 10, "unroutable": 0, "to_alternate": 0,
                                        "dropped": 0}
    first = result.messages[result.messages["queue"] == "first"]
    assert first["type"].tolist() == ["t1"] and first["id"].tolist() == [0]


def test_unroutable_publishes_are_counted_then_dropped_or_sent_to_the_alternate() -> None:
    # Types t1..t10; only t3 is bound.
    start, end = TOPIC.index("        bindings:"), TOPIC.index("    queues:")
    text = TOPIC[:start] + '        bindings: [{queue: first, key: "order.t3.eu"}]\n' + TOPIC[end:]
    dropped = run_checked(scenario_from(text)).summary
    assert dropped["totals"]["unroutable"] == 9
    assert dropped["exchanges"]["events"] == {"routed": 1, "unroutable": 9, "to_alternate": 0,
                                              "dropped": 9}
    assert dropped["totals"]["published"] == 10 and dropped["totals"]["enqueued"] == 1
    kept = run_checked(
        scenario_from(text.replace("type: topic", "type: topic\n        alternate: all"))
    ).summary
    assert kept["exchanges"]["events"]["to_alternate"] == 9
    assert kept["queues"]["all"]["totals"]["enqueued"] == 9
    assert kept["totals"]["unroutable"] == 9 and kept["totals"]["completed"] == 10


def test_fanout_copies_are_accounted_per_queue_and_in_the_totals() -> None:
    text = """
        name: fanout
        run: {duration: 5}
        producers:
          web: {arrivals: {process: constant, interval: 1}, publish: everyone}
        exchanges:
          everyone:
            type: fanout
            bindings: [{queue: a}, {queue: b}, {queue: c}]
        queues: {a: {}, b: {}, c: {max_length: 0}}
        workers:
          wa: {consumes: a, service_time: 0.1}
          wb: {consumes: b, service_time: 0.1}
    """
    s = run_checked(scenario_from(text)).summary
    # c has no consumer and no room: every publish is refused there, taken by a and b.
    assert {n: q["totals"]["enqueued"] for n, q in s["queues"].items()} == {"a": 5, "b": 5, "c": 0}
    assert s["queues"]["c"]["totals"]["rejected"] == 5
    assert s["producers"]["web"]["errors"] == 5  # each publish finally refused by one queue
    assert s["totals"]["published"] == 0 and s["totals"]["rejected"] == 5
    assert s["totals"]["enqueued"] == 10 and s["totals"]["completed"] == 10


def test_a_slow_subscriber_does_not_slow_the_others() -> None:
    text = """
        name: pubsub
        run: {duration: 200, seed: 3}
        producers:
          web: {arrivals: {process: poisson, rate: 5}, publish: news}
        exchanges:
          news: {type: fanout, bindings: [{queue: fast}, {queue: slow}]}
        queues: {fast: {}, slow: {}}
        workers:
          fast-pool: {consumes: fast, service_time: 10ms}
          slow-pool: {consumes: slow, service_time: 1}   # five times too slow
    """
    s = run_checked(scenario_from(text)).summary
    fast, slow = s["queues"]["fast"], s["queues"]["slow"]
    assert fast["totals"]["completed"] == slow["totals"]["completed"]  # drained: all done
    assert fast["latency"]["p99"] < 0.1
    assert slow["latency"]["p50"] > 100  # its backlog grows through the whole run


ROUTER = """
def route(message, queues):
    # Even keys to the first queue, odd to the second; "boom" raises; "lost" is not a queue.
    if message["key"] == "k-3":
        return {answer}
    return [queues[int(message["key"][2:]) % 2]]
"""

CUSTOM = """
    name: custom
    run: {{duration: 6}}
    producers:
      web:
        arrivals: {{process: constant, interval: 1}}
        message: {{key: {{sequence: "k-"}}}}
        publish: picker
    exchanges:
      picker: {{type: custom, function: "{function}"}}
    queues: {{even: {{}}, odd: {{}}}}
    workers:
      we: {{consumes: even, service_time: 0.1}}
      wo: {{consumes: odd, service_time: 0.1}}
"""


def test_custom_routing_from_the_scenarios_folder(tmp_path: Path) -> None:
    (tmp_path / "router.py").write_text(ROUTER.format(answer='["even", "odd"]'))
    s = run_checked(scenario_from(CUSTOM.format(function="router:route"), base_dir=tmp_path))
    # keys k-0..k-5: even ids to `even`; k-3 goes to both.
    assert s.summary["queues"]["even"]["totals"]["enqueued"] == 4
    assert s.summary["queues"]["odd"]["totals"]["enqueued"] == 3
    assert s.summary["totals"]["published"] == 6


def test_a_custom_exchange_with_bindings_chooses_among_its_bound_queues(tmp_path: Path) -> None:
    # The router sees the bound queues, in binding order: [odd, even], so keys k-0, k-2, k-4
    # go to `odd` now; `spare`, on the same broker but unbound, is not among its choices.
    (tmp_path / "router.py").write_text(
        ROUTER.format(answer='["even", "odd"]') + "\n\ndef seen(message, queues):\n"
        "    assert queues == ['odd', 'even'], queues\n    return route(message, queues)\n"
    )
    text = CUSTOM.format(function="router:seen").replace(
        '{type: custom, function: "router:seen"}',
        '{type: custom, function: "router:seen", bindings: [{queue: odd}, {queue: even}]}',
    ).replace("{even: {}, odd: {}}", "{even: {}, odd: {}, spare: {}}")
    s = run_checked(scenario_from(text, base_dir=tmp_path))
    enqueued = {q: s.summary["queues"][q]["totals"]["enqueued"] for q in ("even", "odd", "spare")}
    assert enqueued == {"even": 3, "odd": 4, "spare": 0}
    # A bound queue is the only kind it may name: an unbound one stops the run.
    (tmp_path / "router.py").write_text(ROUTER.format(answer='["spare"]'))
    text = text.replace("router:seen", "router:route")
    with pytest.raises(sim.ScenarioError, match="the router returned 'spare', not a queue it may "
                       r"use \(known: odd, even\)"):
        sim.run(scenario_from(text, base_dir=tmp_path))


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ('["lost"]', "exchanges.picker.function: the router returned 'lost', not a queue"),
        ("1 / 0", "exchanges.picker.function: the router raised ZeroDivisionError"),
    ],
)
def test_a_failing_router_is_an_invalid_scenario_exit_2(tmp_path: Path, capsys, answer,
                                                        error) -> None:
    (tmp_path / "router.py").write_text(ROUTER.format(answer=answer))
    path = tmp_path / "s.yaml"
    path.write_text(textwrap.dedent(CUSTOM.format(function="router:route")))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-plots"]) == 2
    stderr = capsys.readouterr().err
    assert f"{path}:10: {error}" in stderr and "Traceback" not in stderr
    assert not out.exists() or not any(out.rglob("summary.json"))


@pytest.mark.parametrize(
    ("function", "files", "error"),
    [
        ("router:route", {}, "no file"),
        ("router:nothing", {"router.py": "def route(m, q):\n    return []\n"},
         "has no function 'nothing'"),
        ("router:route", {"router.py": "import no_such_module_here\n"},
         "importing router.py raised ModuleNotFoundError"),
        ("../router:route", {}, "must be 'module:function'"),
        ("os.path:join", {}, "no file"),  # never an installed module
    ],
)
def test_custom_router_problems_are_load_errors(tmp_path, function, files, error) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(sim.ScenarioError) as info:
        scenario_from(CUSTOM.format(function=function), base_dir=tmp_path)
    (problem,) = info.value.problems
    assert problem.path == "exchanges.picker.function" and error in problem.message


@pytest.mark.parametrize(
    ("exchange", "error"),
    [
        ("{type: topic, bindings: [{queue: even, key: 'order*'}]}",
         "exchanges.picker.bindings[0].key: in a topic pattern, * and # stand alone"),
        ("{type: direct}", "exchanges.picker.bindings: a direct exchange needs at least one"),
        ("{type: fanout, bindings: [{queue: even, key: x}]}",
         "exchanges.picker.bindings[0].key: unknown key 'key'"),
        ("{type: headers, bindings: [{queue: even}]}",
         "exchanges.picker.bindings[0]: missing required key 'match'"),
        ("{type: fanout, bindings: [{queue: nowhere}]}",
         "exchanges.picker.bindings[0].queue: no queue named 'nowhere'"),
        ("{type: fanout, bindings: [{queue: even}], function: 'a:b'}",
         "exchanges.picker.function: only a custom exchange has a function"),
    ],
)
def test_exchange_mistakes_name_their_path(tmp_path, exchange, error) -> None:
    text = CUSTOM.format(function="x:y").replace(
        '{type: custom, function: "x:y"}', exchange)
    with pytest.raises(sim.ScenarioError) as info:
        scenario_from(text, base_dir=tmp_path)
    where, _, what = error.partition(": ")
    assert any(p.path == where and p.message.startswith(what) for p in info.value.problems), (
        info.value.problems)


def test_routing_key_templates_are_checked() -> None:
    with pytest.raises(sim.ScenarioError) as info:
        scenario_from(TOPIC, **{"producers.web.routing_key": "order.{kind}"})
    (problem,) = info.value.problems
    assert "unknown field {kind} in the template" in str(problem)


def test_the_default_routing_key_is_the_type() -> None:
    text = TOPIC.replace('        routing_key: "order.{type}.{headers[region]}"\n', "").replace(
        "type: topic", "type: direct").replace('key: "order.t1.*"', "key: t4")
    text = text.replace("- {queue: all, key: \"order.#\"}", "- {queue: all, key: t5}")
    s = run_checked(scenario_from(text)).summary
    assert s["queues"]["first"]["totals"]["enqueued"] == 1
    assert s["queues"]["all"]["totals"]["enqueued"] == 1
    assert s["exchanges"]["events"]["unroutable"] == 8


def test_a_failing_router_in_another_process_is_still_a_scenario_problem(tmp_path) -> None:
    (tmp_path / "router.py").write_text(ROUTER.format(answer='["lost"]'))
    scenario = scenario_from(CUSTOM.format(function="router:route"), base_dir=tmp_path)
    with pytest.raises(sim.ScenarioError) as info:
        sim.run(scenario, replications=2, jobs=2)
    (problem,) = info.value.problems
    assert problem.path == "exchanges.picker.function" and problem.line == 10
    assert "the router returned 'lost'" in problem.message
