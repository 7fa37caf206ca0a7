"""codomyrmex_jupyter: workflow orchestration inside a Jupyter kernel.

Define a DAG of steps in a notebook cell (``%%workflow``) or in Python
(:class:`WorkflowManager`), watch it run live, keep every run's history in
SQLite, and scale out to Dask.

Every public name is importable from here; modules load on first use so
``%load_ext codomyrmex_jupyter`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # workflows
    "WorkflowStep": "codomyrmex_jupyter.api.workflow_models",
    "WorkflowExecution": "codomyrmex_jupyter.api.workflow_models",
    "WorkflowStatus": "codomyrmex_jupyter.api.workflow_models",
    "WorkflowManager": "codomyrmex_jupyter.api.workflow_manager",
    "RunHandle": "codomyrmex_jupyter.api.run_handle",
    "register_workflow": "codomyrmex_jupyter.api.module_workflows",
    "ExportError": "codomyrmex_jupyter.api.export",
    # tasks
    "Task": "codomyrmex_jupyter.api.task_models",
    "TaskPriority": "codomyrmex_jupyter.api.task_models",
    "TaskStatus": "codomyrmex_jupyter.api.task_models",
    "TaskResource": "codomyrmex_jupyter.api.task_models",
    "TaskResult": "codomyrmex_jupyter.api.task_models",
    "TaskOrchestrator": "codomyrmex_jupyter.api.tasks",
    # resources
    "Resource": "codomyrmex_jupyter.api.resources",
    "ResourceType": "codomyrmex_jupyter.api.resources",
    "ResourceStatus": "codomyrmex_jupyter.api.resources",
    "ResourceAllocation": "codomyrmex_jupyter.api.resources",
    "ResourceUsage": "codomyrmex_jupyter.api.resources",
    "ResourceManager": "codomyrmex_jupyter.api.resources",
    # projects
    "Project": "codomyrmex_jupyter.api.projects",
    "ProjectTemplate": "codomyrmex_jupyter.api.projects",
    "ProjectStatus": "codomyrmex_jupyter.api.projects",
    "ProjectType": "codomyrmex_jupyter.api.projects",
    "ProjectManager": "codomyrmex_jupyter.api.projects",
    # sessions
    "OrchestrationEngine": "codomyrmex_jupyter.api.sessions",
    "OrchestrationSession": "codomyrmex_jupyter.api.sessions",
    "SessionStatus": "codomyrmex_jupyter.api.sessions",
    # accessors
    "get_workflow_manager": "codomyrmex_jupyter.api.accessors",
    "get_task_orchestrator": "codomyrmex_jupyter.api.accessors",
    "get_project_manager": "codomyrmex_jupyter.api.accessors",
    "get_resource_manager": "codomyrmex_jupyter.api.accessors",
    "get_orchestration_engine": "codomyrmex_jupyter.api.accessors",
    "reset_singletons": "codomyrmex_jupyter.api.accessors",
    # actions
    "action": "codomyrmex_jupyter.engine.actions",
    "ActionRegistry": "codomyrmex_jupyter.engine.actions",
    "default_registry": "codomyrmex_jupyter.engine.actions",
    # errors
    "CodomyrmexError": "codomyrmex_jupyter.errors",
    "WorkflowValidationError": "codomyrmex_jupyter.errors",
    "CycleError": "codomyrmex_jupyter.errors",
    "UnknownWorkflowError": "codomyrmex_jupyter.errors",
    "UnknownActionError": "codomyrmex_jupyter.errors",
    "UnknownParameterError": "codomyrmex_jupyter.errors",
    "StepFailed": "codomyrmex_jupyter.errors",
    "StepTimeout": "codomyrmex_jupyter.errors",
    "RunCancelled": "codomyrmex_jupyter.errors",
    "ReproducibilityError": "codomyrmex_jupyter.errors",
    "ResourceUnavailable": "codomyrmex_jupyter.errors",
    "ResourceTypeError": "codomyrmex_jupyter.errors",
    "StoreError": "codomyrmex_jupyter.errors",
    "NotStorableError": "codomyrmex_jupyter.errors",
    "ContainmentError": "codomyrmex_jupyter.errors",
    "SessionError": "codomyrmex_jupyter.errors",
    "TaskError": "codomyrmex_jupyter.errors",
    "ProjectError": "codomyrmex_jupyter.errors",
    "ArgumentError": "codomyrmex_jupyter.errors",
    "ArgumentTypeError": "codomyrmex_jupyter.errors",
    "AmbiguousRunError": "codomyrmex_jupyter.errors",
    "StepTypeError": "codomyrmex_jupyter.errors",
    "TaskTypeError": "codomyrmex_jupyter.errors",
    # runtime
    "set_loop_mode": "codomyrmex_jupyter.runtime",
    "get_loop_mode": "codomyrmex_jupyter.runtime",
    # notebook surface
    "step": "codomyrmex_jupyter.magics.cell_parsing",
    "dashboard": "codomyrmex_jupyter.widgets.dashboard",
    # the original package's surface (docs/compatibility.md)
    "DocumentationGenerator": "codomyrmex_jupyter.api.documentation",
    "TaskQueue": "codomyrmex_jupyter.api.task_helpers",
    "OrchestrationContext": "codomyrmex_jupyter.api.sessions",
    "OrchestrationMode": "codomyrmex_jupyter.api.sessions",
    "create_task": "codomyrmex_jupyter.api.original_helpers",
    "create_project": "codomyrmex_jupyter.api.original_helpers",
    "create_workflow_steps": "codomyrmex_jupyter.api.original_helpers",
    "execute_workflow": "codomyrmex_jupyter.api.original_helpers",
    "execute_task": "codomyrmex_jupyter.api.original_helpers",
    "alias_original_package": "codomyrmex_jupyter.compat",
}

__all__ = [
    "ActionRegistry",
    "AmbiguousRunError",
    "ArgumentError",
    "ArgumentTypeError",
    "CodomyrmexError",
    "ContainmentError",
    "CycleError",
    "DocumentationGenerator",
    "ExportError",
    "NotStorableError",
    "OrchestrationContext",
    "OrchestrationEngine",
    "OrchestrationMode",
    "OrchestrationSession",
    "Project",
    "ProjectError",
    "ProjectManager",
    "ProjectStatus",
    "ProjectTemplate",
    "ProjectType",
    "ReproducibilityError",
    "Resource",
    "ResourceAllocation",
    "ResourceManager",
    "ResourceStatus",
    "ResourceType",
    "ResourceTypeError",
    "ResourceUnavailable",
    "ResourceUsage",
    "RunCancelled",
    "RunHandle",
    "SessionError",
    "SessionStatus",
    "StepFailed",
    "StepTimeout",
    "StepTypeError",
    "StoreError",
    "Task",
    "TaskError",
    "TaskOrchestrator",
    "TaskPriority",
    "TaskQueue",
    "TaskResource",
    "TaskResult",
    "TaskStatus",
    "TaskTypeError",
    "UnknownActionError",
    "UnknownParameterError",
    "UnknownWorkflowError",
    "WorkflowExecution",
    "WorkflowManager",
    "WorkflowStatus",
    "WorkflowStep",
    "WorkflowValidationError",
    "__version__",
    "action",
    "alias_original_package",
    "create_project",
    "create_task",
    "create_workflow_steps",
    "dashboard",
    "default_registry",
    "execute_task",
    "execute_workflow",
    "get_loop_mode",
    "get_orchestration_engine",
    "get_project_manager",
    "get_resource_manager",
    "get_task_orchestrator",
    "get_workflow_manager",
    "load_ipython_extension",
    "register_workflow",
    "reset_singletons",
    "set_loop_mode",
    "step",
    "unload_ipython_extension",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codomyrmex_jupyter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext codomyrmex_jupyter``: register the magics and the status comm."""
    from .magics.extension import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext codomyrmex_jupyter``: remove the magics."""
    from .magics.extension import unload_ipython_extension as _unload

    _unload(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "codomyrmex-jupyter"}]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    # The Runs API (codomyrmex_jupyter.server), enabled on install by
    # etc/jupyter/jupyter_server_config.d/codomyrmex_jupyter.json.
    return [{"module": "codomyrmex_jupyter.server"}]


if TYPE_CHECKING:
    from .api.accessors import (
        get_orchestration_engine,
        get_project_manager,
        get_resource_manager,
        get_task_orchestrator,
        get_workflow_manager,
        reset_singletons,
    )
    from .api.documentation import DocumentationGenerator
    from .api.export import ExportError
    from .api.module_workflows import register_workflow
    from .api.original_helpers import (
        create_project,
        create_task,
        create_workflow_steps,
        execute_task,
        execute_workflow,
    )
    from .api.run_handle import RunHandle
    from .api.sessions import OrchestrationContext, OrchestrationMode
    from .api.task_helpers import TaskQueue
    from .api.workflow_manager import WorkflowManager
    from .api.workflow_models import WorkflowExecution, WorkflowStatus, WorkflowStep
    from .compat import alias_original_package
    from .engine.actions import ActionRegistry, action, default_registry
    from .errors import (
        AmbiguousRunError,
        ArgumentError,
        ArgumentTypeError,
        CodomyrmexError,
        ContainmentError,
        CycleError,
        NotStorableError,
        ProjectError,
        ReproducibilityError,
        ResourceTypeError,
        ResourceUnavailable,
        RunCancelled,
        SessionError,
        StepFailed,
        StepTimeout,
        StepTypeError,
        StoreError,
        TaskError,
        TaskTypeError,
        UnknownActionError,
        UnknownParameterError,
        UnknownWorkflowError,
        WorkflowValidationError,
    )
    from .runtime import get_loop_mode, set_loop_mode
