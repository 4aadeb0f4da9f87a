"""The printed summary of a run: one run's table, or a replicated run's means with intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sim.report.layout as layout
from sim.format import MISSING, nothing_sent, percent, show_duration, show_number
from sim.report.costs import cost_lines

TOTALS = ("published", "rejected", "unroutable", "completed", "dead_lettered", "expired", "lost",
          "pending")


def format_summary(summary: dict[str, Any], path: Path | None = None) -> str:
    """A readable table of a run's headline figures."""
    if "replication_summaries" in summary:
        return format_replicated(summary, path)
    totals = summary.get("totals") or {}
    name = summary.get("scenario") or MISSING
    published = f"published for {layout.secs(summary.get('duration'))}"
    if nothing_sent(summary):  # say why the tables below are empty
        published = "published nothing (no producer sent a message: see the warnings)"
    lines = [
        f"{name}  seed {show_number(summary.get('seed'), '')}  {published}, simulated to "
        f"{layout.secs(summary.get('sim_end'))} in "
        f"{layout.secs(summary.get('wall_seconds'), '.2f')} of wall time",
        "",
        "messages   " + "  ".join(
            f"{name} {show_number(totals.get(name))}"
            for name in TOTALS
            if totals.get(name) or name in ("published", "completed")
        ),
        f"latency    {layout.percentiles(summary.get('latency'))}",
        f"wait       {layout.percentiles(summary.get('wait'))}",
        f"queueing   {layout.percentiles(summary.get('queueing'))}",
        *layout.latency_note(summary.get("warmup")),
        f"throughput {layout.per_second(summary.get('throughput'))}  "
        + layout.window(summary.get("warmup"), summary.get("duration")),
        layout.drain_line(summary.get("duration"), summary.get("sim_end"),
                    show_number(totals.get("pending")) if summary.get("drain_timed_out") else None),
    ]
    reordering = summary.get("reordering") or {}
    duplicates = [
        f"{label} {show_number(totals.get(name))}"
        for name, label in (("duplicate_deliveries", "redelivered"),
                            ("duplicate_processing", "processed twice"),
                            ("duplicates_absorbed", "absorbed"))
        if totals.get(name)
    ]
    if duplicates:
        lines.append("duplicates " + "  ".join(duplicates))
    if reordering.get("reordered") is not None:  # 0: the order was kept; None: no key to keep
        lines.append(
            f"reordering {show_number(reordering.get('reordered'))} reordered "
            f"({percent(reordering.get('reordered_ratio'), 2)}), "
            f"{show_number(reordering.get('inversions'))} inversions, "
            f"max displacement {show_number(reordering.get('max_displacement'))}"
        )
    lines += ["", layout.table(
        ["queue", "enqueued", "completed", "rejected", "max depth", "mean depth", "p50", "p99"],
        [
            [name, show_number(layout.get(q, "totals", "enqueued")),
             show_number(layout.get(q, "totals", "completed")),
             show_number(layout.get(q, "totals", "rejected") or 0),
             show_number(q.get("max_depth")), show_number(q.get("mean_depth"), ".1f"),
             show_duration(layout.get(q, "latency", "p50")),
             show_duration(layout.get(q, "latency", "p99"))]
            for name, q in layout.entries(summary, "queues")
        ],
    )]
    lines += _kafka_lines(summary)
    lines += ["", layout.table(
        ["workers", "utilization", "crashes", "mean up", "min up", "max up", "worker-hours"],
        [[name, percent(w.get("utilization")), show_number(w.get("crashes")),
          show_number(w.get("mean_up"), ".2f"), show_number(w.get("min_up")),
          show_number(w.get("max_up")),
          show_number(None if w.get("worker_seconds") is None else w["worker_seconds"] / 3600,
                      ".2f")]
         for name, w in layout.entries(summary, "workers")],
    )]
    if summary.get("workers"):
        lines.append(layout.utilization_note(summary.get("warmup"), summary.get("duration")))
    lines += ["", layout.table(
        ["producer", "sent", "errors", "response p50", "response p99"],
        [[name, show_number(p.get("sent")), show_number(p.get("errors")),
          show_duration(layout.get(p, "response_time", "p50")),
          show_duration(layout.get(p, "response_time", "p99"))]
         for name, p in layout.entries(summary, "producers")],
    )]
    lines += _routing_lines(summary)
    lines += cost_lines(summary)
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


HOTTEST_PARTITIONS = 3  # per consumer group, the partitions printed (most lag first)


def _kafka_lines(summary: dict[str, Any]) -> list[str]:
    """Kafka consumer groups: how far behind each is, its idle consumers, and its hottest
    partitions (most mean lag first: where a hot key or a slow owner holds the group back)."""
    logs = [(name, q) for name, q in layout.entries(summary, "queues") if "lag" in q]
    if not logs:
        return []
    workers = summary.get("workers") or {}

    def idle(q: dict[str, Any]) -> str:
        pool = workers.get(q.get("group")) if q.get("group") is not None else None
        return show_number(pool.get("idle_consumers")) if isinstance(pool, dict) else MISSING

    lines = ["", layout.table(
        ["consumer group log", "group", "max lag", "mean lag", "rebalances", "idle consumers"],
        [[name, str(q.get("group") or MISSING), show_number(layout.get(q, "lag", "max")),
          show_number(layout.get(q, "lag", "mean"), ",.1f"), show_number(q.get("rebalances")),
          idle(q)]
         for name, q in logs],
    )]
    rows = []
    for name, q in logs:
        parts = [p if isinstance(p, dict) else {} for p in q.get("partitions") or []]
        if len(parts) < 2:
            continue  # one partition is the group itself
        total = sum(p.get("records") or 0 for p in parts)

        def heat(i: int, parts: list[dict[str, Any]] = parts) -> tuple[float, float]:
            lag: Any = parts[i].get("mean_lag")
            records = parts[i].get("records")
            return (-(lag if show_number(lag) != MISSING else -1.0), -(records or 0))

        for i in sorted(range(len(parts)), key=heat)[:HOTTEST_PARTITIONS]:
            p = parts[i]
            records = p.get("records")
            rows.append([name, str(i), show_number(records),
                         percent(records / total if total and records is not None else None),
                         show_number(p.get("mean_lag"), ",.1f"), show_number(p.get("max_lag")),
                         "none" if p.get("owner") is None else str(p["owner"])])
    if rows:
        lines += ["", layout.table(["hottest partitions", "partition", "records", "share",
                              "mean lag", "max lag", "owner at end"], rows)]
    return lines


