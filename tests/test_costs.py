"""Costs: broker requests counted by kind, priced with worker-hours (summary.json ``cost``).

Exact counts on small deterministic scenarios (constant gaps, constant service, no latency
unless a test sets one), so every expected number is worked out by hand in its test.
"""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest
import yaml

import sim
from sim.scenario import ScenarioError

SQS = """
name: costs
run: {duration: 10.7, seed: 1}
producers:
  web: {count: 1, arrivals: {process: renewal, interarrival: 7.5}, publish: jobs}
brokers:
  sqs: {type: sqs, wait_time: 0, poll_interval: 1, api_latency: 0, publish_latency: 0}
queues:
  jobs: {}
workers:
  api: {consumes: jobs, count: 1, prefetch: 1, service_time: 0.5}
costs:
  workers: {api: {per_hour: 0.36}}
"""


def scenario(text: str = SQS, **overrides: Any) -> sim.Scenario:
    return sim.loads(text, overrides=overrides or None)


def summary(text: str = SQS, **overrides: Any) -> dict[str, Any]:
    return sim.run(scenario(text, **overrides)).summary


def requests(s: dict[str, Any], broker: str = "sqs") -> dict[str, int]:
    return s["cost"]["brokers"][broker]["requests"]


# -- requests by kind -------------------------------------------------------------------------

def test_short_polling_counts_every_empty_receive() -> None:
    # One message at 7.5. The worker polls at 0, 1, ..., 7 (8 empty), receives it at 8,
    # processes it to 8.5, acks, polls at 8.5, 9.5, 10.5 (3 empty) until the run ends at 10.7.
    s = summary()
    assert requests(s) == {"publish": 1, "receive": 1, "empty_receive": 11, "ack": 1,
                           "nack": 0, "commit": 0}
    assert s["sim_end"] == 10.7


def test_long_polling_counts_one_request_per_wait() -> None:
    # wait_time 4: the long poll from 0 ends empty at 4; the next one returns at 7.5 with the
    # message (a receive); after the ack at 8.0 a third waits until 12, past the end of the
    # run (10.7): a request still open at the end is not counted.
    s = summary(**{"brokers.sqs.wait_time": 4, "brokers.sqs.poll_interval": 0})
    assert requests(s) == {"publish": 1, "receive": 1, "empty_receive": 1, "ack": 1,
                           "nack": 0, "commit": 0}


def test_a_batch_of_up_to_ten_is_one_receive() -> None:
    # Five producers each send one message at 7.5; the poll at 8 takes all five in one
    # receive (prefetch 5, batch_size 10). Processing ends at 8.4, 8.8, 9.2, 9.6, 10.0: the
    # first ack frees room, so it polls at 8.4 (empty), sleeps to 9.4 (empty) and 10.4
    # (empty): 8 + 3 empty receives, one receive, five acks.
    s = summary(**{"producers.web.count": 5, "workers.api.prefetch": 5,
                   "workers.api.service_time": 0.4})
    assert requests(s) == {"publish": 5, "receive": 1, "empty_receive": 11, "ack": 5,
                           "nack": 0, "commit": 0}


@pytest.mark.parametrize("latency", [0.0, 0.01])
@pytest.mark.parametrize("workers", [1, 3])
def test_idle_workers_short_against_long_polling(latency: float, workers: int) -> None:
    """No message in the run: every receive is empty. An idle worker's k-th receive (from 0)
    returns at k * (gap + latency) + latency, where gap is poll_interval (short polling) or
    wait_time (long polling); those returned by the end T = 60.5 are counted."""
    end, poll, wait = 60.5, 1.0, 20.0
    text = SQS.replace("duration: 10.7", f"duration: {end}").replace("interarrival: 7.5",
                                                                      "interarrival: 1000")
    common = {"workers.api.count": workers, "brokers.sqs.api_latency": latency}
    short = summary(text, **common)
    long = summary(text, **common, **{"brokers.sqs.wait_time": wait,
                                      "brokers.sqs.poll_interval": 0})
    short_each = math.floor((end - latency) / (poll + latency)) + 1
    long_each = math.floor((end - latency) / (wait + latency))  # the first returns at wait
    assert requests(short)["empty_receive"] == workers * short_each
    assert requests(long)["empty_receive"] == workers * long_each
    assert requests(short)["receive"] == requests(long)["receive"] == 0
    # ... and short polling is the dearer design by exactly the price of the difference.
    gap = (short["cost"]["brokers"]["sqs"]["cost"] - long["cost"]["brokers"]["sqs"]["cost"])
    assert gap == pytest.approx(workers * (short_each - long_each) * 0.40 / 1e6, rel=1e-12)


