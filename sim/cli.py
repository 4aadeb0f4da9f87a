"""The ``mqsim`` command line: argument parsing and printing only.

Exit codes: 0 ok, 2 the scenario or the command line is invalid (including an ``--out`` folder
that cannot be written, found before simulating), 1 anything else. The scenario's warnings
(valid, but probably not what was meant) are printed to stderr as ``warning: TEXT`` lines by
``run`` (before simulating, even with ``--quiet``) and ``validate``. An undefined figure (None
in the summary: the latency of a queue where nothing completed, say) prints as ``-``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from sim.format import MISSING, duration, number, percent
from sim.results import OutputError, check_writable
from sim.scenario import ScenarioError
from sim.scenario.errors import Problem

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except OutputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`mqsim ... | head`): not an error
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:  # the CLI never shows a traceback unless asked to
        if os.environ.get("MQSIM_DEBUG"):
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mqsim", description="Simulate message-queue architectures from YAML scenarios."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", help="the scenario YAML file")
    run.add_argument("--seed", type=int, help="the run's seed (default: run.seed)")
    run.add_argument("--replications", type=_positive, help="independent replications")
    run.add_argument("--out", default="results", help="results root (default: results/)")
    _add_set(run)
    run.add_argument("--no-plots", action="store_true", help="do not draw the plots")
    run.add_argument("--quiet", action="store_true",
                     help="print nothing but the scenario's warnings and errors")
    run.set_defaults(handler=_run)

    validate = commands.add_parser("validate", help="check a scenario, print it resolved")
    validate.add_argument("scenario")
    _add_set(validate)
    validate.set_defaults(handler=_validate)

    plot = commands.add_parser("plot", help="(re)draw the plots of a saved run")
    plot.add_argument("results_dir")
    plot.set_defaults(handler=_plot)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a scenario value by dotted path, e.g. queues.orders.max_length=100",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _overrides(pairs: list[str], seed: int | None = None,
               replications: int | None = None) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problem = Problem(f"--set {pair}", None, "expected KEY=VALUE, e.g. run.seed=3")
            raise ScenarioError([problem])
        overrides[key.strip()] = value
    if seed is not None:
        overrides["run.seed"] = seed
    if replications is not None:
        overrides["run.replications"] = replications
    return overrides


def _load(args: argparse.Namespace) -> Any:
    import sim

    return sim.load(args.scenario, overrides=_overrides(
        args.set, getattr(args, "seed", None), getattr(args, "replications", None)))


def _warn(scenario: Any) -> None:
    """One ``warning: TEXT`` line on stderr per warning the scenario's loading raised."""
    for text in getattr(scenario, "warnings", None) or []:
        print(f"warning: {text}", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    _warn(scenario)  # on stderr: stdout stays the resolved YAML, fit for a file
    sys.stdout.write(yaml.safe_dump(scenario.data, sort_keys=False, allow_unicode=True))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    import sim

    scenario = _load(args)
    check_writable(args.out, scenario.data["name"])  # before the run, not after it
    _warn(scenario)
    bar = None if args.quiet or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    result = sim.run_replications(scenario, progress=bar)
    if bar is not None:
        bar.close()
    path = result.save(args.out, plots=not args.no_plots, command=["mqsim", *sys.argv[1:]])
    if not args.quiet:
        print(format_summary(result.summary, path))
    return EXIT_OK


def _plot(args: argparse.Namespace) -> int:
    from sim.plots import save_all
    from sim.results import Result

    result = Result.load(args.results_dir)
    # A replicated run's tables are its first replication's; the figures say so in their title.
    for path in save_all(Path(args.results_dir), result.messages, result.timeseries,
                         result.summary):
        print(path)
    return EXIT_OK


class ProgressBar:
    """A one-line progress bar on a terminal, shown only once a run takes a moment."""

    def __init__(self, stream: TextIO, delay: float = 0.5) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.delay = delay
        self.last = 0.0
        self.shown = False

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last < 0.1:
            return
        self.last = now
        self.shown = True
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 30)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%}"
            f"  {now - self.started:5.1f}s"
        )
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


