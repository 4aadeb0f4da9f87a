"""Comparisons: designs side by side on the same traffic, with paired differences.

Every design runs the same replications: replication ``i`` of each design has the same seed
(the first design's ``run.seed`` unless one is given), so producers and pools that share a
name draw the same arrivals and service times in every design (common random numbers). The
difference of a figure between a design and the baseline (the first design) is then taken
replication by replication, and its Student t interval is far narrower than the two
designs' own intervals would suggest. A difference is significant when its interval excludes
zero; which design is better follows from the figure's direction (`figures.direction`).

A verdict must not be drawn from noise (docs/experiments.md, "Comparisons"):

- values that differ only by floating-point rounding (relative `NOISE`) are equal;
- a figure that does not vary over the replications of either design (a count fixed by
  ``run.messages``, a deterministic scenario) has an exact difference, with no interval;
- a significant difference smaller than the practical ``threshold`` (relative to the
  baseline, default `THRESHOLD`; any difference from a baseline of 0) is "no difference".

The first replication of each design keeps its tables, for the overlaid CDFs and depths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd
import yaml

from sim.experiment import executors, tables
from sim.experiment.replications import Design, Precision, half_widths, run_designs
from sim.figures import direction
from sim.format import NOISE  # float rounding, relative: equal values, an exact figure
from sim.progress import NotedProgress
from sim.results import (
    existing_folder,
    manifest,
    read_json,
    read_parquet,
    read_yaml,
    safe_name,
    write_folder,
    write_parquet,
)
from sim.scenario import Scenario, memory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND = "compare"
THRESHOLD = 0.01  # the default practical threshold: a difference under 1% of the baseline


@dataclass
class Comparison:
    """A finished comparison: per-replication rows of every design, and the first
    replication's tables of each."""

    names: list[str]
    scenarios: list[dict[str, Any]]
    replications: pd.DataFrame  # design, replication, seed, figures
    messages: list[pd.DataFrame] = field(default_factory=list)  # replication 0 of each
    timeseries: list[pd.DataFrame] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)  # replication 0 of each
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None
    threshold: float = THRESHOLD  # the practical threshold of the verdicts (relative)

    @property
    def baseline(self) -> str:
        return self.names[0]

    def _figures(self) -> list[str]:
        return tables.figure_columns(self.replications, ["design"])

    @property
    def table(self) -> pd.DataFrame:
        """One row per design: ``design``, ``replications``, every figure's mean and its
        ``_ci`` half-width."""
        names = self._figures()
        rows = []
        for name in self.names:
            mine = self.replications[self.replications["design"] == name]
            rows.append({"design": name, "replications": len(mine),
                         **tables.summary_row(mine[names])})
        return pd.DataFrame(rows)

    @property
    def differences(self) -> pd.DataFrame:
        """Per figure and design (against the baseline): ``baseline`` and ``value`` means,
        the paired ``difference`` (design - baseline) with its 95% half-width
        ``difference_ci`` (0 when ``exact``: neither design's figure varies over the
        replications), ``significant`` (the interval excludes 0, or an exact difference that
        is not 0), ``practical`` (at least ``threshold`` of the baseline), ``better`` (the
        better design's name when both hold and the figure has a direction, else empty) and
        the ``verdict`` in words."""
        names = self._figures()
        base = self._by_replication(self.baseline, names)
        rows = []
        for other in self.names[1:]:
            mine = self._by_replication(other, names)
            stats = half_widths(mine - base)
            for figure in names:
                rows.append({"figure": figure, "design": other, **self._judge(
                    figure, other, base[figure], mine[figure],
                    float(stats["mean"][figure]), float(stats["ci95"][figure]))})
        return pd.DataFrame(rows)

    def _judge(self, figure: str, other: str, base: pd.Series, mine: pd.Series,
               diff: float, half: float) -> dict[str, Any]:
        """One row of :attr:`differences`: the figure's difference and its verdict."""
        b, v = float(base.mean()), float(mine.mean())
        row: dict[str, Any] = {"baseline": b, "value": v, "difference": diff,
                               "difference_ci": half, "exact": False, "significant": False,
                               "practical": False, "better": ""}
        if not (np.isfinite(b) and np.isfinite(v) and np.isfinite(diff)):
            if np.isfinite(b) != np.isfinite(v):  # a pool or producer one design lacks
                only = self.baseline if np.isfinite(b) else other
                return {**row, "verdict": f"defined only in {only}"}
            return {**row, "verdict": "undefined"}
        rounding = NOISE * max(abs(b), abs(v))
        paired = (mine - base).dropna()
        if len(paired) and float(paired.abs().max()) <= rounding:
            diff, half = 0.0, 0.0  # equal in every replication, up to rounding
        exact = (base.notna().sum() > 1 and mine.notna().sum() > 1
                 and _spread(base) <= rounding and _spread(mine) <= rounding)
        if exact:  # no variance on either side: the difference is known, not estimated
            diff, half = (0.0 if abs(v - b) <= rounding else v - b), 0.0
        row.update(difference=diff, difference_ci=half, exact=bool(exact))
        if diff == 0:
            return {**row, "verdict": "no difference"}
        if not np.isfinite(half):
            return {**row, "verdict": "no interval (one replication)"}
        if abs(diff) <= half:
            return {**row, "verdict": "no significant difference"}
        practical = abs(diff) >= self.threshold * abs(b) if b != 0 else True
        row.update(significant=True, practical=bool(practical))
        if not practical:
            return {**row, "verdict": f"no difference (under {_percent(self.threshold)})"}
        sense = direction(figure)
        if sense != 0:
            row["better"] = other if np.sign(diff) == sense else self.baseline
        verdict = f"{row['better']} better" if row["better"] else "differs"
        return {**row, "verdict": verdict + (" (exact)" if exact else "")}

    def _by_replication(self, name: str, figures: list[str]) -> pd.DataFrame:
        mine = self.replications[self.replications["design"] == name]
        return mine.set_index("replication")[figures].sort_index()

    def plot_latency_cdf(self) -> Figure:
        """The designs' latency CDFs overlaid (each design's first replication)."""
        from sim.plots.compare import latency_cdfs

        return latency_cdfs(self.names, self.messages, self.summaries)

    def plot_figures(self) -> Figure:
        """Bars with 95% intervals: latency, throughput, losses, duplicates, reordering."""
        from sim.plots.compare import figure_bars

        return figure_bars(self.table, self.names, self._title())

    def plot_depth(self) -> Figure:
        """Queue depth over time, the designs overlaid (each design's first replication)."""
        from sim.plots.compare import depth_overlay

        return depth_overlay(self.names, self.timeseries, self.summaries)

    def _title(self) -> str:
        n = self.replications.groupby("design").size().min()
        return f"{' vs '.join(self.names)} ({n} replications each, mean ± 95% CI)"

    def save(self, root: str | os.PathLike[str] = "results", plots: bool = True,
             command: list[str] | None = None) -> Path:
        """Write ``ROOT/compare/<time>-<designs>/`` atomically (never over an earlier one)."""
        slug = safe_name("-vs-".join(self.names))[:80]
        self.path = write_folder(Path(root) / "compare", "", f"-{slug}",
                                 lambda tmp: self._write(tmp, plots, command))
        return self.path

    def _write(self, folder: Path, plots: bool, command: list[str] | None) -> None:
        folder.mkdir()
        (folder / "experiment.json").write_text(json.dumps({
            "kind": KIND, "designs": self.names, "warnings": self.warnings,
            "threshold": self.threshold,
            "seeds": sorted(set(int(s) for s in self.replications["seed"])),
        }, indent=2) + "\n")
        (folder / "manifest.json").write_text(json.dumps(manifest(
            {"scenario": " vs ".join(self.names), "seed": self.scenarios[0]["run"]["seed"]},
            command), indent=2) + "\n")
        tables.write(self.table, folder, "table")
        tables.write(self.differences, folder, "differences")
        tables.write(self.replications, folder, "replications")
        for i, name in enumerate(self.names):
            design = folder / "designs" / f"{i:02d}-{safe_name(name)}"
            design.mkdir(parents=True)
            (design / "scenario.yaml").write_text(
                yaml.safe_dump(self.scenarios[i], sort_keys=False, allow_unicode=True))
            if i < len(self.summaries):
                (design / "summary.json").write_text(
                    json.dumps(self.summaries[i], indent=2, allow_nan=False) + "\n")
            if i < len(self.messages):
                write_parquet(self.messages[i], design / "messages.parquet")
                write_parquet(self.timeseries[i], design / "timeseries.parquet")
        if plots:
            save_plots(self, folder)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Comparison:
        """Read a comparison folder written by :meth:`save`."""
        folder = existing_folder(path)
        meta = read_json(folder / "experiment.json")
        names = meta["designs"]
        scenarios, messages, series, summaries = [], [], [], []
        for i, name in enumerate(names):
            design = folder / "designs" / f"{i:02d}-{safe_name(name)}"
            scenarios.append(read_yaml(design / "scenario.yaml"))
            summaries.append(read_json(design / "summary.json"))
            messages.append(read_parquet(design / "messages.parquet"))
            series.append(read_parquet(design / "timeseries.parquet"))
        return cls(names=names, scenarios=scenarios,
                   replications=read_parquet(folder / "replications.parquet"),
                   messages=messages, timeseries=series, summaries=summaries,
                   warnings=meta.get("warnings") or [], path=folder,
                   threshold=float(meta.get("threshold", THRESHOLD)))


