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
  holding up other tasks) until the resource pool grants all of them at once,
  and gives them back on every exit path;
* ``timeout`` fails the task with a :class:`~codomyrmex_jupyter.errors.StepTimeout`
  message (not retried); any other error is retried ``max_retries`` times,
  ``retry_delay`` seconds apart.

Which task may start is decided by the sans-I/O
:class:`~codomyrmex_jupyter.engine.task_queue.TaskQueue`. The orchestrator
drives it from the runtime's background event loop: async actions run as
tasks on that loop, sync ones on the runtime's worker threads. Nothing here
creates a thread or a loop.

Every task is stored as a ``"task"`` document, so a later process lists past
tasks (they are history: never re-run).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
import traceback as tb
from collections.abc import Callable
from functools import partial
from typing import Any

from .. import runtime
from ..engine.actions import ActionRegistry, ActionSpec, default_registry
from ..engine.binding import bind_arguments
from ..engine.executors import Executor, make_executor
from ..engine.remote import RemoteResult
from ..engine.runner import format_error
from ..engine.store import Store
from ..engine.task_queue import TaskQueue
from ..engine.validation import check_count
from ..errors import ResourceUnavailable, StepTimeout, StoreError, TaskError, TaskTypeError
from .resources import ResourceManager
from .task_calls import settle, start_call
from .task_helpers import OrchestratorTaskQueue, TaskResourceManager
from .task_models import (
    _TASK_FIELDS,
    DOC_KIND,
    POOL_MODE,
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

class _Prepared:
    """What a task needs to start: its action and bound arguments."""

    __slots__ = ("kwargs", "spec")

    def __init__(self, spec: ActionSpec, kwargs: dict[str, Any]) -> None:
        self.spec = spec
        self.kwargs = kwargs


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
        task's priority is its Dask priority and its value comes back to
        this process when it completes.
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
        self.max_workers = check_count(max_workers, "max_workers", minimum=1)
        self._executor: Executor | None = make_executor(executor)
        self.resource_manager: ResourceManager | TaskResourceManager = (
            resource_manager if resource_manager is not None else TaskResourceManager()
        )
        self.store = store
        self.registry = registry if registry is not None else default_registry()
        self._tasks: dict[str, Task] = {}
        self._history: dict[str, Task] = {}
        self._names: dict[str, str] = {}
        self._deps: dict[str, list[str]] = {}
        self._queue = TaskQueue()
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox: runtime.Inbox | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._calls: set[asyncio.Future[Any]] = set()
        self._unsubscribe: Callable[[], Any] | None = None
        self._started = False
        self._in_pump = False
        self._wake_pending = False
        self._resources_changed = False
        self._first_start: float | None = None
        self._finished = 0
        self._shutdown_requested = False
        self.task_queue = OrchestratorTaskQueue(self, self._tasks)
        self._load_history()

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
            deps = self._resolve_dependencies(task)
            cause = None
            if task.status is TaskStatus.PENDING:
                cause = self._queue.add(task.id, priority=int(task.priority), dependencies=deps)
            else:  # a status the caller set: kept, never run
                self._queue.add_finished(task.id, ok=task.status is TaskStatus.COMPLETED)
            self._tasks[task.id] = task
            self._deps[task.id] = deps
            if task.name:
                self._names[task.name] = task.id
            if cause is not None:
                self._skip(task, cause)
            self.task_queue._enqueue(task)
            self._changed.notify_all()
        self._persist(task)
        self._wake()
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
            self._loop = runtime.background_loop()
            self._inbox = runtime.Inbox(self._loop)
            self._started = True
            self._shutdown_requested = False
            if self._first_start is None:
                self._first_start = time.monotonic()
            book = self._pool() or self._locks()
            if book is not None:
                self._unsubscribe = book.subscribe(self._on_resources_changed)
        self._wake()

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
            unsubscribe, self._unsubscribe = self._unsubscribe, None
            loop = self._loop
            self._changed.notify_all()
        if unsubscribe is not None:
            unsubscribe()
        if loop is None or loop.is_closed():
            return
        if runtime.in_loop_thread():
            loop.create_task(self._cancel_running())
            return
        future = asyncio.run_coroutine_threadsafe(self._cancel_running(), loop)
        if wait:
            future.result(timeout=30)

    def shutdown(self) -> None:
        """Alias of ``stop_execution(wait=True)``."""
        self.stop_execution(wait=True)

    def cancel_task(self, task_id: str) -> bool:
        """Cancel a task that has not finished; True if it was cancelled.

        A pending task is CANCELLED at once; a running async action is
        cancelled; a running sync action cannot be interrupted, so the task
        is marked CANCELLED and the action's result is ignored. Dependents
        are SKIPPED.
        """
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return False
            skipped = self._queue.cancel(task_id)
            if skipped is None:
                return False
            running = self._running.get(task_id)
            task.status = TaskStatus.CANCELLED
            if running is None:
                self._end(task, TaskResult(False, error="cancelled before it started", attempts=0))
            elif self._loop is not None:
                # Visible at once; _finish fills in the duration when the call stops.
                task.result = TaskResult(False, error=self._cancel_reason())
                self._loop.call_soon_threadsafe(running.cancel)
            touched = [task, *self._skip_all(skipped)]
            self._changed.notify_all()
        for t in touched:
            self._persist(t)
        self._wake()
        return True

    def wait_for_completion(self, timeout: float | None = None) -> bool:
        """Block until every task has finished; False on timeout.

        Returns False at once when tasks remain but execution is not started
        (nothing would make progress).
        """
        if runtime.in_loop_thread():
            raise RuntimeError("wait_for_completion blocks; do not call it from a running task")
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._queue.is_active() or self._running:
                if not self._started:
                    return False
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    # -- scheduling (loop thread) --------------------------------------------------------------
    def _wake(self) -> None:
        """Ask the loop to run the scheduler once soon (coalesced, any thread).

        Lock-free on purpose: resource pools call back from their own threads,
        possibly holding their lock while the scheduler holds ours.
        """
        loop = self._loop
        if not self._started or loop is None or self._wake_pending:
            return
        self._wake_pending = True
        try:
            loop.call_soon_threadsafe(self._pump)
        except RuntimeError:  # the runtime shut its loop down: nothing more can run
            self._wake_pending = False
            log.warning("task orchestrator: the background loop is closed; tasks stay pending")

    def _on_resources_changed(self, change: Any = None) -> None:
        if self._in_pump and runtime.in_loop_thread():
            return  # our own acquire/release inside the scheduler
        self._resources_changed = True
        self._wake()

    def _pump(self) -> None:
        # Reset the flags before reading state, so a change racing with this
        # run either is seen here or schedules another run.
        self._wake_pending = False
        with self._lock:
            self._in_pump = True
            try:
                if self._resources_changed:
                    self._resources_changed = False
                    self._queue.unblock()
                while self._started and len(self._running) < self.max_workers:
                    keys = self._queue.get_ready(1)
                    if not keys:
                        break
                    self._launch(self._tasks[keys[0]])
            finally:
                self._in_pump = False

    def _launch(self, task: Task) -> None:
        try:
            prepared = self._prepare(task)
            acquired = self._acquire(task)
        except (LookupError, TypeError, ResourceUnavailable) as exc:
            self._fail_before_start(task, exc)
            return
        if not acquired:
            self._queue.defer(task.id)
            return
        assert self._loop is not None
        task.status = TaskStatus.RUNNING
        task.started_at = _now()
        self._running[task.id] = self._loop.create_task(self._execute(task, prepared))
        self._persist(task)

    def _prepare(self, task: Task) -> _Prepared:
        spec = self.registry.find(task.module, task.action)
        if spec is None:
            raise self.registry.unknown(task.module, task.action, step=task.name)
        upstream = {}
        for dep_id in self._deps[task.id]:
            dep = self._tasks[dep_id]
            upstream[dep.name] = dep.result.value if dep.result is not None else None
        return _Prepared(spec, bind_arguments(spec, task.name, task.parameters, upstream, {}))

    def _fail_before_start(self, task: Task, exc: BaseException) -> None:
        task.status = TaskStatus.FAILED
        failure = TaskResult(
            False, error=format_error(exc), attempts=0, error_type=type(exc).__name__
        )
        self._end(task, failure)
        touched = [task, *self._skip_all(self._queue.done(task.id, ok=False))]
        self._changed.notify_all()
        for t in touched:
            self._persist(t)

    # -- resources --------------------------------------------------------------------------------
    def _pool(self) -> Any:
        return getattr(self.resource_manager, "pool", None)

    def _locks(self) -> TaskResourceManager | None:
        rm = self.resource_manager
        return rm if isinstance(rm, TaskResourceManager) else None

    @staticmethod
    def _holder(task: Task) -> str:
        return f"task:{task.id}"

    def _requests(self, task: Task) -> dict[str, dict[str, float]]:
        """Amounts to take, grouped by mode."""
        groups: dict[str, dict[str, float]] = {}
        for res in task.resources:
            amount = res.amount
            if amount is None:
                exclusive = POOL_MODE[res.mode] == "exclusive"
                amount = self._capacity(res.identifier) if exclusive else 1.0
            group = groups.setdefault(POOL_MODE[res.mode], {})
            group[res.identifier] = group.get(res.identifier, 0.0) + float(amount)
        return groups

    def _capacity(self, resource_id: str) -> float:
        # The pool raises ResourceUnavailable naming the known ids for an unknown one.
        return float(self._pool().capacity(resource_id))

    def _acquire(self, task: Task) -> bool:
        """Take every resource of ``task`` or none of them."""
        if not task.resources:
            return True
        locks = self._locks()
        if locks is not None:
            return locks.acquire_resources(task)
        pool = self._pool()
        if pool is None:
            raise ResourceUnavailable(
                f"task {task.name!r} requests resources but the orchestrator has no "
                "resource manager; pass TaskOrchestrator(resource_manager=...)"
            )
        holder = self._holder(task)
        groups = self._requests(task)
        try:
            for mode, request in groups.items():
                if not pool.try_acquire(holder, request, mode=mode):
                    pool.release(holder)
                    return False
        except BaseException:
            pool.release(holder)
            raise
        return True

    def _release(self, task: Task) -> None:
        if not task.resources:
            return
        locks = self._locks()
        if locks is not None:
            locks.release_resources(task)
            return
        pool = self._pool()
        if pool is not None:
            pool.release(self._holder(task))

    # -- running one task (loop thread) -------------------------------------------------------
    async def _execute(self, task: Task, prepared: _Prepared) -> None:
        status, result = TaskStatus.FAILED, TaskResult(False, error="did not finish")
        start = time.monotonic()
        try:
            status, result = await self._attempts(task, prepared, start)
        except asyncio.CancelledError:
            status = TaskStatus.CANCELLED
            result = TaskResult(
                False, error=self._cancel_reason(), duration=time.monotonic() - start,
                attempts=task.retry_count + 1,
            )
            raise
        finally:
            self._release(task)
            self._finish(task, status, result)

    def _cancel_reason(self) -> str:
        if self._started:
            return "cancelled while running; its result was ignored"
        return "cancelled by stop_execution while running"

    async def _attempts(
        self, task: Task, prepared: _Prepared, start: float
    ) -> tuple[TaskStatus, TaskResult]:
        attempt = 0
        while True:
            attempt += 1
            task.retry_count = attempt - 1
            try:
                value = await self._call(task, prepared)
            except StepTimeout as exc:  # timeouts are not retried
                return TaskStatus.FAILED, self._failure(exc, start, attempt)
            except Exception as exc:  # noqa: BLE001 - any error of the action is its failure
                if attempt > task.max_retries:
                    return TaskStatus.FAILED, self._failure(exc, start, attempt)
                log.info("task %s failed (attempt %d), retrying: %s", task.name, attempt, exc)
                await asyncio.sleep(task.retry_delay)
                continue
            return TaskStatus.COMPLETED, TaskResult(
                True, value=value, duration=time.monotonic() - start, attempts=attempt
            )

    @staticmethod
    def _failure(exc: BaseException, start: float, attempts: int) -> TaskResult:
        return TaskResult(
            False,
            error=format_error(exc),
            traceback="".join(tb.format_exception(exc)),
            duration=time.monotonic() - start,
            attempts=attempts,
            error_type=type(exc).__name__,
        )

    async def _call(self, task: Task, prepared: _Prepared) -> Any:
        future = self._submit(prepared, int(task.priority))
        self._calls.add(future)
        future.add_done_callback(self._calls.discard)
        try:
            done, _ = await asyncio.wait({future}, timeout=task.timeout)
        except asyncio.CancelledError:
            future.cancel()
            raise
        if not done:
            future.cancel()
            raise StepTimeout(task.name or task.id, float(task.timeout or 0))
        return future.result()

    def _submit(self, prepared: _Prepared, priority: int = 0) -> asyncio.Future[Any]:
        assert self._loop is not None and self._inbox is not None
        if self._executor is None:
            return start_call(prepared.spec, prepared.kwargs, self._inbox)
        future: asyncio.Future[Any] = self._loop.create_future()
        call = getattr(self._executor, "call", None)
        if call is not None:  # the Dask executor: the task's priority is the Dask priority
            handle = call(prepared.spec, prepared.kwargs, partial(_fetched, settle(future)),
                          priority=priority)
        else:
            handle = self._executor.submit(prepared.spec, prepared.kwargs, settle(future))
        future.add_done_callback(lambda f: handle.cancel() if f.cancelled() else None)
        return future

    async def _cancel_running(self) -> None:
        with self._lock:
            running = list(self._running.values())
            calls = list(self._calls)
        for t in running:
            t.cancel()
        await asyncio.gather(*running, *calls, return_exceptions=True)
        with self._lock:
            self._changed.notify_all()

    # -- bookkeeping ------------------------------------------------------------------------------
    def _finish(self, task: Task, status: TaskStatus, result: TaskResult) -> None:
        with self._lock:
            self._running.pop(task.id, None)
            if task.status is TaskStatus.CANCELLED:  # cancel_task got there first
                status = TaskStatus.CANCELLED
                result = dataclasses.replace(
                    result, success=False, value=None, error=self._cancel_reason()
                )
            task.status = status
            self._end(task, result)
            touched = [task, *self._settle_queue(task, status)]
            self._changed.notify_all()
        for t in touched:
            self._persist(t)
        self._wake()

    def _settle_queue(self, task: Task, status: TaskStatus) -> list[Task]:
        if self._queue.state(task.id) != "running":
            return []  # already cancelled in the queue by cancel_task
        if status is TaskStatus.CANCELLED:
            return self._skip_all(self._queue.cancel(task.id) or [])
        return self._skip_all(self._queue.done(task.id, ok=status is TaskStatus.COMPLETED))

    def _end(self, task: Task, result: TaskResult) -> None:
        task.result = result
        task.completed_at = _now()
        self._finished += 1

    def _skip_all(self, pairs: list[tuple[str, str]]) -> list[Task]:
        tasks = []
        for key, cause in pairs:
            task = self._tasks[key]
            self._skip(task, cause)
            tasks.append(task)
        return tasks

    def _skip(self, task: Task, cause_id: str) -> None:
        cause = self._tasks.get(cause_id)
        label = (cause.name or cause_id) if cause is not None else cause_id
        state = cause.status.value if cause is not None else "not completed"
        task.status = TaskStatus.SKIPPED
        task.metadata["skipped_because"] = cause_id
        self._end(task, TaskResult(False, error=f"dependency {label!r} {state}", attempts=0))

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


def _fetched(done: Callable[[bool, Any], None], ok: bool, value: Any) -> None:
    """A task's value comes back to this process (a task result is read where it was added)."""
    if ok and isinstance(value, RemoteResult):
        try:
            value = value.fetch()
        except Exception as exc:  # noqa: BLE001 - a value that cannot come back fails the task
            done(False, exc)
            return
    done(ok, value)
