"""Progress: what a long run or experiment reports as it goes, and a bar that draws it.

Two callback shapes, one name each, defined here only:

- `Progress`: ``progress(fraction)``, the fraction of one run done (`sim.engine.simulate`,
  ``sim.run(..., progress=...)``);
- `NotedProgress`: ``progress(fraction, note)``, the fraction of an experiment done with a
  note such as ``"3/10 runs"`` (replications, sweep points, designs).

`ProgressBar` accepts both calls. This module imports nothing but the standard library, so
every layer may use it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

Progress = Callable[[float], None]
NotedProgress = Callable[[float, str], None]


class ProgressBar:
    """A one-line progress bar on a terminal, shown only once a run takes a moment.

    Over replications, sweep points and designs it also shows a note ("3 of 10
    replications"); the CLI draws it only when stderr is a terminal and --quiet is not given.
    """

    def __init__(self, stream: TextIO, delay: float = 0.5) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.delay = delay
        self.last = 0.0
        self.shown = False
        self.width = 0

    def __call__(self, fraction: float, note: str = "") -> None:
        """Draw ``fraction`` done, with an optional ``note`` ("3 of 10 replications")."""
        now = time.monotonic()
        if now - self.started < self.delay or now - self.last < 0.1:
            return
        self.last = now
        self.shown = True
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * 30)
        line = (f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:6.1%}"
                f"  {now - self.started:5.1f}s" + (f"  {note}" if note else ""))
        self.width = max(self.width, len(line))
        self.stream.write(line.ljust(self.width))
        self.stream.flush()

    def close(self) -> None:
        """Erase the bar, if it was drawn, so the next line starts clean."""
        if self.shown:
            self.stream.write("\r" + " " * max(60, self.width) + "\r")
            self.stream.flush()