def _spread(values: pd.Series) -> float:
    """Largest minus smallest defined value (0 when fewer than two)."""
    defined = values.dropna()
    return float(defined.max() - defined.min()) if len(defined) > 1 else 0.0


def _percent(fraction: float) -> str:
    """``0.01`` -> ``1%``, ``0.005`` -> ``0.5%``."""
    return f"{fraction * 100:.3g}%"


def save_plots(result: Comparison, folder: Path) -> list[Path]:
    """``plots/latency_cdf.png``, ``plots/figures.png`` and ``plots/depth.png``."""
    from sim.plots.style import DPI

    plots = folder / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in (("latency_cdf.png", result.plot_latency_cdf),
                       ("figures.png", result.plot_figures), ("depth.png", result.plot_depth)):
        path = plots / name
        draw().savefig(path, dpi=DPI)
        written.append(path)
    return written


def design_names(scenarios: Sequence[Scenario], labels: Sequence[str | None] | None = None,
                 ) -> list[str]:
    """Unique names: the given labels, else the scenario names, numbered where they repeat."""
    names = [str(label) if label else s.name
             for s, label in zip(scenarios, labels or [None] * len(scenarios), strict=True)]
    out: list[str] = []
    for name in names:
        candidate, k = name, 2
        while candidate in out:
            candidate, k = f"{name} ({k})", k + 1
        out.append(candidate)
    return out