def test_push_broker_counts_acks_and_nacks_but_no_receives() -> None:
    # RabbitMQ pushes: no receive requests. Every processing fails (error_rate 1) and is not
    # requeued: one nack per message, no ack. Messages at 7.5 from each of 4 producers.
    text = SQS.replace("type: sqs, wait_time: 0, poll_interval: 1, api_latency: 0, "
                       "publish_latency: 0", "type: rabbitmq")
    s = summary(text, **{"producers.web.count": 4, "workers.api.error_rate": 1.0,
                         "workers.api.retry": {"requeue": False}})
    assert requests(s) == {"publish": 4, "receive": 0, "empty_receive": 0, "ack": 0,
                           "nack": 4, "commit": 0}
    ok = summary(text, **{"producers.web.count": 4})
    assert requests(ok) == {"publish": 4, "receive": 0, "empty_receive": 0, "ack": 4,
                            "nack": 0, "commit": 0}


def test_publish_retries_are_requests() -> None:
    # The broker is down for the whole run: each of the 3 messages (at 7.5 from 3 producers)
    # is sent and retried twice (3 attempts), all refused.
    text = SQS + "faults: [{outage: sqs, at: 0, duration: 100}]\n"
    text = text.replace("publish: jobs}", "publish: jobs, on_reject: retry, "
                                          "retry: {attempts: 2, backoff: 0.1}}")
    s = summary(text, **{"producers.web.count": 3})
    assert s["totals"]["rejected"] == 3
    assert requests(s)["publish"] == 9


KAFKA = """
name: kafka-costs
run: {duration: 10.7, seed: 1}
producers:
  web: {count: 6, arrivals: {process: renewal, interarrival: 7.5}, publish: events}
brokers:
  k: {type: kafka, publish_latency: 0, api_latency: 0, commit: after_processing}
queues:
  events: {partitions: 2}
workers:
  group: {consumes: events, count: 1, service_time: 0.1}
costs: {}
"""


def test_kafka_fetches_and_commits() -> None:
    # The consumer's poll at 0 finds nothing (empty). At 7.5 the first of the 6 records
    # wakes it: its fetch takes that one (receive); once it is processed (7.6) the next fetch
    # takes the other 5 (receive), and after them (8.1) a fetch finds nothing (empty).
    # commit: after_processing commits each record as it finishes: 6 commits.
    s = summary(KAFKA)
    assert requests(s, "k") == {"publish": 6, "receive": 2, "empty_receive": 2, "ack": 0,
                                "nack": 0, "commit": 6}
    assert s["totals"]["completed"] == 6
    # Auto-commit every 5 s, at a poll: the poll at 7.5 commits (5 s since the start), and
    # the consumer, idle with processed offsets uncommitted, wakes at 12.5 to commit them
    # (its fetch then is empty too): 2 commits, 3 empty fetches.
    auto = summary(KAFKA, **{"brokers.k.commit": "auto", "brokers.k.commit_interval": 5})
    assert requests(auto, "k") == {"publish": 6, "receive": 2, "empty_receive": 3, "ack": 0,
                                   "nack": 0, "commit": 2}
    assert auto["sim_end"] == 12.5


# -- prices -------------------------------------------------------------------------------------

def test_worker_cost_is_worker_hours_times_price_and_total_is_the_sum() -> None:
    s = summary(**{"workers.api.count": 3})
    cost = s["cost"]
    seconds = s["workers"]["api"]["worker_seconds"]
    assert seconds == pytest.approx(3 * 10.7, rel=1e-12)
    pool = cost["workers"]["api"]
    assert pool["worker_hours"] == seconds / 3600
    assert pool["cost"] == pool["worker_hours"] * 0.36
    broker = cost["brokers"]["sqs"]
    assert broker["cost"] == sum(broker["requests"].values()) / 1e6 * 0.40 + 0.0
    assert cost["total"] == math.fsum([pool["cost"], broker["cost"]])
    assert cost["per_million_messages"] == cost["total"] / s["totals"]["completed"] * 1e6
    assert cost["currency"] == "USD"


