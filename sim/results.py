"""Results: the `Result` of a run and its folder on disk.

A run folder is ``ROOT/<scenario name>/<run-id>/`` holding ``scenario.yaml`` (resolved),
``summary.json``, ``messages.parquet``, ``timeseries.parquet``, ``manifest.json`` and
``plots/``. It is written into a hidden temporary folder beside its final place and renamed
into place at the end, so a failed or interrupted run leaves nothing half-written, and a
run-id already taken is never reused, so no earlier run is ever overwritten.
:func:`check_writable` tells, before a run, whether its folder can be written at all.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class Result:
    """One run's results (or, with ``replications``, the aggregate of several)."""

    scenario: dict[str, Any]
    summary: dict[str, Any]
    messages: pd.DataFrame
    timeseries: pd.DataFrame
    path: Path | None = None
    replications: list[Result] = field(default_factory=list)

    def plot_latency_cdf(self) -> Figure:
        from sim.plots import latency_cdf

        return latency_cdf(self.messages, self.summary)

    def plot_timeseries(self) -> Figure:
        from sim.plots import timeseries

        return timeseries(self.timeseries, self.summary)

    def save(self, root: str | os.PathLike[str] = "results", plots: bool = True,
             command: list[str] | None = None) -> Path:
        """Write the run folder atomically under ``root`` and return its path."""
        seed = self.summary.get("seed")
        suffix = "" if seed is None else f"-seed{seed}"
        final = write_folder(Path(root) / _safe(self.scenario["name"]), "", suffix,
                             lambda tmp: self._write(tmp, plots, command))
        self.path = final
        return final

    def _write(self, folder: Path, plots: bool, command: list[str] | None) -> None:
        folder.mkdir()
        (folder / "scenario.yaml").write_text(
            yaml.safe_dump(self.scenario, sort_keys=False, allow_unicode=True)
        )
        (folder / "summary.json").write_text(
            json.dumps(self.summary, indent=2, allow_nan=False) + "\n"
        )
        (folder / "manifest.json").write_text(
            json.dumps(_manifest(self.summary, command), indent=2) + "\n"
        )
        if self.replications:
            table = self.replication_table
            table.to_csv(folder / "replications.csv", index=False)
            for i, rep in enumerate(self.replications):
                rep_folder = folder / "replications" / f"{i:03d}"
                rep_folder.mkdir(parents=True)
                (rep_folder / "summary.json").write_text(
                    json.dumps(rep.summary, indent=2, allow_nan=False) + "\n"
                )
                write_parquet(rep.messages, rep_folder / "messages.parquet")
                write_parquet(rep.timeseries, rep_folder / "timeseries.parquet")
        write_parquet(self.messages, folder / "messages.parquet")
        write_parquet(self.timeseries, folder / "timeseries.parquet")
        if plots:
            from sim.plots import save_all

            save_all(folder, self.messages, self.timeseries, self.summary)

    @property
    def replication_table(self) -> Any:
        """One row per replication with every figure (`sim.experiment.Replications`);
        ``.ci(level)`` gives their means and confidence half-widths. One row for a single run.
        """
        from sim.metrics.replications import Replications

        runs = self.summary.get("replication_summaries") or [self.summary]
        return Replications.from_summaries(runs)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Result:
        """Read a run folder written by :meth:`save`; `ResultsError` naming the folder or the
        file when it is absent, incomplete or corrupt."""
        folder = existing_folder(path)
        missing = [
            name
            for name in ("scenario.yaml", "summary.json", "messages.parquet", "timeseries.parquet")
            if not (folder / name).is_file()
        ]
        if missing:
            raise ResultsError(
                f"{folder} is not a results folder (missing {', '.join(missing)})"
            )
        summary = read_json(folder / "summary.json")
        if not isinstance(summary, dict):
            raise ResultsError(f"cannot read {folder / 'summary.json'}: not a JSON object")
        summary.setdefault("warnings", [])  # folders written before summaries carried them
        return cls(
            scenario=read_yaml(folder / "scenario.yaml"),
            summary=summary,
            messages=read_parquet(folder / "messages.parquet"),
            timeseries=read_parquet(folder / "timeseries.parquet"),
            path=folder,
        )


PARQUET_ROWS = 1 << 17  # rows converted to Arrow at a time


