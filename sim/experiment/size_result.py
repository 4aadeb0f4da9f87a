"""A sizing's result (`sim.experiment.size`): each simulated point, the answer, and the
results folder it writes."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from sim.experiment import size_range
from sim.experiment import slo as slos_
from sim.results import manifest, safe_name, write_folder

if TYPE_CHECKING:
    from matplotlib.figure import Figure

KIND = "size"
SMALLEST, LARGEST = "smallest", "largest"


@dataclass
class Point:
    """One simulated value: its figures' means and half-widths, and the SLOs' verdicts."""

    value: Any
    replications: int
    figures: dict[str, tuple[float, float]]  # figure -> (mean, 95% half-width)
    verdicts: dict[str, slos_.Verdict]  # SLO text -> meets | fails | unsure (after the budget)
    meets: bool  # every SLO met (an unsure one counted on the side of its mean)
    sure: bool  # no verdict left unsure

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "replications": self.replications,
                "figures": {k: {"mean": json_number(m), "ci95": json_number(h)}
                            for k, (m, h) in self.figures.items()},
                "verdicts": self.verdicts, "meets": self.meets, "sure": self.sure}


def json_number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass
class Sizing:
    """A finished search: the answer (None when no value meets every SLO) and every point."""

    scenario: dict[str, Any]
    param: size_range.Param
    slos: list[slos_.SLO]
    direction: str
    answer: Any
    sure: bool
    search: str  # "bisection" or "grid"
    evaluated: list[Point]  # in the order they were simulated
    not_simulated: list[dict[str, Any]] = field(default_factory=list)  # value, reason
    guess: dict[str, Any] | None = None  # value, source
    notes: list[str] = field(default_factory=list)
    minimize: str | None = None
    smallest_meeting: Any = None  # with minimize: the boundary value
    out_of_reach: list[dict[str, Any]] = field(default_factory=list)
    theory: list[dict[str, float]] = field(default_factory=list)  # per value, or []
    wall_seconds: float = 0.0
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.param.path.split(".")[-1]

    def point(self, value: Any) -> Point | None:
        """The simulated point of ``value``, or None."""
        return next((p for p in self.evaluated if p.value == value), None)

    @property
    def below(self) -> Any:
        """The value just before the answer in the search's order (the next one that
        fails), or None when the answer is the range's first value or there is no answer."""
        if self.answer is None:
            return None
        order = self._order()
        at = order.index(self.answer)
        return order[at - 1] if at > 0 else None

    def _order(self) -> list[Any]:
        values = list(self.param.values)
        return values if self.direction == SMALLEST else values[::-1]

    def table(self) -> pd.DataFrame:
        """One row per simulated value, in increasing order: value, replications, each
        figure's mean and ``_ci``, each SLO's verdict, ``meets``."""
        rows = []
        for p in sorted(self.evaluated, key=lambda p: p.value):
            row: dict[str, Any] = {self.param.path: p.value, "replications": p.replications}
            for figure, (mean, half) in p.figures.items():
                row[figure] = mean
                row[figure + "_ci"] = half
            row.update(p.verdicts)
            row["meets"] = p.meets
            rows.append(row)
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """The content of ``size.json``."""
        return {
            "kind": KIND, "scenario": self.scenario.get("name"),
            "param": {**self.param.as_dict(), "direction": self.direction},
            "slo": [s.as_dict() for s in self.slos],
            "minimize": self.minimize, "answer": self.answer, "sure": self.sure,
            "smallest_meeting": self.smallest_meeting if self.minimize else None,
            "search": self.search, "first_guess": self.guess, "notes": self.notes,
            "out_of_reach": self.out_of_reach,
            "evaluated": [p.as_dict() for p in self.evaluated],
            "not_simulated": self.not_simulated,
            "theory": [{"value": v, **{k: json_number(x) for k, x in t.items()}}
                       for v, t in zip(self.param.values, self.theory, strict=False) if t],
            "wall_seconds": round(self.wall_seconds, 3),
        }

    def plot(self) -> Figure:
        """Each SLO figure (and the minimized one) against the setting: means with 95%
        bands, the threshold line, the answer marked."""
        from sim.plots.size import size_figure

        return size_figure(self)

    def save(self, root: str | os.PathLike[str] = "results", plots: bool = True,
             command: list[str] | None = None) -> Path:
        """Write ``ROOT/<name>/size-<time>/`` atomically (never over an earlier folder):
        ``size.json``, ``table.csv``, ``scenario.yaml``, ``manifest.json``,
        ``plots/size.png``."""
        base = Path(root) / safe_name(self.scenario["name"])
        self.path = write_folder(base, "size-", "", lambda tmp: self._write(tmp, plots, command))
        return self.path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Sizing:
        """Read a sizing folder written by :meth:`save` (``size.json``, ``scenario.yaml``),
        so ``mqsim plot`` redraws it; `ResultsError` naming the file when it cannot."""
        from sim.results import ResultsError, existing_folder, read_json, read_yaml

        folder = existing_folder(path)
        meta = read_json(folder / "size.json")
        scenario = read_yaml(folder / "scenario.yaml")
        try:
            return _from_dict(meta, scenario, folder)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ResultsError(f"{folder / 'size.json'} is not a size result "
                               f"({type(error).__name__}: {error})") from None

    def _write(self, folder: Path, plots: bool, command: list[str] | None) -> None:
        from sim.plots.style import DPI

        folder.mkdir()
        (folder / "size.json").write_text(json.dumps(self.as_dict(), indent=2, default=str)
                                          + "\n")
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(self.scenario, sort_keys=False, allow_unicode=True))
        (folder / "manifest.json").write_text(json.dumps(manifest(
            {"scenario": self.scenario.get("name"), "seed": self.scenario["run"]["seed"],
             "wall_seconds": round(self.wall_seconds, 3)}, command), indent=2) + "\n")
        self.table().to_csv(folder / "table.csv", index=False)
        if plots:
            (folder / "plots").mkdir()
            self.plot().savefig(folder / "plots" / "size.png", dpi=DPI)


