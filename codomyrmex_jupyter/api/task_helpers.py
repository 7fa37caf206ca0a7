"""Two helper classes of the original package's task module.

:class:`TaskQueue` is a thread-safe priority queue of :class:`Task` objects
with a readiness test: ``get_next_ready_task(completed)`` hands out the best
task whose dependencies are all in ``completed``. It is what code written for
the original drives by hand; the :class:`~codomyrmex_jupyter.api.tasks.TaskOrchestrator`
schedules with an :class:`~codomyrmex_jupyter.engine.open_run.OpenRun` (over the
sans-I/O :class:`~codomyrmex_jupyter.engine.scheduling.Schedule`) and exposes a
view of its tasks as ``orchestrator.task_queue``.

:class:`TaskResourceManager` (the original's task-level ``ResourceManager``)
books resources by key, ``"<type>:<identifier>"``, without capacities: any
number of readers, or one writer / exclusive user alone. A
:class:`TaskOrchestrator` built without a resource manager uses one, so tasks
that name resources run with those locks.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .task_models import POOL_MODE, Task, TaskResource

if TYPE_CHECKING:
    from .tasks import TaskOrchestrator

__all__ = ["OrchestratorTaskQueue", "TaskQueue", "TaskResourceManager", "resource_key"]

log = logging.getLogger(__name__)

QueueEntry = tuple[int, float, int, str]


class TaskQueue:
    """A priority queue of tasks: higher priority first, then older ``created_at``.

    Attributes
    ----------
    queue:
        A :class:`queue.PriorityQueue` of ``(-priority, created_at, seq, task_id)``.
    tasks:
        Every task added and not removed, by id (handed-out tasks stay here).
    lock:
        Guards ``tasks`` and the hand-out.
    """

    def __init__(self) -> None:
        self.queue: queue.PriorityQueue[QueueEntry] = queue.PriorityQueue()
        self.tasks: dict[str, Task] | Mapping[str, Task] = {}
        self.lock = threading.RLock()
        self._seq = itertools.count()

    def add_task(self, task: Task) -> None:
        """Queue ``task`` (replacing a task with the same id in ``tasks``)."""
        with self.lock:
            self._store(task)
            self._push(task)

    def _store(self, task: Task) -> None:
        tasks = self.tasks
        assert isinstance(tasks, dict)  # the orchestrator's view overrides this
        tasks[task.id] = task

    def _push(self, task: Task) -> None:
        entry = (-int(task.priority), task.created_at.timestamp(), next(self._seq), task.id)
        self.queue.put(entry)

    def get_next_ready_task(self, completed: Collection[str]) -> Task | None:
        """Take the best task whose :meth:`Task.is_ready` holds off the queue, or ``None``.

        Tasks that are not ready go back in the queue in their order; ids no
        longer in ``tasks`` (removed) are dropped. The task handed out stays
        in ``tasks``.
        """
        with self.lock:
            held: list[QueueEntry] = []
            found: Task | None = None
            while found is None:
                try:
                    entry = self.queue.get_nowait()
                except queue.Empty:
                    break
                task = self.tasks.get(entry[3])
                if task is None:
                    continue  # removed since it was queued
                if task.is_ready(completed):
                    found = task
                else:
                    held.append(entry)
            for entry in held:
                self.queue.put(entry)
            return found

    def remove_task(self, task_id: str) -> bool:
        """Forget a task (its queue entry is dropped when reached); False if unknown."""
        with self.lock:
            tasks = self.tasks
            assert isinstance(tasks, dict)
            return tasks.pop(task_id, None) is not None

    def get_task(self, task_id: str) -> Task | None:
        """The task with this id, or ``None``."""
        with self.lock:
            return self.tasks.get(task_id)

    def list_tasks(self) -> list[Task]:
        """Every task in ``tasks``, in the order they were added."""
        with self.lock:
            return list(self.tasks.values())

    def __len__(self) -> int:
        return len(self.tasks)


class OrchestratorTaskQueue(TaskQueue):
    """``TaskOrchestrator.task_queue``: a TaskQueue over the orchestrator's own tasks.

    ``tasks`` is a read-only live view of the orchestrator's task table (one
    source of truth). Adding goes through :meth:`TaskOrchestrator.add_task`;
    removing a task cancels it there (it stays listed, CANCELLED), because
    the orchestrator keeps every task it was given.
    """

    def __init__(self, orchestrator: TaskOrchestrator, tasks: dict[str, Task]) -> None:
        super().__init__()
        self._orchestrator = orchestrator
        self.tasks = MappingProxyType(tasks)
        self.lock = orchestrator._lock

    def add_task(self, task: Task) -> None:
        """Add ``task`` to the orchestrator (it is queued here by the orchestrator)."""
        self._orchestrator.add_task(task)

    def _enqueue(self, task: Task) -> None:
        """Called by the orchestrator for each task it accepts."""
        self._push(task)

    def remove_task(self, task_id: str) -> bool:
        """Cancel the task in the orchestrator; False if unknown or already finished."""
        return self._orchestrator.cancel_task(task_id)


def resource_key(resource: TaskResource) -> str:
    """``"<type>:<identifier>"``, the key a task-level resource is booked under."""
    kind = getattr(resource.type, "value", resource.type)
    return f"{kind}:{resource.identifier}"


class TaskResourceManager:
    """The original package's task-level resource manager: locks by key, no capacities.

    Attributes
    ----------
    resource_locks:
        A :class:`threading.Lock` per key ever requested (for code that locks
        around its own use of a resource).
    resource_users:
        ``{"<type>:<identifier>": {task_id, ...}}``, the tasks holding each key.
    lock:
        Guards both.
    """

    def __init__(self) -> None:
        self.resource_locks: dict[str, threading.Lock] = {}
        self.resource_users: dict[str, set[str]] = {}
        self.lock = threading.RLock()
        self._subscribers: tuple[Callable[[], object], ...] = ()

    def acquire_resources(self, task: Task) -> bool:
        """Book every resource of ``task`` at once, or none (False).

        As in the original: a ``"read"`` (or ``"shared"``) request always
        succeeds; ``"write"`` and ``"exclusive"`` fail when another task holds
        the key in any mode.
        """
        with self.lock:
            keys = [(resource_key(r), POOL_MODE.get(r.mode, "exclusive")) for r in task.resources]
            for key, mode in keys:
                if mode == "exclusive" and self.resource_users.get(key, set()) - {task.id}:
                    return False
            for key, _ in keys:
                self.resource_locks.setdefault(key, threading.Lock())
                self.resource_users.setdefault(key, set()).add(task.id)
            return True

    def release_resources(self, task: Task, keys: Iterable[str] | None = None) -> None:
        """Give back ``keys`` (default: every resource of ``task``); unknown keys are ignored."""
        wanted = [resource_key(r) for r in task.resources] if keys is None else list(keys)
        with self.lock:
            for key in wanted:
                self.resource_users.get(key, set()).discard(task.id)
        for callback in self._subscribers:
            try:
                callback()
            except Exception:
                log.exception("resource subscriber %r failed", callback)

    def subscribe(self, callback: Callable[[], object]) -> Callable[[], None]:
        """Call ``callback()`` after every release; return the unsubscribe function."""
        with self.lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self.lock:
                self._subscribers = tuple(c for c in self._subscribers if c is not callback)

        return unsubscribe

    def holders(self, key: str) -> set[str]:
        """Ids of the tasks holding ``key`` now."""
        with self.lock:
            return set(self.resource_users.get(key, ()))

    def snapshot(self) -> dict[str, Any]:
        """``{key: sorted task ids}`` of the keys held now."""
        with self.lock:
            return {k: sorted(v) for k, v in self.resource_users.items() if v}
