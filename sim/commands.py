"""What the ``mqsim`` commands do, behind the parsing of `sim.cli`: one handler per command.

Every experiment command (run, sweep, compare, and what comes next) goes through one path,
:func:`execute_job`: check that ``--out`` can be written, print the scenario's warnings, read the
stop rule, run with a progress bar where the replications are to run, save the results folder,
print the report. A handler only loads its scenarios and says what to run and how to report.

Heavy modules (pandas, the experiment layer, matplotlib) are imported inside the handlers
that use them, so ``mqsim validate`` loads none of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sim
from sim.progress import NotedProgress, ProgressBar
from sim.scenario import Scenario, ScenarioError
from sim.scenario.errors import Problem
from sim.scenario.warnings import scenario_warnings

if TYPE_CHECKING:
    from sim.experiment.executors import Executor
    from sim.experiment.replications import Precision

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2
SWEEP_REPLICATIONS = 5  # a sweep's replications per point when the scenario asks for fewer
COMPARE_REPLICATIONS = 10  # a comparison's replications per design, likewise


class Saved(Protocol):
    """What an experiment gives back: a result that writes its own results folder."""

    def save(self, root: str, plots: bool = True, command: list[str] | None = None) -> Path:
        ...


@dataclass(frozen=True)
class Job:
    """One experiment command's work, for :func:`execute_job`.

    ``folder``: the name its results go under (checked writable before anything runs);
    ``warnings``: the lines printed to stderr before running (``warning: TEXT``);
    ``run(executor, precision, progress)``: the experiment; ``report(result, path)``: the
    text printed after it, unless ``--quiet``.
    """

    folder: str
    warnings: Sequence[str]
    run: Callable[[Executor, Precision | None, NotedProgress | None], Saved]
    report: Callable[[Any, Path], str]
    exit_code: Callable[[Any], int] = lambda result: EXIT_OK  # (size: 1 when no answer)


def execute_job(args: argparse.Namespace, job: Job) -> int:
    """The one path every experiment command takes (see the module's docstring)."""
    from sim.experiment import executors
    from sim.results import check_writable

    check_writable(args.out, job.folder)  # before the run, not after it
    for text in job.warnings:
        print(f"warning: {text}", file=sys.stderr)
    rule = precision(args)
    bar = None if args.quiet or not sys.stderr.isatty() else ProgressBar(sys.stderr)
    try:
        with executors.make(args.jobs, args.cluster) as executor:
            result = job.run(executor, rule, bar)
    finally:
        if bar is not None:
            bar.close()
    path = result.save(args.out, plots=not args.no_plots, command=["mqsim", *sys.argv[1:]])
    if not args.quiet:
        print(job.report(result, path))
    return job.exit_code(result)


# -- the handlers ------------------------------------------------------------------------------

def validate_command(args: argparse.Namespace) -> int:
    """Check a scenario and print it resolved (YAML on stdout, warnings on stderr)."""
    import yaml

    scenario = load_scenario(args)
    # On stderr: stdout stays the resolved YAML, fit for a file.
    for text in scenario_warnings(scenario):
        print(f"warning: {text}", file=sys.stderr)
    sys.stdout.write(yaml.safe_dump(scenario.data, sort_keys=False, allow_unicode=True))
    return EXIT_OK


def run_command(args: argparse.Namespace) -> int:
    """Run a scenario (with its replications) and write its results folder."""
    from sim.api import run_replications
    from sim.report import format_summary

    scenario = load_scenario(args)
    return execute_job(args, Job(
        folder=scenario.data["name"], warnings=scenario_warnings(scenario),
        run=lambda executor, rule, bar: run_replications(
            scenario, progress=bar, executor=executor, precision=rule, force=args.force),
        report=lambda result, path: format_summary(result.summary, path)))


def sweep_command(args: argparse.Namespace) -> int:
    """Run a grid of parameter values with replications; write its table and plots."""
    from sim.experiment import grid, slo, tables
    from sim.experiment.sweep import sweep as run_sweep
    from sim.format import currency_of
    from sim.report import format_sweep

    scenario = load_scenario(args)
    parameters: dict[str, list[Any]] = {}
    for text in args.param:
        key, values = grid.parse("--param", text)
        if key in parameters:
            raise ScenarioError([Problem("", None, f"--param {text}: {key} is already swept")])
        parameters[key] = values
    for point in grid.points(parameters):  # every point valid before anything runs
        grid.apply(scenario, point)
    rules = [slo.parse_slo(text) for text in args.slo]  # malformed: exit 2 before running
    n = replications(args, scenario, SWEEP_REPLICATIONS)

    def run(executor: Executor, rule: Precision | None, bar: NotedProgress | None) -> Saved:
        result = run_sweep(scenario, parameters, n, executor=executor, precision=rule,
                           progress=bar, force=args.force)
        names = tables.means(result.table)  # an SLO on a figure no point has: exit 2
        result.slos = [slo.resolve_slo(r, names).as_dict() for r in rules]
        return result

    return execute_job(args, Job(
        folder=scenario.data["name"], warnings=scenario_warnings(scenario), run=run,
        report=lambda result, path: format_sweep(result.table, result.parameters, path,
                                                 result.rules(), currency_of(result.scenario))))


def size_command(args: argparse.Namespace) -> int:
    """The smallest (or largest) value of a setting that meets the SLOs; exit 1 if none."""
    from sim.experiment import slo
    from sim.experiment.size import OVERLOAD, REPLICATIONS, size
    from sim.report.sizing import format_sizing

    scenario = load_scenario(args)
    rules = [slo.parse_slo(text) for text in args.slo]  # malformed: exit 2 before running
    n = replications(args, scenario, REPLICATIONS)
    return execute_job(args, Job(
        folder=scenario.data["name"],
        # The searched setting replaces the base's: an overload warning about it is moot.
        warnings=[t for t in scenario_warnings(scenario) if OVERLOAD not in t],
        run=lambda executor, rule, bar: size(
            scenario, args.param, rules, step=args.step, largest=args.largest,
            minimize=args.minimize, replications=n, max_replications=args.max_replications,
            precision=rule, executor=executor, progress=bar, force=args.force),
        report=format_sizing,
        exit_code=lambda result: EXIT_OK if result.answer is not None else EXIT_ERROR))


def compare_command(args: argparse.Namespace) -> int:
    """Run designs side by side on the same traffic; write the table, differences, plots."""
    from sim.experiment.compare import compare as run_compare
    from sim.report import format_comparison

    limit = threshold(args.threshold)
    loaded = [sim.load(path, overrides=overrides(args.set)) for path in args.scenarios]
    named = designs(args.scenarios, loaded, args.vary)
    n = replications(args, loaded[0], COMPARE_REPLICATIONS)
    return execute_job(args, Job(
        folder="compare",
        warnings=[f"{name}: {text}" for name, s in named.items()
                  for text in scenario_warnings(s)],
        run=lambda executor, rule, bar: run_compare(
            named, n, seed=args.seed, executor=executor, precision=rule, progress=bar,
            threshold=limit, force=args.force),
        report=lambda result, path: format_comparison(
            result.table, result.differences, result.names, path, result.threshold,
            _currencies(result.scenarios))))


def fit_command(args: argparse.Namespace) -> int:
    """``mqsim fit service|arrivals FILE``: the YAML to paste on stdout (`sim.fit.command`)."""
    from sim.fit.command import fit_main as fit  # scipy only when fitting: validate stays fast

    return fit(args.argv)


def plot_command(args: argparse.Namespace) -> int:
    """(Re)draw the plots of a saved run, replicated run, sweep, comparison or sizing."""
    from sim.experiment.compare import Comparison, is_comparison
    from sim.experiment.compare import save_plots as save_comparison
    from sim.experiment.size_result import Sizing, is_sizing
    from sim.experiment.sweep import Sweep, is_sweep
    from sim.experiment.sweep import save_plots as save_sweep
    from sim.plots import save_all
    from sim.results import Result, existing_folder, read_json

    folder = existing_folder(args.results_dir)  # "does not exist", not "not a results folder"
    for meta in ("experiment.json", "size.json"):
        if (folder / meta).is_file():
            read_json(folder / meta)  # a corrupt one is named, not taken for a run's
    if is_sweep(folder):
        written = save_sweep(Sweep.load(folder), folder)
    elif is_comparison(folder):
        written = save_comparison(Comparison.load(folder), folder)
    elif is_sizing(folder):
        written = [_save_size_plot(Sizing.load(folder), folder)]
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


def _save_size_plot(sizing: Any, folder: Path) -> Path:
    """``plots/size.png`` of a saved sizing, drawn again from its ``size.json``."""
    from sim.plots.style import DPI

    path = folder / "plots" / "size.png"
    path.parent.mkdir(exist_ok=True)
    sizing.plot().savefig(path, dpi=DPI)
    return path


# -- what the handlers share -------------------------------------------------------------------

def overrides(pairs: list[str], seed: int | None = None,
              replications: int | None = None) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs (and ``--seed``, ``--replications``) as overrides."""
    found: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problem = Problem(f"--set {pair}", None, "expected KEY=VALUE, e.g. run.seed=3")
            raise ScenarioError([problem])
        found[key.strip()] = value
    if seed is not None:
        found["run.seed"] = seed
    if replications is not None:
        found["run.replications"] = replications
    return found


def load_scenario(args: argparse.Namespace) -> Scenario:
    """``args.scenario`` loaded with ``--set`` (and ``--seed``, ``--replications`` if given)."""
    return sim.load(args.scenario, overrides=overrides(
        args.set, getattr(args, "seed", None), getattr(args, "replications", None)))


def precision(args: argparse.Namespace) -> Precision | None:
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
    # (size leaves --max-replications unset: its budget per value is its own; 100 here)
    most = 100 if args.max_replications is None else args.max_replications
    return Precision(figure.strip(), relative, max_replications=max(2, most))


def threshold(text: str) -> float:
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


def replications(args: argparse.Namespace, scenario: Scenario, at_least: int) -> int:
    """``--replications``, else the scenario's ``run.replications`` but at least ``at_least``."""
    if args.replications is not None:
        return int(args.replications)
    return max(int(scenario.data["run"]["replications"]), at_least)


def designs(paths: Sequence[str], loaded: list[Scenario], vary: str | None
            ) -> dict[str, Scenario]:
    """The designs a comparison runs, by name: each file's scenario, or with ``--vary
    KEY=V1,V2`` one design per value in each file. ScenarioError with fewer than two."""
    from sim.experiment import grid

    named: dict[str, Scenario] = {}
    if vary:
        key, values = grid.parse("--vary", vary)
        for path, scenario in zip(paths, loaded, strict=True):
            for value in values:
                variant = grid.apply(scenario, {key: value}, "--vary")
                label = grid.describe({key: value})
                name = label if len(loaded) == 1 else f"{_stem(path, loaded)} {label}"
                named[name] = variant
    else:
        for path, scenario in zip(paths, loaded, strict=True):
            name, k = _stem(path, loaded, scenario), 2
            while name in named:
                name, k = f"{_stem(path, loaded, scenario)} ({k})", k + 1
            named[name] = scenario
    if len(named) < 2:
        raise ScenarioError([Problem("", None, "compare needs at least two designs: give two "
                                     "or more scenario files, or --vary KEY=V1,V2")])
    return named


def _currencies(scenarios: Sequence[dict[str, Any]]) -> str | None:
    """The designs' currency, for the header of their amounts (``USD``; ``USD, EUR`` when
    they differ: the amounts are then not comparable, and the header says so)."""
    from sim.format import currency_of

    found = list(dict.fromkeys(c for c in map(currency_of, scenarios) if c))
    return ", ".join(found) or None


def _stem(path: str, loaded: list[Scenario], scenario: Scenario | None = None) -> str:
    """A design's name: its scenario's name, or the file's stem when names repeat."""
    names = [s.data["name"] for s in loaded]
    if scenario is not None and names.count(scenario.data["name"]) == 1:
        return str(scenario.data["name"])
    return Path(path).stem
