"""Coalesced live refresh: the renderer-agnostic base of every live view.

The rule
--------
``step_changed`` is on the scheduler's hot path, so a view's listener only
sets a dirty flag there (O(1)). A timer on the run's own event loop, armed in
``run_started``, redraws at most ``max_rate`` times per second, and only when
something changed. ``run_finished`` cancels the timer and schedules the final
drawing (then ``_draw_stop``) with ``loop.call_soon``: the run returns to
whoever awaits it first, and the final state is drawn at the loop's next
iteration, which comes before ``runtime.run_sync`` or ``run_until_complete``
hand the result back (their completion callbacks are queued after it).
Watching a run therefore costs a bounded number of redraws per second,
whatever the number of steps; a run shorter than one period pays only for
binding the view at its start.

Like ``distributed``'s progress bars, a :class:`LiveListener` drives renderers
through two hooks, ``_draw`` (the current state) and ``_draw_stop`` (the run
ended); :class:`TextProgress` is the plain-text twin used without ipywidgets.
Sources that are not runs (resource changes, run events, which may come from
any thread) use :class:`Coalescer`, whose timer lives on the runtime's
background loop. No thread is created here.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, Protocol

from ..engine.events import BaseListener

if TYPE_CHECKING:
    from ..engine.runner import Run

__all__ = [
    "Coalescer",
    "LiveListener",
    "RunRenderer",
    "TextProgress",
    "defer",
    "progress_line",
]

log = logging.getLogger(__name__)


class RunRenderer(Protocol):
    """A view that a :class:`LiveListener` keeps up to date."""

    def bind_run(self, run: Run) -> None:
        """Show ``run`` (its graph and live records) from now on."""

    def refresh(self) -> None:
        """Redraw from the current records."""

    def finish(self) -> None:
        """The run ended (called right after the final refresh, so it need not redraw)."""


class LiveListener(BaseListener):
    """Run listener that redraws its renderers at most ``max_rate`` times per second.

    Parameters
    ----------
    renderers:
        Views to bind, refresh and finish (see :class:`RunRenderer`).
    max_rate:
        Upper bound on redraws per second while the run goes on.

    Attributes
    ----------
    draws:
        Number of redraws done so far (the final one included).
    """

    def __init__(self, renderers: Sequence[RunRenderer] = (), max_rate: float = 4.0) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be positive (redraws per second)")
        self.renderers = list(renderers)
        self.interval = 1.0 / max_rate
        self.run: Run | None = None
        self.draws = 0
        self.poll = False
        self._dirty = False
        self._stopped = False
        self._finished = False
        self._timer: asyncio.TimerHandle | None = None
        self._lock = threading.Lock()

    # -- listener protocol (engine loop thread) ----------------------------------------
    def run_started(self, run: Run) -> None:
        """Bind the renderers and start the refresh timer on the run's loop.

        The first redraw waits for the timer: a run shorter than one period
        is drawn once, when it ends.
        """
        self._stopped = self._finished = False
        self._dirty = True
        self._guard(self._bind, run)
        self._arm(asyncio.get_running_loop())

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Only note the change; the timer redraws."""
        self._dirty = True

    def run_finished(self, run: Run) -> None:
        """Stop the timer; draw the final state and finish the renderers just after.

        On an event loop, the final drawing is queued with ``call_soon`` so
        the run returns first; without a running loop it happens now.
        """
        self._stop()
        if self._finished:
            return
        self._finished = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._final(run)
            return
        loop.call_soon(self._final, run)

    def _final(self, run: Run) -> None:
        self._guard(self._draw, run)
        self._guard(self._draw_stop, run)

    # -- attaching to a run that is already going ---------------------------------------
    def watch(self, run: Run, loop: asyncio.AbstractEventLoop | None = None) -> LiveListener:
        """Follow ``run`` by polling, for a run started without this listener.

        The renderers are bound and drawn now; while the run goes on they are
        redrawn ``max_rate`` times per second on ``loop`` (the runtime's
        background loop by default) and finished when it ends.
        """
        from .. import runtime

        self.poll = True
        self._stopped = self._finished = False
        self._guard(self._bind, run)
        if run.done:  # drawn now: the caller displays the view next
            self._stop()
            self._finished = True
            self._final(run)
            return self
        self._guard(self._draw, run)
        target = loop if loop is not None else runtime.background_loop()
        target.call_soon_threadsafe(self._arm, target)
        return self

    def close(self) -> None:
        """Stop refreshing (the views keep what they show)."""
        self._stop()

    # -- hooks ---------------------------------------------------------------------------
    def _bind(self, run: Run) -> None:
        self.run = run
        for r in self.renderers:
            r.bind_run(run)

    def _draw(self, run: Run) -> None:
        with self._lock:
            self._dirty = False
            self.draws += 1
            for r in self.renderers:
                r.refresh()

    def _draw_stop(self, run: Run) -> None:
        for r in self.renderers:
            r.finish()

    # -- timer ----------------------------------------------------------------------------
    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._stopped and self._timer is None:
            self._timer = loop.call_later(self.interval, self._tick, loop)

    def _tick(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        run = self.run
        if self._stopped or run is None:
            return
        if self.poll and run.done:
            self.run_finished(run)
            return
        if self._dirty or self.poll:
            self._guard(self._draw, run)
        self._arm(loop)

    def _stop(self) -> None:
        self._stopped = True
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _guard(self, fn: Callable[[Run], None], run: Run) -> None:
        # A broken view must never break the run it watches.
        try:
            fn(run)
        except Exception:
            log.exception("live view %r failed to draw", self)


def progress_line(counts: Mapping[str, int], total: int, status: str, width: int = 30) -> str:
    """``etl [##########----------] 5/10 running  succeeded=5 running=2``."""
    done = sum(v for k, v in counts.items() if k in _FINAL)
    filled = int(width * done / total) if total else width
    detail = "  ".join(f"{k}={v}" for k, v in counts.items() if v)
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total} {status}  {detail}".rstrip()


