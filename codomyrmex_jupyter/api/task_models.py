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
from collections.abc import Mapping
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
from .resources import ResourceType

__all__ = [
    "DOC_KIND",
    "Task",
    "TaskPriority",
    "TaskResource",
    "TaskResult",
    "TaskStatus",
]

log = logging.getLogger(__name__)

DOC_KIND = "task"
_MODES = ("shared", "exclusive")


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

    def __str__(self) -> str:
        return self.value

    @property
    def terminal(self) -> bool:
        """The task will not change any more."""
        return self not in (TaskStatus.PENDING, TaskStatus.RUNNING)


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
        ``"exclusive"`` (nobody else uses it meanwhile) or ``"shared"``.
    amount:
        How much to take; ``None`` means the whole capacity when exclusive,
        one unit when shared.
    """

    type: ResourceType
    identifier: str
    mode: str = "shared"
    amount: float | None = None


@dataclass
class TaskResult:
    """The outcome of a task.

    Attributes
    ----------
    success:
        The action returned without error.
    value:
        What it returned.
    error:
        One line: why it failed, was skipped or cancelled.
    traceback:
        The formatted traceback of the last failed attempt.
    duration:
        Seconds from the first attempt's start to the end.
    attempts:
        Attempts made (1 + retries).
    """

    success: bool
    value: Any = None
    error: str | None = None
    traceback: str | None = None
    duration: float = 0.0
    attempts: int = 1


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
    doc = dataclasses.asdict(dataclasses.replace(result, value=None))
    doc["value"] = value
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
    return {"type": kind, "identifier": res.identifier, "mode": res.mode, "amount": res.amount}


def _resource_from_doc(doc: Mapping[str, Any]) -> TaskResource:
    kind: Any = doc["type"]
    if kind in ResourceType._value2member_map_:
        kind = ResourceType(kind)
    return TaskResource(kind, doc["identifier"], doc.get("mode", "shared"), doc.get("amount"))


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
    known = {f.name for f in dataclasses.fields(TaskResult)}
    return TaskResult(**{k: v for k, v in doc.items() if k in known})


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
                f"{label}: resource {res.identifier!r} mode must be 'shared' or 'exclusive', "
                f"not {res.mode!r}",
                task_id=task.id,
            )
    try:
        task.priority = TaskPriority(task.priority)
    except ValueError:
        raise TaskError(
            f"{label}: priority must be a TaskPriority (1-4), not {task.priority!r}",
            task_id=task.id,
        ) from None
