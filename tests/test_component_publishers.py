"""Publishers report their own figures (`figures()`, `publish_requests()`): exact counts on
tiny deterministic scenarios, each derived by hand in its test, with a broker that accepts a
publish as it is sent and with one whose publishes arrive later (the two ways a sender learns
how its publish ended)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_checked, scenario_from

from sim.engine import simulate
from sim.model.build import Model
from sim.model.publishing import figures_by_name

# A producer sending at 0, 1, 2, 3, 4 into `q`, which holds one waiting copy; `w` takes 2.5 s
# per copy and publishes a follow-up of each into `q2`; a refused publish is retried once
# after 0.5 s.
RETRIES = """
    name: publishers
    run: {{duration: 5}}
    brokers:
      b: {{type: ideal, publish_latency: {latency}}}
    producers:
      p: {{arrivals: {{process: constant, interval: 1}}, publish: q, on_reject: retry,
          retry: {{attempts: 1, backoff: 0.5}}}}
    queues:
      q: {{broker: b, max_length: 1}}
      q2: {{broker: b}}
    workers:
      w: {{consumes: q, service_time: 2.5, then: {{publish: q2}}}}
"""


def run_model(text: str) -> Model:
    model = Model(scenario_from(text).spec, 1)
    model.start()
    model.env.run(until=100)
    return model


@pytest.mark.parametrize("latency", [0, 0.1])
def test_a_producer_and_a_pools_follow_ups_count_their_own_publishes(latency: float) -> None:
    # Instant broker: 0 is taken by w (busy until 2.5), 1 waits, 2 is refused; its retry at
    # 2.5 comes after w finished 0 and took 1, so it is taken. 3 and 4 are refused, and so are
    # their retries (2 waits until w is free at 5.0): sent 5, accepted 3 (0, 1, 2),
    # rejected 2, retries 3. With a publish latency of 0.1 every step is 0.1 later and the
    # outcomes are the same, but each acceptance reaches the producer when its publish arrives.
    model = run_model(RETRIES.format(latency=latency))
    assert model.brokers["b"].instant == (latency == 0)
    (producer,) = model.producers
    assert producer.figures() == {"sent": 5, "accepted": 3, "rejected": 2, "retries": 3}
    assert producer.publish_requests() == {"b": 5 + 3}
    then = model.pools["w"].then
    assert then is not None
    # w processes the three copies (at 2.5, 5.0, 7.5): three follow-ups, all taken.
    assert then.figures() == {"sent": 3, "accepted": 3, "rejected": 0, "retries": 0}
    assert then.publish_requests() == {"b": 3}


def test_the_engine_collects_the_publishers_figures_and_requests_unchanged() -> None:
    data = simulate(scenario_from(RETRIES.format(latency=0)).data)
    assert data.counters["producers"] == {
        "p": {"sent": 5, "accepted": 3, "rejected": 2, "retries": 3},
        "w": {"sent": 3, "accepted": 3, "rejected": 0, "retries": 0},
    }
    # 5 sends + 3 retries of p, 3 follow-ups of w; each of the 3 processed copies acked once.
    assert data.counters["requests"] == {"b": {"publish": 11, "receive": 0, "empty_receive": 0,
                                               "ack": 3, "nack": 0, "commit": 0}}


CALLS = """
    name: callers
    run: {duration: 3}
    producers:
      ok: {count: 2, arrivals: {process: constant, interval: 1}, call: fast}
      bad: {arrivals: {process: constant, interval: 1}, call: failing}
    workers:
      fast: {service_time: 0.5, concurrency: 2}
      failing: {service_time: 0.25, error_rate: 1}
"""


def test_a_caller_counts_its_calls_apart_and_its_instances_add_up() -> None:
    # Two instances of `ok` call at 0, 1, 2 each: `fast` serves both at once, 0.5 s each, so
    # all six are answered after 0.5 s. `bad` calls at 0, 1, 2 and every processing fails.
    model = run_model(CALLS)
    ok = [p for p in model.producers if p.name == "ok"]
    assert [p.figures()["answered"] for p in ok] == [3, 3]
    assert all(p.publish_requests() == {} for p in model.producers)  # no broker involved
    by_name = figures_by_name(model.producers)
    calls = by_name["ok"].pop("call_times")
    assert by_name["ok"] == {"sent": 6, "accepted": 0, "rejected": 0, "retries": 0,
                             "answered": 6, "unavailable": 0, "timeouts": 0, "failed": 0}
    pairs = np.frombuffer(calls, dtype=np.float64).reshape(-1, 2)  # (published_at, response)
    assert sorted(pairs[:, 0].tolist()) == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0]
    assert pairs[:, 1].tolist() == [0.5] * 6
    by_name["bad"].pop("call_times")
    assert by_name["bad"] == {"sent": 3, "accepted": 0, "rejected": 0, "retries": 0,
                              "answered": 0, "unavailable": 0, "timeouts": 0, "failed": 3}


def test_a_callers_figures_reach_the_summary_as_calls_not_publishes() -> None:
    summary = run_checked(scenario_from(CALLS)).summary
    ok, bad = summary["producers"]["ok"], summary["producers"]["bad"]
    assert (ok["sent"], ok["errors"], ok["response_time"]["mean"]) == (6, 0, 0.5)
    assert ok["calls"] == {"answered": 6, "unavailable": 0, "timeouts": 0, "failed": 0}
    assert (bad["sent"], bad["errors"]) == (3, 3)
    assert bad["calls"] == {"answered": 0, "unavailable": 0, "timeouts": 0, "failed": 3}
    assert summary["totals"]["published"] == 0  # a call is not a publish


def test_each_publisher_reports_its_requests_to_the_broker_its_route_leads_to() -> None:
    # The same run with q2 on a second broker: the follow-ups' publishes are c's, and c hosts
    # no consumed queue, so it has no acks; the producer's stay with b.
    text = RETRIES.format(latency=0).replace(
        "q2: {broker: b}", "q2: {broker: c}").replace(
        "b: {type: ideal, publish_latency: 0}", "b: {type: ideal, publish_latency: 0}\n"
                                                "      c: {type: ideal}")
    requests = simulate(scenario_from(text).data).counters["requests"]
    assert {name: counts["publish"] for name, counts in requests.items()} == {"b": 8, "c": 3}
    assert (requests["b"]["ack"], requests["c"]["ack"]) == (3, 0)


def test_a_producer_is_given_where_its_messages_go_when_it_is_made() -> None:
    """Wired at construction: a producer gets its route or the pool it calls in its
    constructor (exactly one), never afterwards; neither or both is a bug, said at once."""
    from simpy import Environment

    from sim.model.producer import Producer, PublishBudget
    from sim.model.work import Work
    from sim.records import Codes

    model = run_model(RETRIES.format(latency=0))
    (made,) = model.producers
    assert made.route is model.routes["q"] and not made.calls

    def producer(**where: object) -> Producer:
        return Producer(Environment(), "p", 0, iter(()), None, {}, Codes(), Codes(),
                        PublishBudget(None, lambda: None), 1.0, Work(), None, None, {},
                        **where)  # type: ignore[arg-type]  # (the wrong wirings on purpose)

    with pytest.raises(ValueError, match="a route or a callee"):
        producer()
    with pytest.raises(ValueError, match="a route or a callee"):
        producer(route=model.routes["q"], callee=model.pools["w"])