_FINAL = frozenset({"succeeded", "failed", "skipped", "cancelled", "cached"})


class TextProgress(LiveListener):
    """The text twin of the run panel: one progress line, rewritten in place.

    Parameters
    ----------
    stream:
        Where to write (``sys.stdout`` by default).
    max_rate:
        Upper bound on redraws per second.
    """

    def __init__(self, stream: IO[str] | None = None, max_rate: float = 4.0) -> None:
        super().__init__((), max_rate)
        self.stream = stream if stream is not None else sys.stdout
        self.last = ""

    def _draw(self, run: Run) -> None:
        with self._lock:
            self._dirty = False
            self.draws += 1
            self.last = f"{run.workflow} {progress_line(run.counts(), len(run.records), run.status)}"
            self.stream.write("\r" + self.last)
            self.stream.flush()

    def _draw_stop(self, run: Run) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Coalescer:
    """Call ``callback()`` at most ``max_rate`` times per second after :meth:`mark`.

    :meth:`mark` may be called from any thread, as often as wanted; the
    callback runs on ``loop`` (the runtime's background loop by default).

    Parameters
    ----------
    callback:
        The redraw.
    max_rate:
        Upper bound on calls per second.
    loop:
        Event loop that runs the timer.
    """

    def __init__(
        self,
        callback: Callable[[], Any],
        max_rate: float = 4.0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.callback = callback
        self.interval = 1.0 / max_rate
        self._loop = loop
        self._lock = threading.Lock()
        self._pending = False
        self._closed = False
        self.calls = 0

    def mark(self, *_: Any) -> None:
        """Something changed: schedule a call unless one is pending."""
        with self._lock:
            if self._pending or self._closed:
                return
            self._pending = True
        loop = self._loop
        if loop is None:
            from .. import runtime

            loop = self._loop = runtime.background_loop()
        loop.call_soon_threadsafe(loop.call_later, self.interval, self._fire)

    def _fire(self) -> None:
        with self._lock:
            self._pending = False
            if self._closed:
                return
        self.flush()

    def flush(self) -> None:
        """Call the callback now (any thread)."""
        self.calls += 1
        try:
            self.callback()
        except Exception:
            log.exception("coalesced refresh %r failed", self.callback)

    def close(self) -> None:
        """Drop pending and future calls."""
        with self._lock:
            self._closed = True


def defer(fn: Callable[[], Any], delay: float = 0.02) -> None:
    """Run ``fn`` shortly on the current event loop, or now if there is none.

    End-of-run work that is slow (a Gantt PNG, re-sending a display) is
    deferred this way so the run returns to its caller first.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        _call_logged(fn)
        return
    loop.call_later(delay, _call_logged, fn)


def _call_logged(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        log.exception("deferred view update %r failed", fn)
