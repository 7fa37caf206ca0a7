"""Progress of a run in a terminal: a live block on a TTY, plain lines otherwise.

The run's loop thread only appends ``(time, step, state)`` to a deque
(:class:`StepEvents`, a run listener: nothing is drawn on the hot path). The
command's main thread wakes up a few times a second and draws:

* :class:`LiveDisplay` (stdout is a terminal) redraws a block in place: one
  line per step with its state and time (the running, failed and most recent
  ones when there are more steps than fit), a bar and the elapsed time.
  Colours unless ``NO_COLOR`` is set; ASCII when the terminal cannot show
  Unicode.
* :class:`PlainDisplay` (a pipe, a file, CI logs) prints one line per state
  change, with the elapsed time, and nothing else: safe to ``grep``.

Both end with the same summary line and the errors of failed steps.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from ..display.svg import format_duration
from ..engine.events import BaseListener
from ..engine.state import TERMINAL_STATES, StepRecord

if TYPE_CHECKING:
    from ..engine.runner import Run

__all__ = ["LiveDisplay", "PlainDisplay", "StepEvents", "one_line", "summary_lines"]

_QUIET_STATES = frozenset({"pending", "ready"})
_COLORS = {
    "running": "34", "retrying": "33", "succeeded": "32", "failed": "31",
    "skipped": "90", "cancelled": "90", "cached": "35", "pending": "90", "ready": "36",
}
_RUN_COLORS = {"completed": "32", "failed": "31", "cancelled": "33", "running": "34"}
_UNICODE = {
    "pending": "·", "ready": "·", "running": "▶", "retrying": "↻", "succeeded": "✓",
    "failed": "✗", "skipped": "-", "cancelled": "⊘", "cached": "≡",
}
_ASCII = {
    "pending": ".", "ready": ".", "running": ">", "retrying": "~", "succeeded": "+",
    "failed": "x", "skipped": "-", "cancelled": "/", "cached": "=",
}
# the bar's segments, in order, and which state goes in which
_BAR_ORDER = ("succeeded", "failed", "skipped")
_BAR_GROUP = {"cached": "succeeded", "cancelled": "skipped"}
# which steps to show first when not all fit
_PRIORITY = {"running": 0, "retrying": 0, "failed": 1, "ready": 3, "pending": 4}


class StepEvents(BaseListener):
    """A run listener that queues step transitions for the drawing thread."""

    def __init__(self) -> None:
        self.events: deque[tuple[float, int, str]] = deque()
        self.run: Run | None = None

    def run_started(self, run: Run) -> None:
        """Remember the run."""
        self.run = run

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Queue the transition (called on the loop thread: append only)."""
        self.events.append((time.time(), index, state))

    def drain(self) -> list[tuple[float, int, str]]:
        """Every queued transition, oldest first."""
        out = []
        while self.events:
            out.append(self.events.popleft())
        return out


def _elapsed(run: Run, now: float) -> float:
    if run.start is None:
        return 0.0
    return (run.end if run.end is not None else now) - run.start


def _step_time(rec: StepRecord, now: float) -> float | None:
    if rec.start is None:
        return None
    return (rec.end if rec.end is not None else now) - rec.start


def summary_lines(run: Run) -> list[str]:
    """``etl [1a2b3c4d] completed in 1.2s: 3 succeeded`` and one line per error."""
    counts = ", ".join(f"{n} {state}" for state, n in sorted(run.counts().items()))
    head = f"{run.workflow} [{run.run_id[:8]}] {run.status} in {format_duration(_elapsed(run, time.time()))}"
    return [f"{head}: {counts}", *(f"  error: {' '.join(e.split())}" for e in run.errors)]


