"""A progress bar on the terminal (tqdm when installed, a plain one otherwise) and the log lines beside it."""

from __future__ import annotations

import sys
from typing import IO, Any


class TerminalProgress:
    """Core's ``progress(fraction) -> keep going`` and ``log(message)`` callbacks for a terminal.

    The bar is drawn only when ``stream`` is a terminal and ``enabled``; log lines are printed above
    it (or alone when there is no bar) unless ``quiet``.
    """

    def __init__(self, description: str, enabled: bool = True, quiet: bool = False, stream: IO[str] | None = None):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.description = description
        self.shown = enabled and not quiet and self.stream.isatty()
        self._bar: Any = None
        self._last = -1
        if self.shown:
            try:
                from tqdm import tqdm
            except ImportError:  # the plugin's own folder on a machine without tqdm: a plain bar
                tqdm = None
            if tqdm is not None:
                self._bar = tqdm(
                    total=1000,
                    desc=description,
                    file=self.stream,
                    bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
                    leave=False,
                )

    def progress(self, fraction: float) -> bool:
        """Show ``fraction`` (0-1) of the run done; never asks to stop (Ctrl-C does that)."""
        if not self.shown:
            return True
        step = int(max(0.0, min(1.0, fraction)) * 1000)
        if self._bar is not None:
            if step > self._bar.n:
                self._bar.update(step - self._bar.n)
        elif step // 10 != self._last // 10:
            filled = step // 25
            self.stream.write(f"\r{self.description}: {step // 10:3d}% |{'#' * filled}{' ' * (40 - filled)}|")
            self.stream.flush()
        self._last = step
        return True

    def log(self, message: str) -> None:
        """One line of the run's log (what it decided: bands, scale, threshold ...)."""
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        elif self.shown and self._last >= 0:
            self.stream.write("\r" + " " * (len(self.description) + 50) + "\r" + message + "\n")
        else:
            self.stream.write(message + "\n")

    def close(self) -> None:
        """Remove the bar (the log lines stay)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.shown and self._last >= 0:
            self.stream.write("\r" + " " * (len(self.description) + 50) + "\r")
        self.stream.flush()