def test_broker_hours_are_the_whole_run() -> None:
    s = summary(**{"costs.brokers": {"sqs": {"per_million_requests": 0, "per_hour": 3.6}}})
    broker = s["cost"]["brokers"]["sqs"]
    assert broker["hours"] == 10.7 / 3600
    assert broker["cost"] == 10.7 / 3600 * 3.6


def test_nothing_completed_has_no_cost_per_message() -> None:
    text = SQS.replace("interarrival: 7.5", "interarrival: 1000")
    s = summary(text)
    assert s["totals"]["completed"] == 0
    assert s["cost"]["per_million_messages"] is None
    assert s["cost"]["total"] > 0  # the idle worker and its empty receives are still paid


def test_a_scenario_without_costs_has_no_cost() -> None:
    text = SQS.split("costs:")[0]
    sc = scenario(text)
    assert "costs" not in sc.data
    assert "cost" not in sim.run(sc).summary


def test_zero_is_a_price() -> None:
    sc = scenario(**{"costs.brokers": {"sqs": {"per_million_requests": 0, "per_hour": 0}},
                     "costs.workers.api.per_hour": 0})
    assert sc.data["costs"]["brokers"]["sqs"] == {"per_million_requests": 0.0, "per_hour": 0.0}
    assert sc.data["costs"]["workers"]["api"] == {"per_hour": 0.0}
    assert sim.run(sc).summary["cost"]["total"] == 0.0


def test_list_prices_are_labelled_defaults_in_the_resolved_scenario() -> None:
    text = SQS.replace("type: sqs,", "type: sqs-fifo,")
    text += "  brokers: {sqs: {per_hour: 0.5}}\n"
    resolved = scenario(text).data["costs"]
    broker = resolved["brokers"]["sqs"]
    assert broker["per_million_requests"] == 0.50
    assert broker["per_hour"] == 0.5  # as given
    assert "per_million_requests: AWS SQS FIFO list price" in broker["source"]
    assert "per_hour" not in broker["source"]
    # A pool without a price is priced at 0, and says so.
    other = "  other: {consumes: jobs, count: 1, service_time: 1}\n"
    two = SQS.replace("workers:\n  api:", "workers:\n" + other + "  api:")
    assert scenario(two).data["costs"]["workers"]["other"] == {"per_hour": 0.0,
                                                              "source": "no price given: 0"}


def test_the_resolved_costs_load_again_as_they_are() -> None:
    first = scenario(SQS).data
    again = sim.loads(yaml.safe_dump(first, sort_keys=False)).data
    assert again["costs"] == first["costs"]


# -- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "message"), [
    ({"costs.workers": {"api2": {"per_hour": 1}}},
     "costs.workers.api2: no worker pool named 'api2'; did you mean 'api'?"),
    ({"costs.brokers": {"sq": {"per_hour": 1}}},
     "costs.brokers.sq: no broker named 'sq'; did you mean 'sqs'?"),
    ({"costs.workers.api.per_hour": -1}, "costs.workers.api.per_hour: must be a number >= 0"),
    ({"costs.brokers": {"sqs": {"per_million": 1}}},
     "costs.brokers.sqs.per_million: unknown key 'per_million'; did you mean "
     "'per_million_requests'?"),
    ({"costs.currency": "EUR"},
     "costs.brokers.sqs.per_million_requests: missing: the sqs list price is in USD"),
    ({"costs.price": 3}, "costs.price: unknown key 'price'"),
])
def test_bad_costs_are_clear_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        scenario(**overrides)
    assert message in str(caught.value)


def test_a_bad_costs_section_exits_2_on_the_command_line(tmp_path: Any) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SQS.replace("{api: {per_hour: 0.36}}", "{apx: {per_hour: 0.36}}"))
    done = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "costs.workers.apx: no worker pool named 'apx'; did you mean 'api'?" in done.stderr
    assert "Traceback" not in done.stderr


# -- cost.total is an ordinary figure -------------------------------------------------------------

POISSON = SQS.replace("{count: 1, arrivals: {process: renewal, interarrival: 7.5}",
                      "{count: 1, arrivals: {process: poisson, rate: 2}").replace(
    "duration: 10.7", "duration: 60").replace("service_time: 0.5",
                                              "service_time: {dist: exponential, mean: 0.3}")


