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

from sim.experiment.executors import ExecutorError
from sim.experiment.replications import FigureError
from sim.format import (
    MISSING,
    duration,
    interval,
    nothing_sent,
    number,
    percent,
    show_value,
    yaml_value,
)
from sim.model.routing import RoutingError
from sim.results import OutputError, ResultsError, check_writable, existing_folder, read_json
from sim.scenario import ScenarioError
from sim.scenario.errors import Problem

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error (argparse printed it)
        return int(done.code or 0) if isinstance(done.code, int) else EXIT_INVALID
    try:
        return int(args.handler(args))
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except RoutingError as error:  # a custom router failed in a sweep or comparison
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except (OutputError, ResultsError, ExecutorError, FigureError) as error:
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
    parser.add_argument("--version", action="version", version=f"mqsim {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", help="the scenario YAML file")
    run.add_argument("--seed", type=_seed, help="the run's seed (default: run.seed)")
    run.add_argument("--replications", type=_positive, help="independent replications")
    _add_set(run)
    _add_output(run)
    _add_experiment(run)
    run.set_defaults(handler=_run)

    sweep = commands.add_parser(
        "sweep", help="run a grid of parameter values with replications, write table + plots")
    sweep.add_argument("scenario", help="the scenario YAML file")
    sweep.add_argument("--param", action="append", required=True, metavar="KEY=V1,V2,...",
                       help="a parameter and its values, e.g. workers.w.count=1,2,4 "
                            "(repeat for a grid)")
    sweep.add_argument("--replications", type=_positive,
                       help=f"replications per point (default: run.replications, at least "
                            f"{SWEEP_REPLICATIONS})")
    sweep.add_argument("--seed", type=_seed, help="the seed replications derive from")
    _add_set(sweep)
    _add_output(sweep)
    _add_experiment(sweep)
    sweep.set_defaults(handler=_sweep)

    compare = commands.add_parser(
        "compare", help="designs side by side on the same traffic: table, differences, plots")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO",
                         help="the designs' scenario files (one file with --vary)")
    compare.add_argument("--vary", metavar="KEY=V1,V2,...",
                         help="make one design per value of KEY in each file, e.g. "
                              "workers.consumers.prefetch=1,50")
    compare.add_argument("--replications", type=_positive,
                         help=f"replications per design (default: run.replications, at "
                              f"least {COMPARE_REPLICATIONS})")
    compare.add_argument("--seed", type=_seed,
                         help="the seed every design's replications derive from "
                              "(default: the first design's run.seed)")
    compare.add_argument("--threshold", default="1%", metavar="REL",
                         help="a difference under REL of the baseline's value is no "
                              "difference (default 1%%; 0 judges every difference)")
    _add_set(compare)
    _add_output(compare)
    _add_experiment(compare)
    compare.set_defaults(handler=_compare)

    validate = commands.add_parser("validate", help="check a scenario, print it resolved")
    validate.add_argument("scenario")
    _add_set(validate)
    validate.set_defaults(handler=_validate)

    plot = commands.add_parser(
        "plot", help="(re)draw the plots of a saved run, replicated run, sweep or comparison")
    plot.add_argument("results_dir")
    plot.set_defaults(handler=_plot)

    fit = commands.add_parser("fit", add_help=False, prefix_chars="\0",
                              help="fit service times or arrivals to measurements (see fit -h)")
    fit.add_argument("argv", nargs=argparse.REMAINDER)
    fit.set_defaults(handler=_fit)
    return parser


def _add_set(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a scenario value by dotted path, e.g. queues.orders.max_length=100",
    )


def _add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="results", help="results root (default: results/)")
    parser.add_argument("--no-plots", action="store_true", help="do not draw the plots")
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing but the scenario's warnings and errors")


def _add_experiment(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive, default=1, metavar="N",
                       help="run replications in N local processes (default 1)")
    where.add_argument("--cluster", metavar="ADDRESS",
                       help="send replications to a Dask scheduler, e.g. tcp://host:8786 "
                            "(needs mqsim[cluster])")
    parser.add_argument("--precision", metavar="FIGURE=REL",
                        help="add replications until FIGURE's 95%% half-width is at most REL "
                             "of its mean, e.g. latency.p99=5%%")
    parser.add_argument("--max-replications", type=_positive, default=100, metavar="N",
                        help="the most replications --precision adds up to (default 100)")
    parser.add_argument("--force", action="store_true",
                        help="run even when the run is expected to need more memory than the "
                             "machine has")


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mqsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree not installed
        import sim

        return sim.__version__


