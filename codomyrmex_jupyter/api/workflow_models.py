"""Workflow data classes of the public API: steps, executions, statuses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from ..engine.state import StepRecord, epoch_to_datetime
from ..engine.validation import check_step_fully
from ..errors import StepTypeError, WorkflowValidationError

if TYPE_CHECKING:
    from ..engine.runner import Run

__all__ = ["WorkflowExecution", "WorkflowStatus", "WorkflowStep", "step_from_dict"]


class WorkflowStatus(Enum):
    """Status of a workflow execution."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value


@dataclass
class WorkflowStep:
    """A single step in a workflow: which action to call, with what, after what.

    Attributes
    ----------
    name:
        Unique within its workflow; other steps name it in ``dependencies``.
    module, action:
        Resolve the callable through the action registry.
    parameters:
        Keyword arguments for the callable.
    dependencies:
        Names of steps that must succeed first; their results flow in.
    timeout:
        Seconds one attempt may take; ``None`` for no limit.
    retry_count:
        Retries used by the latest run of this definition.
    max_retries:
        Extra attempts after a failure (exponential backoff between them).
    resources:
        Resource id to amount, acquired from the manager's resource pool
        before the step starts and released when it ends. On a Dask
        executor, resources the pool does not define are worker resources
        (``client.submit(..., resources=...)``).
    priority:
        Among ready steps, higher runs sooner (an int, as in Dask; a
        :class:`~codomyrmex_jupyter.api.task_models.TaskPriority` member is
        accepted). On a Dask executor it is the task's Dask priority.
    cache:
        Keep the step's result in the step cache and reuse it while its code,
        parameters and dependencies are unchanged (see docs/cache.md).
    version:
        Set or change it to force a new cache key without changing the code.
    """

    name: str
    module: str
    action: str
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    timeout: int | None = None
    retry_count: int = 0
    max_retries: int = 3
    resources: dict[str, float] = field(default_factory=dict)
    priority: int = 0
    cache: bool = False
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly dict (what the store keeps); default values are left out."""
        out: dict[str, Any] = {"name": self.name, "module": self.module, "action": self.action}
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        if self.dependencies:
            out["dependencies"] = list(self.dependencies)
        if self.timeout is not None:
            out["timeout"] = self.timeout
        if self.max_retries != 3:
            out["max_retries"] = self.max_retries
        if self.resources:
            out["resources"] = dict(self.resources)
        if self.priority:
            out["priority"] = int(self.priority)
        if self.cache:
            out["cache"] = True
        if self.version is not None:
            out["version"] = self.version
        return out


_STEP_KEYS = frozenset(
    {
        "name", "module", "action", "parameters", "dependencies", "timeout", "max_retries",
        "retry_count", "resources", "priority", "cache", "version",
    }
)


def step_from_dict(data: dict[str, Any], position: int = 0) -> WorkflowStep:
    """Build a :class:`WorkflowStep` from a dict, naming any unknown, missing or bad value.

    Names, modules, actions and dependencies written as numbers in YAML are
    taken as text; every other field must have its type (see
    :func:`~codomyrmex_jupyter.engine.validation.check_step`).
    """
    if not isinstance(data, dict):
        raise StepTypeError(f"a step must be a mapping, got {type(data).__name__}")
    unknown = set(data) - _STEP_KEYS
    if unknown:
        raise WorkflowValidationError(
            f"step {data.get('name', '?')!r} has unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_STEP_KEYS))}",
            step=data.get("name"),
        )
    missing = [k for k in ("name", "module", "action") if not data.get(k)]
    if missing:
        raise WorkflowValidationError(
            f"step {data.get('name', '?')!r} is missing {', '.join(missing)}", step=data.get("name")
        )
    deps = data.get("dependencies") or []
    step = WorkflowStep(
        name=_text(data["name"]),
        module=_text(data["module"]),
        action=_text(data["action"]),
        parameters=data.get("parameters") or {},
        dependencies=[_text(d) for d in deps] if isinstance(deps, list | tuple) else deps,
        timeout=data.get("timeout"),
        max_retries=data.get("max_retries", 3),
        retry_count=data.get("retry_count", 0),
        resources=data.get("resources") or {},
        priority=data.get("priority", 0),
        cache=data.get("cache", False),
        version=None if data.get("version") is None else _text(data["version"]),
    )
    check_step_fully(step, position)
    return step


def _text(value: Any) -> Any:
    """A YAML scalar written as a number (``name: 42``) as text; anything else unchanged."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


@dataclass(repr=False)
class WorkflowExecution:
    """Tracks workflow execution state and results.

    The first seven fields are those of the seed API; the rest add what a
    notebook needs: a unique id, per-step records, the parameters and
    definition version the run used.
    """

    workflow_name: str
    status: WorkflowStatus = WorkflowStatus.PENDING
    start_time: datetime | None = None
    end_time: datetime | None = None
    results: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    performance_metrics: dict[str, Any] = field(default_factory=dict)
    execution_id: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    version: int | None = None
    session_id: str | None = None
    step_records: dict[str, StepRecord] = field(default_factory=dict)
    _run: Run | None = field(default=None, repr=False, compare=False)
    _edges: list[tuple[str, str]] | None = field(default=None, repr=False, compare=False)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(dependency, dependent)`` step-name pairs (computed on first use)."""
        if self._edges is None:
            self._edges = self._run.graph.edges if self._run is not None else []
        return self._edges

    @edges.setter
    def edges(self, value: list[tuple[str, str]]) -> None:
        self._edges = list(value)

    @property
    def run_id(self) -> str:
        """Alias of ``execution_id``."""
        return self.execution_id

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, ``None`` while running."""
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()

    @property
    def done(self) -> bool:
        """The execution has ended."""
        return self.status in (WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)

    def tracebacks(self) -> dict[str, str]:
        """Full traceback text of each failed step."""
        return {n: r.traceback for n, r in self.step_records.items() if r.traceback}

    def sync_from_run(self) -> None:
        """Bring status and times up to date with the live run.

        ``results`` and ``errors`` are the run's own dict and list (no copies),
        so they are always current and this stays cheap to call often.
        """
        run = self._run
        if run is None:
            return
        self.status = WorkflowStatus(run.status)
        self.start_time = epoch_to_datetime(run.start)
        self.end_time = epoch_to_datetime(run.end)
        self.results = run.results
        self.errors = run.errors

    def summary(self) -> str:
        """One line: name, status, counts, duration."""
        counts: dict[str, int] = {}
        for rec in self.step_records.values():
            counts[rec.status] = counts.get(rec.status, 0) + 1
        parts = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
        dur = f" in {self.duration:.3f}s" if self.duration is not None else ""
        return f"{self.workflow_name} [{self.execution_id[:8]}] {self.status.value}{dur}: {parts}"

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        # Short on purpose: a 10,000-step run must not print 10,000 records.
        return f"<WorkflowExecution {self.summary()}>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ..display.bundles import execution_bundle

        return execution_bundle(self)

    def plot(self, kind: str = "gantt") -> Any:
        """A matplotlib figure of the run: ``"gantt"`` timeline or ``"dag"``."""
        from ..display.plots import plot_execution

        return plot_execution(self, kind=kind)