def test_cost_total_has_an_interval_with_replications() -> None:
    result = sim.run(scenario(POISSON), replications=4)
    total = result.summary["cost"]["total"]
    assert set(total) == {"mean", "ci95"}
    each = [r["cost"]["total"] for r in result.summary["replication_summaries"]]
    assert total["mean"] == pytest.approx(math.fsum(each) / 4, rel=1e-12)
    assert total["ci95"] > 0  # the requests differ with the traffic
    assert result.summary["cost"]["currency"] == "USD"
    from sim.cli import format_summary

    assert "cost       " in format_summary(result.summary)
    assert " ± " in format_summary(result.summary).split("cost       ")[1].splitlines()[0]


def test_cost_total_is_in_sweep_and_compare_tables() -> None:
    base = scenario(POISSON)
    swept = sim.sweep(base, {"workers.api.count": [1, 2]}, replications=2)
    table = swept.table
    assert {"cost.total", "cost.total_ci"} <= set(table.columns)
    # More workers cost more here: the worker-hours dominate.
    assert table["cost.total"].iloc[1] > table["cost.total"].iloc[0]
    from sim.cli import format_comparison, format_sweep

    assert "cost.total" in format_sweep(table, ["workers.api.count"])
    other = sim.loads(POISSON, overrides={"brokers.sqs.wait_time": 20,
                                          "brokers.sqs.poll_interval": 0})
    compared = sim.compare({"short": base, "long": other}, replications=2)
    assert {"cost.total", "cost.total_ci"} <= set(compared.table.columns)
    printed = format_comparison(compared.table, compared.differences, ["short", "long"])
    assert "cost.total" in printed


def test_printed_summary_has_a_cost_block() -> None:
    from sim.cli import format_summary

    text = format_summary(summary())
    assert ("cost       0.00108 USD in all" in text)
    assert ("  broker sqs: 0.00000560 USD\n"
            "    requests publish 1  receive 1  empty_receive 11  ack 1") in text
    assert "  pool api: 0.00297 worker-hours, 0.00107 USD" in text
    assert "cost " not in format_summary(summary(SQS.split("costs:")[0]))


def test_the_polling_cost_scenario_shows_what_its_header_says() -> None:
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scenarios" / "sqs_polling_cost.yaml"
    short = sim.run(sim.load(path)).summary
    long = sim.run(sim.load(path, overrides={"brokers.sqs.wait_time": "20s",
                                             "brokers.sqs.poll_interval": 0})).summary
    assert requests(short) == {"publish": 1789, "receive": 1789, "empty_receive": 35102,
                               "ack": 1789, "nack": 0, "commit": 0}
    assert requests(long)["empty_receive"] == 403
    assert round(short["cost"]["brokers"]["sqs"]["cost"], 4) == 0.0162
    assert round(long["cost"]["brokers"]["sqs"]["cost"], 5) == 0.00231
    assert round(short["cost"]["total"], 3) == 0.516
    assert round(long["cost"]["total"], 3) == 0.502
    assert round(short["wait"]["mean"], 3) == 0.183
    assert round(long["wait"]["mean"], 3) == 0.010
    header = path.read_text().split("name:")[0]
    for shown in ("35,102", "1,789", "0.0162", "403", "0.00231", "183 ms", "0.516", "0.502"):
        assert shown in header


def test_a_price_is_a_parameter_like_any_other() -> None:
    # Doubling the pool's price adds exactly its worker-hours x 0.36 to the total.
    swept = sim.sweep(scenario(), {"costs.workers.api.per_hour": [0.36, 0.72]}, replications=1)
    table = swept.table
    extra = table["cost.total"].iloc[1] - table["cost.total"].iloc[0]
    assert extra == pytest.approx(10.7 / 3600 * 0.36, rel=1e-9)
    from sim.plots.sweep import panels

    assert ("Cost in all", ["cost.total"]) in panels(table)
    unpriced = sim.sweep(scenario(SQS.split("costs:")[0]), {"workers.api.count": [1]},
                         replications=1)
    assert all(title != "Cost in all" for title, _ in panels(unpriced.table))


# -- printed amounts: the currency named once, digits that tell designs apart -------------------