def _precision(args: argparse.Namespace) -> Any:
    """The stop rule of ``--precision FIGURE=REL`` (REL as 0.05 or 5%), or None."""
    if not args.precision:
        return None
    from sim.experiment.replications import Precision

    figure, sep, text = args.precision.partition("=")
    try:
        relative = float(text.strip().rstrip("%")) / (100 if text.strip().endswith("%") else 1)
        if not sep or not figure.strip() or not relative > 0:
            raise ValueError
    except ValueError:
        raise ScenarioError([Problem("", None, f"--precision {args.precision}: expected "
                                     "FIGURE=REL with REL > 0, e.g. latency.p99=5%")]) from None
    return Precision(figure.strip(), relative, max_replications=max(2, args.max_replications))


def _threshold(text: str) -> float:
    """``--threshold REL`` (0.01 or 1%): a fraction, 0 or more."""
    raw = str(text).strip()
    try:
        value = float(raw.rstrip("%")) / (100 if raw.endswith("%") else 1)
        if not (value >= 0 and value != float("inf")):
            raise ValueError
    except ValueError:
        raise ScenarioError([Problem("", None, f"--threshold {text}: expected a fraction of "
                                     "the baseline, 0 or more, e.g. 1% or 0.01")]) from None
    return value


def _executor(args: argparse.Namespace) -> Any:
    from sim.experiment import executors

    return executors.make(args.jobs, args.cluster)


def _bar(args: argparse.Namespace) -> ProgressBar | None:
    return None if args.quiet or not sys.stderr.isatty() else ProgressBar(sys.stderr)


def _seed(text: str) -> int:
    """A seed: a whole number >= 0, reported as --seed's (not as the run.seed it sets)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


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
    precision = _precision(args)
    bar = _bar(args)
    try:
        with _executor(args) as executor:
            result = sim.run_replications(scenario, progress=bar, executor=executor,
                                          precision=precision, force=args.force)
    finally:
        if bar is not None:
            bar.close()
    path = result.save(args.out, plots=not args.no_plots, command=["mqsim", *sys.argv[1:]])
    if not args.quiet:
        print(format_summary(result.summary, path))
    return EXIT_OK


SWEEP_REPLICATIONS = 5  # a sweep's replications per point when the scenario asks for fewer
COMPARE_REPLICATIONS = 10  # a comparison's replications per design, likewise


def _replications(args: argparse.Namespace, scenario: Any, at_least: int) -> int:
    if args.replications is not None:
        return int(args.replications)
    return max(int(scenario.data["run"]["replications"]), at_least)


def _sweep(args: argparse.Namespace) -> int:
    from sim.experiment import grid
    from sim.experiment.sweep import sweep

    scenario = _load(args)
    parameters: dict[str, list[Any]] = {}
    for text in args.param:
        key, values = grid.parse("--param", text)
        if key in parameters:
            raise ScenarioError([Problem("", None, f"--param {text}: {key} is already swept")])
        parameters[key] = values
    for point in grid.points(parameters):  # every point valid before anything runs
        grid.apply(scenario, point)
    check_writable(args.out, scenario.data["name"])
    _warn(scenario)
    precision = _precision(args)
    n = _replications(args, scenario, SWEEP_REPLICATIONS)
    bar = _bar(args)
    try:
        with _executor(args) as executor:
            result = sweep(scenario, parameters, n, executor=executor, precision=precision,
                           progress=bar, force=args.force)
    finally:
        if bar is not None:
            bar.close()
    path = result.save(args.out, plots=not args.no_plots, command=["mqsim", *sys.argv[1:]])
    if not args.quiet:
        print(format_sweep(result.table, result.parameters, path))
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    import sim
    from sim.experiment import grid
    from sim.experiment.compare import compare

    threshold = _threshold(args.threshold)
    overrides = _overrides(args.set)
    loaded = [sim.load(path, overrides=overrides) for path in args.scenarios]
    designs: dict[str, Any] = {}
    if args.vary:
        key, values = grid.parse("--vary", args.vary)
        for path, scenario in zip(args.scenarios, loaded, strict=True):
            for value in values:
                variant = grid.apply(scenario, {key: value}, "--vary")
                label = grid.describe({key: value})
                name = label if len(loaded) == 1 else f"{_stem(path, loaded)} {label}"
                designs[name] = variant
    else:
        for path, scenario in zip(args.scenarios, loaded, strict=True):
            name, k = _stem(path, loaded, scenario), 2
            while name in designs:
                name, k = f"{_stem(path, loaded, scenario)} ({k})", k + 1
            designs[name] = scenario
    if len(designs) < 2:
        raise ScenarioError([Problem("", None, "compare needs at least two designs: give two "
                                     "or more scenario files, or --vary KEY=V1,V2")])
    check_writable(args.out, "compare")
    for name, scenario in designs.items():
        for text in getattr(scenario, "warnings", None) or []:
            print(f"warning: {name}: {text}", file=sys.stderr)
    precision = _precision(args)
    n = _replications(args, loaded[0], COMPARE_REPLICATIONS)
    bar = _bar(args)
    try:
        with _executor(args) as executor:
            result = compare(designs, n, seed=args.seed, executor=executor,
                             precision=precision, progress=bar, threshold=threshold,
                             force=args.force)
    finally:
        if bar is not None:
            bar.close()
    path = result.save(args.out, plots=not args.no_plots, command=["mqsim", *sys.argv[1:]])
    if not args.quiet:
        print(format_comparison(result.table, result.differences, result.names, path,
                                result.threshold))
    return EXIT_OK


def _stem(path: str, loaded: list[Any], scenario: Any = None) -> str:
    """A design's name: its scenario's name, or the file's stem when names repeat."""
    names = [s.data["name"] for s in loaded]
    if scenario is not None and names.count(scenario.data["name"]) == 1:
        return str(scenario.data["name"])
    return Path(path).stem