# -- the printed summary ---------------------------------------------------------------------
# Every figure goes through sim.format (number, percent, duration), which prints an undefined
# one (None, NaN) as MISSING: a run where nothing was published, completed or measured still
# prints its table.
TOTALS = ("published", "rejected", "unroutable", "completed", "dead_lettered", "expired", "lost",
          "pending")


def format_summary(summary: dict[str, Any], path: Path | None = None) -> str:
    """A readable table of a run's headline figures."""
    if "replication_summaries" in summary:
        return _format_replicated(summary, path)
    totals = summary.get("totals") or {}
    name = summary.get("scenario") or MISSING
    lines = [
        f"{name}  seed {number(summary.get('seed'), '')}  published for "
        f"{_secs(summary.get('duration'))}, simulated to {_secs(summary.get('sim_end'))} "
        f"in {_secs(summary.get('wall_seconds'), '.2f')} of wall time",
        "",
        "messages   " + "  ".join(
            f"{name} {number(totals.get(name))}"
            for name in TOTALS
            if totals.get(name) or name in ("published", "completed")
        ),
        f"latency    {_percentiles(summary.get('latency'))}",
        f"wait       {_percentiles(summary.get('wait'))}",
        f"queueing   {_percentiles(summary.get('queueing'))}",
        f"throughput {_rate(summary.get('throughput'))}",
    ]
    if summary.get("drain_timed_out"):
        lines.append(f"drain      timed out: {number(totals.get('pending'))} copies left pending")
    reordering = summary.get("reordering") or {}
    duplicates = [
        f"{label} {number(totals.get(name))}"
        for name, label in (("duplicate_deliveries", "redelivered"),
                            ("duplicate_processing", "processed twice"),
                            ("duplicates_absorbed", "absorbed"))
        if totals.get(name)
    ]
    if duplicates:
        lines.append("duplicates " + "  ".join(duplicates))
    if reordering.get("reordered"):
        lines.append(
            f"reordering {number(reordering.get('reordered'))} reordered "
            f"({percent(reordering.get('reordered_ratio'), 2)}), "
            f"{number(reordering.get('inversions'))} inversions, "
            f"max displacement {number(reordering.get('max_displacement'))}"
        )
    lines += ["", _table(
        ["queue", "enqueued", "completed", "rejected", "max depth", "mean depth", "p50", "p99"],
        [
            [name, number(_get(q, "totals", "enqueued")),
             number(_get(q, "totals", "completed")),
             number(_get(q, "totals", "rejected") or 0), number(q.get("max_depth")),
             number(q.get("mean_depth"), ".1f"), duration(_get(q, "latency", "p50")),
             duration(_get(q, "latency", "p99"))]
            for name, q in _entries(summary, "queues")
        ],
    )]
    logs = [(name, q) for name, q in _entries(summary, "queues") if "lag" in q]
    if logs:  # kafka consumer groups: how far behind each is
        lines += ["", _table(
            ["consumer group log", "max lag", "mean lag", "rebalances"],
            [[name, number(_get(q, "lag", "max")), number(_get(q, "lag", "mean"), ".1f"),
              number(q.get("rebalances"))] for name, q in logs],
        )]
    lines += ["", _table(
        ["workers", "utilization", "crashes", "mean up", "min up", "max up", "worker-hours"],
        [[name, percent(w.get("utilization")), number(w.get("crashes")),
          number(w.get("mean_up"), ".2f"), number(w.get("min_up")), number(w.get("max_up")),
          number(None if w.get("worker_seconds") is None else w["worker_seconds"] / 3600,
                 ".2f")]
         for name, w in _entries(summary, "workers")],
    )]
    lines += ["", _table(
        ["producer", "sent", "errors", "response p50", "response p99"],
        [[name, number(p.get("sent")), number(p.get("errors")),
          duration(_get(p, "response_time", "p50")), duration(_get(p, "response_time", "p99"))]
         for name, p in _entries(summary, "producers")],
    )]
    lines += _routing_lines(summary)
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _routing_lines(summary: dict[str, Any]) -> list[str]:
    """Flows across pipeline stages, unroutable publishes, and why synchronous calls failed."""
    lines = []
    flows = summary.get("flows") or {}
    if flows.get("count") and (flows.get("copies") or 0) > flows["count"]:  # several stages
        lines.append(
            f"flows      {number(flows.get('completed'))} of {number(flows.get('count'))} "
            f"completed end to end  {_percentiles(flows.get('latency'))}"
        )
    for name, exchange in _entries(summary, "exchanges"):
        if exchange.get("unroutable"):
            lines.append(
                f"exchange {name}: {number(exchange.get('unroutable'))} unroutable "
                f"({number(exchange.get('to_alternate'))} to its alternate queue, "
                f"{number(exchange.get('dropped'))} dropped)"
            )
    for name, producer in _entries(summary, "producers"):
        calls = producer.get("calls")
        if calls and producer.get("errors"):
            lines.append(
                f"calls {name}: {number(producer.get('errors'))} errors: "
                f"{number(calls.get('unavailable'))} with no worker up, "
                f"{number(calls.get('timeouts'))} timed out, "
                f"{number(calls.get('failed'))} failed in processing"
            )
    return ["", *lines] if lines else []


