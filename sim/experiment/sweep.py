"""Sweeps: every point of a parameter grid, replicated with common random numbers.

Point ``p`` is the scenario with the grid's values set (``--param`` / ``grid``), and its
replication ``i`` runs with the seed of replication ``i`` of the scenario: every point sees
the same traffic, so the differences between points are the parameter's, not the dice's.
Replications keep only their summaries (pass ``tables=True`` for the tables), so memory
stays flat however large the grid. Where a point is a textbook queue (`sim.experiment.theory`)
its closed-form figures sit beside it in columns ``theory.X``. A point whose offered load is
above the capacity of a queue's pools (the scenario's load check, docs/scenario-reference.md,
"Warnings and refusals") is ``unstable``: its latency grows with the run's length, so its
figures say how long the run was more than how the system behaves; the table and the plot
mark it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.experiment import executors, grid, tables, theory
from sim.experiment.replications import Design, Precision, run_designs
from sim.experiment.units import Outcome
from sim.progress import NotedProgress
from sim.results import (
    existing_folder,
    manifest,
    read_json,
    read_parquet,
    read_yaml,
    safe_name,
    write_folder,
)
from sim.scenario import Scenario, memory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND = "sweep"
THEORY = "theory."
UNSTABLE = "unstable"  # the table's column: the point's offered load exceeds a queue's capacity
OVERLOAD = "offered load above capacity"  # the load check's words in a scenario's warning


@dataclass
class Sweep:
    """A finished sweep: its grid, one row per replication and point, and the theory."""

    scenario: dict[str, Any]  # the base scenario, resolved
    grid: dict[str, list[Any]]
    points: list[dict[str, Any]]
    replications: pd.DataFrame  # point, the parameters, replication, seed, figures
    theory: list[dict[str, float]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unstable: list[bool] = field(default_factory=list)  # per point: load above capacity
    outcomes: list[list[Outcome]] = field(default_factory=list, repr=False)
    path: Path | None = None
    slos: list[dict[str, Any]] = field(default_factory=list)  # sweep --slo (SLO.as_dict)

    @property
    def parameters(self) -> list[str]:
        return list(self.grid)

    @property
    def table(self) -> pd.DataFrame:
        """One row per point: the parameters, ``replications``, ``unstable``, every figure's
        mean and its ``_ci`` half-width, then ``theory.X`` where a closed form applies."""
        labels = ["point", *self.parameters]
        names = tables.figure_columns(self.replications, labels)
        rows = []
        for p, point in enumerate(self.points):
            mine = self.replications[self.replications["point"] == p]
            row: dict[str, Any] = {**point, "replications": len(mine),
                                   UNSTABLE: bool(p < len(self.unstable) and self.unstable[p])}
            row.update(tables.summary_row(mine[names]))
            if p < len(self.theory):
                row.update({THEORY + k: v for k, v in self.theory[p].items()})
            rows.append(row)
        frame = pd.DataFrame(rows)
        if self.slos and len(frame):  # each point's verdict on every SLO (sweep --slo)
            from sim.experiment.slo import point_verdict

            rules = self.rules()
            frame["meets_slo"] = [point_verdict(frame.iloc[i].to_dict(), rules)
                                 for i in range(len(frame))]
        return frame

    def rules(self) -> list[Any]:
        """The SLOs this sweep was judged against (``sweep --slo``)."""
        from sim.experiment.slo import SLO

        return [SLO(**rule) for rule in self.slos]

    def plot(self, figures: Sequence[str] | None = None, log_y: bool = False) -> Figure:
        """The headline figures against the (first) parameter, with 95% confidence bands and,
        where a closed form applies, the theory curve; unstable points marked (``log_y``: a
        log y axis, for figures that span decades)."""
        from sim.experiment.slo import best_point
        from sim.format import currency_of
        from sim.plots.sweep import sweep_figure

        rules = self.rules()
        best = best_point(self.table, rules) if rules else None
        return sweep_figure(self.table, self.parameters, self.scenario.get("name"), figures,
                            log_y=log_y, slos=rules, best=best,
                            currency=currency_of(self.scenario))

    def save(self, root: str | os.PathLike[str] = "results", plots: bool = True,
             command: list[str] | None = None) -> Path:
        """Write ``ROOT/<name>/sweep-<time>/`` atomically (never over an earlier folder)."""
        base = Path(root) / safe_name(self.scenario["name"])
        self.path = write_folder(base, "sweep-", "", lambda tmp: self._write(tmp, plots, command))
        return self.path

    def _write(self, folder: Path, plots: bool, command: list[str] | None) -> None:
        folder.mkdir()
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(self.scenario, sort_keys=False, allow_unicode=True))
        (folder / "experiment.json").write_text(json.dumps({
            "kind": KIND, "scenario": self.scenario.get("name"), "grid": self.grid,
            "points": self.points, "theory": self.theory, "warnings": self.warnings,
            "unstable": self.unstable, "slos": self.slos,
            "seeds": sorted(set(int(s) for s in self.replications["seed"])),
        }, indent=2, default=str) + "\n")
        (folder / "manifest.json").write_text(json.dumps(manifest(
            {"scenario": self.scenario.get("name"), "seed": self.scenario["run"]["seed"]},
            command), indent=2) + "\n")
        tables.write(self.table, folder, "table")
        tables.write(self.replications, folder, "replications")
        if plots:
            save_plots(self, folder)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Sweep:
        """Read a sweep folder written by :meth:`save`."""
        folder = existing_folder(path)
        meta = read_json(folder / "experiment.json")
        return cls(
            scenario=read_yaml(folder / "scenario.yaml"),
            grid=meta["grid"], points=meta["points"], theory=meta.get("theory") or [],
            warnings=meta.get("warnings") or [], unstable=meta.get("unstable") or [],
            replications=read_parquet(folder / "replications.parquet"), path=folder,
            slos=meta.get("slos") or [],
        )


def save_plots(result: Sweep, folder: Path) -> list[Path]:
    """``plots/sweep.png`` under ``folder``, and ``plots/sweep_log.png`` (a log y axis) when a
    point is unstable: on a linear axis its figures would squash the others', so there they
    are clipped at the top and marked."""
    from sim.plots.style import DPI

    plots = folder / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    path = plots / "sweep.png"
    result.plot().savefig(path, dpi=DPI)
    written = [path]
    if any(result.unstable):
        log = plots / "sweep_log.png"
        result.plot(log_y=True).savefig(log, dpi=DPI)
        written.append(log)
    return written


def sweep(scenario: Scenario, parameters: Mapping[str, Sequence[Any]],
          replications: int = 5, *, jobs: int | None = None, cluster: Any = None,
          executor: executors.Executor | None = None, precision: Precision | None = None,
          keep_tables: bool = False, progress: NotedProgress | None = None,
          force: bool = False) -> Sweep:
    """Run every point of the grid ``parameters`` (``{"workers.w.count": [1, 2, 4]}``) with
    ``replications`` each (common random numbers across points). Every point is validated
    before anything runs. Only the summaries are kept unless ``keep_tables`` (then
    ``Sweep.outcomes`` holds every replication's tables). A point expected to need more
    memory than the machine has raises ScenarioError before anything runs, unless ``force``."""
    points = grid.points(parameters)
    scenarios = [grid.apply(scenario, point) for point in points]
    for point in scenarios:
        memory.check(point, force)
    designs = [Design(s.data, tuple(str(w) for w in s.warnings)) for s in scenarios]
    made = executor is None
    where = executor or executors.make(jobs, cluster)
    try:
        outcomes = run_designs(designs, replications, where, precision, keep_tables, progress)
    finally:
        if made:
            where.close()
    labels = [{"point": p, **point} for p, point in enumerate(points)]
    warnings = list(dict.fromkeys(w for s in scenarios for w in s.warnings))
    return Sweep(
        scenario=scenario.data, grid={k: list(v) for k, v in parameters.items()},
        points=points, replications=tables.long_table(outcomes, labels),
        theory=[theory.closed_form(s.data) for s in scenarios], warnings=warnings,
        unstable=[any(OVERLOAD in str(w) for w in s.warnings) for s in scenarios],
        outcomes=outcomes if keep_tables else [],
    )


def is_sweep(folder: Path) -> bool:
    """Whether ``folder`` holds a saved sweep."""
    return _kind(folder) == KIND


def _kind(folder: Path) -> str | None:
    try:
        return json.loads((folder / "experiment.json").read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