def compare(designs: Sequence[Scenario] | Mapping[str, Scenario], replications: int = 10, *,
            seed: int | None = None, jobs: int | None = None, cluster: Any = None,
            executor: executors.Executor | None = None, precision: Precision | None = None,
            progress: NotedProgress | None = None,
            threshold: float = THRESHOLD, force: bool = False) -> Comparison:
    """Run the designs (a list, or ``{name: scenario}``) on common random numbers: the same
    seeds per replication, derived from ``seed`` (default: the first design's ``run.seed``).
    The first design is the baseline of :attr:`Comparison.differences`; a difference under
    ``threshold`` (relative to the baseline, default 1%) is no difference. A design expected
    to need more memory than the machine has raises ScenarioError before anything runs,
    unless ``force``."""
    if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool)
            and np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold is a fraction of the baseline, 0 or more; got {threshold!r}")
    if isinstance(designs, Mapping):
        labels: list[str | None] = [str(k) for k in designs]
        scenarios = list(designs.values())
    else:
        scenarios = list(designs)
        labels = [None] * len(scenarios)
    if len(scenarios) < 2:
        raise ValueError("a comparison needs at least two designs")
    for scenario in scenarios:
        memory.check(scenario, force)
    names = design_names(scenarios, labels)
    base = scenarios[0].data["run"]["seed"] if seed is None else seed
    runs = [Design({**s.data, "run": {**s.data["run"], "seed": base}},
                   tuple(str(w) for w in s.warnings)) for s in scenarios]
    made = executor is None
    where = executor or executors.make(jobs, cluster)
    try:
        outcomes = run_designs(runs, replications, where, precision,
                               tables=lambda _design, replication: replication == 0,
                               progress=progress)
    finally:
        if made:
            where.close()
    labels_rows = [{"design": name} for name in names]
    warnings = list(dict.fromkeys(f"{name}: {w}" for name, s in zip(names, scenarios, strict=True)
                                  for w in s.warnings))
    return Comparison(
        names=names, scenarios=[d.data for d in runs],
        replications=tables.long_table(outcomes, labels_rows),
        # Replication 0 of every design kept its tables (``tables`` above): never None.
        messages=[cast(pd.DataFrame, o[0].messages) for o in outcomes],
        timeseries=[cast(pd.DataFrame, o[0].timeseries) for o in outcomes],
        summaries=[o[0].summary for o in outcomes], warnings=warnings,
        threshold=float(threshold),
    )


def is_comparison(folder: Path) -> bool:
    """Whether ``folder`` holds a saved comparison."""
    try:
        return json.loads((folder / "experiment.json").read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False
