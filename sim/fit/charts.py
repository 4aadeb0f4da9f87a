"""Figures of a fit: the data against the fitted families, and the rate over time.

- `service_figure`: the histogram with the fitted densities, and the ECDF with the fitted
  CDFs (log time axis), the chosen family drawn thickest;
- `qq_figure`: the data's quantiles against the chosen family's (a straight line is a fit);
- `rate_figure`: arrivals per second over time with the fitted steady rate, steps, or the
  bursty process's rate as the hidden Markov model sees it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from sim.fit.arrivals import ArrivalsFit
from sim.fit.service import Candidate, ServiceFit
from sim.plots.style import MUTED, color, new_figure, styled

__all__ = ["qq_figure", "rate_figure", "service_figure"]

SHOWN = 4  # candidates drawn beside the data (the best ranked); more is a tangle


def _time_unit(seconds: float) -> tuple[float, str]:
    """A scale and unit name so that ``seconds`` reads as a number between 1 and 1000."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return scale, unit
    return 1e-9, "ns"


def _clock_unit(seconds: float) -> tuple[float, str]:
    for scale, unit in ((3600.0, "h"), (60.0, "min")):
        if seconds >= 3 * scale:
            return scale, unit
    return 1.0, "s"


def _shown(fit: ServiceFit) -> list[Candidate]:
    shown = fit.candidates[:SHOWN]
    if fit.chosen is not None and fit.chosen not in shown:
        shown = [fit.chosen, *shown[: SHOWN - 1]]
    return shown


def _label(c: Candidate, chosen: bool) -> str:
    mark = " (chosen)" if chosen else (" (rejected)" if c.rejected else "")
    return f"{c.family}{mark}: AIC {c.aic:.0f}, KS {c.ks:.3f}"


def service_figure(fit: ServiceFit, title: str | None = None) -> Figure:
    """Histogram + fitted densities, ECDF + fitted CDFs."""
    x = np.sort(fit.values)
    scale, unit = _time_unit(float(np.median(x)))
    with styled():
        fig = new_figure(11, 4.4)
        hist_ax, cdf_ax = fig.subplots(1, 2)
        top = float(np.quantile(x, 0.99))
        inside = x[x <= top]
        heights, _, _ = hist_ax.hist(inside / scale, bins=60, density=True, color="#D9D9D9",
                                     edgecolor="#BDBDBD", label=f"data, n = {fit.n}")
        grid = np.linspace(max(float(x[0]) * 0.5, 1e-12), top, 400)
        # Density per second -> per display unit; the histogram covers the lowest 99%.
        for i, c in enumerate(_shown(fit)):
            chosen = c is fit.chosen
            with np.errstate(all="ignore"):
                density = np.asarray(c.pdf(grid), dtype=float) * scale
            hist_ax.plot(grid / scale, density, color=color(i), lw=2.6 if chosen else 1.3,
                         ls="-" if chosen or not c.rejected else "--", label=_label(c, chosen))
        hist_ax.set_xlabel(f"duration ({unit}); the longest 1% not shown")
        hist_ax.set_ylabel(f"density (per {unit})")
        hist_ax.set_title("Histogram and fitted densities")
        # A shape below 1 (weibull, gamma) has an infinite density at 0: the data set the scale.
        hist_ax.set_ylim(0, 1.4 * float(np.max(heights)))
        hist_ax.legend(loc="upper right")

        ecdf = np.arange(1, x.size + 1) / x.size
        cdf_ax.step(x / scale, ecdf, where="post", color="#7F7F7F", lw=3.5, alpha=0.6,
                    label="data (ECDF)")
        grid = np.geomspace(float(x[0]), float(x[-1]), 400)
        for i, c in enumerate(_shown(fit)):
            chosen = c is fit.chosen
            cdf_ax.plot(grid / scale, c.cdf(grid), color=color(i), lw=2.2 if chosen else 1.2,
                        ls="-" if chosen or not c.rejected else "--", label=c.family)
        cdf_ax.set_xscale("log")
        cdf_ax.set_xlabel(f"duration ({unit}, log scale)")
        cdf_ax.set_ylabel("fraction of durations ≤ x")
        cdf_ax.set_title("ECDF and fitted CDFs")
        cdf_ax.legend(loc="lower right")
        verdict = (f"chosen: {fit.chosen.family}" if fit.chosen is not None
                   else "no family fits: empirical")
        fig.suptitle(title or f"Service times: {verdict} (mean {fit.mean / scale:.3g} {unit}, "
                     f"cv {fit.cv:.2f})", fontweight="bold")
    return fig


