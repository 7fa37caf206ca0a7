"""Tasks as nodes of the orchestrator's run, and the resources they book.

The :class:`~codomyrmex_jupyter.api.tasks.TaskOrchestrator` runs its tasks
as nodes of one :class:`~codomyrmex_jupyter.engine.open_run.OpenRun`, the
runner's I/O shell with a graph that grows as tasks are added. This module
holds what it hands that run:

* :class:`TaskNode`: a task seen as a step (name, action, parameters,
  timeout, retries, a fixed ``retry_delay``, priority, resources);
* :class:`TaskBooking`: the run's resource gate, booking a task's
  :class:`~codomyrmex_jupyter.api.task_models.TaskResource` list in the
  orchestrator's resource manager (amounts of a
  :class:`~codomyrmex_jupyter.api.resources.ResourceManager` pool, or keys
  of a :class:`~codomyrmex_jupyter.api.task_helpers.TaskResourceManager`);
* :func:`task_result`: the :class:`~codomyrmex_jupyter.api.task_models.TaskResult`
  of a node that has ended.
"""

from __future__ import annotations

import traceback as tb
from collections.abc import Callable, Mapping
from typing import Any

from .. import runtime
from ..engine.actions import ActionRegistry
from ..engine.events import BaseListener
from ..engine.executors import Executor
from ..engine.open_run import OpenRun
from ..engine.remote import RemoteResult
from ..engine.runner import format_error
from ..engine.state import TERMINAL_STATES
from .resources import ResourceManager
from .task_helpers import TaskResourceManager
from .task_models import POOL_MODE, Task, TaskResult

__all__ = ["HOLDER_PREFIX", "TaskBooking", "TaskNode", "run_alone", "task_result"]

HOLDER_PREFIX = "task:"  # a task's resources are held as "task:<id>"


class TaskNode:
    """What the run reads of a task (the fields a workflow step has).

    ``resources`` is the task's list of
    :class:`~codomyrmex_jupyter.api.task_models.TaskResource` (``None`` when
    empty), booked through :class:`TaskBooking`; on a cluster they stay
    with the kernel's resource manager (they have modes, not worker
    resource amounts).
    """

    __slots__ = (
        "action", "dependencies", "max_retries", "module", "name", "parameters", "priority",
        "resources", "retry_delay", "task", "timeout",
    )

    def __init__(self, task: Task, *, max_retries: int | None = None) -> None:
        self.task = task
        self.name = task.name or task.id
        self.module = task.module
        self.action = task.action
        self.parameters: Mapping[str, Any] = task.parameters
        self.dependencies: tuple[str, ...] = ()  # the run is given the parent nodes
        self.timeout = task.timeout
        self.max_retries = task.max_retries if max_retries is None else max_retries
        self.retry_delay = task.retry_delay
        self.priority = int(task.priority)
        self.resources = task.resources or None


class TaskBooking:
    """The run's resource gate for tasks: every resource of a task at once, or none.

    Holders are ``"task:<id>"``. With a :class:`ResourceManager`, a
    resource's ``amount`` is taken from its pool in the resource's mode
    (``None``: the whole capacity when exclusive, one unit when shared);
    with a :class:`TaskResourceManager`, keys are booked (readers share,
    writers are alone).
    """

    def __init__(self, manager: ResourceManager | TaskResourceManager, tasks: Mapping[str, Task]) -> None:
        self.manager = manager
        self._tasks = tasks

    def _task(self, holder: str) -> Task:
        return self._tasks[holder.removeprefix(HOLDER_PREFIX)]

    def try_acquire(self, holder: str, request: Any) -> bool:
        """Take every resource of the holder's task, or none; ``ResourceUnavailable`` if it never can."""
        task = self._task(holder)
        manager = self.manager
        if isinstance(manager, TaskResourceManager):
            return manager.acquire_resources(task)
        pool = manager.pool
        try:
            for mode, amounts in _requests(task, pool).items():
                if not pool.try_acquire(holder, amounts, mode=mode):
                    pool.release(holder)
                    return False
        except BaseException:
            pool.release(holder)
            raise
        return True

    def release(self, holder: str) -> None:
        """Give back what the holder's task took."""
        manager = self.manager
        if isinstance(manager, TaskResourceManager):
            manager.release_resources(self._task(holder))
        else:
            manager.pool.release(holder)

    def subscribe(self, callback: Callable[..., Any]) -> Callable[[], Any]:
        """Call ``callback`` after every change of the manager's bookings."""
        return self.manager.subscribe(callback)


def _requests(task: Task, pool: Any) -> dict[str, dict[str, float]]:
    """Amounts to take, grouped by pool mode."""
    groups: dict[str, dict[str, float]] = {}
    for res in task.resources:
        mode = POOL_MODE[res.mode]
        amount = res.amount
        if amount is None:
            # the pool raises ResourceUnavailable naming the known ids for an unknown one
            amount = pool.capacity(res.identifier) if mode == "exclusive" else 1.0
        group = groups.setdefault(mode, {})
        group[res.identifier] = group.get(res.identifier, 0.0) + float(amount)
    return groups


def task_result(run: OpenRun, node: int, state: str) -> TaskResult:
    """The result of a node that ended in ``state``.

    A value left on a cluster is fetched; one that cannot be is a failed
    result (``success`` False) of a node that succeeded.
    """
    rec = run.records[node]
    duration = rec.duration or 0.0
    if state in ("succeeded", "cached"):
        return _success(rec.result, duration, rec.attempts)
    if state == "failed":
        exc = run.node_errors[node]
        if not rec.attempts:  # it never started: unknown action, bad parameter, resource
            return TaskResult(False, error=rec.error, attempts=0, error_type=type(exc).__name__)
        return _failure(exc, duration, rec.attempts)
    if state == "skipped":
        cause = run.steps[run.causes[node]].task  # type: ignore[attr-defined]
        error = f"dependency {cause.name or cause.id!r} {cause.status.value}"
        return TaskResult(False, error=error, attempts=0)
    return TaskResult(False, error=rec.reason, duration=duration, attempts=rec.attempts)


def run_alone(task: Task, registry: ActionRegistry, executor: Executor | None) -> tuple[bool, TaskResult]:
    """Run one attempt of ``task`` now, without its dependencies or resources; ``(ok, result)``.

    A run of one node on ``executor``, through the same shell as the tasks
    an orchestrator runs (timeout, cancel on interrupt, the executor's
    calls), served until that node has ended.
    """
    node = TaskNode(task, max_retries=0)
    node.resources = None
    run = OpenRun(workflow="task", registry=registry, executor=executor, listeners=[_StopWhenEnded()])
    run.add(node, key=task.id)
    runtime.run_sync(run.execute())
    result = task_result(run, 0, run.records[0].status)
    return result.success, result


class _StopWhenEnded(BaseListener):
    def step_changed(self, run: Any, index: int, state: str) -> None:
        if state in TERMINAL_STATES:
            run.stop("")


def _success(value: Any, duration: float, attempts: int) -> TaskResult:
    if isinstance(value, RemoteResult):  # a task's value is read where the task was added
        try:
            value = value.fetch()
        except Exception as exc:  # noqa: BLE001 - a value that cannot come back fails the task
            return _failure(exc, duration, attempts)
    return TaskResult(True, value=value, duration=duration, attempts=attempts)


def _failure(exc: BaseException, duration: float, attempts: int) -> TaskResult:
    return TaskResult(
        False, error=format_error(exc), traceback="".join(tb.format_exception(exc)),
        duration=duration, attempts=attempts, error_type=type(exc).__name__,
    )
