"""OrchestrationEngine: sessions that tie workflows, tasks, projects and resources together.

A session is a named bag of work: the workflow runs it started, the tasks it
added, the projects it created and the resources it holds (under the holder
id ``session:<session_id>``). Sessions are stored as ``"session"`` documents,
so a later process lists them.

The engine owns no thread or loop. :meth:`OrchestrationEngine.shutdown` stops
the task orchestrator and cancels active workflow runs; the runtime's shared
loop thread and worker threads are process-wide and stop only with
``codomyrmex_jupyter.runtime.shutdown()`` (run at interpreter exit).
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.store import Store
from ..engine.validation import check_mapping
from ..errors import ArgumentTypeError, CodomyrmexError, SessionError, StoreError
from .sessions_compat import _RANK, OrchestrationEngineCompat, _original_health_keys
from .tasks import Task, TaskOrchestrator
from .workflow_manager import WorkflowManager
from .workflow_models import WorkflowStatus

if TYPE_CHECKING:
    from .projects import Project, ProjectManager
    from .resources import ResourceManager

__all__ = [
    "OrchestrationContext",
    "OrchestrationEngine",
    "OrchestrationMode",
    "OrchestrationSession",
    "SessionStatus",
]

log = logging.getLogger(__name__)

DOC_KIND = "session"
_UPDATABLE = frozenset({"name", "description", "status", "metadata"})


class SessionStatus(Enum):
    """Where a session is in its life."""

    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    # A session made directly (not by create_session) starts here, as in the original.
    PENDING = "pending"

    def __str__(self) -> str:
        return self.value


class OrchestrationMode(Enum):
    """How a session would like its work run (the original package's modes; recorded)."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"
    PRIORITY = "priority"
    RESOURCE_AWARE = "resource_aware"

    def __str__(self) -> str:
        return self.value


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class OrchestrationSession:
    """A named unit of orchestration work.

    Attributes
    ----------
    session_id:
        A UUID4 string.
    workflows:
        Names of the workflows executed in the session, in order.
    runs:
        Run ids of those executions (look them up with
        ``WorkflowManager.get_execution``).
    tasks:
        Ids of the tasks added to the session.
    projects:
        Names of the projects created in the session.
    resource_allocations:
        ``{"resource_id", "amount", "holder"}`` of each allocation it holds.
    status:
        PENDING for a session made directly; :meth:`OrchestrationEngine.create_session`
        makes it ACTIVE.
    user_id, mode, max_parallel_tasks, max_parallel_workflows, timeout_seconds, \
resource_requirements:
        The original package's session settings, kept with the session and
        stored (this engine does not read them).
    started_at, completed_at:
        When the session was opened by ``create_session`` and closed by
        ``cleanup_session``.
    """

    session_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    name: str = ""
    description: str = ""
    status: SessionStatus = SessionStatus.PENDING
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    metadata: dict[str, Any] = field(default_factory=dict)
    workflows: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    projects: list[str] = field(default_factory=list)
    resource_allocations: list[dict[str, Any]] = field(default_factory=list)
    user_id: str = "system"
    mode: OrchestrationMode = OrchestrationMode.RESOURCE_AWARE
    max_parallel_tasks: int = 4
    max_parallel_workflows: int = 2
    timeout_seconds: int | None = None
    resource_requirements: dict[str, Any] = field(default_factory=dict)
    started_at: datetime | None = None
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        self.status = SessionStatus(self.status)
        self.mode = OrchestrationMode(self.mode)

    @property
    def holder(self) -> str:
        """The holder id of the session's resource allocations."""
        return f"session:{self.session_id}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (ISO times, status value)."""
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["mode"] = self.mode.value
        for key in ("created_at", "updated_at", "started_at", "completed_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OrchestrationSession:
        """Inverse of :meth:`to_dict`."""
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["status"] = SessionStatus(values.get("status", "active"))
        for key in ("created_at", "updated_at", "started_at", "completed_at"):
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        return cls(**values)


#: The original package's name of a session.
OrchestrationContext = OrchestrationSession


class OrchestrationEngine(OrchestrationEngineCompat):
    """Coordinates the workflow manager, task orchestrator, projects and resources.

    Parameters
    ----------
    config_dir:
        Directory of the SQLite database for components built here.
    enable_performance_monitoring:
        Passed to the :class:`WorkflowManager` built here.
    workflow_manager, task_orchestrator, project_manager, resource_manager:
        Components to use; each one omitted is built here on the workflow
        manager's store, so all of them share one database.
    """

    def __init__(
        self,
        config_dir: Path | None = None,
        enable_performance_monitoring: bool = True,
        *,
        workflow_manager: WorkflowManager | None = None,
        task_orchestrator: TaskOrchestrator | None = None,
        project_manager: ProjectManager | None = None,
        resource_manager: ResourceManager | None = None,
    ) -> None:
        self._owns_store = workflow_manager is None
        self._owns_resources = resource_manager is None
        self.workflow_manager = workflow_manager or WorkflowManager(
            config_dir, enable_performance_monitoring
        )
        self.store: Store = self.workflow_manager.store
        self.resource_manager = resource_manager or self._build_resource_manager()
        self.task_orchestrator = task_orchestrator or TaskOrchestrator(
            resource_manager=self.resource_manager,
            store=self.store,
            registry=self.workflow_manager.registry,
        )
        self.project_manager = project_manager or self._build_project_manager()
        self._lock = threading.RLock()
        self._started = time.monotonic()
        self._shut_down = False
        self._sessions = self._load_sessions()
        self._opened: set[str] = set()  # sessions created by this engine (``sessions``)

    def _build_resource_manager(self) -> ResourceManager:
        from .resources import ResourceManager

        return ResourceManager(store=self.store)

    def _build_project_manager(self) -> ProjectManager:
        from .projects import ProjectManager

        return ProjectManager(store=self.store)

    # -- sessions --------------------------------------------------------------------
    def create_session(
        self, name: str, description: str = "", metadata: dict[str, Any] | None = None
    ) -> OrchestrationSession:
        """Create and store a new ACTIVE session."""
        if not isinstance(name, str) or not name.strip():
            raise SessionError(
                f"a session needs a non-empty name, e.g. create_session('etl'); got {name!r:.40}"
            )
        if not isinstance(description, str):
            raise ArgumentTypeError(
                f"description {description!r:.40} is a {type(description).__name__}, not a string",
                argument="description",
            )
        session = OrchestrationSession(
            name=name, description=description, metadata=check_mapping(metadata, "metadata"),
            status=SessionStatus.ACTIVE, started_at=_now(),
        )
        with self._lock:
            self._sessions[session.session_id] = session
            self._opened.add(session.session_id)
        self._save(session)
        return session

    def get_session(self, session_id: str) -> OrchestrationSession | None:
        """A session by id, or ``None``."""
        with self._lock:
            return self._sessions.get(session_id)

    def list_sessions(self, status: SessionStatus | None = None) -> list[OrchestrationSession]:
        """Sessions, oldest first, optionally only those with ``status``."""
        with self._lock:
            sessions = list(self._sessions.values())
        if status is not None:
            sessions = [s for s in sessions if s.status is SessionStatus(status)]
        return sorted(sessions, key=lambda s: s.created_at)

    def update_session(self, session_id: str, **kwargs: Any) -> OrchestrationSession | None:
        """Change ``name``, ``description``, ``status`` or ``metadata``; ``None`` if unknown.

        Raises
        ------
        SessionError
            A keyword is not an updatable field, or ``status`` is not a SessionStatus.
        """
        bad = sorted(set(kwargs) - _UPDATABLE)
        if bad:
            fields = ", ".join(sorted(_UPDATABLE))
            raise SessionError(f"update_session: {bad[0]!r} cannot be updated (fields: {fields})")
        if "status" in kwargs:
            kwargs["status"] = _status(kwargs["status"])
        session = self.get_session(session_id)
        if session is None:
            return None
        with self._lock:
            for key, value in kwargs.items():
                setattr(session, key, value)
        self._save(session)
        return session

    def delete_session(self, session_id: str) -> bool:
        """Release what the session holds, then forget it; False if unknown."""
        session = self.get_session(session_id)
        if session is None:
            return False
        self._release_session_resources(session)
        with self._lock:
            self._sessions.pop(session_id, None)
        self._delete_doc(session_id)
        return True

    def cleanup_session(self, session_id: str) -> bool:
        """Release the session's resources, cancel its unfinished tasks, and close it.

        Returns False (with a warning) for an unknown session.
        """
        session = self.get_session(session_id)
        if session is None:
            log.warning("cleanup_session: no session %r", session_id)
            return False
        self._release_session_resources(session)
        for task_id in session.tasks:
            task = self.task_orchestrator.get_task(task_id)
            if task is not None and not task.status.terminal:
                self.task_orchestrator.cancel_task(task_id)
        with self._lock:
            session.status = SessionStatus.CLOSED
            session.completed_at = _now()
        self._save(session)
        return True

    # -- work in a session ---------------------------------------------------------------
    def execute_workflow_in_session(self, session_id: str, workflow_name: str) -> bool:
        """Run a workflow to its end, record the run in the session; True iff it COMPLETED.

        Works inside a running event loop (the run happens on the runtime's
        loop thread). An unknown or closed session, or an unknown workflow,
        returns False with a logged warning.
        """
        session = self._open_session(session_id, "execute_workflow_in_session")
        if session is None:
            return False
        try:
            execution = self.workflow_manager.run_workflow(workflow_name, session_id=session_id)
        except CodomyrmexError as exc:
            log.warning("workflow %r not run in session %s: %s", workflow_name, session_id, exc)
            return False
        with self._lock:
            session.workflows.append(workflow_name)
            session.runs.append(execution.execution_id)
        self._save(session)
        return execution.status is WorkflowStatus.COMPLETED

    def add_task_to_session(self, session_id: str, task: Task) -> bool:
        """Add ``task`` to the task orchestrator and the session; False (logged) if refused."""
        session = self._open_session(session_id, "add_task_to_session")
        if session is None:
            return False
        task.metadata.setdefault("session_id", session_id)
        try:
            self.task_orchestrator.add_task(task)
        except CodomyrmexError as exc:
            log.warning("task %r not added to session %s: %s", task.name, session_id, exc)
            return False
        with self._lock:
            session.tasks.append(task.id)
        self._save(session)
        return True

    def create_project_in_session(
        self, session_id: str, name: str, description: str = ""
    ) -> Project | None:
        """Create a project and record it in the session; ``None`` (logged) if that fails."""
        session = self._open_session(session_id, "create_project_in_session")
        if session is None:
            return None
        try:
            project = self.project_manager.create_project(name, description)
        except (CodomyrmexError, OSError) as exc:
            log.warning("project %r not created in session %s: %s", name, session_id, exc)
            return None
        with self._lock:
            session.projects.append(project.name)
        self._save(session)
        return project

    def allocate_resources_for_session(
        self, session_id: str, resource_id: str, amount: float
    ) -> bool:
        """Allocate ``amount`` of a resource to the session (holder ``session:<id>``).

        Returns False (logged) for an unknown session or resource, bad input,
        or not enough capacity now.
        """
        session = self._open_session(session_id, "allocate_resources_for_session")
        if session is None:
            return False
        try:
            allocation = self.resource_manager.allocate_resource(
                resource_id, session.holder, amount
            )
        except CodomyrmexError as exc:
            log.warning("session %s: %s", session_id, exc)
            return False
        if allocation is None:
            log.warning(
                "session %s: %g of %r could not be allocated (unknown resource or not "
                "enough capacity left)", session_id, amount, resource_id,
            )
            return False
        entry = {"resource_id": resource_id, "amount": float(amount), "holder": session.holder}
        with self._lock:
            session.resource_allocations.append(entry)
        self._save(session)
        return True

    def _open_session(self, session_id: str, what: str) -> OrchestrationSession | None:
        session = self.get_session(session_id)
        if session is None:
            log.warning("%s: no session %r", what, session_id)
        elif session.status in (SessionStatus.CLOSED, SessionStatus.CANCELLED):
            log.warning("%s: session %r is %s", what, session_id, session.status.value)
            return None
        return session

    def _release_session_resources(self, session: OrchestrationSession) -> None:
        self.resource_manager.release_all(session.holder)
        with self._lock:
            session.resource_allocations.clear()

    # -- status -------------------------------------------------------------------------
    def get_system_status(self) -> dict[str, Any]:
        """Sessions, workflows, tasks, resources and projects at a glance.

        Keys: ``sessions`` (``total``, ``by_status``), ``workflows``
        (``defined``, ``active_runs``, ``runs_recorded``), ``tasks`` (the
        orchestrator's stats), ``resources`` (the resource summary),
        ``projects`` (``total``), ``uptime`` (seconds since this engine was
        built), ``versions`` and ``timestamp``.
        """
        from .. import __version__

        sessions = self.list_sessions()
        status = {
            "sessions": {
                "total": len(sessions),
                "by_status": _by_status(sessions),
            },
            "workflows": {
                "defined": len(self.workflow_manager.list_workflows()),
                "active_runs": len(self.workflow_manager.active_runs()),
                "runs_recorded": self.store.count_runs(),
            },
            "tasks": self.task_orchestrator.get_stats(),
            "resources": self.resource_manager.get_resource_summary(),
            "projects": {"total": len(self.project_manager.list_projects())},
            "uptime": time.monotonic() - self._started,
            "versions": {"codomyrmex_jupyter": __version__, "python": platform.python_version()},
            "timestamp": _now().isoformat(),
        }
        return {**status, **self._original_status_keys(status)}

    def get_health_status(self) -> dict[str, Any]:
        """Health of each component and overall.

        Returns ``{"status": overall, "components": {name: {"status",
        "details"}}, "timestamp"}`` where a status is ``"healthy"``,
        ``"degraded"`` or ``"unhealthy"`` and overall is the worst of them.
        Components: ``store`` (a cheap query), ``event_loop`` (the loop tasks
        run on), ``task_orchestrator`` and ``resources`` (unhealthy when a
        resource is allocated beyond its capacity, degraded when one is in
        maintenance or offline).
        """
        components = {
            "store": self._store_health(),
            "event_loop": self._loop_health(),
            "task_orchestrator": self._orchestrator_health(),
            "resources": self._resources_health(),
        }
        overall = max((c["status"] for c in components.values()), key=_RANK.__getitem__)
        return {
            "status": overall, "components": components, "timestamp": _now().isoformat(),
            **_original_health_keys(overall, components),
        }

    def _store_health(self) -> dict[str, Any]:
        try:
            self.store.get_doc(DOC_KIND, "")
        except StoreError as exc:
            return {"status": "unhealthy", "details": str(exc)}
        return {"status": "healthy", "details": f"database {self.store.path} answers"}

    def _loop_health(self) -> dict[str, Any]:
        loop = self.task_orchestrator.loop
        if loop is None:
            return {"status": "healthy", "details": "not started (starts on first use)"}
        if loop.is_closed() or not loop.is_running():
            return {"status": "unhealthy", "details": "the background event loop has stopped"}
        return {"status": "healthy", "details": "running"}

    def _orchestrator_health(self) -> dict[str, Any]:
        stats = self.task_orchestrator.get_stats()
        pending, executing = stats["pending"], stats["executing"]
        details = {k: stats[k] for k in ("pending", "running", "active_workers", "executing")}
        if pending and not executing:  # a normal state, worth a hint rather than a warning
            details["note"] = f"{pending} task(s) pending; call start_execution() to run them"
        return {"status": "healthy", "details": details}

    def _resources_health(self) -> dict[str, Any]:
        over = [
            f"{rid}: {st.allocated:g} of {st.capacity:g}"
            for rid, st in self.resource_manager.snapshot().items()
            if st.allocated - st.capacity > 1e-9 * max(1.0, st.capacity)
        ]
        held_back = sorted(
            r.id for r in self.resource_manager.list_resources()
            if r.status.value in ("maintenance", "offline")
        )
        details = {"over_allocated": over, "unavailable": held_back}
        if over:
            return {"status": "unhealthy", "details": details}
        return {"status": "degraded" if held_back else "healthy", "details": details}

    # -- lifecycle ------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the task orchestrator and cancel active workflow runs (idempotent).

        Components this engine built itself are closed too. The runtime's
        process-wide loop and worker threads are left running for the other
        users of the package.
        """
        with self._lock:
            if self._shut_down:
                return
            self._shut_down = True
        self.task_orchestrator.stop_execution(wait=True)
        for execution in self.workflow_manager.active_runs():
            self.workflow_manager.cancel_execution(execution.execution_id)
        if self._owns_resources:
            self.resource_manager.shutdown()
        if self._owns_store:
            self.workflow_manager.close()

    # -- storage --------------------------------------------------------------------------
    def _save(self, session: OrchestrationSession) -> None:
        session.updated_at = _now()
        try:
            self.store.put_doc(DOC_KIND, session.session_id, session.to_dict())
        except StoreError as exc:  # the session lives on in memory
            log.warning("session %s not stored: %s", session.session_id, exc)

    def _delete_doc(self, session_id: str) -> None:
        try:
            self.store.delete_doc(DOC_KIND, session_id)
        except StoreError as exc:
            log.warning("session %s not removed from the store: %s", session_id, exc)

    def _load_sessions(self) -> dict[str, OrchestrationSession]:
        sessions: dict[str, OrchestrationSession] = {}
        for key, doc in self.store.list_docs(DOC_KIND).items():
            try:
                sessions[key] = OrchestrationSession.from_dict(doc)
            except (KeyError, ValueError, TypeError) as exc:
                log.warning("ignoring unreadable session record %s: %s", key, exc)
        return sessions


def _by_status(sessions: list[OrchestrationSession]) -> dict[str, int]:
    # PENDING (the original's default) is listed only when a session has it.
    return {
        s.value: n for s in SessionStatus
        if (n := sum(x.status is s for x in sessions)) or s is not SessionStatus.PENDING
    }


def _status(value: Any) -> SessionStatus:
    try:
        return SessionStatus(value)
    except ValueError:
        known = ", ".join(s.value for s in SessionStatus)
        raise SessionError(f"status must be a SessionStatus ({known}), not {value!r}") from None