def qq_figure(fit: ServiceFit, title: str | None = None) -> Figure:
    """The data's quantiles against the chosen (or, with none, the best) family's."""
    c = fit.chosen or fit.candidates[0]
    x = np.sort(fit.values)
    q = (np.arange(1, x.size + 1) - 0.5) / x.size
    theory = np.asarray(c.ppf(q), dtype=float)
    scale, unit = _time_unit(float(np.median(x)))
    with styled():
        fig = new_figure(5.6, 5.2)
        ax = fig.subplots()
        ax.plot(theory / scale, x / scale, ".", ms=3, color=color(0), alpha=0.6,
                label="data quantiles")
        lo = float(min(theory[0], x[0])) / scale
        hi = float(max(theory[-1], x[-1])) / scale
        ax.plot([lo, hi], [lo, hi], color=MUTED, lw=1, ls="--", label="y = x (a perfect fit)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{c.family} quantile ({unit}, log scale)")
        ax.set_ylabel(f"data quantile ({unit}, log scale)")
        what = "chosen" if fit.chosen is not None else "best, rejected"
        ax.set_title(title or f"QQ plot: {c.family} ({what}), KS {c.ks:.3f}")
        ax.legend(loc="upper left")
    return fig


def rate_figure(fit: ArrivalsFit, title: str | None = None) -> Figure:
    """Arrivals per second over time, with what was fitted on top."""
    scale, unit = _clock_unit(fit.span)
    shown_bins = int(min(200, max(20, fit.counts.size // 5)))
    edges = np.linspace(0.0, fit.span, shown_bins + 1)
    counts, _ = np.histogram(fit.times, bins=edges)
    rate = counts / np.diff(edges)
    with styled():
        fig = new_figure(10, 4.2)
        ax = fig.subplots()
        width = fit.span / shown_bins
        ax.stairs(rate, edges / scale, fill=True, color="#D9D9D9",
                  label=f"measured, per {width:.3g} s")
        if fit.choice == "bursty" and fit.mmpp is not None:
            low, high = fit.mmpp["rates"]
            centres = (np.arange(fit.counts.size) + 0.5) * fit.bin_width
            seen = low + (high - low) * fit.mmpp["high"]
            ax.plot(centres / scale, seen, color=color(1), lw=1.0,
                    label="bursty fit: expected rate given the counts")
            for r, name in ((low, "low"), (high, "high")):
                ax.axhline(r, color=color(0), ls="--", lw=1.2)
                ax.annotate(f"{name} {r:.3g}/s", (1.0, r), xycoords=("axes fraction", "data"),
                            xytext=(-4, 3), textcoords="offset points", ha="right",
                            color=color(0))
        else:
            starts = [s["start"] for s in fit.steps] + [fit.steps[-1]["end"]]
            rates = [s["rate"] for s in fit.steps]
            what = "steady rate" if len(rates) == 1 else f"{len(rates)} steps (PELT)"
            ax.stairs(rates, np.asarray(starts) / scale, color=color(1), lw=2.4, baseline=None,
                      label=f"fitted: {what}")
            if len(fit.steps) <= 7:  # more labels than that would be a tangle
                for i, step in enumerate(fit.steps[1:]):
                    ax.annotate(f"change at {step['start'] / scale:.3g} {unit}",
                                (step["start"] / scale, 0), xytext=(4, 6 + 14 * (i % 3)),
                                textcoords="offset points", color=color(1), fontsize=9)
        ax.set_xlim(0, fit.span / scale)
        ax.set_ylim(0, None)
        ax.set_xlabel(f"time since the start ({unit})")
        ax.set_ylabel("arrivals per second")
        ax.set_title(title or f"Arrival rate: {fit.choice}, {fit.n} arrivals")
        ax.legend(loc="upper left")
    return fig