def is_sizing(folder: Path) -> bool:
    """Whether ``folder`` holds a saved sizing (its ``size.json`` says ``kind: size``)."""
    try:
        return json.loads((folder / "size.json").read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def _from_dict(meta: dict[str, Any], scenario: dict[str, Any], folder: Path) -> Sizing:
    """A :class:`Sizing` from its ``size.json`` (:meth:`Sizing.as_dict`): the candidate
    values are rebuilt from the range as the search made them, the theory realigned."""
    def figure(entry: dict[str, Any]) -> tuple[float, float]:
        mean, half = entry.get("mean"), entry.get("ci95")
        return (math.nan if mean is None else float(mean),
                math.nan if half is None else float(half))

    evaluated = [Point(p["value"], int(p["replications"]),
                       {k: figure(v) for k, v in p["figures"].items()},
                       dict(p["verdicts"]), bool(p["meets"]), bool(p["sure"]))
                 for p in meta["evaluated"]]
    spec = meta["param"]
    low, step, count = float(spec["low"]), float(spec["step"]), int(spec["values"])
    known = [p.value for p in evaluated] + [s["value"] for s in meta.get("not_simulated") or []]
    whole = (low.is_integer() and step.is_integer()
             and all(isinstance(v, int) and not isinstance(v, bool) for v in known))
    values: list[Any] = [round(low + i * step) if whole else round(low + i * step, 12)
                         for i in range(count)]
    param = size_range.Param(spec["path"], low, float(spec["high"]), step, values, spec["text"])
    curves = {t["value"]: {k: math.nan if x is None else x for k, x in t.items() if k != "value"}
              for t in meta.get("theory") or []}
    return Sizing(
        scenario=scenario, param=param, slos=[slos_.SLO(**rule) for rule in meta["slo"]],
        direction=spec["direction"], answer=meta["answer"], sure=bool(meta["sure"]),
        search=meta["search"], evaluated=evaluated,
        not_simulated=list(meta.get("not_simulated") or []), guess=meta.get("first_guess"),
        notes=list(meta.get("notes") or []), minimize=meta.get("minimize"),
        smallest_meeting=meta.get("smallest_meeting"),
        out_of_reach=list(meta.get("out_of_reach") or []),
        theory=[curves.get(v, {}) for v in values] if curves else [],
        wall_seconds=float(meta.get("wall_seconds") or 0.0), path=folder)


# --------------------------------------------------------------------------- the search