def _fit(args: argparse.Namespace) -> int:
    from sim.fit.command import main as fit  # scipy only when fitting: validate stays fast

    return fit(args.argv)


def _plot(args: argparse.Namespace) -> int:
    from sim.experiment.compare import Comparison, is_comparison
    from sim.experiment.compare import save_plots as save_comparison
    from sim.experiment.sweep import Sweep, is_sweep
    from sim.experiment.sweep import save_plots as save_sweep
    from sim.plots import save_all
    from sim.results import Result

    folder = existing_folder(args.results_dir)  # "does not exist", not "not a results folder"
    if (folder / "experiment.json").is_file():
        read_json(folder / "experiment.json")  # a corrupt one is named, not taken for a run's
    if is_sweep(folder):
        written = save_sweep(Sweep.load(folder), folder)
    elif is_comparison(folder):
        written = save_comparison(Comparison.load(folder), folder)
    else:
        written = []
    for path in written:
        print(path)
    if written:
        return EXIT_OK
    result = Result.load(args.results_dir)
    # A replicated run's tables are its first replication's; the figures say so in their title.
    for path in save_all(Path(args.results_dir), result.messages, result.timeseries,
                         result.summary):
        print(path)
    return EXIT_OK


class ProgressBar:
    """A one-line progress bar on a terminal, shown only once a run takes a moment.

    Over replications, sweep points and designs it also shows a note ("3 of 10
    replications"); it is drawn only when stderr is a terminal and --quiet is not given.
    """

    def __init__(self, stream: TextIO, delay: float = 0.5) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.delay = delay
        self.last = 0.0
        self.shown = False
        self.width = 0

    def __call__(self, fraction: float, note: str = "") -> None:
        """Draw ``fraction`` done, with an optional ``note`` ("3 of 10 replications")."""
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last < 0.1:
            return
        self.last = now
        self.shown = True
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 30)
        line = (f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%}"
                f"  {now - self.started:5.1f}s" + (f"  {note}" if note else ""))
        self.width = max(self.width, len(line))
        self.stream.write(line.ljust(self.width))
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * max(60, self.width) + "\r")
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
    published = f"published for {_secs(summary.get('duration'))}"
    if nothing_sent(summary):  # say why the tables below are empty
        published = "published nothing (no producer sent a message: see the warnings)"
    lines = [
        f"{name}  seed {number(summary.get('seed'), '')}  {published}, simulated to "
        f"{_secs(summary.get('sim_end'))} in {_secs(summary.get('wall_seconds'), '.2f')} of "
        "wall time",
        "",
        "messages   " + "  ".join(
            f"{name} {number(totals.get(name))}"
            for name in TOTALS
            if totals.get(name) or name in ("published", "completed")
        ),
        f"latency    {_percentiles(summary.get('latency'))}",
        f"wait       {_percentiles(summary.get('wait'))}",
        f"queueing   {_percentiles(summary.get('queueing'))}",
        *_latency_note(summary.get("warmup")),
        f"throughput {_rate(summary.get('throughput'))}  "
        + _window(summary.get("warmup"), summary.get("duration")),
        _drain_line(summary.get("duration"), summary.get("sim_end"),
                    number(totals.get("pending")) if summary.get("drain_timed_out") else None),
    ]
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
    if reordering.get("reordered") is not None:  # 0: the order was kept; None: no key to keep
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
    lines += _kafka_lines(summary)
    lines += ["", _table(
        ["workers", "utilization", "crashes", "mean up", "min up", "max up", "worker-hours"],
        [[name, percent(w.get("utilization")), number(w.get("crashes")),
          number(w.get("mean_up"), ".2f"), number(w.get("min_up")), number(w.get("max_up")),
          number(None if w.get("worker_seconds") is None else w["worker_seconds"] / 3600,
                 ".2f")]
         for name, w in _entries(summary, "workers")],
    )]
    if summary.get("workers"):
        lines.append(_utilization_note(summary.get("warmup"), summary.get("duration")))
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


