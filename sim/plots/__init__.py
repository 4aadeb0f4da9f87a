"""Figures of a run, drawn only from its results (messages table, timeseries table, summary).

Every function returns a ``matplotlib.figure.Figure`` built without pyplot, so plotting works
headless, in parallel worker processes and in notebooks, and never touches global state.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.plots.latency import latency_cdf
from sim.plots.style import DPI
from sim.plots.timeseries import timeseries

__all__ = ["latency_cdf", "save_all", "timeseries"]

_timeseries_figure = timeseries  # save_all's parameter of the same name shadows it


def save_all(
    result_dir: Path,
    messages: pd.DataFrame,
    timeseries: pd.DataFrame,
    summary: dict,
) -> list[Path]:
    """Write ``plots/latency_cdf.png`` and ``plots/timeseries.png`` under ``result_dir``."""
    plots = Path(result_dir) / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, fig in (
        ("latency_cdf.png", latency_cdf(messages, summary)),
        ("timeseries.png", _timeseries_figure(timeseries, summary)),
    ):
        path = plots / name
        fig.savefig(path, dpi=DPI)
        written.append(path)
    return written
