"""The printed tables of experiments: a sweep's points and designs compared side by side."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sim.report.layout as layout
from sim.figures import headline, unit
from sim.format import MISSING, money_decimals, with_currency, yaml_value


def format_sweep(table: Any, parameters: list[str], path: Path | None = None,
                 slos: Sequence[Any] = (), currency: str | None = None) -> str:
    """One line per point: the parameters and the headline figures (mean ± 95% CI); with
    ``slos`` (``sweep --slo``) each point's verdict and the best passing point. An amount's
    header names ``currency`` (the scenario's ``costs.currency``: `sim.format.currency_of`)."""
    wanted = ["latency.mean", "latency.p99", "wait.p99", "throughput", "cost.total"] + [
        f for f in headline(table.columns)
        if f.startswith(("totals.", "reordering.", "workers.")) and f not in
        ("totals.published", "totals.completed", "reordering.inversions")]
    figures = [f for f in wanted if f in table and f + "_ci" in table
               and (f in ("latency.mean", "latency.p99", "throughput", "cost.total")
                    or (table[f].fillna(0) != 0).any())][:8]
    header = [p.split(".")[-1] for p in parameters] + ["n"] + [
        _header(f.replace("totals.", "").replace("reordering.", ""), f, currency)
        for f in figures]
    unstable = ("unstable" in table and bool(table["unstable"].fillna(False).astype(bool).any()))
    columns = [layout.cells(f, list(table[f]), list(table[f + "_ci"])) for f in figures]
    rows = []
    for i in range(len(table)):
        rows.append([_show_value(table[p].iloc[i]) for p in parameters]
                    + [str(int(table["replications"].iloc[i]))]
                    + [column[i] for column in columns]
                    + (["yes" if bool(table["unstable"].iloc[i]) else ""] if unstable else []))
    if unstable:
        header.append("unstable")
    lines = [f"sweep of {', '.join(parameters)}: mean ± 95% confidence half-width", "",
             layout.table(header, rows)]
    if unstable:
        lines += ["", "unstable: the offered load is above a queue's capacity, so its latency "
                  "grows with the run's length (a longer run reads worse)"]
    theory = [c for c in table.columns if c.startswith("theory.latency.")]
    if theory and table[theory].notna().any().any():
        lines += ["", "theory (closed form) beside it: " + ", ".join(
            c.removeprefix("theory.") for c in theory) + " in table.csv"]
    if slos:
        from sim.experiment.slo import sweep_lines

        lines += ["", *sweep_lines(table, parameters, list(slos))]
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)


def _show_value(value: Any) -> str:
    return yaml_value(value)  # a swept value as it is written in YAML: true, not True


def _header(text: str, figure: str, currency: str | None) -> str:
    """A figure's column header (or row label); an amount's names its currency once."""
    return with_currency(text, currency) if unit(figure) == "money" else text


def format_comparison(table: Any, differences: Any, names: list[str],
                      path: Path | None = None, threshold: float | None = None,
                      currency: str | None = None) -> str:
    """The designs side by side (mean ± 95% CI), then each design against the first: the
    paired difference with its CI, and its verdict (``differences``' ``verdict``: which
    design is better, or why there is no difference). A figure undefined in every design
    (reordering without keys) is left out; an amount's row names ``currency``, and its
    designs' amounts share their decimals (equal ones read equal), as do its differences."""
    # A figure no design could measure (reordering without keys) is left out, not shown as -.
    figures = [f for f in headline(table.columns) if f + "_ci" in table
               and table[f].notna().any()
               and (not f.startswith("totals.") or f == "totals.completed"
                    or (table[f].fillna(0) != 0).any())]
    by_design = table.set_index("design")
    rows = []
    for figure in figures:
        row = [_header(figure.replace("totals.", ""), figure, currency)]
        means = [by_design.at[n, figure] for n in names]
        halves = [by_design.at[n, figure + "_ci"] for n in names]
        row += layout.cells(figure, means, halves)
        matches = [differences[(differences["figure"] == figure)
                               & (differences["design"] == other)] for other in names[1:]]
        found = [m.iloc[0] for m in matches if not m.empty]
        # An amount's differences are on its designs' grid at least: 0.4340, 0.4341, +0.0001.
        grid = money_decimals(zip(means, halves, strict=True)) if unit(figure) == "money" else 0
        shown = iter(layout.cells(figure, [d["difference"] for d in found],
                                  [d["difference_ci"] for d in found], signed=True,
                                  at_least=grid))
        for match in matches:
            if match.empty:
                row += [MISSING, ""]
                continue
            d = match.iloc[0]
            row.append(next(shown))
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
             f"{practical})", "", layout.table(header, rows)]
    if path is not None:
        lines += ["", f"results: {path}"]
    return "\n".join(lines)