def _sizing() -> Any:
    from sim.experiment.size_range import Param
    from sim.experiment.size_result import Point, Sizing
    from sim.experiment.slo import SLO

    rule = SLO("latency.p99", "<=", 1.0, "latency.p99<=1s")

    def point(value: int, p99: float, cost: float, half: float, meets: bool) -> Point:
        return Point(value, 5, {"latency.p99": (p99, 0.05), "cost.total": (cost, half)},
                     {rule.text: "meets" if meets else "fails"}, meets, True)

    return Sizing(scenario={"name": "t", "costs": {"currency": "EUR"}},
                  param=Param("workers.api.count", 1, 4, 1, [1, 2, 3, 4],
                              "workers.api.count=1..4"),
                  slos=[rule], direction="smallest", answer=2, sure=True, search="bisection",
                  evaluated=[point(2, 0.8, 0.104802, 0.000029, True),
                             point(1, 1.6, 0.052401, 0.0, False),
                             point(3, 0.7, 0.157203, 0.000031, True)],
                  minimize="cost.total", smallest_meeting=2)


def test_the_size_report_names_the_currency_once_and_prints_sensible_digits() -> None:
    from sim.report.sizing import format_sizing

    text = format_sizing(_sizing())
    header = next(line for line in text.splitlines() if line.startswith("count"))
    assert "cost.total (EUR)" in header
    assert "0.10480 ± 0.00003" in text and "0.104802" not in text
    assert "0.05240 " in text + " "  # exact (one design): the column's decimals, no "± 0"
    assert "0.15720 ± 0.00003" in text
    assert "EUR" not in text.replace("cost.total (EUR)", "")  # named once


def test_sweep_and_compare_tables_name_the_currency_and_read_equal_amounts_equal() -> None:
    import pandas as pd

    from sim.report import format_comparison, format_sweep

    table = pd.DataFrame({
        "workers.api.count": [1, 2, 3], "replications": [3, 3, 3],
        "latency.mean": [0.2, 0.1, 0.1], "latency.mean_ci": [0.01, 0.01, 0.01],
        "cost.total": [0.5162, 0.5158, 0.5158], "cost.total_ci": [0.0, 0.0, 0.00002]})
    text = format_sweep(table, ["workers.api.count"], currency="USD")
    lines = text.splitlines()
    assert "cost.total (USD)" in lines[2]
    assert [line.split("ms")[-1].strip() for line in lines[3:6]] == [
        "0.51620", "0.51580", "0.51580 ± 0.00002"]
    assert "cost.total (" not in format_sweep(table, ["workers.api.count"])  # no currency known

    designs = pd.DataFrame({
        "design": ["a", "b"], "replications": [4, 4], "cost.total": [0.434, 0.4341],
        "cost.total_ci": [0.0, 0.0], "latency.mean": [0.2, 0.1],
        "latency.mean_ci": [0.01, 0.01]})
    differences = pd.DataFrame({
        "figure": ["cost.total", "latency.mean"], "design": ["b", "b"],
        "difference": [0.0001, -0.1], "difference_ci": [0.0, 0.01],
        "verdict": ["a better", "b better"]})
    printed = format_comparison(designs, differences, ["a", "b"], currency="USD")
    row = next(line for line in printed.splitlines() if line.startswith("cost.total"))
    assert row.split()[:6] == ["cost.total", "(USD)", "0.4340", "0.4341", "+0.0001",
                               "a"]


def test_a_replicated_cost_block_prints_a_fixed_cost_as_exact() -> None:
    from sim.report import format_summary

    summary = {"replications": 3, "replication_summaries": [{}, {}, {}], "cost": {
        "currency": "USD",
        "total": {"mean": 0.086025, "ci95": 0.000059},
        "per_million_messages": {"mean": 296.8, "ci95": 57.96},
        "workers": {"w": {"worker_hours": {"mean": 1.6666666666666667, "ci95": 2.1e-16},
                          "cost": {"mean": 0.083333333333333329, "ci95": 4.2e-17}}},
        "brokers": {"sqs": {"requests": {"publish": {"mean": 291.0, "ci95": 55.0}},
                            "cost": {"mean": 0.002692, "ci95": 0.000059}}}}}
    block = format_summary(summary).split("cost       ")[1]
    assert block.splitlines()[:3] == [
        "0.08603 ± 0.00006 USD in all, 297 ± 58 USD per million completed",
        "  pool w: 1.67 worker-hours, 0.0833 USD",
        "  broker sqs: 0.00269 ± 0.00006 USD"]
