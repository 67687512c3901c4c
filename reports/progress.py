"""A one-line progress bar on stderr: what is being done, and steps done of total."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    WIDTH = 24

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.began = time.monotonic()
        self.tty = self.stream.isatty()

    def step(self, what: str) -> None:
        """Announce the next step (counts the previous one as done)."""
        self._draw(what)
        self.done = min(self.done + 1, self.total)

    def finish(self, what: str = "done") -> None:
        self.done = self.total
        self._draw(what)
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self, what: str) -> None:
        filled = self.WIDTH * self.done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = (f"[{bar}] {self.done}/{self.total} {what} "
                f"({time.monotonic() - self.began:.1f} s)")
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
