"""The original package's TaskOrchestrator surface, on top of ours.

:class:`TaskOrchestratorCompat` is a mixin of
:class:`~codomyrmex_jupyter.api.tasks.TaskOrchestrator`. Its attributes are
live views of the orchestrator's own task table and running set, so they can
never disagree with :meth:`list_tasks` or :meth:`get_stats`:

* ``completed_tasks`` -- ids of the COMPLETED tasks (a set view);
* ``running_tasks`` -- ``{task_id: asyncio.Task}`` of the tasks running now;
* ``task_results`` -- ``{task_id: TaskResult}`` of every finished task (failed,
  cancelled and skipped ones too);
* ``executor`` -- the worker pool sync actions run on;
* ``shutdown_requested`` and ``execution_thread`` (a thread-like handle that
  is alive while execution is started).

It also adds :meth:`get_task_result`, :meth:`get_execution_stats` and a
synchronous :meth:`execute_task`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .. import runtime
from ..errors import TaskError
from .live_views import MISSING, LiveDict, LiveSet
from .task_models import Task, TaskResult, TaskStatus, _check_task, _now

if TYPE_CHECKING:
    from ..engine.actions import ActionRegistry
    from ..engine.executors import Executor

__all__ = ["ExecutionThread", "TaskOrchestratorCompat"]


class ExecutionThread:
    """``TaskOrchestrator.execution_thread``: alive while execution is started.

    Tasks run on the runtime's shared loop thread, not on a thread of the
    orchestrator's own; this handle answers the questions asked of the
    original's execution thread about *this* orchestrator.
    """

    daemon = True

    def __init__(self, orchestrator: TaskOrchestratorCompat) -> None:
        self._orchestrator = orchestrator

    @property
    def name(self) -> str:
        """Name of the loop thread the tasks run on."""
        return "codomyrmex-loop"

    def is_alive(self) -> bool:
        """Execution is started (tasks are being picked up)."""
        return self._orchestrator._started

    def join(self, timeout: float | None = None) -> None:
        """Wait until execution is stopped (or ``timeout`` seconds pass)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._orchestrator._changed:
            while self._orchestrator._started:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                self._orchestrator._changed.wait(remaining)

    def __repr__(self) -> str:
        state = "started" if self.is_alive() else "stopped"
        return f"<ExecutionThread {self.name} ({state})>"


class TaskOrchestratorCompat:
    """Mixin: the original TaskOrchestrator's attributes and methods."""

    # Provided by TaskOrchestrator.
    registry: ActionRegistry
    _executor: Executor | None
    _tasks: dict[str, Task]
    _running: dict[str, asyncio.Task[None]]
    _lock: threading.RLock
    _changed: threading.Condition
    _started: bool
    _shutdown_requested: bool
    _first_start: float | None

    # -- views ------------------------------------------------------------------------------
    @property
    def completed_tasks(self) -> LiveSet[str]:
        """Ids of this orchestrator's COMPLETED tasks (a live set)."""
        return LiveSet(self._is_completed, self._completed_ids)

    def _is_completed(self, task_id: Any) -> bool:
        task = self._tasks.get(task_id)
        return task is not None and task.status is TaskStatus.COMPLETED

    def _completed_ids(self) -> list[str]:
        with self._lock:
            return [k for k, t in self._tasks.items() if t.status is TaskStatus.COMPLETED]

    @property
    def running_tasks(self) -> MappingProxyType[str, asyncio.Task[None]]:
        """``{task_id: asyncio.Task}`` of the tasks running now (read-only, live)."""
        return MappingProxyType(self._running)

    @property
    def task_results(self) -> LiveDict[str, TaskResult]:
        """``{task_id: TaskResult}`` of every finished task of this orchestrator (live)."""
        return LiveDict(
            "TaskOrchestrator.task_results", self._finished_ids, self._result_or_missing,
            hint="results are set by the orchestrator when a task ends",
        )

    def _finished_ids(self) -> list[str]:
        with self._lock:
            return [k for k, t in self._tasks.items() if _finished(t)]

    def _result_or_missing(self, task_id: Any) -> Any:
        task = self._tasks.get(task_id)
        return task.result if task is not None and _finished(task) else MISSING

    @property
    def executor(self) -> Any:
        """Where actions run: the executor given (Dask), else the runtime's shared worker-thread pool."""
        given = self._executor
        return given if given is not None else runtime.worker_pool()

    @property
    def shutdown_requested(self) -> bool:
        """``stop_execution`` was called and execution has not been started since."""
        return self._shutdown_requested

    @property
    def execution_thread(self) -> ExecutionThread | None:
        """A thread-like handle, alive while started; ``None`` before the first start."""
        return None if self._first_start is None else ExecutionThread(self)

    # -- methods ----------------------------------------------------------------------------
    def get_task_result(self, task_id: str) -> TaskResult | None:
        """The result of a finished task of this orchestrator, or ``None``."""
        result = self._result_or_missing(task_id)
        return None if result is MISSING else result

    def get_execution_stats(self) -> dict[str, Any]:
        """The original's statistics of this orchestrator's tasks.

        Keys: ``total_tasks``, ``pending``, ``ready``, ``running``,
        ``completed``, ``failed``, ``cancelled`` (counts),
        ``total_execution_time`` and ``average_execution_time`` (seconds, over
        the tasks that ran).
        """
        with self._lock:
            tasks = list(self._tasks.values())
        times = [t.execution_time for t in tasks if t.execution_time is not None]
        counts = {s: sum(t.status is s for t in tasks) for s in TaskStatus}
        total = sum(times)
        return {
            "total_tasks": len(tasks),
            "pending": counts[TaskStatus.PENDING],
            "ready": counts[TaskStatus.READY],
            "running": counts[TaskStatus.RUNNING],
            "completed": counts[TaskStatus.COMPLETED],
            "failed": counts[TaskStatus.FAILED],
            "cancelled": counts[TaskStatus.CANCELLED],
            "total_execution_time": total,
            "average_execution_time": total / len(times) if times else 0.0,
        }

    def execute_task(self, task: Task) -> TaskResult:
        """Run one task now, in this call, and return its result (one attempt).

        The task is not added to the orchestrator: its dependencies and
        resources are not considered, and it is not recorded. Its
        ``status``, ``started_at``, ``completed_at`` and ``result`` are set.
        An unknown action, a bad parameter, an error or a timeout is a failed
        result (``success=False`` with ``error_message`` and ``error_type``),
        not an exception.

        Raises
        ------
        TaskError
            ``task`` is not a Task, has an invalid field, or was added to this
            orchestrator (it runs there, through :meth:`start_execution`).
        """
        if not isinstance(task, Task):
            raise TaskError(f"execute_task takes a Task, not {type(task).__name__}")
        _check_task(task)
        with self._lock:
            if task.id in self._tasks:
                raise TaskError(
                    f"task {task.name or task.id!r} was added to this orchestrator; it runs "
                    "there (start_execution), not through execute_task",
                    task_id=task.id,
                )
        from .task_nodes import run_alone

        task.status, task.started_at = TaskStatus.RUNNING, _now()
        ok, result = run_alone(task, self.registry, self._executor)
        task.status = TaskStatus.COMPLETED if ok else TaskStatus.FAILED
        result.metadata = {"module": task.module, "action": task.action, "task_id": task.id}
        task.completed_at, task.result = _now(), result
        return result


def _finished(task: Task) -> bool:
    return task.result is not None and task.status.terminal