HOTTEST_PARTITIONS = 3  # per consumer group, the partitions printed (most lag first)


def _kafka_lines(summary: dict[str, Any]) -> list[str]:
    """Kafka consumer groups: how far behind each is, its idle consumers, and its hottest
    partitions (most mean lag first: where a hot key or a slow owner holds the group back)."""
    logs = [(name, q) for name, q in _entries(summary, "queues") if "lag" in q]
    if not logs:
        return []
    workers = summary.get("workers") or {}

    def idle(q: dict[str, Any]) -> str:
        pool = workers.get(q.get("group")) if q.get("group") is not None else None
        return number(pool.get("idle_consumers")) if isinstance(pool, dict) else MISSING

    lines = ["", _table(
        ["consumer group log", "group", "max lag", "mean lag", "rebalances", "idle consumers"],
        [[name, str(q.get("group") or MISSING), number(_get(q, "lag", "max")),
          number(_get(q, "lag", "mean"), ",.1f"), number(q.get("rebalances")), idle(q)]
         for name, q in logs],
    )]
    rows = []
    for name, q in logs:
        parts = [p if isinstance(p, dict) else {} for p in q.get("partitions") or []]
        if len(parts) < 2:
            continue  # one partition is the group itself
        total = sum(p.get("records") or 0 for p in parts)

        def heat(i: int, parts: list[dict[str, Any]] = parts) -> tuple[float, float]:
            lag, records = parts[i].get("mean_lag"), parts[i].get("records")
            return (-(lag if number(lag) != MISSING else -1.0), -(records or 0))

        for i in sorted(range(len(parts)), key=heat)[:HOTTEST_PARTITIONS]:
            p = parts[i]
            records = p.get("records")
            rows.append([name, str(i), number(records),
                         percent(records / total if total and records is not None else None),
                         number(p.get("mean_lag"), ",.1f"), number(p.get("max_lag")),
                         "none" if p.get("owner") is None else str(p["owner"])])
    if rows:
        lines += ["", _table(["hottest partitions", "partition", "records", "share",
                              "mean lag", "max lag", "owner at end"], rows)]
    return lines


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
    """Every headline figure with its 95% half-width, then per queue, pool and producer."""
    def ci(entry: Any, kind: str = "s") -> str:
        """``mean ± half`` with the digits the interval supports, as in sweep and compare
        tables (:func:`_with_kind`)."""
        if not isinstance(entry, dict):
            return MISSING
        return _with_kind(kind, entry.get("mean"), entry.get("ci95"))

    count, rate = "count", "msg/s"

    n = summary.get("replications")
    totals = summary.get("totals") or {}
    name = summary.get("scenario") or MISSING
    lines = [f"{name}: {n} replications (mean ± 95% confidence half-width)", ""]
    for section in ("latency", "wait", "queueing"):
        figures = summary.get(section) or {}
        lines.append(f"{section:<10} " + "  ".join(
            f"{k} {ci(figures.get(k))}" for k in ("mean", "p50", "p90", "p99")))
    lines += _latency_note(summary.get("warmup"))
    lines.append(f"throughput {ci(summary.get('throughput'), rate)}  "
                 + _window(summary.get("warmup"), summary.get("duration")))
    lines.append(_drain_line(summary.get("duration"), _mean_or_none(summary.get("sim_end")),
                             None, "mean "))
    shown = [k for k in ("published", "completed", "rejected", "dead_lettered", "expired",
                         "lost", "pending", "duplicate_deliveries", "duplicate_processing")
             if k in ("published", "completed", "lost") or _mean(totals.get(k))]
    lines.append("messages   " + "  ".join(f"{k} {ci(totals.get(k), count)}" for k in shown))
    reordering = summary.get("reordering") or {}
    if number(_get(reordering, "reordered", "mean")) != MISSING:  # 0 is kept order; null: no key
        lines.append("reordering " + "  ".join(
            f"{k} {ci(reordering.get(k), count)}" for k in ("reordered", "inversions")))
    if isinstance(summary.get("warmup_auto"), dict):
        lines.append(f"warm-up    auto (MSER-5): "
                     f"{ci(summary['warmup_auto'].get('seconds'))} per replication")
    lines += ["", _table(
        ["queue", "completed", "p50", "p99", "mean depth"],
        [[q, ci(_get(e, "totals", "completed"), count), ci(_get(e, "latency", "p50")),
          ci(_get(e, "latency", "p99")), ci(e.get("mean_depth"), count)]
         for q, e in _entries(summary, "queues")])]
    lines += ["", _table(
        ["workers", "utilization", "crashes"],
        [[w, ci(e.get("utilization"), "ratio"), ci(e.get("crashes"), count)]
         for w, e in _entries(summary, "workers")])]
    if summary.get("workers"):
        lines.append(_utilization_note(summary.get("warmup"), summary.get("duration")))
    lines += ["", _table(
        ["producer", "sent", "errors", "response p99"],
        [[p, ci(e.get("sent"), count), ci(e.get("errors"), count),
          ci(_get(e, "response_time", "p99"))] for p, e in _entries(summary, "producers")])]
    if path is not None:
        lines += ["", f"results: {path}  (per replication: replications.csv; "
                  "tables and plots: the first replication's)"]
    return "\n".join(lines)


