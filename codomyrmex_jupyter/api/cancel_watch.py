"""The owning process's side of cancel requests: watch the store, cancel the run.

Another process (the Jupyter server, for the Runs panel) cannot reach a run
in this kernel; it records a request in the store
(:mod:`~codomyrmex_jupyter.engine.cancel_requests`). While this process has
runs going, one ticker of the runtime (:func:`~codomyrmex_jupyter.runtime.every`,
the same facility as the store's heartbeat) reads the requests for exactly
those runs every :data:`POLL_INTERVAL` seconds (one indexed ``SELECT`` per
store, a few tens of microseconds; a WAL read never waits for a writer),
cancels the runs it finds (``Run.cancel`` is safe from any thread) and
removes their requests. With no run going there is no ticker at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import runtime
from ..engine.cancel_requests import clear_cancel_request, pending_cancel_requests
from ..errors import StoreError

if TYPE_CHECKING:
    from ..engine.runner import Run
    from ..engine.store import Store

__all__ = ["POLL_INTERVAL", "CancelWatch", "cancel_watch"]

log = logging.getLogger(__name__)
POLL_INTERVAL = 0.25  # seconds: a request is honoured well within a second


class CancelWatch:
    """Runs of this process that a cancel request may name, and the ticker that looks."""

    def __init__(self, interval: float = POLL_INTERVAL) -> None:
        self.interval = interval
        self._runs: dict[str, tuple[Store, Run]] = {}
        self._stop_ticker: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._failing: set[str] = set()

    def watch(self, store: Store, run: Run) -> None:
        """Watch for requests on ``run`` (recorded in ``store``) until :meth:`unwatch`."""
        if store.path == ":memory:":
            return  # no other process can write a request there
        with self._lock:
            self._runs[run.run_id] = (store, run)
            if self._stop_ticker is None:
                self._stop_ticker = runtime.every(self.interval, self.poll, name="codomyrmex-cancel-watch")

    def unwatch(self, run_id: str) -> None:
        """Stop watching ``run_id``; the ticker stops with the last run."""
        with self._lock:
            self._runs.pop(run_id, None)
            stop = self._stop_ticker if not self._runs else None
            if stop is not None:
                self._stop_ticker = None
        if stop is not None:
            stop()

    @property
    def active(self) -> bool:
        """Whether a ticker is running (some run is being watched)."""
        return self._stop_ticker is not None

    def poll(self) -> list[str]:
        """Look once; cancel the runs with a request. Returns their ids."""
        with self._lock:
            by_store: dict[str, tuple[Store, dict[str, Run]]] = {}
            for run_id, (store, run) in self._runs.items():
                by_store.setdefault(store.path, (store, {}))[1][run_id] = run
        cancelled = []
        for store, runs in by_store.values():
            try:
                requests = pending_cancel_requests(store, runs)
            except StoreError as exc:
                self._report(store, exc)
                continue
            self._failing.discard(store.path)
            for run_id, request in requests.items():
                # Removed first: the run may end (and its caller read the store) as soon as
                # it is cancelled, and must not find its request still there.
                try:
                    clear_cancel_request(store, run_id)
                except StoreError as exc:
                    self._report(store, exc)
                runs[run_id].cancel(str(request.get("by") or "cancelled from outside the kernel"))
                cancelled.append(run_id)
        return cancelled

    def _report(self, store: Store, exc: StoreError) -> None:
        # Once per failing spell, not four times a second.
        if store.path not in self._failing:
            self._failing.add(store.path)
            log.warning("cannot read cancel requests from %s: %s", store.path, exc)


cancel_watch = CancelWatch()
