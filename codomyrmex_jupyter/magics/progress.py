"""Live progress of a run started from a magic: the widget view, or a text line.

The widget view (``widgets.run_view.RunView``) is used when ipywidgets and a
kernel are there; otherwise a one-line text progress, redrawn in place through
a display id at most four times a second (and always at the end). Both are
created and displayed before the run starts and follow it as run listeners.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..api.run_handle import RunHandle
from ..api.workflow_models import WorkflowExecution
from ..display.dashboard_doc import execution_first_error as first_error

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager
    from ..engine.runner import Run

__all__ = ["LiveExecution", "LiveRunHandle", "TextProgress", "first_error", "live_view", "progress_line"]

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


def live_view(shell: Any, manager: WorkflowManager, name: str) -> tuple[list[Any], Any]:
    """Display a live view of the next run of ``name``; return ``(listeners, view)``.

    In a kernel with ipywidgets the view is a ``RunView`` (DAG, panel, Cancel);
    without ipywidgets, a text line; outside a kernel, nothing.
    """
    if getattr(shell, "kernel", None) is None:
        return [], None
    from IPython.display import display

    try:
        from ..widgets.run_view import RunView
    except ImportError as exc:
        log.debug("no widget view (%s); showing text progress", exc)
        handle = display({"text/plain": f"{name}: starting"}, raw=True, display_id=True)  # type: ignore[no-untyped-call]
        return [TextProgress(lambda line: handle.update({"text/plain": line}, raw=True))], None
    view = RunView.for_workflow(manager, name)
    view.settle = True  # live while it runs, the portable static DAG once it ends
    display(view)  # type: ignore[no-untyped-call]
    return [view.listener], view


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


class LiveExecution(WorkflowExecution):
    """The execution a blocking magic run returns when a live view shows the details.

    It is the same record (every field of the :class:`WorkflowExecution`); only
    its display is a one-line summary, since the view above already shows
    the DAG and the step table.
    """

    @classmethod
    def wrap(cls, execution: WorkflowExecution) -> LiveExecution:
        """A :class:`LiveExecution` with ``execution``'s fields."""
        live = cls.__new__(cls)
        live.__dict__.update(vars(execution))
        return live

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # The cell that ran it already shows the live view: one line there
        # (and why it failed); displayed again later (``ex`` in another cell),
        # the full bundle.
        if not self.__dict__.get("_summary_shown"):
            self.__dict__["_summary_shown"] = True
            error = first_error(self)
            return {"text/plain": self.summary() + (f"\nfirst error: {error}" if error else "")}
        return super()._repr_mimebundle_(include, exclude)
