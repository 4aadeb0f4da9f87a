"""Pipeline loops that take no time: refused at load when surely endless, and stopped by the
engine's still-clock guard otherwise (its allowance counts only producers' sends, so a loop
that makes a new message at every step cannot keep earning more)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import burst, run_checked, scenario_from

import sim
from sim import cli, engine
from sim.scenario import ScenarioError

LOOP = """
    name: loop
    run: {messages: 1, sample_interval: 1}
    producers:
      p: {arrivals: {process: poisson, rate: 1}, publish: a}
    queues:
      a: {}
      b: {}
    workers:
      wa: {consumes: a, service_time: 0, then: {publish: b}}
      wb: {consumes: b, service_time: %s, then: {publish: a}}
"""


@contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """Fail, instead of hanging, if the block runs longer than ``seconds``."""

    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s: the loop was not stopped")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_pipeline_loop_of_zero_time_stages_is_refused_at_load():
    with pytest.raises(ScenarioError) as error:
        scenario_from(LOOP % 0)
    text = str(error.value)
    assert "<string>:10: workers.wa.then: every message processed from queue a comes back" in text
    assert "wa -> wb" in text and "without the clock moving" in text


def test_the_command_line_refuses_it_with_exit_2(tmp_path, capsys):
    path = tmp_path / "loop.yaml"
    path.write_text(LOOP % 0)
    with at_most(60):
        assert cli.main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "loop.yaml:10: workers.wa.then:" in err and "Traceback" not in err


def test_a_loop_whose_stages_take_time_still_loads_with_its_warning():
    scenario = scenario_from(LOOP % "1ms")
    assert any(w.startswith("workers.wa.then: every message processed from queue a comes "
                            "back to it") for w in scenario.warnings)


@pytest.mark.parametrize("latency", ["publish_latency: 1ms", "capacity: 1000"])
def test_a_broker_that_takes_time_makes_the_loop_take_time(latency):
    text = (LOOP % 0).replace("queues:\n", f"brokers: {{mq: {{type: ideal, {latency}}}}}\n"
                              "    queues:\n").replace("a: {}", "a: {broker: mq}")
    scenario = scenario_from(text)  # loads: the loop moves the clock
    assert any("comes back to it" in w for w in scenario.warnings)


def test_a_zero_time_loop_the_load_check_cannot_see_is_stopped(monkeypatch):
    # Through a direct exchange the loop depends on the routing key, so it is not refused at
    # load; every step makes a new message at the same instant. The guard used to allow 20
    # events per message made, which such a loop earns faster than it spends: it ran for
    # ever. Now only the producer's one send counts.
    monkeypatch.setattr(engine, "STILL_CLOCK_EVENTS", 50_000)
    text = """
        name: hidden-loop
        run: {messages: 1, sample_interval: 1}
        producers:
          p: {arrivals: {process: poisson, rate: 1}, publish: a}
        queues:
          a: {}
          b: {}
        exchanges:
          x: {type: direct, bindings: [{queue: a, key: again}]}
        workers:
          wa: {consumes: a, service_time: 0, then: {publish: b}}
          wb: {consumes: b, service_time: 0, then: {publish: x, routing_key: again}}
    """
    scenario = scenario_from(text)
    with at_most(60), pytest.raises(engine.ModelStuck, match="clock stood still"):
        sim.run(scenario)


def test_a_burst_through_zero_time_stages_is_not_mistaken_for_a_loop(trace, monkeypatch):
    # 20,000 messages at t = 0 through three stages that take no time: each send's allowance
    # covers its way through every stage.
    monkeypatch.setattr(engine, "STILL_CLOCK_EVENTS", 1_000)
    path = trace(burst(20_000))
    text = f"""
        name: burst-pipeline
        run: {{duration: 1000}}
        producers:
          p: {{arrivals: {{process: trace, file: {path}}}, publish: a}}
        queues: {{a: {{}}, b: {{}}, c: {{}}}}
        workers:
          wa: {{consumes: a, count: 4, service_time: 0, then: {{publish: b}}}}
          wb: {{consumes: b, count: 4, service_time: 0, then: {{publish: c}}}}
          wc: {{consumes: c, count: 4, service_time: 0}}
    """
    result = run_checked(scenario_from(text))
    assert result.summary["totals"]["completed"] == 60_000
