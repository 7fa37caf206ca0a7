"""Process-wide, thread-safe singletons behind the ``get_*`` accessors.

``get_orchestration_engine()`` is built from the other singletons, so
``get_orchestration_engine().resource_manager is get_resource_manager()``.
:func:`reset_singletons` shuts them down and forgets them (for tests, or to
point a kernel at another ``$CODOMYRMEX_HOME``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .projects import ProjectManager
    from .resources import ResourceManager
    from .sessions import OrchestrationEngine
    from .tasks import TaskOrchestrator
    from .workflow_manager import WorkflowManager

__all__ = [
    "current_workflow_manager",
    "get_orchestration_engine",
    "get_project_manager",
    "get_resource_manager",
    "get_task_orchestrator",
    "get_workflow_manager",
    "reset_singletons",
]

T = TypeVar("T")
_lock = threading.RLock()
_instances: dict[str, Any] = {}


def _singleton(key: str, make: Callable[[], T]) -> T:
    inst = _instances.get(key)
    if inst is None:
        with _lock:
            inst = _instances.get(key)
            if inst is None:
                inst = make()
                _instances[key] = inst
    return inst  # type: ignore[no-any-return,unused-ignore]


def get_workflow_manager() -> WorkflowManager:
    """The process-wide :class:`WorkflowManager` (store under the default config dir)."""
    from .workflow_manager import WorkflowManager

    return _singleton("workflow", WorkflowManager)


def get_resource_manager() -> ResourceManager:
    """The process-wide :class:`ResourceManager`, sharing the workflow manager's store."""
    from .resources import ResourceManager

    return _singleton("resource", lambda: ResourceManager(store=get_workflow_manager().store))


def get_task_orchestrator() -> TaskOrchestrator:
    """The process-wide :class:`TaskOrchestrator`, using the shared resources and store."""
    from .tasks import TaskOrchestrator

    def make() -> TaskOrchestrator:
        return TaskOrchestrator(
            resource_manager=get_resource_manager(),
            store=get_workflow_manager().store,
            registry=get_workflow_manager().registry,
        )

    return _singleton("task", make)


def get_project_manager() -> ProjectManager:
    """The process-wide :class:`ProjectManager`, sharing the store."""
    from .projects import ProjectManager

    return _singleton("project", lambda: ProjectManager(store=get_workflow_manager().store))


def get_orchestration_engine() -> OrchestrationEngine:
    """The process-wide :class:`OrchestrationEngine` built on the other singletons."""
    from .sessions import OrchestrationEngine

    def make() -> OrchestrationEngine:
        return OrchestrationEngine(
            workflow_manager=get_workflow_manager(),
            task_orchestrator=get_task_orchestrator(),
            project_manager=get_project_manager(),
            resource_manager=get_resource_manager(),
        )

    return _singleton("engine", make)


def current_workflow_manager() -> WorkflowManager | None:
    """The process-wide :class:`WorkflowManager` if one was built, else ``None`` (builds nothing)."""
    manager: WorkflowManager | None = _instances.get("workflow")
    return manager


def reset_singletons() -> None:
    """Shut down and forget every singleton; the next ``get_*`` builds new ones."""
    with _lock:
        instances = dict(_instances)
        _instances.clear()
    for key in ("engine", "task", "project", "resource", "workflow"):
        inst = instances.get(key)
        if inst is None:
            continue
        closer = getattr(inst, "shutdown", None) or getattr(inst, "close", None)
        if callable(closer):
            closer()
