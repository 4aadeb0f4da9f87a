"""Closed forms a sweep draws beside its points, where the scenario is a textbook queue.

A resolved scenario is M/M/c, M/D/1 or M/G/1 when: one producer (any ``count``) publishes
Poisson arrivals at a constant rate to the only queue; the queue is on a broker with no
latency and no capacity limit, unbounded, FIFO, without ttl or dead letters; one pool
consumes it with ``prefetch == concurrency`` (nothing waits in a worker's buffer), no
errors, no ack latency and one service time for every message; and nothing fails. Then
c = count x concurrency servers: M/M/c for exponential service (with its percentiles), M/D/1
and M/G/1 (means only) for one server. Anything else gets no theory (an empty dict), never a
wrong one. Sources are in `sim.analytic`.
"""

from __future__ import annotations

import math
from typing import Any

from sim import analytic
from sim.random.distributions import make as make_distribution

QUANTILES = {"p50": 0.50, "p90": 0.90, "p99": 0.99}


def closed_form(data: dict[str, Any]) -> dict[str, float]:
    """The figures theory gives for the resolved scenario ``data`` (summary names), or {}."""
    try:
        model = _model(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return {}
    if model is None:
        return {}
    metrics, pool = model
    out = {"latency.mean": metrics.W, "wait.mean": metrics.Wq, "throughput": metrics.lam,
           f"workers.{pool}.utilization": metrics.rho}
    for name, p in QUANTILES.items():
        try:
            out[f"latency.{name}"] = metrics.latency_quantile(p)
            out[f"wait.{name}"] = metrics.wait_quantile(p)
        except ValueError:  # no closed-form distribution (M/G/1)
            break
    return {k: float(v) for k, v in out.items() if v is not None and math.isfinite(v)}


def _zero(spec: Any) -> bool:
    return make_distribution(spec).mean == 0 and make_distribution(spec).variance == 0


def _model(data: dict[str, Any]) -> tuple[analytic.QueueMetrics, str] | None:
    producers, queues, pools = data["producers"], data["queues"], data["workers"]
    if data.get("faults") or data.get("exchanges"):
        return None
    if len(producers) != 1 or len(queues) != 1 or len(pools) != 1:
        return None
    [producer] = producers.values()
    [(queue_name, queue)] = queues.items()
    [(pool_name, pool)] = pools.items()
    arrivals = producer["arrivals"]
    if arrivals.get("process") != "poisson" or arrivals.get("rate") is None:
        return None
    if producer.get("publish") != queue_name or pool.get("consumes") != queue_name:
        return None
    broker = data["brokers"][queue["broker"]]
    if broker.get("type") != "ideal" or broker.get("capacity") is not None:
        return None
    if not all(_zero(broker[k]) for k in ("publish_latency", "deliver_latency")):
        return None
    if (queue.get("max_length") is not None or queue.get("ttl") is not None
            or queue.get("priority") or queue.get("ordering") != "fifo"
            or queue.get("delivery") != "push"):
        return None
    if (pool["prefetch"] != pool["concurrency"] or pool.get("error_rate")
            or pool.get("service_time_by_type") or not _zero(pool["ack_latency"])):
        return None
    lam = float(arrivals["rate"]) * int(producer.get("count", 1))
    servers = int(pool["count"]) * int(pool["concurrency"])
    service = make_distribution(pool["service_time"])
    mean, variance = float(service.mean), float(service.variance)
    if not (mean > 0 and math.isfinite(variance)) or lam <= 0 or lam >= servers / mean:
        return None
    if pool["service_time"].get("dist") == "exponential":
        return analytic.mmc(lam, 1.0 / mean, servers), pool_name
    if servers != 1:
        return None
    if variance == 0:
        return analytic.md1(lam, mean), pool_name
    return analytic.mg1(lam, mean, variance / (mean * mean)), pool_name
