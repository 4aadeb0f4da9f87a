"""A sizing's first guess from a closed form (`sim.experiment.theory`): where to start the
search before simulating (`sim.experiment.size`)."""

from __future__ import annotations

from typing import Any

from sim.experiment import theory


def describe_model(figures: dict[str, float]) -> str:
    model = "M/M/c, Erlang C" if "latency.p99" in figures else "M/G/1"
    return model + ("; broker latencies left out" if figures.get(RELAXED) else "")


RELAXED = "relaxed"  # a closed form's key: 1.0 when the broker's own latencies were left out


def closed_form_guess(data: dict[str, Any]) -> dict[str, float]:
    """The closed form of the textbook queue the scenario is (`sim.experiment.theory`), or,
    for a first guess only, of the same queue on an ideal broker: a RabbitMQ or SQS pool with
    Poisson arrivals and exponential service is M/M/c but for the broker's sub-millisecond
    latencies, close enough to start a search that then simulates the real thing."""
    exact = theory.closed_form(data)
    if exact:
        return exact
    try:
        [queue] = data["queues"].values()
        broker = dict(data["brokers"][queue["broker"]])
    except (KeyError, ValueError, AttributeError, TypeError):
        return {}
    zero = {"dist": "constant", "value": 0.0}
    broker.update(type="ideal", capacity=None, publish_latency=zero, deliver_latency=zero)
    ideal = {**data, "brokers": {**data["brokers"], queue["broker"]: broker}}
    relaxed = theory.closed_form(ideal)
    return {**relaxed, RELAXED: 1.0} if relaxed else {}