def write_parquet(frame: pd.DataFrame, path: Path, rows: int = PARQUET_ROWS) -> None:
    """Write ``frame`` as Parquet with bounded memory: a block of rows is converted to Arrow
    at a time, and only low-cardinality columns (names, states, small counts) are dictionary
    encoded. Dictionary-encoding a million distinct times or ids builds hash tables as large
    as the table itself, and would raise a long run's peak memory by half as it is saved."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    small = [
        name for name, dtype in frame.dtypes.items()
        if isinstance(dtype, pd.CategoricalDtype) or (dtype.kind in "iub" and dtype.itemsize <= 4)
    ]
    columns = {name: frame[name] for name in frame.columns}

    def block(start: int) -> pa.Table:
        # Column by column: slicing the whole frame could make pandas consolidate it first
        # (a copy of every column, the very memory this function saves).
        part = pd.DataFrame({n: c.iloc[start : start + rows] for n, c in columns.items()})
        return pa.Table.from_pandas(part, preserve_index=False)

    first = block(0)
    with pq.ParquetWriter(path, first.schema, use_dictionary=small) as writer:
        writer.write_table(first)
        del first
        for start in range(rows, len(frame), rows):
            writer.write_table(block(start).cast(writer.schema))


class OutputError(Exception):
    """The results root cannot hold a run folder (a file in the way, no permission, ...)."""


class ResultsError(Exception):
    """A results folder that cannot be read: absent, incomplete, or a file in it corrupt. The
    message names the folder or the file (a bare JSON or Parquet error names neither)."""


def existing_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, or `ResultsError` when it does not exist or is not a folder."""
    folder = Path(path)
    if not folder.exists():
        raise ResultsError(f"{folder} does not exist")
    if not folder.is_dir():
        raise ResultsError(f"{folder} is a file, not a results folder")
    return folder


def _read(path: Path, read: Callable[[Path], Any]) -> Any:
    try:
        return read(path)
    except FileNotFoundError:
        raise ResultsError(f"{path} is missing") from None
    except Exception as error:  # corrupt: JSON, YAML, Parquet or decoding errors alike
        raise ResultsError(f"cannot read {path}: {error}") from None


def read_json(path: Path) -> Any:
    """A results file's JSON; `ResultsError` naming the file if it is missing or corrupt."""
    return _read(path, lambda p: json.loads(p.read_text(encoding="utf-8")))


def read_yaml(path: Path) -> Any:
    """A results file's YAML; `ResultsError` naming the file if it is missing or corrupt."""
    return _read(path, lambda p: yaml.safe_load(p.read_text(encoding="utf-8")))


def read_parquet(path: Path) -> pd.DataFrame:
    """A results table; `ResultsError` naming the file if it is missing or corrupt."""
    return _read(path, pd.read_parquet)


def check_writable(root: str | os.PathLike[str], name: str) -> Path:
    """Check, before a run, that :meth:`Result.save` can write scenario ``name``'s folder
    under ``root``; return the folder runs of ``name`` go to. Leaves nothing behind.

    The nearest folder that already exists on the way to ``ROOT/<name>`` must be a folder in
    which a folder can be created (probed by creating and removing a hidden one: permission
    bits alone say nothing when running as root, nor on a read-only file system).
    """
    target = Path(root) / _safe(name)
    existing = target
    try:
        while not existing.exists() and not existing.is_symlink() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():
            what = "a file" if existing.exists() else "a broken link"
            raise OutputError(
                f"cannot write results to {root}: {existing} is {what}, not a folder"
            )
        os.rmdir(tempfile.mkdtemp(prefix=".mqsim-check-", dir=existing))
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(
            f"cannot write results to {root}: cannot create a folder in {existing} ({reason})"
        ) from None
    return target


def write_folder(base: Path, prefix: str, suffix: str, write: Callable[[Path], None]) -> Path:
    """Write a results folder atomically under ``base`` and return its path.

    ``write(tmp)`` fills a hidden temporary folder (it creates it); the folder is then renamed
    to ``PREFIX<UTC time>SUFFIX`` (``-2``, ``-3``... when that name is taken), so a failed or
    interrupted write leaves nothing behind and no earlier folder is ever overwritten.
    """
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    tmp = base / f".tmp-{prefix}{stamp}-{os.getpid()}"
    try:
        write(tmp)
        return _claim(base, f"{prefix}{stamp}{suffix}", tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _claim(base: Path, run_id: str, tmp: Path) -> Path:
    """Rename ``tmp`` to a run-id nobody has used yet (``-2``, ``-3``... when taken)."""
    for attempt in range(1, 10_000):
        final = base / (run_id if attempt == 1 else f"{run_id}-{attempt}")
        if final.exists():
            continue
        try:
            os.rename(tmp, final)  # atomic; fails if another run took the name meanwhile
        except OSError:
            if final.exists():
                continue
            raise
        return final
    raise RuntimeError(f"no free run folder name under {base}")


def safe_name(name: str) -> str:
    """``name`` fit for a folder name (anything but letters, digits, ``-_.`` becomes ``_``)."""
    return _safe(name)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "scenario"


def manifest(summary: dict[str, Any], command: list[str] | None) -> dict[str, Any]:
    """``manifest.json``: versions, platform, seed, wall time and the command."""
    return _manifest(summary, command)


def _manifest(summary: dict[str, Any], command: list[str] | None) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in ("mqsim", "simpy", "numpy", "pandas", "pyarrow", "matplotlib", "pyyaml",
                    "distributed"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "scenario": summary.get("scenario"),
        "seed": summary.get("seed"),
        "wall_seconds": summary.get("wall_seconds"),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions,
        "command": command,
    }
