"""The ``mqsim`` command line: argument parsing and dispatch only.

Exit codes: 0 ok, 2 the scenario or the command line is invalid (including an ``--out`` folder
that cannot be written, found before simulating), 1 anything else. The scenario's warnings
(valid, but probably not what was meant) are printed to stderr as ``warning: TEXT`` lines by
``run`` (before simulating, even with ``--quiet``) and ``validate``. An undefined figure (None
in the summary: the latency of a queue where nothing completed, say) prints as ``-``.

What each command does is in `sim.commands`; what it prints, in `sim.report`. A command's
handler is named ``"module:function"`` and imported only when that command runs, so
``mqsim validate`` and ``mqsim --version`` load no pandas, pyarrow, matplotlib or dask.

Adding a command: write ``def define_NAME(commands)`` below (its parser, its options, and
``set_defaults(handler="sim.MODULE:FUNCTION")``), and add it to `COMMANDS`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sim.commands import COMPARE_REPLICATIONS, EXIT_ERROR, EXIT_INVALID, EXIT_OK, SWEEP_REPLICATIONS
from sim.scenario import ScenarioError

if TYPE_CHECKING:
    from sim.progress import ProgressBar
    from sim.report import format_comparison, format_summary, format_sweep

__all__ = ["EXIT_ERROR", "EXIT_INVALID", "EXIT_OK", "ProgressBar", "format_comparison",
           "format_summary", "format_sweep", "main"]

# The printing and the bar are `sim.report`'s and `sim.progress`'s; named here too for callers
# that import them from the CLI, and imported only then (validate prints no report).
_ELSEWHERE = {"ProgressBar": "sim.progress", "format_comparison": "sim.report",
              "format_summary": "sim.report", "format_sweep": "sim.report"}


def __getattr__(name: str) -> Any:
    if name not in _ELSEWHERE:
        raise AttributeError(f"module 'sim.cli' has no attribute {name!r}")
    return getattr(importlib.import_module(_ELSEWHERE[name]), name)


Subparsers = Any  # argparse's _SubParsersAction, private in the standard library
Handler = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error (argparse printed it)
        return int(done.code or 0) if isinstance(done.code, int) else EXIT_INVALID
    try:
        return int(_handler(args.handler)(args))
    except ScenarioError as error:
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:  # the reader went away (`mqsim ... | head`): not an error
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:
        if isinstance(error, _loaded(ROUTING_ERRORS)):  # a custom router failed in a sweep
            print(error, file=sys.stderr)
            return EXIT_INVALID
        if isinstance(error, _loaded(USER_ERRORS)):
            print(f"error: {error}", file=sys.stderr)
            return EXIT_INVALID
        if os.environ.get("MQSIM_DEBUG"):  # the CLI never shows a traceback unless asked to
            raise
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR


# Errors the user can fix (exit 2), by module and class. They are looked up only in modules
# already imported: a module the command never loaded raised none of them, and naming them
# here loads nothing. ROUTING_ERRORS carry their own "path: message" line.
ROUTING_ERRORS = (("sim.model.routing", "RoutingError"),)
USER_ERRORS = (("sim.results", "OutputError"), ("sim.results", "ResultsError"),
               ("sim.experiment.executors", "ExecutorError"),
               ("sim.experiment.replications", "FigureError"))


def _loaded(names: tuple[tuple[str, str], ...]) -> tuple[type[BaseException], ...]:
    return tuple(getattr(sys.modules[module], name) for module, name in names
                 if module in sys.modules)


def _handler(handler: str | Handler) -> Handler:
    """The command's handler: a function, or ``"module:function"`` imported now (so only the
    command that runs loads its module)."""
    if callable(handler):
        return handler
    module, _, function = handler.partition(":")
    found: Handler = getattr(importlib.import_module(module), function)
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mqsim", description="Simulate message-queue architectures from YAML scenarios."
    )
    parser.add_argument("--version", action=_Version,
                        help="show program's version number and exit")
    commands = parser.add_subparsers(dest="command", required=True)
    for define in COMMANDS:
        define(commands)
    return parser


def define_run(commands: Subparsers) -> None:
    run = commands.add_parser("run", help="run a scenario and write a results folder")
    run.add_argument("scenario", help="the scenario YAML file")
    run.add_argument("--seed", type=_seed, help="the run's seed (default: run.seed)")
    run.add_argument("--replications", type=_positive, help="independent replications")
    _add_set(run)
    _add_output(run)
    _add_experiment(run)
    run.set_defaults(handler="sim.commands:run_command")


def define_sweep(commands: Subparsers) -> None:
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
    sweep.add_argument("--slo", action="append", default=[], metavar="FIGURE<=X",
                       help="judge every point against a service level, e.g. "
                            "'latency.p99<=1s'; draws the threshold, names the best point")
    _add_set(sweep)
    _add_output(sweep)
    _add_experiment(sweep)
    sweep.set_defaults(handler="sim.commands:sweep_command")


def define_compare(commands: Subparsers) -> None:
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
    compare.set_defaults(handler="sim.commands:compare_command")


def define_size(commands: Subparsers) -> None:
    size = commands.add_parser(
        "size", help="find the smallest (or largest) value of a setting that meets SLOs")
    size.add_argument("scenario", help="the scenario YAML file")
    size.add_argument("--param", required=True, metavar="KEY=LO..HI",
                      help="the setting and its range, e.g. workers.api.count=1..64")
    size.add_argument("--step", metavar="STEP",
                      help="the step of a range of durations or fractions (e.g. 5s, 0.05)")
    size.add_argument("--slo", action="append", required=True, metavar="FIGURE<=X",
                      help="a service level on a summary figure, e.g. 'latency.p99<=1s' or "
                           "'lost==0' (<=, <, >=, >, ==; repeat for several)")
    size.add_argument("--largest", action="store_true",
                      help="the largest value that meets them (e.g. prefetch)")
    size.add_argument("--minimize", metavar="FIGURE",
                      help="the value meeting them with the lowest FIGURE, e.g. cost.total")
    size.add_argument("--replications", type=_positive,
                      help="replications per value to start with (default: run.replications, "
                           "at least 5)")
    size.add_argument("--seed", type=_seed, help="the seed replications derive from")
    _add_set(size)
    _add_output(size)
    _add_experiment(size)
    # No --max-replications given: a straddling value may get 4x --replications.
    size.set_defaults(handler="sim.commands:size_command", max_replications=None)


def define_validate(commands: Subparsers) -> None:
    validate = commands.add_parser("validate", help="check a scenario, print it resolved")
    validate.add_argument("scenario")
    _add_set(validate)
    validate.set_defaults(handler="sim.commands:validate_command")


def define_plot(commands: Subparsers) -> None:
    plot = commands.add_parser(
        "plot",
        help="(re)draw the plots of a saved run, replicated run, sweep, comparison or sizing")
    plot.add_argument("results_dir")
    plot.set_defaults(handler="sim.commands:plot_command")


def define_fit(commands: Subparsers) -> None:
    # `fit service|arrivals` parses its own options (sim.fit.command): everything after
    # `fit` is handed over as it is, help included.
    fit = commands.add_parser("fit", add_help=False, prefix_chars="\0",
                              help="fit service times or arrivals to measurements (see fit -h)")
    fit.add_argument("argv", nargs=argparse.REMAINDER)
    fit.set_defaults(handler="sim.commands:fit_command")


# The commands, in the order `mqsim --help` lists them.
COMMANDS: list[Callable[[Subparsers], None]] = [
    define_run, define_sweep, define_compare, define_size, define_validate, define_plot,
    define_fit,
]


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


class _Version(argparse.Action):
    """``--version``: argparse's own action, but the version is looked up only when asked
    (reading the installed metadata costs more than validating a scenario)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 default: Any = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"mqsim {_version()}")
        parser.exit()


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("mqsim")
    except metadata.PackageNotFoundError:  # pragma: no cover - a source tree not installed
        import sim

        return sim.__version__


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



if __name__ == "__main__":
    raise SystemExit(main())