def _window(warmup: Any, end: Any) -> str:
    """The measured window of throughput and utilization, as printed beside them."""
    until = "the end of publishing" if end is None else f"{duration(end)} (end of publishing)"
    start = duration(warmup or 0.0)
    return f"completions from {start} ({'warm-up' if warmup else 'start'}) to {until}"


def _latency_note(warmup: Any) -> list[str]:
    """Which copies the latency figures describe, when a warm-up leaves some out."""
    if not warmup:
        return []
    return [f"           (latency, wait, queueing: copies published from {duration(warmup)}, "
            "after the warm-up)"]


def _drain_line(end: Any, sim_end: Any, pending: str | None, prefix: str = "") -> str:
    """How long the run went on after publishing stopped: no figure's window covers it."""
    drain = sim_end - end if number(end) != MISSING and number(sim_end) != MISSING else None
    line = (f"drain      {prefix}{duration(drain)} after publishing ended "
            "(in neither throughput nor utilization)")
    if pending is not None:
        line += f"; timed out: {pending} copies left pending"
    return line


def _utilization_note(warmup: Any, end: Any) -> str:
    until = "the end of publishing" if end is None else duration(end)
    return (f"(utilization from {duration(warmup or 0.0)} to {until}, as throughput; "
            "worker-hours over the whole run)")


def _mean_or_none(entry: Any) -> float | None:
    """The mean of a ``{mean, ci95}`` entry, None when undefined."""
    value = entry.get("mean") if isinstance(entry, dict) else entry
    return float(value) if number(value) != MISSING else None


def _mean(entry: Any) -> float:
    """The mean of a ``{mean, ci95}`` entry, 0 when undefined."""
    value = entry.get("mean") if isinstance(entry, dict) else None
    return float(value) if number(value) != MISSING else 0.0


def _with_ci(figure: str, mean: Any, half: Any, signed: bool = False) -> str:
    """``mean ± half`` for ``figure`` (:func:`_with_kind` with the figure's unit)."""
    from sim.experiment.figures import unit

    return _with_kind(unit(figure), mean, half, signed)


