"""Task data classes of the public API, and how tasks are stored.

:class:`Task`, :class:`TaskPriority`, :class:`TaskStatus`, :class:`TaskResource`
and :class:`TaskResult` are the seed API's; the ``_task_to_doc`` /
``_task_from_doc`` pair turns a task into the JSON document the store keeps
(kind ``"task"``) and back. The orchestrator that runs tasks is in ``tasks``.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum, IntEnum
from typing import Any

from ..engine.store import encode_json
from ..engine.validation import (
    check_count,
    check_delay,
    check_mapping,
    check_seconds,
    error_pair,
)
from ..errors import NotStorableError, TaskError, TaskTypeError
from .aliases import Alias
from .resources import ResourceType

__all__ = [
    "DOC_KIND",
    "POOL_MODE",
    "Task",
    "TaskPriority",
    "TaskResource",
    "TaskResult",
    "TaskStatus",
]

log = logging.getLogger(__name__)

DOC_KIND = "task"
# "read" and "write" are the original package's modes: any number of readers,
# one writer with nobody else. They book the pool like shared and exclusive.
_MODES = ("shared", "exclusive", "read", "write")
POOL_MODE = {"shared": "shared", "read": "shared", "exclusive": "exclusive", "write": "exclusive"}


class TaskPriority(IntEnum):
    """How urgent a task is; higher values run first."""

    LOW = 1
    NORMAL = 2
    HIGH = 3
    CRITICAL = 4


class TaskStatus(Enum):
    """Where a task is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    # The original package's "dependencies satisfied, not started yet". This
    # orchestrator never assigns it (a task is PENDING until it runs); a task
    # added with it is kept as it is and not run, like any non-PENDING status.
    READY = "ready"

    def __str__(self) -> str:
        return self.value

    @property
    def terminal(self) -> bool:
        """The task will not change any more."""
        return self not in (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.READY)


@dataclass
class TaskResource:
    """A resource a task needs while it runs.

    Attributes
    ----------
    type:
        The kind of resource (informational; the pool is keyed by id).
    identifier:
        The resource id in the resource manager.
    mode:
        ``"exclusive"`` or ``"write"`` (nobody else uses it meanwhile),
        ``"shared"`` or ``"read"`` (others may too). ``"read"``/``"write"`` are
        the original package's names; ``"read"`` is the default.
    amount:
        How much to take from a resource manager's pool; ``None`` means the
        whole capacity when exclusive, one unit when shared. (A task-level
        :class:`~codomyrmex_jupyter.api.task_helpers.TaskResourceManager`
        books keys, not amounts.)
    timeout:
        The original package's field: kept with the task and stored, not
        enforced (the original did not enforce it either); use the task's
        ``timeout`` to bound its run.
    """

    type: ResourceType
    identifier: str
    mode: str = "read"
    amount: float | None = None
    timeout: float | None = None


_RESULT_ALIASES = {"data": "value", "error_message": "error", "execution_time": "duration"}


