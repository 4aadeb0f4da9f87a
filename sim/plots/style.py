"""One look for every mqsim figure: palette, font sizes, light grids, no pyplot state.

Figures are built as ``matplotlib.figure.Figure`` objects (never ``pyplot``), so they render
headless, in worker processes and in notebooks alike; the rc settings below are applied only
while a figure is being built.

Names may be in any script. Text is set in DejaVu Sans (matplotlib's own: Latin, Greek,
Cyrillic), falling back glyph by glyph to the CJK and symbol fonts in `FALLBACK_FONTS` that are
installed (none is by default: the project cannot install system fonts; `fonts-noto-cjk` on
Debian and Ubuntu gives CJK). A glyph no installed font has is drawn as a box without
matplotlib's "Glyph ... missing" warning, which named matplotlib's source files and said
nothing a user could act on.
"""

from __future__ import annotations

import functools
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.format import defined, nothing_sent

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# Okabe–Ito: distinguishable with the common colour-vision deficiencies and in greyscale print.
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # green
    "#CC79A7",  # purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",
)
MUTED = "#555555"  # annotations: percentile lines, phase markers
INK = "#000000"  # a whole, drawn over its parts: the end-to-end curve of a pipeline
SHADE = "#BBBBBB"  # warm-up span

RC: dict[RcKeyType, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E3E3E3",
    "grid.linewidth": 0.8,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "lines.linewidth": 1.6,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}

DPI = 120

# Fonts with the glyphs DejaVu Sans lacks (CJK, symbols), tried in order when installed.
# Colour emoji fonts are bitmaps matplotlib cannot draw, so none is listed.
FALLBACK_FONTS = (
    "Noto Sans CJK JP",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK KR",
    "Source Han Sans",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "IPAexGothic",
    "IPAGothic",
    "Noto Sans Symbols 2",
    "Symbola",
)
_MISSING_GLYPH = r"Glyph \d+ .*missing from (current )?font"


@functools.cache
def fonts() -> list[str]:
    """DejaVu Sans and the installed `FALLBACK_FONTS` (only installed ones: a family that is
    not found makes matplotlib log a warning of its own)."""
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ["DejaVu Sans", *(name for name in FALLBACK_FONTS if name in installed)]


@contextmanager
def quiet_glyphs() -> Iterator[None]:
    """Drawing text whose glyphs no installed font has: boxes, without a warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_MISSING_GLYPH, category=UserWarning)
        yield


def color(i: int) -> str:
    """The i-th series colour, cycling through the palette (yellow skipped: too pale on white)."""
    usable = [c for c in PALETTE if c != "#F0E442"]
    return usable[i % len(usable)]


@contextmanager
def styled() -> Iterator[None]:
    """Apply the house rc settings while a figure's artists are created."""
    # Concrete family names, not "sans-serif": a text's family is resolved when it is drawn,
    # which may be after this context (savefig), and must still find the fallbacks.
    with mpl.rc_context({**RC, "font.family": fonts()}):
        yield


class MqsimFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter.

    Figures made without pyplot are unknown to the notebook's inline backend, which would
    print ``<Figure size 900x600 with 2 Axes>``; ``_repr_png_`` lets IPython draw it instead,
    whatever backend is active, and without choosing one (nothing here calls
    ``matplotlib.use``). Saving and everything else are the plain Figure's.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()

    def draw(self, renderer: Any) -> None:
        """Draw as matplotlib does, without its missing-glyph warnings (see the module)."""
        with quiet_glyphs():
            super().draw(renderer)

    def savefig(self, *args: Any, **kwargs: Any) -> None:
        """Save as matplotlib does; text is measured here too, outside ``draw``."""
        with quiet_glyphs():
            super().savefig(*args, **kwargs)


def figure_axis(kind: str, top: float, currency: str | None = None,
                other: str = "Copies (count per run)") -> tuple[float, str]:
    """The scale and label of an axis showing figures of one ``kind`` (`sim.figures.unit`),
    ``top`` the largest value on it: seconds in ms when all are under a second, ratios in
    percent, an amount of money in its ``currency``; anything else labelled ``other``."""
    if kind == "s":
        return (1000.0, "Time (ms)") if top < 1.0 else (1.0, "Time (s)")
    if kind == "msg/s":
        return 1.0, "Messages per second"
    if kind == "ratio":
        return 100.0, "Percent"
    if kind == "money":
        return 1.0, f"Cost per run ({currency})" if currency else "Cost per run"
    return 1.0, other


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A pyplot-free figure with constrained layout (call inside ``styled()``)."""
    return MqsimFigure(figsize=(width, height), layout="constrained", **kwargs)


def no_data(ax: Axes, message: str = "no data") -> None:
    """Write a centred note on an empty panel instead of drawing misleading axes."""
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=MUTED)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    ax.set_frame_on(False)


def setting(summary: dict, key: str) -> float | None:
    """A run setting (seconds) from the summary: top level first, then its ``run`` section.

    Figures must work on any summary (old runs, partial ones, undefined figures), so a missing,
    None or non-numeric value is None, never an error. A ``{mean, ci95}`` entry (the aggregate
    of replications as written before run settings stayed plain values) gives its mean.
    """
    summary = summary if isinstance(summary, dict) else {}
    value = summary.get(key)
    if value is None and isinstance(summary.get("run"), dict):
        value = summary["run"].get(key)
    if isinstance(value, dict):
        value = value.get("mean")
    return float(value) if defined(value) else None


def plotted_run(summary: dict | None) -> tuple[dict, str | None]:
    """The summary of the run whose tables a figure draws, and a note for its title.

    A replicated result keeps the first replication's tables (``messages``, ``timeseries``,
    the run folder's parquet files; see docs/scenario-reference.md, "Results"), so its figures
    are drawn with that replication's own summary (its warm-up, its publishing window) and
    their title says so. Any other summary is returned as it is, with no note.
    """
    summary = summary if isinstance(summary, dict) else {}
    runs = summary.get("replication_summaries")
    if not (isinstance(runs, list) and runs and isinstance(runs[0], dict)):
        return summary, None
    first = dict(runs[0])
    first.setdefault("scenario", summary.get("scenario"))
    n = summary.get("replications") or len(runs)
    seed = first.get("seed")
    note = f"first of {n} replications" + (f", seed {seed}" if seed is not None else "")
    return first, note


def title(what: str, summary: dict, note: str | None) -> str:
    """``what — scenario (note)``, leaving out what is unknown; a run whose producers sent
    nothing says so, since its panels are empty for that reason."""
    name = summary.get("scenario")
    text = f"{what} — {name}" if name else what
    if nothing_sent(summary):
        note = "nothing was published: no producer sent a message" + (f"; {note}" if note else "")
    return f"{text} ({note})" if note else text