def _with_kind(kind: str, mean: Any, half: Any, signed: bool = False) -> str:
    """``mean ± half`` to the interval's precision (`sim.format.interval`); the mean alone
    when there is no half-width (one replication) or it is 0 (no spread: exact)."""
    shown = interval(mean, half, kind, signed)
    if shown != MISSING:
        return shown
    text = show_value(mean, kind)
    positive = text != MISSING and mean > 0
    return ("+" if signed and positive else "") + text


def format_sweep(table: Any, parameters: list[str], path: Path | None = None) -> str:
    """One line per point: the parameters and the headline figures (mean ± 95% CI)."""
    from sim.experiment.figures import headline

    wanted = ["latency.mean", "latency.p99", "wait.p99", "throughput"] + [
        f for f in headline(table.columns)
        if f.startswith(("totals.", "reordering.", "workers.")) and f not in
        ("totals.published", "totals.completed", "reordering.inversions")]
    figures = [f for f in wanted if f in table and f + "_ci" in table
               and (f in ("latency.mean", "latency.p99", "throughput")
                    or (table[f].fillna(0) != 0).any())][:8]
    header = [p.split(".")[-1] for p in parameters] + ["n"] + [
        f.replace("totals.", "").replace("reordering.", "") for f in figures]
    unstable = ("unstable" in table and bool(table["unstable"].fillna(False).astype(bool).any()))
    rows = []
    for i in range(len(table)):
        rows.append([_show_value(table[p].iloc[i]) for p in parameters]
                    + [str(int(table["replications"].iloc[i]))]
                    + [_with_ci(f, table[f].iloc[i], table[f + "_ci"].iloc[i])
                       for f in figures]
                    + (["yes" if bool(table["unstable"].iloc[i]) else ""] if unstable else []))
    if unstable:
        header.append("unstable")
    lines = [f"sweep of {', '.join(parameters)}: mean ± 95% confidence half-width", "",
             _table(header, rows)]
    if unstable:
        lines += ["", "unstable: the offered load is above a queue's capacity, so its latency "
                  "grows with the run's length (a longer run reads worse)"]
    theory = [c for c in table.columns if c.startswith("theory.latency.")]
    if theory and table[theory].notna().any().any():
        lines += ["", "theory (closed form) beside it: " + ", ".join(
            c.removeprefix("theory.") for c in theory) + " in table.csv"]
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _show_value(value: Any) -> str:
    return yaml_value(value)  # a swept value as it is written in YAML: true, not True


def format_comparison(table: Any, differences: Any, names: list[str],
                      path: Path | None = None, threshold: float | None = None) -> str:
    """The designs side by side (mean ± 95% CI), then each design against the first: the
    paired difference with its CI, and its verdict (``differences``' ``verdict``: which
    design is better, or why there is no difference). A figure undefined in every design
    (reordering without keys) is left out."""
    from sim.experiment.figures import headline

    # A figure no design could measure (reordering without keys) is left out, not shown as -.
    figures = [f for f in headline(table.columns) if f + "_ci" in table
               and table[f].notna().any()
               and (not f.startswith("totals.") or f == "totals.completed"
                    or (table[f].fillna(0) != 0).any())]
    by_design = table.set_index("design")
    rows = []
    for figure in figures:
        row = [figure.replace("totals.", "")]
        row += [_with_ci(figure, by_design.at[n, figure], by_design.at[n, figure + "_ci"])
                for n in names]
        for other in names[1:]:
            match = differences[(differences["figure"] == figure)
                                & (differences["design"] == other)]
            if match.empty:
                row += [MISSING, ""]
                continue
            d = match.iloc[0]
            row.append(_with_ci(figure, d["difference"], d["difference_ci"], signed=True))
            row.append(str(d["verdict"]) if "verdict" in d else "")
        rows.append(row)
    header = ["figure", *names]
    for other in names[1:]:
        header += [f"{other} − {names[0]}", "verdict"]
    n = int(table["replications"].min()) if len(table) else 0
    practical = ("" if threshold is None else
                 f"; a difference under {threshold * 100:.3g}% of {names[0]}'s is none")
    lines = [f"{' vs '.join(names)}: {n} replications each, common random numbers",
             "(mean ± 95% confidence half-width; differences paired by replication"
             f"{practical})", "", _table(header, rows)]
    if path is not None:
        lines += ["", f"results: {path}"]
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
