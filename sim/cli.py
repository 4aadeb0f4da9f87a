"""The ``mqsim`` command line: argument parsing and printing only.

Exit codes: 0 ok, 2 the scenario (or the command line) is invalid, 1 anything else.
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

from sim.format import duration
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
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")
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


def _validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    sys.stdout.write(yaml.safe_dump(scenario.data, sort_keys=False, allow_unicode=True))
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    import sim

    scenario = _load(args)
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
def format_summary(summary: dict[str, Any], path: Path | None = None) -> str:
    """A readable table of a run's headline figures."""
    if "replication_summaries" in summary:
        return _format_replicated(summary, path)
    totals = summary["totals"]
    lines = [
        f"{summary['scenario']}  seed {summary['seed']}  published for "
        f"{_secs(summary['duration'])}, simulated to {_secs(summary['sim_end'])} "
        f"in {summary['wall_seconds']:.2f} s of wall time",
        "",
        "messages   " + "  ".join(
            f"{name} {totals[name]:,}"
            for name in ("published", "rejected", "completed", "dead_lettered", "expired",
                         "lost", "pending")
            if totals[name] or name in ("published", "completed")
        ),
        f"latency    {_percentiles(summary['latency'])}",
        f"wait       {_percentiles(summary['wait'])}",
        f"throughput {summary['throughput']:.2f} msg/s",
    ]
    reordering = summary["reordering"]
    duplicates = [
        f"{label} {totals[name]:,}"
        for name, label in (("duplicate_deliveries", "redelivered"),
                            ("duplicate_processing", "processed twice"),
                            ("duplicates_absorbed", "absorbed"))
        if totals.get(name)
    ]
    if duplicates:
        lines.append("duplicates " + "  ".join(duplicates))
    if reordering.get("reordered"):
        lines.append(
            f"reordering {reordering['reordered']:,} reordered "
            f"({reordering['reordered_ratio']:.2%}), {reordering['inversions']:,} inversions, "
            f"max displacement {reordering['max_displacement']}"
        )
    lines += ["", _table(
        ["queue", "enqueued", "completed", "rejected", "max depth", "mean depth", "p50", "p99"],
        [
            [name, f"{q['totals']['enqueued']:,}", f"{q['totals']['completed']:,}",
             f"{q['totals'].get('rejected', 0):,}", f"{q['max_depth']:,}",
             f"{q['mean_depth']:.1f}", duration(q["latency"].get("p50")),
             duration(q["latency"].get("p99"))]
            for name, q in summary["queues"].items()
        ],
    )]
    lines += ["", _table(
        ["workers", "utilization", "crashes", "mean up"],
        [[name, f"{w['utilization']:.1%}", str(w["crashes"]), f"{w['mean_up']:.2f}"]
         for name, w in summary["workers"].items()],
    )]
    lines += ["", _table(
        ["producer", "sent", "errors", "response p50", "response p99"],
        [[name, f"{p['sent']:,}", f"{p['errors']:,}", duration(p["response_time"].get("p50")),
          duration(p["response_time"].get("p99"))]
         for name, p in summary["producers"].items()],
    )]
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _format_replicated(summary: dict[str, Any], path: Path | None) -> str:
    def ci(entry: Any, fmt: Any = duration) -> str:
        if not isinstance(entry, dict) or entry.get("mean") is None:
            return "-"
        half = entry.get("ci95")
        return fmt(entry["mean"]) + ("" if half is None else f" ± {fmt(half)}")

    n = summary.get("replications")
    lat = summary["latency"]
    lines = [
        f"{summary['scenario']}: {n} replications (mean ± 95% confidence half-width)",
        "",
        "latency    " + "  ".join(f"{k} {ci(lat.get(k))}" for k in ("mean", "p50", "p99")),
        f"throughput {ci(summary['throughput'], lambda v: f'{v:.2f} msg/s')}",
        "completed  " + ci(summary["totals"]["completed"], lambda v: f"{v:,.1f}"),
        "lost       " + ci(summary["totals"]["lost"], lambda v: f"{v:,.1f}"),
    ]
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=False)]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                     for i, (h, w) in enumerate(zip(header, widths, strict=False)))]
    for row in rows:
        out.append("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=False))))
    return "\n".join(out)


def _percentiles(figures: dict[str, Any]) -> str:
    if figures.get("mean") is None:
        return "-"
    keys = ("mean", "p50", "p90", "p99", "max")
    return "  ".join(f"{k} {duration(figures.get(k))}" for k in keys)


def _secs(seconds: float) -> str:
    return f"{seconds:,.1f} s"


if __name__ == "__main__":
    raise SystemExit(main())
