"""The original package's OrchestrationEngine surface, on top of ours.

:class:`OrchestrationEngineCompat` is a mixin of
:class:`~codomyrmex_jupyter.api.sessions.OrchestrationEngine`:

* ``sessions`` -- the sessions this engine opened and has not closed
  (``cleanup_session``) or deleted, by id: a live, read-only view of the
  engine's session table (the original's ``active_sessions``);
* ``config_dir``, ``logger``, ``enable_performance_monitoring`` and
  ``shutdown_requested``;
* :meth:`~OrchestrationEngineCompat.get_session_resources` and
  :meth:`~OrchestrationEngineCompat.release_resources_for_session`, read from
  and applied to the resource pool;
* the original's flat keys in ``get_system_status`` and ``get_health_status``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .live_views import MISSING, LiveDict

if TYPE_CHECKING:
    from .projects import ProjectManager
    from .resources import ResourceManager
    from .sessions import OrchestrationSession
    from .tasks import TaskOrchestrator
    from .workflow_manager import WorkflowManager

__all__ = ["OrchestrationEngineCompat"]

log = logging.getLogger("codomyrmex_jupyter.api.sessions")

_CLOSED = ("closed", "cancelled")
_COMPONENTS = {
    "workflow_manager": ("store", "event_loop"),
    "task_orchestrator": ("task_orchestrator", "event_loop"),
    "project_manager": ("store",),
    "resource_manager": ("resources",),
}
_RANK = {"healthy": 0, "degraded": 1, "unhealthy": 2}  # of health states, worst last


class OrchestrationEngineCompat:
    """Mixin: the original OrchestrationEngine's attributes and methods."""

    # Provided by OrchestrationEngine.
    workflow_manager: WorkflowManager
    task_orchestrator: TaskOrchestrator
    project_manager: ProjectManager
    resource_manager: ResourceManager
    _sessions: dict[str, OrchestrationSession]
    _opened: set[str]
    _lock: threading.RLock
    _shut_down: bool
    _save: Callable[[OrchestrationSession], None]

    # -- attributes -------------------------------------------------------------------------
    @property
    def sessions(self) -> LiveDict[str, OrchestrationSession]:
        """This engine's open sessions by id (live, read-only)."""
        return LiveDict(
            "OrchestrationEngine.sessions", self._open_ids, self._open_or_missing,
            hint="use create_session, cleanup_session or delete_session",
        )

    @property
    def active_sessions(self) -> LiveDict[str, OrchestrationSession]:
        """Alias of :attr:`sessions` (the original package's name)."""
        return self.sessions

    def _open_ids(self) -> list[str]:
        with self._lock:
            return [sid for sid in self._sessions if self._open_or_missing(sid) is not MISSING]

    def _open_or_missing(self, session_id: Any) -> Any:
        session = self._sessions.get(session_id) if session_id in self._opened else None
        if session is None or session.status.value in _CLOSED:
            return MISSING
        return session

    @property
    def config_dir(self) -> Path:
        """The configuration directory of the workflow manager (and its store)."""
        return self.workflow_manager.config_dir

    @property
    def logger(self) -> logging.Logger:
        """The logger this engine writes to."""
        return log

    @property
    def enable_performance_monitoring(self) -> bool:
        """Runs record CPU time, peak memory and step timings (the workflow manager's setting)."""
        return self.workflow_manager.enable_performance_monitoring

    @property
    def shutdown_requested(self) -> bool:
        """:meth:`shutdown` was called."""
        return self._shut_down

    # -- session resources ------------------------------------------------------------------
    def get_session_resources(self, session_id: str) -> dict[str, dict[str, Any]]:
        """``{resource_id: {"allocated_amount", "mode"}}`` the session holds now (``{}`` if unknown)."""
        session = self._sessions.get(session_id)
        if session is None:
            return {}
        return {
            a.resource_id: {"allocated_amount": a.allocated_amount, "mode": a.mode}
            for a in self.resource_manager.list_allocations(session.holder)
        }

    def release_resources_for_session(self, session_id: str, resource_id: str) -> bool:
        """Give back what the session holds of ``resource_id``; False if it held none."""
        session = self._sessions.get(session_id)
        if session is None:
            log.warning("release_resources_for_session: no session %r", session_id)
            return False
        released = self.resource_manager.release_resource(session.holder, resource_id)
        with self._lock:
            session.resource_allocations[:] = [
                a for a in session.resource_allocations if a.get("resource_id") != resource_id
            ]
        self._save(session)
        return released

    # -- status keys ------------------------------------------------------------------------
    def _original_status_keys(self, status: Mapping[str, Any]) -> dict[str, Any]:
        """The original's flat keys of ``get_system_status``, copied from its nested ``status``.

        ``total_workflows`` counts the live ``workflows`` view, as the
        original did, which need not match ``status["workflows"]["defined"]``.
        """
        tasks, resources = status["tasks"], status["resources"]
        return {
            "active_sessions": len(self._open_ids()),
            "total_workflows": len(self.workflow_manager.workflows),
            "running_workflows": status["workflows"]["active_runs"],
            "total_tasks": tasks["total_tasks"],
            "completed_tasks": tasks["completed"],
            "failed_tasks": tasks["failed"],
            "total_projects": status["projects"]["total"],
            "total_resources": resources["total_resources"],
            "active_allocations": resources["active_allocations"],
        }


def _original_health_keys(
    overall: str, components: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """``overall_status`` and one status string per original component.

    Each original component is as healthy as the worst of the checks it
    depends on (the store, the event loop, the orchestrator, the resources).
    """
    keys = {"overall_status": overall}
    for name, checks in _COMPONENTS.items():
        states = [components[c]["status"] for c in checks if c in components]
        keys[name] = max(states, key=_RANK.__getitem__) if states else "healthy"
    return keys