class PlainDisplay:
    """One line per step state change (pipes, files, CI logs)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def start(self, run: Run) -> None:
        """Say which run this is."""
        self._line(f"{run.workflow} [{run.run_id[:8]}] started: {len(run.records)} step(s)")

    def update(self, run: Run, events: list[tuple[float, int, str]]) -> None:
        """Print the queued transitions (not the pending/ready bookkeeping)."""
        for stamp, index, state in events:
            if state in _QUIET_STATES:
                continue
            rec = run.records[index]
            took = ""
            if state not in ("running", "retrying") and rec.start is not None and rec.end is not None:
                took = f" in {format_duration(rec.end - rec.start)}"
            elapsed = 0.0 if run.start is None else stamp - run.start
            note = f": {one_line(rec.error)}" if state == "failed" and rec.error else ""
            self._line(f"[{elapsed:7.1f}s] {rec.name} {state}{took}{note}")

    def finish(self, run: Run) -> None:
        """The summary line and the errors."""
        for line in summary_lines(run):
            self._line(line)

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def one_line(text: str, limit: int = 120) -> str:
    """``text`` on one line (runs of whitespace made one space), cut to ``limit`` with ``...``."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class LiveDisplay:
    """A block redrawn in place: steps, a bar, elapsed time (a terminal)."""

    def __init__(
        self,
        out: TextIO,
        *,
        color: bool | None = None,
        size: Callable[[], os.terminal_size] | None = None,
    ) -> None:
        self.out = out
        self.color = (os.environ.get("NO_COLOR") is None) if color is None else color
        encoding = (getattr(out, "encoding", None) or "ascii").lower()
        self.symbols = _UNICODE if "utf" in encoding else _ASCII
        self.bar_chars = ("█", "░") if "utf" in encoding else ("#", "-")
        self._size = size or (lambda: shutil.get_terminal_size((100, 24)))
        self._drawn = 0

    def start(self, run: Run) -> None:
        """Hide the cursor and draw the first frame."""
        self.out.write("\x1b[?25l")
        self.update(run, [])

    def update(self, run: Run, events: list[tuple[float, int, str]]) -> None:
        """Redraw the block (``events`` are not needed: the records are read directly)."""
        columns, rows = self._size()
        lines = [line[: max(columns - 1, 10)] for line in self.frame(run, time.time(), rows)]
        moves = f"\x1b[{self._drawn}F" if self._drawn else ""
        body = "".join(f"{line}\x1b[K\n" for line in lines)
        self.out.write(moves + body + "\x1b[J")
        self.out.flush()
        self._drawn = len(lines)

    def finish(self, run: Run) -> None:
        """Draw the last frame and print the summary (:meth:`close` gives the cursor back)."""
        self.update(run, [])
        for line in summary_lines(run):
            self.out.write(line + "\n")
        self.out.flush()

    def close(self) -> None:
        """Give the cursor back (also after an error)."""
        self.out.write("\x1b[?25h")
        self.out.flush()

    # -- drawing ---------------------------------------------------------------------
    def _paint(self, text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and code else text

    def frame(self, run: Run, now: float, rows: int = 24) -> list[str]:
        """The lines of one frame (header, steps, bar)."""
        status = self._paint(run.status, _RUN_COLORS.get(run.status))
        lines = [f"{run.workflow} [{run.run_id[:8]}] {status}"]
        shown = self._visible(run, max(rows - 4, 3))
        width = max((len(run.records[i].name) for i in shown), default=0)
        for i in shown:
            rec = run.records[i]
            mark = self._paint(self.symbols.get(rec.status, "?"), _COLORS.get(rec.status))
            state = self._paint(rec.status.ljust(9), _COLORS.get(rec.status))
            took = format_duration(_step_time(rec, now))
            tries = f"  attempt {rec.attempts}" if rec.attempts > 1 else ""
            lines.append(f"  {mark} {rec.name.ljust(width)}  {state} {took:>7}{tries}".rstrip())
        hidden = len(run.records) - len(shown)
        if hidden:
            lines.append(f"  … and {hidden} more" if self.symbols is _UNICODE else f"  ... and {hidden} more")
        lines.append(self._bar(run, now))
        return lines

    def _visible(self, run: Run, room: int) -> list[int]:
        records = run.records
        if len(records) <= room:
            return list(range(len(records)))
        ranked = sorted(
            range(len(records)),
            key=lambda i: (_PRIORITY.get(records[i].status, 2), -(records[i].end or records[i].start or 0)),
        )
        return sorted(ranked[: room - 1])

    def _bar(self, run: Run, now: float, width: int = 30) -> str:
        """Finished steps as a bar, coloured by outcome (failed red, skipped grey, the rest green)."""
        total = len(run.records) or 1
        counts = dict.fromkeys(_BAR_ORDER, 0)
        for r in run.records:
            if r.status in TERMINAL_STATES:
                counts[_BAR_GROUP.get(r.status, r.status)] += 1
        done = sum(counts.values())
        full, empty = self.bar_chars
        parts, used = [], 0
        for state in _BAR_ORDER:
            cells = round(width * (used + counts[state]) / total) - round(width * used / total)
            used += counts[state]
            if cells:
                parts.append(self._paint(full * cells, _COLORS[state]))
        filled = round(width * done / total)
        bar = "".join(parts) + empty * (width - filled)
        return f"  [{bar}] {done}/{len(run.records)} steps  {format_duration(_elapsed(run, now))}"
