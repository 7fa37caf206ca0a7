"""Tasks and the TaskOrchestrator: independent units of work with priorities.

A :class:`Task` names an action (``module``/``action``, resolved through the
action registry like a workflow step), its parameters, the tasks it depends
on (by id or name), a priority, resources and a timeout. The
:class:`TaskOrchestrator` runs them:

* higher priority first, first-added first within a priority;
* at most ``max_workers`` tasks RUNNING at once;
* a task starts when its dependencies COMPLETED; if one FAILED, was
  CANCELLED or SKIPPED, the task is SKIPPED and says which dependency;
* a task with ``resources`` waits (PENDING, holding no worker slot and not
  holding up other tasks) until the resource manager grants all of them at
  once, and gives them back on every exit path;
* ``timeout`` fails the task with a :class:`~codomyrmex_jupyter.errors.StepTimeout`
  message (not retried); any other error is retried ``max_retries`` times,
  ``retry_delay`` seconds apart.

The tasks are the nodes of one
:class:`~codomyrmex_jupyter.engine.open_run.OpenRun`: the runner's I/O shell
(the executor, the deadline timer, retries, cancel, resources, transitions
to listeners) over the scheduling core that runs workflow steps too, with a
graph that grows as tasks are added. The orchestrator maps the run's
transitions onto its tasks (a listener) and serves the run on the runtime's
background event loop while execution is started: async actions run as
tasks on that loop, sync ones on the runtime's worker threads, and with
``executor=`` on the same executors as workflows. Nothing here creates a
thread or a loop.

Every task is stored as a ``"task"`` document, so a later process lists past
tasks (they are history: never re-run).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from typing import Any

from .. import runtime
from ..engine.actions import ActionRegistry, default_registry
from ..engine.events import BaseListener
from ..engine.executors import Executor, make_executor
from ..engine.open_run import OpenRun
from ..engine.store import Store
from ..engine.validation import check_count
from ..errors import StoreError, TaskError, TaskTypeError
from .resources import ResourceManager
from .task_helpers import OrchestratorTaskQueue, TaskResourceManager
from .task_models import (
    _TASK_FIELDS,
    DOC_KIND,
    Task,
    TaskPriority,
    TaskResource,
    TaskResult,
    TaskStatus,
    _check_task,
    _now,
    _task_from_doc,
    _task_to_doc,
)
from .task_nodes import HOLDER_PREFIX, TaskBooking, TaskNode, task_result
from .tasks_compat import TaskOrchestratorCompat

__all__ = [
    "Task",
    "TaskOrchestrator",
    "TaskPriority",
    "TaskResource",
    "TaskResult",
    "TaskStatus",
]

log = logging.getLogger(__name__)

_RUNNING_REASON = "cancelled while running; its result was ignored"
_STOPPED_REASON = "cancelled by stop_execution while running"
_WAITING_REASON = "cancelled before it started"


class TaskOrchestrator(TaskOrchestratorCompat):
    """Manages individual task execution with dependency management and resource control.

    Parameters
    ----------
    max_workers:
        Upper bound on tasks RUNNING at once.
    resource_manager:
        Where task ``resources`` are taken from: a :class:`ResourceManager`
        (amounts of declared resources, from its pool), or, by default, a
        task-level :class:`~codomyrmex_jupyter.api.task_helpers.TaskResourceManager`
        that books resources by key (readers share, writers and exclusive
        users are alone), as the original package did.
    store:
        Where tasks are recorded (``"task"`` documents); past tasks found
        there are listed as history and never re-run.
    registry:
        Where ``module``/``action`` are resolved; the process-wide registry
        when omitted.
    executor:
        Where actions run, as for workflows: ``None``/``"local"`` (this
        process), ``"dask-local"``, ``"dask://HOST:PORT"``, a
        ``distributed.Client`` or an executor object. Scheduling (order,
        dependencies, retries, timeouts, cancel, resources of the
        orchestrator's resource manager) stays in this process; on Dask a
        task's priority is its Dask priority, a dependency's value goes to
        its dependents from worker to worker, and each task's value comes
        back to this process when it completes.
    """

    def __init__(
        self,
        max_workers: int = 4,
        *,
        resource_manager: ResourceManager | TaskResourceManager | None = None,
        store: Store | None = None,
        registry: ActionRegistry | None = None,
        executor: Any = None,
    ) -> None:
        workers = check_count(max_workers, "max_workers", minimum=1)
        self._executor: Executor | None = make_executor(executor)
        self.resource_manager: ResourceManager | TaskResourceManager = (
            resource_manager if resource_manager is not None else TaskResourceManager()
        )
        self.store = store
        self.registry = registry if registry is not None else default_registry()
        self._tasks: dict[str, Task] = {}
        self._history: dict[str, Task] = {}
        self._names: dict[str, str] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._run = OpenRun(
            workflow="tasks", registry=self.registry, executor=self._executor,
            listeners=[_TaskTransitions(self)], max_concurrency=workers,
            resources=TaskBooking(self.resource_manager, self._tasks),
            holder_prefix=HOLDER_PREFIX, lock=self._lock,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._serving: concurrent.futures.Future[Any] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._ends: dict[str, asyncio.Future[None]] = {}
        self._started = False
        self._serial = 0
        self._first_start: float | None = None
        self._finished = 0
        self._shutdown_requested = False
        self.task_queue = OrchestratorTaskQueue(self, self._tasks)
        self._load_history()

    @property
    def max_workers(self) -> int:
        """Upper bound on tasks RUNNING at once (settable)."""
        return self._run.max_concurrency

    @max_workers.setter
    def max_workers(self, value: int) -> None:
        self._run.max_concurrency = check_count(value, "max_workers", minimum=1)

    # -- adding tasks ---------------------------------------------------------------------
    def add_task(self, task: Task) -> str:
        """Add a task; it runs once execution is started and its dependencies completed.

        Only a PENDING task runs. A task added with another status keeps it
        and is not run: dependents of a COMPLETED one may run, dependents of
        any other are skipped.

        Returns
        -------
        str
            The task's id.

        Raises
        ------
        TaskError
            Duplicate id, a dependency that names no added task (by id or
            name), a task depending on itself, or an invalid field.
        """
        if not isinstance(task, Task):
            raise TaskTypeError(f"add_task takes a Task, not a {type(task).__name__}: {task!r:.40}")
        _check_task(task)
        with self._lock:
            index = self._run.graph.index
            parents = [index[dep] for dep in self._resolve_dependencies(task)]
            self._tasks[task.id] = task
            if task.name:
                self._names[task.name] = task.id
            node = TaskNode(task)
            if task.status is TaskStatus.PENDING:
                self._run.add(node, parents, key=task.id)  # may skip it at once (listener)
            else:  # a status the caller set: kept, never run
                done = task.status is TaskStatus.COMPLETED
                value = task.result.value if done and task.result is not None else None
                self._run.add_ended(node, ok=done, result=value, key=task.id)
            self.task_queue._enqueue(task)
            self._changed.notify_all()
        self._persist(task)
        return task.id

    def _resolve_dependencies(self, task: Task) -> list[str]:
        if task.id in self._tasks or task.id in self._history:
            raise TaskError(f"a task with id {task.id!r} was already added", task_id=task.id)
        ids: list[str] = []
        for dep in task.dependencies:
            if dep in (task.id, task.name):
                raise TaskError(
                    f"task {task.name or task.id!r} depends on itself (cycle); "
                    "remove it from its dependencies",
                    task_id=task.id,
                )
            dep_id = dep if dep in self._tasks else self._names.get(dep)
            if dep_id is None:
                raise TaskError(
                    f"task {task.name or task.id!r}: unknown dependency {dep!r}; "
                    "add that task first (dependencies name a task id or name)",
                    task_id=task.id,
                )
            ids.append(dep_id)
        return ids

    def create_task(self, name: str, module: str, action: str, **kwargs: Any) -> Task:
        """Create a :class:`Task` from its fields and add it.

        Raises
        ------
        TaskError
            A keyword is not a Task field, or :meth:`add_task` refuses it.
        """
        unknown = sorted(set(kwargs) - _TASK_FIELDS)
        if unknown:
            fields = ", ".join(sorted(_TASK_FIELDS - {"name", "module", "action"}))
            raise TaskError(f"create_task: {unknown[0]!r} is not a Task field (fields: {fields})")
        task = Task(name=name, module=module, action=action, **kwargs)
        self.add_task(task)
        return task

    # -- queries ------------------------------------------------------------------------------
    def get_task(self, task_id: str) -> Task | None:
        """A task of this orchestrator, or a recorded past one, by id."""
        with self._lock:
            return self._tasks.get(task_id) or self._history.get(task_id)

    def list_tasks(self, status: TaskStatus | None = None) -> list[Task]:
        """Tasks (past ones from the store included), oldest first, optionally by status."""
        with self._lock:
            tasks = [*self._history.values(), *self._tasks.values()]
        if status is not None:
            tasks = [t for t in tasks if t.status is status]
        return sorted(tasks, key=lambda t: t.created_at)

    @property
    def is_running(self) -> bool:
        """Execution is started (tasks are being picked up)."""
        return self._started

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop tasks are scheduled on, once execution started."""
        return self._loop

    def get_stats(self) -> dict[str, Any]:
        """Counts per status, workers in use and throughput.

        Keys: ``total_tasks``, one per :class:`TaskStatus` value (tasks of
        this orchestrator; ``ready`` only when a task has that status),
        ``by_status`` (the same counts), ``active_workers``,
        ``max_workers``, ``executing`` (started), ``history`` (past tasks
        loaded from the store), ``finished`` and ``throughput`` (tasks
        finished per second since execution first started).
        """
        with self._lock:
            # READY (the original's status) is listed only when a task has it.
            counts = {s.value: 0 for s in TaskStatus if s is not TaskStatus.READY}
            for task in self._tasks.values():
                counts[task.status.value] = counts.get(task.status.value, 0) + 1
            elapsed = time.monotonic() - self._first_start if self._first_start else 0.0
            return {
                "total_tasks": len(self._tasks),
                **counts,
                "by_status": dict(counts),
                "active_workers": len(self._running),
                "max_workers": self.max_workers,
                "executing": self._started,
                "history": len(self._history),
                "finished": self._finished,
                "throughput": self._finished / elapsed if elapsed > 0 else 0.0,
            }

    stats = get_stats

    # -- control --------------------------------------------------------------------------------
    def start_execution(self) -> None:
        """Start picking up tasks on the background loop and return at once (idempotent)."""
        with self._lock:
            if self._started:
                return
            self._loop = loop = runtime.background_loop()
            self._started = True
            self._shutdown_requested = False
            if self._first_start is None:
                self._first_start = time.monotonic()
            self._serial += 1
            self._serving = asyncio.run_coroutine_threadsafe(
                self._serve(self._serving, self._serial), loop
            )

    async def _serve(self, previous: concurrent.futures.Future[Any] | None, serial: int) -> None:
        """Serve the run until stopped (once the previous serve has ended)."""
        try:
            if previous is not None and not previous.done():
                await asyncio.gather(asyncio.wrap_future(previous), return_exceptions=True)
            await self._run.execute()
        finally:
            with self._lock:
                if serial == self._serial and self._started:
                    # it ended without stop_execution: the runtime's loop was shut down
                    self._started = False
                self._changed.notify_all()

    def stop_execution(self, wait: bool = True) -> None:
        """Stop picking up tasks and cancel the running ones (idempotent).

        Running tasks end CANCELLED and give back their resources; tasks not
        started yet stay PENDING and run if execution is started again.

        Parameters
        ----------
        wait:
            Return only once every cancelled task has finished its clean-up.
        """
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._shutdown_requested = True
            serving = self._serving
            self._run.stop(_STOPPED_REASON)
            self._changed.notify_all()
        if serving is None or not wait or runtime.in_loop_thread():
            return
        try:
            serving.result(timeout=30)
        except concurrent.futures.TimeoutError:
            log.warning("task orchestrator: running tasks did not finish their clean-up within 30s")
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            pass  # the runtime's loop was shut down: nothing is left running on it

    def shutdown(self) -> None:
        """Alias of ``stop_execution(wait=True)``."""
        self.stop_execution(wait=True)

    def cancel_task(self, task_id: str) -> bool:
        """Cancel a task that has not finished; True if it was cancelled.

        A pending task is CANCELLED at once; a running async action is
        cancelled; a running sync action cannot be interrupted, so the task
        is marked CANCELLED and the action's result is ignored (its
        resources stay booked until it returns). Dependents are SKIPPED.
        """
        with self._lock:
            node = self._run.graph.index.get(task_id)
            if node is None:
                return False
            started = self._run.records[node].status in ("running", "retrying")
            return self._run.cancel_node(node, _RUNNING_REASON if started else _WAITING_REASON)

    def wait_for_completion(self, timeout: float | None = None) -> bool:
        """Block until every task has finished; False on timeout.

        Returns False at once when tasks remain but execution is not started
        (nothing would make progress).
        """
        if runtime.in_loop_thread():
            raise RuntimeError("wait_for_completion blocks; do not call it from a running task")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._run.unfinished():
                if not self._started:
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    # -- transitions of the run (under the lock) -----------------------------------------------
    def _on_transition(self, run: OpenRun, node: int, state: str) -> None:
        task: Task = run.steps[node].task  # type: ignore[attr-defined]
        if state == "running":
            task.status = TaskStatus.RUNNING
            task.retry_count = run.records[node].attempts - 1
            if task.started_at is None:
                task.started_at = _now()
            if task.id not in self._running:
                self._follow(task.id)
        elif state in _ENDED:
            if state == "skipped":
                task.metadata["skipped_because"] = run.steps[run.causes[node]].task.id  # type: ignore[attr-defined]
            task.result = task_result(run, node, state)
            # a value that could not come back from a cluster fails the task
            task.status = _ENDED[state] if task.result.success or state != "succeeded" else TaskStatus.FAILED
            task.completed_at = _now()
            self._finished += 1
            self._unfollow(task.id)
            with self._changed:
                self._changed.notify_all()
        else:
            return  # ready, retrying: the task stays as it is (PENDING, RUNNING)
        self._persist(task)

    def _follow(self, task_id: str) -> None:
        """``running_tasks[task_id]``: an asyncio task that ends with the task (on the loop thread).

        Cancelling it cancels the task, as cancelling the original's task did.
        """
        loop = asyncio.get_running_loop()
        ended: asyncio.Future[None] = loop.create_future()
        self._ends[task_id] = ended
        self._running[task_id] = loop.create_task(self._followed(task_id, ended))

    async def _followed(self, task_id: str, ended: asyncio.Future[None]) -> None:
        try:
            await ended
        except asyncio.CancelledError:
            if not ended.done() or ended.cancelled():  # someone cancelled the handle itself
                self.cancel_task(task_id)
            raise

    def _unfollow(self, task_id: str) -> None:
        self._running.pop(task_id, None)
        ended = self._ends.pop(task_id, None)
        if ended is None or ended.done():
            return
        loop = ended.get_loop()
        try:
            here = asyncio.get_running_loop()
        except RuntimeError:  # cancel_task from another thread
            here = None
        if here is loop:
            ended.set_result(None)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, ended)

    # -- bookkeeping ------------------------------------------------------------------------------
    def _persist(self, task: Task) -> None:
        if self.store is None:
            return
        try:
            self.store.put_doc(DOC_KIND, task.id, _task_to_doc(task))
        except StoreError as exc:  # keep running; the task is only not recorded
            log.warning("task %s not recorded: %s", task.name or task.id, exc)

    def _load_history(self) -> None:
        if self.store is None:
            return
        for key, doc in self.store.list_docs(DOC_KIND).items():
            try:
                self._history[key] = _task_from_doc(doc)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable task record %s: %s", key, exc)


_ENDED = {
    "succeeded": TaskStatus.COMPLETED,
    "cached": TaskStatus.COMPLETED,
    "failed": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELLED,
    "skipped": TaskStatus.SKIPPED,
}


class _TaskTransitions(BaseListener):
    """The run's listener: each node's transition becomes its task's status, result and record."""

    def __init__(self, orchestrator: TaskOrchestrator) -> None:
        self._orchestrator = orchestrator

    def step_changed(self, run: Any, index: int, state: str) -> None:
        self._orchestrator._on_transition(run, index, state)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
