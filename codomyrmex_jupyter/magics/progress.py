"""Live progress of a run started from a magic: the widget view, or a text line.

The widget view (``widgets.run_panel.RunView``) is used when ipywidgets and a
kernel are there; otherwise a one-line text progress, redrawn in place through
a display id at most four times a second (and always at the end).

Both are run listeners: ``step_changed`` is on the engine's hot path, so it
only decides whether enough time has passed to redraw.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..api.run_handle import RunHandle

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager
    from ..engine.runner import Run

__all__ = ["LiveRunHandle", "TextProgress", "WidgetProgress", "progress_line"]

log = logging.getLogger(__name__)
MIN_INTERVAL = 0.25


def progress_line(run: Run) -> str:
    """``etl [1a2b3c4d] running 1.2s: 2 succeeded, 1 running`` for a run's current state."""
    counts = ", ".join(f"{n} {state}" for state, n in sorted(run.counts().items()))
    start = run.start if run.start is not None else time.time()
    elapsed = (run.end if run.end is not None else time.time()) - start
    return f"{run.workflow} [{run.run_id[:8]}] {run.status} {elapsed:.1f}s: {counts}"


class TextProgress:
    """A run listener that redraws :func:`progress_line` through ``publish``.

    Parameters
    ----------
    publish:
        Called with the new line (e.g. a display handle's ``update``).
    interval:
        Minimum seconds between two redraws while the run goes on.
    """

    def __init__(self, publish: Callable[[str], Any], interval: float = MIN_INTERVAL) -> None:
        self.publish = publish
        self.interval = interval
        self._last = 0.0

    def _draw(self, run: Run) -> None:
        self._last = time.monotonic()
        try:
            self.publish(progress_line(run))
        except Exception:  # a broken display must not break the run
            log.exception("could not draw the progress of run %s", run.run_id)

    def run_started(self, run: Run) -> None:
        """Draw the first line."""
        self._draw(run)

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Redraw if the last redraw is old enough."""
        if time.monotonic() - self._last >= self.interval:
            self._draw(run)

    def run_finished(self, run: Run) -> None:
        """Draw the final line."""
        self._draw(run)


class WidgetProgress:
    """A run listener that builds a ``RunView`` once the run is set up and forwards events.

    The view needs the run's execution, which the manager creates when the run
    starts; ``on_view`` receives the view then (to display it).
    """

    def __init__(self, manager: WorkflowManager, on_view: Callable[[Any], Any]) -> None:
        self.manager = manager
        self.on_view = on_view
        self.view: Any = None

    def run_started(self, run: Run) -> None:
        """Create and show the view, then pass the event on."""
        from ..widgets.run_panel import RunView

        execution = self.manager.get_execution(run.run_id)
        try:
            self.view = RunView(execution, manager=self.manager)
            self.on_view(self.view)
            self.view.listener.run_started(run)
        except Exception:  # the run goes on without a view rather than failing
            log.exception("could not show the run view of %s", run.run_id)
            self.view = None

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Pass the event on."""
        if self.view is not None:
            self.view.listener.step_changed(run, index, state)

    def run_finished(self, run: Run) -> None:
        """Pass the event on."""
        if self.view is not None:
            self.view.listener.run_finished(run)


class LiveRunHandle(RunHandle):
    """The :class:`RunHandle` a ``--background`` magic returns.

    Its live view is displayed by the magic, so while the run goes on the
    handle itself shows one line; once the run is over it shows the execution.
    """

    view: Any = None

    @classmethod
    def wrap(cls, handle: RunHandle, view: Any = None) -> LiveRunHandle:
        """A :class:`LiveRunHandle` sharing ``handle``'s state."""
        live = cls.__new__(cls)
        live.__dict__.update(vars(handle))
        live.view = view
        return live

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        if not self.done():
            return {"text/plain": repr(self)}
        return super()._repr_mimebundle_(include, exclude)