@dataclass(init=False)
class TaskResult:
    """The outcome of a task.

    Attributes
    ----------
    success:
        The action returned without error.
    value:
        What it returned (alias ``data``).
    error:
        One line: why it failed, was skipped or cancelled (alias ``error_message``).
    traceback:
        The formatted traceback of the last failed attempt.
    duration:
        Seconds from the first attempt's start to the end (alias ``execution_time``).
    attempts:
        Attempts made (1 + retries).
    error_type:
        Class name of the exception that failed it, e.g. ``"ValueError"``.
    memory_usage:
        Memory the task reported using (the original package's field; 0.0
        unless set).
    metadata:
        Free-form details (``module``, ``action``, ``task_id`` when the
        orchestrator made the result).

    The aliases are the original package's names; they are accepted as
    keywords, read and written as attributes, and :meth:`to_dict` emits them.
    """

    success: bool
    value: Any
    error: str | None
    traceback: str | None
    duration: float
    attempts: int
    error_type: str | None
    memory_usage: float
    metadata: dict[str, Any]

    def __init__(  # noqa: PLR0917 - positional, as the original package's
        self,
        success: bool,
        value: Any = None,
        error: str | None = None,
        traceback: str | None = None,
        duration: float = 0.0,
        attempts: int = 1,
        error_type: str | None = None,
        memory_usage: float = 0.0,
        metadata: dict[str, Any] | None = None,
        **aliases: Any,
    ) -> None:
        ours = {"value": value, "error": error, "duration": duration}
        for alias, given in aliases.items():
            name = _RESULT_ALIASES.get(alias)
            if name is None:
                raise TypeError(f"TaskResult() got an unexpected keyword argument {alias!r}")
            ours[name] = given
        self.success = success
        self.value = ours["value"]
        self.error = ours["error"]
        self.traceback = traceback
        self.duration = ours["duration"]
        self.attempts = attempts
        self.error_type = error_type
        self.memory_usage = memory_usage
        self.metadata = dict(metadata) if metadata else {}

    data = Alias("value")
    error_message = Alias("error")
    execution_time = Alias("duration")

    def to_dict(self) -> dict[str, Any]:
        """Every field, under the original package's names where they differ."""
        return {
            "success": self.success,
            "data": self.value,
            "error_message": self.error,
            "error_type": self.error_type,
            "execution_time": self.duration,
            "memory_usage": self.memory_usage,
            "metadata": dict(self.metadata),
            "traceback": self.traceback,
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskResult:
        """Rebuild a result from :meth:`to_dict` output (either spelling of a field)."""
        known = {f.name for f in dataclasses.fields(cls)} | set(_RESULT_ALIASES)
        return cls(**{k: v for k, v in data.items() if k in known})


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Task:
    """Represents an individual task in the orchestration system.

    Attributes
    ----------
    module, action:
        Resolve the callable through the action registry.
    parameters:
        Keyword arguments for it; results of dependencies flow in by task name.
    dependencies:
        Ids or names of tasks (added before this one) that must complete first.
    priority:
        Higher runs first; first-added first within a priority.
    resources:
        Taken all at once before the task starts, given back when it ends.
    timeout:
        Seconds one attempt may take (not retried when exceeded).
    max_retries, retry_delay:
        Extra attempts after an error, and the seconds between them.
    status, retry_count, started_at, completed_at, result:
        Filled in by the orchestrator.
    """

    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = ""
    description: str = ""
    module: str = ""
    action: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    priority: TaskPriority = TaskPriority.NORMAL
    resources: list[TaskResource] = field(default_factory=list)
    timeout: int | None = None
    max_retries: int = 3
    retry_delay: float = 1.0
    status: TaskStatus = TaskStatus.PENDING
    retry_count: int = 0
    created_at: datetime = field(default_factory=_now)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: TaskResult | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name and self.module and self.action:
            self.name = f"{self.module}.{self.action}"  # as the original package named it

    @property
    def execution_time(self) -> float | None:
        """Seconds from ``started_at`` to ``completed_at``, or ``None`` if it has not run."""
        if self.started_at is None or self.completed_at is None:
            return None
        return (self.completed_at - self.started_at).total_seconds()

    def can_retry(self) -> bool:
        """It FAILED and has retries left (``retry_count < max_retries``)."""
        return self.status is TaskStatus.FAILED and self.retry_count < self.max_retries

    def is_ready(self, completed: Collection[str]) -> bool:
        """It is PENDING and every dependency is in ``completed``."""
        return self.status is TaskStatus.PENDING and all(d in completed for d in self.dependencies)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-storable dict; values that are not storable are replaced by a note."""
        return _task_to_doc(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Task:
        """Rebuild a task from :meth:`to_dict` output."""
        return _task_from_doc(data)


_TASK_FIELDS = frozenset(f.name for f in dataclasses.fields(Task))


# -- storage ------------------------------------------------------------------------
def _storable(value: Any) -> tuple[Any, str | None]:
    """``(value, None)`` if JSON can hold it, else ``(None, why)``."""
    try:
        encode_json(value)
    except NotStorableError as exc:
        return None, str(exc)
    return value, None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _result_to_doc(result: TaskResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    value, note = _storable(result.value)
    metadata, meta_note = _storable(result.metadata)
    doc = dataclasses.asdict(dataclasses.replace(result, value=None, metadata={}))
    doc["value"] = value
    doc["metadata"] = metadata if meta_note is None else {}
    if note is not None:
        doc["value_note"] = note
    return doc


def _task_to_doc(task: Task) -> dict[str, Any]:
    parameters, params_note = _storable(task.parameters)
    metadata, meta_note = _storable(task.metadata)
    doc: dict[str, Any] = {
        "id": task.id, "name": task.name, "description": task.description,
        "module": task.module, "action": task.action,
        "parameters": parameters if params_note is None else {},
        "dependencies": list(task.dependencies), "priority": int(task.priority),
        "resources": [_resource_to_doc(r) for r in task.resources],
        "timeout": task.timeout, "max_retries": task.max_retries,
        "retry_delay": task.retry_delay, "status": task.status.value,
        "retry_count": task.retry_count, "created_at": _iso(task.created_at),
        "started_at": _iso(task.started_at), "completed_at": _iso(task.completed_at),
        "result": _result_to_doc(task.result), "tags": list(task.tags),
        "metadata": metadata if meta_note is None else {},
    }
    if params_note or meta_note:
        doc["note"] = params_note or meta_note
    return doc


def _resource_to_doc(res: TaskResource) -> dict[str, Any]:
    kind = getattr(res.type, "value", res.type)
    return {
        "type": kind, "identifier": res.identifier, "mode": res.mode, "amount": res.amount,
        "timeout": res.timeout,
    }


def _resource_from_doc(doc: Mapping[str, Any]) -> TaskResource:
    kind: Any = doc["type"]
    if kind in ResourceType._value2member_map_:
        kind = ResourceType(kind)
    return TaskResource(
        kind, doc["identifier"], doc.get("mode", "shared"), doc.get("amount"), doc.get("timeout")
    )


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _task_from_doc(doc: Mapping[str, Any]) -> Task:
    result = doc.get("result")
    return Task(
        id=doc["id"], name=doc.get("name", ""), description=doc.get("description", ""),
        module=doc.get("module", ""), action=doc.get("action", ""),
        parameters=dict(doc.get("parameters") or {}),
        dependencies=list(doc.get("dependencies") or []),
        priority=TaskPriority(doc.get("priority", 2)),
        resources=[_resource_from_doc(r) for r in doc.get("resources") or []],
        timeout=doc.get("timeout"), max_retries=doc.get("max_retries", 3),
        retry_delay=doc.get("retry_delay", 1.0), status=TaskStatus(doc["status"]),
        retry_count=doc.get("retry_count", 0),
        created_at=_parse_time(doc.get("created_at")) or _now(),
        started_at=_parse_time(doc.get("started_at")),
        completed_at=_parse_time(doc.get("completed_at")),
        result=None if result is None else _result_from_doc(result),
        tags=list(doc.get("tags") or []), metadata=dict(doc.get("metadata") or {}),
    )


def _result_from_doc(doc: Mapping[str, Any]) -> TaskResult:
    return TaskResult.from_dict(doc)


# -- validation -----------------------------------------------------------------------
def _check_task(task: Task) -> None:
    label = f"task {task.name or task.id!r}"
    error = error_pair(TaskError, TaskTypeError, task_id=task.id)
    for name in ("name", "module", "action"):  # may be empty (a task to fill in), never not text
        value = getattr(task, name)
        if not isinstance(value, str):
            raise TaskTypeError(
                f"{label}: {name} {value!r:.40} is a {type(value).__name__}, not a string",
                task_id=task.id,
            )
    check_count(task.max_retries, f"{label}: max_retries", error)
    check_seconds(task.timeout, f"{label}: timeout", error)
    check_delay(task.retry_delay, f"{label}: retry_delay", error)
    check_mapping(task.parameters, f"{label}: parameters", error)
    if isinstance(task.dependencies, str) or not isinstance(task.dependencies, list | tuple):
        raise TaskTypeError(
            f"{label}: dependencies {task.dependencies!r:.40} is a {type(task.dependencies).__name__}; "
            "give a list of task ids or names",
            task_id=task.id,
        )
    for res in task.resources:
        if res.mode not in _MODES:
            raise TaskError(
                f"{label}: resource {res.identifier!r} mode must be 'shared' or 'exclusive' "
                f"(or the original package's 'read' or 'write'), not {res.mode!r}",
                task_id=task.id,
            )
    try:
        task.priority = TaskPriority(task.priority)
    except ValueError:
        raise TaskError(
            f"{label}: priority must be a TaskPriority (1-4), not {task.priority!r}",
            task_id=task.id,
        ) from None
