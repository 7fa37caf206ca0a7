"""How the engine tells the outside world what happens, without knowing who listens.

Two levels, after ``dask.callbacks``:

* A :class:`RunListener` is attached to one run. The runner calls
  ``run_started``, ``step_changed`` (every state transition) and
  ``run_finished`` on the event-loop thread. Widgets, the run recorder and
  text progress lines are listeners; the runner imports none of them.
  ``step_changed`` is on the hot path: listeners must only note the change
  (set a flag, append to a list) and draw later.
* :data:`run_events` is a process-wide hub of run-level events (a run started
  or finished) for things that watch every run, such as the JupyterLab status
  item. Subscribers may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from .runner import Run

__all__ = ["RunEvent", "RunEventHub", "RunListener", "run_events"]

log = logging.getLogger(__name__)


@runtime_checkable
class RunListener(Protocol):
    """Observer of one run. Every method is optional in spirit: subclass
    :class:`BaseListener` or implement all three."""

    def run_started(self, run: Run) -> None:
        """The run is about to start its first steps."""

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Step ``run.graph.names[index]`` entered ``state``."""

    def run_finished(self, run: Run) -> None:
        """The run ended (any status); records are final."""


class BaseListener:
    """A listener that ignores everything; override what you need."""

    def run_started(self, run: Run) -> None:
        """Do nothing."""

    def step_changed(self, run: Run, index: int, state: str) -> None:
        """Do nothing."""

    def run_finished(self, run: Run) -> None:
        """Do nothing."""


@dataclass(frozen=True, slots=True)
class RunEvent:
    """A run-level event: ``kind`` is ``"run_started"`` or ``"run_finished"``."""

    kind: str
    run_id: str
    workflow: str
    status: str
    counts: tuple[tuple[str, int], ...] = ()


class RunEventHub:
    """Fan-out of :class:`RunEvent` to subscribers, keeping the latest per run."""

    def __init__(self, keep: int = 200) -> None:
        self._subscribers: list[Callable[[RunEvent], Any]] = []
        self._latest: OrderedDict[str, RunEvent] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def subscribe(self, callback: Callable[[RunEvent], Any]) -> Callable[[], None]:
        """Call ``callback(event)`` for every future event; return an unsubscribe function."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: RunEvent) -> None:
        """Record ``event`` and hand it to every subscriber."""
        with self._lock:
            self._latest[event.run_id] = event
            self._latest.move_to_end(event.run_id)
            while len(self._latest) > self._keep:
                self._latest.popitem(last=False)
            subscribers = list(self._subscribers)
        for cb in subscribers:
            try:
                cb(event)
            except Exception:  # one broken display must not break a run
                log.exception("run event subscriber %r failed", cb)

    def snapshot(self) -> list[RunEvent]:
        """The latest event of each recent run, oldest first."""
        with self._lock:
            return list(self._latest.values())

    def clear(self) -> None:
        """Forget recorded events (subscribers stay)."""
        with self._lock:
            self._latest.clear()


run_events = RunEventHub()