def _routing_lines(summary: dict[str, Any]) -> list[str]:
    """Flows across pipeline stages, unroutable publishes, and why synchronous calls failed."""
    lines = []
    flows = summary.get("flows") or {}
    if flows.get("count") and (flows.get("copies") or 0) > flows["count"]:  # several stages
        lines.append(
            f"flows      {show_number(flows.get('completed'))} of "
            f"{show_number(flows.get('count'))} "
            f"completed end to end  {layout.percentiles(flows.get('latency'))}"
        )
    for name, exchange in layout.entries(summary, "exchanges"):
        if exchange.get("unroutable"):
            lines.append(
                f"exchange {name}: {show_number(exchange.get('unroutable'))} unroutable "
                f"({show_number(exchange.get('to_alternate'))} to its alternate queue, "
                f"{show_number(exchange.get('dropped'))} dropped)"
            )
    for name, producer in layout.entries(summary, "producers"):
        calls = producer.get("calls")
        if calls and producer.get("errors"):
            lines.append(
                f"calls {name}: {show_number(producer.get('errors'))} errors: "
                f"{show_number(calls.get('unavailable'))} with no worker up, "
                f"{show_number(calls.get('timeouts'))} timed out, "
                f"{show_number(calls.get('failed'))} failed in processing"
            )
    return ["", *lines] if lines else []


def format_replicated(summary: dict[str, Any], path: Path | None) -> str:
    """Every headline figure with its 95% half-width, then per queue, pool and producer."""
    def ci(entry: Any, kind: str = "s") -> str:
        """``mean ± half`` with the digits the interval supports, as in sweep and compare
        tables (:func:`layout.with_kind`)."""
        if not isinstance(entry, dict):
            return MISSING
        return layout.with_kind(kind, entry.get("mean"), entry.get("ci95"))

    count, rate = "count", "msg/s"

    n = summary.get("replications")
    totals = summary.get("totals") or {}
    name = summary.get("scenario") or MISSING
    lines = [f"{name}: {n} replications (mean ± 95% confidence half-width)", ""]
    for section in ("latency", "wait", "queueing"):
        figures = summary.get(section) or {}
        lines.append(f"{section:<10} " + "  ".join(
            f"{k} {ci(figures.get(k))}" for k in ("mean", "p50", "p90", "p99")))
    lines += layout.latency_note(summary.get("warmup"))
    lines.append(f"throughput {ci(summary.get('throughput'), rate)}  "
                 + layout.window(summary.get("warmup"), summary.get("duration")))
    lines.append(layout.drain_line(summary.get("duration"),
                                   layout.mean_or_none(summary.get("sim_end")), None, "mean "))
    shown = [k for k in ("published", "completed", "rejected", "dead_lettered", "expired",
                         "lost", "pending", "duplicate_deliveries", "duplicate_processing")
             if k in ("published", "completed", "lost") or layout.mean_of(totals.get(k))]
    lines.append("messages   " + "  ".join(f"{k} {ci(totals.get(k), count)}" for k in shown))
    reordering = summary.get("reordering") or {}
    # 0 is kept order; null: no key to keep
    if show_number(layout.get(reordering, "reordered", "mean")) != MISSING:
        lines.append("reordering " + "  ".join(
            f"{k} {ci(reordering.get(k), count)}" for k in ("reordered", "inversions")))
    if isinstance(summary.get("warmup_auto"), dict):
        lines.append(f"warm-up    auto (MSER-5): "
                     f"{ci(summary['warmup_auto'].get('seconds'))} per replication")
    lines += ["", layout.table(
        ["queue", "completed", "p50", "p99", "mean depth"],
        [[q, ci(layout.get(e, "totals", "completed"), count), ci(layout.get(e, "latency", "p50")),
          ci(layout.get(e, "latency", "p99")), ci(e.get("mean_depth"), count)]
         for q, e in layout.entries(summary, "queues")])]
    lines += ["", layout.table(
        ["workers", "utilization", "crashes"],
        [[w, ci(e.get("utilization"), "ratio"), ci(e.get("crashes"), count)]
         for w, e in layout.entries(summary, "workers")])]
    if summary.get("workers"):
        lines.append(layout.utilization_note(summary.get("warmup"), summary.get("duration")))
    lines += ["", layout.table(
        ["producer", "sent", "errors", "response p99"],
        [[p, ci(e.get("sent"), count), ci(e.get("errors"), count),
          ci(layout.get(e, "response_time", "p99"))]
         for p, e in layout.entries(summary, "producers")])]
    lines += cost_lines(summary)
    if path is not None:
        lines += ["", f"results: {path}  (per replication: replications.csv; "
                  "tables and plots: the first replication's)"]
    return "\n".join(lines)