def _format_replicated(summary: dict[str, Any], path: Path | None) -> str:
    def ci(entry: Any, fmt: Any = duration) -> str:
        if not isinstance(entry, dict) or number(entry.get("mean")) == MISSING:
            return MISSING
        half = entry.get("ci95")
        return fmt(entry["mean"]) + ("" if number(half) == MISSING else f" ± {fmt(half)}")

    n = summary.get("replications")
    latency = summary.get("latency") or {}
    totals = summary.get("totals") or {}
    name = summary.get("scenario") or MISSING
    lines = [
        f"{name}: {n} replications (mean ± 95% confidence half-width)",
        "",
        "latency    " + "  ".join(f"{k} {ci(latency.get(k))}" for k in ("mean", "p50", "p99")),
        f"throughput {ci(summary.get('throughput'), lambda v: f'{v:.2f} msg/s')}",
        "completed  " + ci(totals.get("completed"), lambda v: f"{v:,.1f}"),
        "lost       " + ci(totals.get("lost"), lambda v: f"{v:,.1f}"),
    ]
    if path is not None:
        lines += ["", f"results: {path}  (tables and plots: the first replication's)"]
    return "\n".join(lines)


def _entries(summary: dict[str, Any], section: str) -> list[tuple[str, dict[str, Any]]]:
    """The (name, figures) pairs of a per-component section, empty when it is missing."""
    entries = summary.get(section) or {}
    return [(str(name), e if isinstance(e, dict) else {}) for name, e in entries.items()]


def _get(entry: dict[str, Any], section: str, key: str) -> Any:
    """``entry[section][key]``, or None when either is missing."""
    inner = entry.get(section)
    return inner.get(key) if isinstance(inner, dict) else None


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=False)))]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=False))))
    return "\n".join(out)


def _percentiles(figures: Any) -> str:
    if not isinstance(figures, dict) or number(figures.get("mean")) == MISSING:
        return MISSING
    keys = ("mean", "p50", "p90", "p99", "max")
    return "  ".join(f"{k} {duration(figures.get(k))}" for k in keys)


def _rate(value: Any) -> str:
    text = number(value, ".2f")
    return text if text == MISSING else f"{text} msg/s"


def _secs(seconds: Any, spec: str = ",.1f") -> str:
    text = number(seconds, spec)
    return text if text == MISSING else f"{text} s"


if __name__ == "__main__":
    raise SystemExit(main())
