"""Invalid scenarios: one ScenarioError naming the YAML path and line of every problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sim.scenario as scenario
from sim.scenario import Problem, ScenarioError

DATA = Path(__file__).parent / "data" / "scenarios"

VALID = """\
name: t
run: {duration: 1m}
producers:
  web:
    arrivals: {process: poisson, rate: 100}
    publish: orders
queues:
  orders: {}
workers:
  order-service:
    consumes: orders
    service_time: 10ms
"""


def problems(text: str, **kwargs: object) -> list[str]:
    """The problem lines of an invalid scenario given as text (source "s.yaml")."""
    with pytest.raises(ScenarioError) as info:
        scenario.loads(text, source="s.yaml", **kwargs)  # type: ignore[arg-type]
    lines = str(info.value).splitlines()
    assert len(lines) == len(info.value.problems)
    return lines


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


def test_the_valid_base_is_valid() -> None:
    assert scenario.loads(VALID).name == "t"


def test_every_problem_is_reported_at_once_with_path_and_line() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario.load(DATA / "many_problems.yaml")
    source = str(DATA / "many_problems.yaml")
    assert [(p.path, p.line) for p in info.value.problems] == [
        ("run.sead", 2),
        ("producers.web.publish", 6),
        ("queues.orders.max_length", 8),
        ("workers.order-service.service_time", 12),
    ]
    assert all(p.source == source for p in info.value.problems)
    text = str(info.value).splitlines()
    assert text[0].startswith(f"{source}:2: run.sead: unknown key 'sead'; did you mean 'seed'?")
    assert f"{source}:8: queues.orders.max_length: must be a whole number >= 0, got -3" in text
    assert "did you mean 'orders'?" in text[1]
    assert "unknown unit 'parsecs'" in text[3]


def test_problem_formatting() -> None:
    assert str(Problem("a.b", 3, "bad", "x.yaml")) == "x.yaml:3: a.b: bad"
    assert str(Problem("a.b", None, "bad", "x.yaml")) == "x.yaml: a.b: bad"
    assert str(Problem("a.b", None, "bad", "--set")) == "--set a.b: bad"
    assert str(Problem("", None, "file not found", "x.yaml")) == "x.yaml: file not found"
    assert str(Problem("a", None, "bad")) == "a: bad"
    assert isinstance(ScenarioError([]), ValueError)


def test_missing_file() -> None:
    with pytest.raises(ScenarioError, match=r"nope\.yaml: file not found$"):
        scenario.load(DATA / "nope.yaml")


def test_folder_instead_of_file() -> None:
    with pytest.raises(ScenarioError, match="is a folder"):
        scenario.load(DATA)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario.load(DATA / "syntax_error.yaml")
    (problem,) = info.value.problems
    assert problem.line == 3 and "YAML syntax error" in problem.message
    assert "started on line 2" in problem.message


def test_empty_and_non_mapping_top_level() -> None:
    assert "the scenario is empty" in problems("")[0]
    assert "the top level must be a mapping" in problems("- a\n- b\n")[0]
    assert problems("just text\n")[0].startswith("s.yaml:1: the top level must be a mapping")


def test_duplicate_yaml_key() -> None:
    (line,) = problems(VALID + "queues: {other: {}}\n")
    assert line == "s.yaml:13: queues: duplicate key 'queues'"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("name: t", "nam: t",
         "s.yaml:1: nam: unknown key 'nam'; did you mean 'name'?"),
        ("publish: orders", "publsh: orders",
         "s.yaml:6: producers.web.publsh: unknown key 'publsh'; did you mean 'publish'?"),
        ("orders: {}", "orders: {max_lenght: 5}",
         "s.yaml:8: queues.orders.max_lenght: unknown key 'max_lenght'; "
         "did you mean 'max_length'?"),
        ("service_time: 10ms", "service_time: {dist: exponential, maen: 10ms}",
         "s.yaml:12: workers.order-service.service_time.maen: unknown key 'maen'; "
         "did you mean 'mean'?"),
        ("rate: 100}", "rate: 100, burst: 3}",
         "s.yaml:5: producers.web.arrivals.burst: unknown key 'burst'"),
    ],
)  # fmt: skip
def test_unknown_keys_are_named_with_a_suggestion(old: str, new: str, expected: str) -> None:
    lines = problems(replace(old, new))
    assert any(line.startswith(expected) for line in lines), lines
    assert "(allowed: " in " ".join(lines)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("orders: {}", "orders: {max_length: -3}",
         "s.yaml:8: queues.orders.max_length: must be a whole number >= 0, got -3"),
        ("orders: {}", "orders: {max_length: 2.5}",
         "s.yaml:8: queues.orders.max_length: must be a whole number >= 0, got 2.5"),
        ("orders: {}", "orders: {overflow: drop-tail}",
         "s.yaml:8: queues.orders.overflow: must be one of reject-publish, drop-head, block, "
         "got 'drop-tail'; did you mean 'drop-head'?"),
        ("duration: 1m", "duration: -1m",
         "s.yaml:2: run.duration: must be a duration > 0, got '-1m'"),
        ("duration: 1m", "duration: 1m, warmup: 2m",
         "s.yaml:2: run.warmup: must be shorter than run.duration (60 s), got 120 s"),
        ("duration: 1m", "messages: 0",
         "s.yaml:2: run.messages: must be a whole number >= 1, got 0"),
        ("duration: 1m", "duration: 1m, drain: yes please",
         "s.yaml:2: run.drain: must be true or false, got 'yes please'"),
        ("duration: 1m", "warmup: 1s",
         "s.yaml:2: run: needs duration (how long producers publish) or messages"),
        ("rate: 100", "rate: 100/fortnight",
         "s.yaml:5: producers.web.arrivals.rate: bad rate '100/fortnight': unknown unit"),
        ("rate: 100", "rate: -1",
         "s.yaml:5: producers.web.arrivals.rate: must be a rate >= 0, got -1"),
        ("process: poisson, rate: 100", "process: poison, rate: 100",
         "s.yaml:5: producers.web.arrivals.process: unknown arrival process 'poison'; "
         "did you mean 'poisson'?"),
        ("process: poisson, rate: 100", "process: poisson",
         "s.yaml:5: producers.web.arrivals: poisson arrivals needs rate or schedule"),
        ("process: poisson, rate: 100", "process: poisson, rate: 1, schedule: [{rate: 1}]",
         "s.yaml:5: producers.web.arrivals: poisson arrivals takes only one of rate or schedule"),
        ("process: poisson, rate: 100",
         "process: poisson, schedule: [{until: 5s, rate: 1}, {until: 1s, rate: 2}, {rate: 3}]",
         "s.yaml:5: producers.web.arrivals.schedule[1].until: must be later than the step "
         "before (5 s)"),
        ("process: poisson, rate: 100", "process: poisson, schedule: [{until: 5s, rate: 1}]",
         "s.yaml:5: producers.web.arrivals.schedule[0].until: the last step must not have until"),
        ("process: poisson, rate: 100", "process: bursty, rates: [1], mean_durations: [1, 2]",
         "s.yaml:5: producers.web.arrivals.rates: must be a list of 2 items, got 1"),
        ("process: poisson, rate: 100", "process: trace, file: missing.csv",
         "s.yaml:5: producers.web.arrivals.file: file not found: "),
        ("service_time: 10ms", "service_time: {dist: uniform, low: 5ms, high: 1ms}",
         "s.yaml:12: workers.order-service.service_time: uniform needs high >= low"),
        ("service_time: 10ms", "service_time: {dist: expo, mean: 1}",
         "s.yaml:12: workers.order-service.service_time.dist: unknown distribution 'expo'; "
         "did you mean 'exponential'?"),
        ("service_time: 10ms", "service_time: {dist: lognormal, mean: 1}",
         "s.yaml:12: workers.order-service.service_time: lognormal needs 'mean' and 'cv', "
         "or 'mu' and 'sigma'"),
        ("service_time: 10ms", "service_time: {dist: lognormal, mean: 1, cv: 1, mu: 0, sigma: 1}",
         "s.yaml:12: workers.order-service.service_time: lognormal takes"),
        ("service_time: 10ms", "service_time: {mean: 10ms}",
         "s.yaml:12: workers.order-service.service_time: a distribution needs 'dist:'"),
        ("service_time: 10ms", "service_time: -1ms",
         "s.yaml:12: workers.order-service.service_time: must be a duration >= 0, got '-1ms'"),
        ("service_time: 10ms",
         "service_time: {dist: mixture, components: [{dist: constant, value: 1}]}",
         "s.yaml:12: workers.order-service.service_time.components[0]: missing required key "
         "'weight'"),
        ("service_time: 10ms",
         "service_time: {dist: mixture, components: [{weight: 3, dist: constant, value: 1}, "
         "{weight: 1, dist: constant, value: 2}]}",
         "s.yaml:12: workers.order-service.service_time: mixture needs weights summing to 1, got "
         "a sum of 4 (the same proportions summing to 1: 0.75, 0.25)"),
        ("service_time: 10ms", "service_time: 10ms\n    concurrency: 4\n    prefetch: 2",
         "s.yaml:14: workers.order-service.prefetch: must be >= concurrency (4)"),
        ("service_time: 10ms", "service_time: 10ms\n    ack: manual",
         "s.yaml:13: workers.order-service.ack: must be one of after_processing, on_start, "
         "on_delivery, got 'manual'"),
        ("publish: orders", "publish: orders\n    message: {kee: x}",
         "s.yaml:7: producers.web.message.kee: unknown key 'kee'; did you mean 'key'?"),
        ("publish: orders", "publish: orders\n    message: {type: {choice: {a: -1}}}",
         "s.yaml:7: producers.web.message.type: choice weight of 'a' must be >= 0"),
        ("publish: orders", "publish: orders\n    message: {priority: high}",
         "s.yaml:7: producers.web.message.priority: priority values must be a whole number, "
         "got 'high'"),
        ("publish: orders", "publish: orders\n    message: {key: [a, b]}",
         "s.yaml:7: producers.web.message.key: a list is not a value; to pick one of several, "
         "write {choice: [a, b]}"),
        ("publish: orders", "publish: orders\n    message: {key: {choise: [a, b]}}",
         "s.yaml:7: producers.web.message.key: a value generator needs exactly one of"),
        ("publish: orders", "publish: orders\n    count: 0",
         "s.yaml:7: producers.web.count: must be a whole number >= 1, got 0"),
        ("name: t", "name: a/b",
         "s.yaml:1: name: must be usable as a folder name"),
        ("name: t", "name: 2024",
         "s.yaml:1: name: must be a string; quote it: '2024'"),
    ],
)  # fmt: skip
def test_bad_values(old: str, new: str, expected: str) -> None:
    lines = problems(replace(old, new))
    assert any(line.startswith(expected) for line in lines), lines


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("publish: orders", "publish: ordrs",
         "s.yaml:6: producers.web.publish: no queue or exchange named 'ordrs'; "
         "did you mean 'orders'? (known: orders)"),
        ("publish: orders", "publish: order-service",
         "s.yaml:6: producers.web.publish: 'order-service' is a worker pool, not a queue or "
         "exchange"),
        ("consumes: orders", "consumes: web",
         "s.yaml:11: workers.order-service.consumes: 'web' is a producer, not a queue"),
        ("orders: {}", "orders: {broker: main}",
         "s.yaml:8: queues.orders.broker: no broker named 'main' (known: default)"),
        ("orders: {}", "orders: {dead_letter: orders-dlq}",
         "s.yaml:8: queues.orders.dead_letter: no queue named 'orders-dlq'; did you mean "
         "'orders'?"),
        ("orders: {}", "orders: {dead_letter: orders}",
         "s.yaml:8: queues.orders.dead_letter: a queue cannot dead-letter to itself"),
        ("publish: orders", "",
         "s.yaml:4: producers.web.publish: missing: say where messages go"),
    ],
)  # fmt: skip
def test_dangling_references(old: str, new: str, expected: str) -> None:
    lines = problems(replace(old, new))
    assert any(line.startswith(expected) for line in lines), lines


def test_several_brokers_need_the_queue_to_choose() -> None:
    lines = problems(VALID + "brokers: {a: {}, b: {}}\n")
    assert lines == [
        "s.yaml:8: queues.orders.broker: missing: there are several brokers (a, b), say which one"
    ]


def test_names_are_one_namespace_across_sections() -> None:
    text = VALID.replace("orders: {}", "orders: {}\n  web: {}") + "brokers: {orders: {}}\n"
    lines = problems(text)
    assert "s.yaml:9: queues.web: name 'web' is already used by producers.web" in lines[0]
    assert lines[1].startswith(
        "s.yaml:14: brokers.orders: name 'orders' is already used by queues.orders"
    )


def test_names_may_not_contain_dots() -> None:
    (line,) = problems(replace("orders: {}", "orders: {}\n  a.b: {}"))
    assert line.startswith("s.yaml:9: queues.a.b: a name may not contain '.'")


def test_no_producers() -> None:
    text = "name: t\nrun: {duration: 1}\nproducers: {}\n"
    assert problems(text) == ["s.yaml:3: producers: at least one producer is required"]
    missing = problems("name: t\nrun: {duration: 1}\n")
    assert missing == ["s.yaml:1: missing required key 'producers' (at least one producer)"]


def test_missing_required_keys_point_at_the_parent() -> None:
    lines = problems(replace("    service_time: 10ms\n", ""))
    assert lines == ["s.yaml:10: workers.order-service: missing required key 'service_time'"]
    lines = problems(replace("name: t\n", ""))
    assert lines == ["s.yaml:1: missing required key 'name'"]


def test_wrong_types_for_sections() -> None:
    lines = problems(replace("orders: {}", "orders: 5"))
    assert lines == ["s.yaml:8: queues.orders: must be a mapping, got 5"]
    lines = problems(VALID + "faults: {crash: x}\n")
    assert lines[0].startswith("s.yaml:13: faults: must be a list of faults")


def test_from_dict_problems_have_paths_but_no_lines() -> None:
    with pytest.raises(ScenarioError) as info:
        scenario.from_dict({"name": "t", "run": {"duration": 0}, "producers": {}})
    assert sorted(str(p) for p in info.value.problems) == [
        "producers: at least one producer is required",
        "run.duration: must be a duration > 0, got 0",
    ]
    assert all(p.line is None for p in info.value.problems)


def test_error_message_format_matches_the_contract() -> None:
    for line in problems(replace("orders: {}", "orders: {max_length: -3, overflow: x}")):
        assert re.match(r"^s\.yaml:\d+: [\w.\-\[\]]+: \S", line), line


def test_a_failure_loop_that_takes_no_time_is_refused():
    import textwrap

    text = """
        name: zero-time-loop
        run: {messages: 1}
        producers:
          p: {arrivals: {process: poisson, rate: 1}, publish: q}
        queues:
          q: {}
        workers:
          w: {consumes: q, service_time: 0, error_rate: 1.0}
    """
    with pytest.raises(ScenarioError, match=r"workers\.w\.error_rate: every processing fails"):
        scenario.loads(textwrap.dedent(text))
    # Any one of time, a retry delay or a delivery limit makes it a valid (finite) scenario.
    for fix in ("service_time: 0.1", "service_time: 0, retry: {delay: 1}"):
        scenario.loads(textwrap.dedent(text.replace("service_time: 0", fix)))
    scenario.loads(textwrap.dedent(text.replace("q: {}", "q: {max_deliveries: 3}")))
