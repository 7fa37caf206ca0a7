"""The run recorder: a run listener that writes runs and step records to the store.

It writes twice per run (one row when the run starts, everything else in one
transaction when it ends), so recording costs a few microseconds per step
instead of a transaction per transition. A store failure never loses the
run: the execution stays in memory, the error is logged and kept in
``performance_metrics["store_error"]``.
"""

from __future__ import annotations

import heapq
import logging
import time
from typing import Any

from ..engine.events import BaseListener
from ..engine.remote import REMOTE_NOTE, local_value, remote_note
from ..engine.runner import Run
from ..engine.step_table import pack_records
from ..engine.store import Store, encode_json_lenient
from ..errors import StoreError
from .cancel_watch import cancel_watch
from .run_origin import process_origin
from .workflow_models import WorkflowExecution

__all__ = ["RunRecorder"]

log = logging.getLogger(__name__)


def _metrics(run: Run, cpu0: float, monitor: bool) -> dict[str, Any]:
    counts = run.counts()
    metrics: dict[str, Any] = {
        "duration": (run.end or time.time()) - (run.start or time.time()),
        "steps": len(run.records),
        "counts": counts,
        "retries": sum(r.retries for r in run.records),
        "peak_concurrency": run.peak_concurrency,
        "executor": getattr(run.executor, "name", type(run.executor).__name__),
    }
    link = getattr(run.executor, "dashboard_link", None)
    if link:
        metrics["dashboard"] = link  # the Dask dashboard the run view links to
    if monitor:
        metrics["cpu_time"] = time.process_time() - cpu0
        rss = _max_rss_kb()
        if rss is not None:
            metrics["max_rss_kb"] = rss
        # Per-step durations live in the steps table; only the slowest go here.
        timed = [r for r in run.records if r.duration is not None]
        slowest = heapq.nlargest(10, timed, key=lambda r: r.duration or 0.0)
        metrics["slowest_steps"] = {r.name: r.duration for r in slowest}
    return metrics


def _result_json(value: Any) -> tuple[str | None, str | None]:
    """A result as stored: JSON, or the note saying why not (left on a cluster, not JSON)."""
    note = remote_note(value)
    if note is not None:
        return None, note
    return encode_json_lenient(local_value(value))


def _max_rss_kb() -> int | None:
    """Peak resident memory of this process in KB, where the platform tells it (not Windows)."""
    try:
        import resource  # POSIX only: imported here so the API imports everywhere
    except ImportError:
        return None
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


class RunRecorder(BaseListener):
    """Keeps a :class:`WorkflowExecution` in step with its run and persists both."""

    def __init__(
        self,
        execution: WorkflowExecution,
        store: Store | None,
        *,
        monitor: bool = True,
    ) -> None:
        self.execution = execution
        self.store = store
        self.monitor = monitor
        self._cpu0 = time.process_time()

    def run_started(self, run: Run) -> None:
        """Insert the run row."""
        self.execution.sync_from_run()
        if self.store is None:
            return
        try:
            self.store.start_run(
                run.run_id,
                run.workflow,
                version=self.execution.version,
                start=run.start or time.time(),
                parameters=run.parameters,
                session_id=self.execution.session_id,
                **process_origin(),
            )
        except StoreError as exc:
            self._store_failed(exc)
            return
        cancel_watch.watch(self.store, run)  # cancel requests from other processes (Runs panel)

    def run_finished(self, run: Run) -> None:
        """Write status, errors, metrics and every step row in one transaction."""
        cancel_watch.unwatch(run.run_id)
        ex = self.execution
        ex.sync_from_run()
        ex.performance_metrics.update(_metrics(run, self._cpu0, self.monitor))
        for step, rec in zip(run.steps, run.records, strict=True):
            if hasattr(step, "retry_count"):
                step.retry_count = rec.retries  # the seed's field: retries of the latest run
        packed = pack_records(run.records, _result_json)
        notes = {r[1]: r[10] for r in packed[1] if r[10]}
        if notes:
            ex.performance_metrics["results_not_stored"] = notes
            for name, note in notes.items():
                if not note.startswith(REMOTE_NOTE):  # left on a cluster on purpose: no warning
                    log.warning("run %s step %s: %s", run.run_id[:8], name, note)
        if self.store is None:
            return
        try:
            self.store.finish_run(
                run.run_id,
                status=run.status,
                end=run.end,
                errors=run.errors,
                metrics=ex.performance_metrics,
                packed=packed,
            )
        except StoreError as exc:
            self._store_failed(exc)

    def _store_failed(self, exc: StoreError) -> None:
        log.error("run %s could not be recorded: %s", self.execution.execution_id, exc)
        self.execution.performance_metrics["store_error"] = str(exc)
