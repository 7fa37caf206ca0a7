"""The original package's module-level helpers, on the process-wide managers."""

from __future__ import annotations

from collections.abc import Coroutine, Sequence
from typing import Any

from .accessors import get_task_orchestrator, get_workflow_manager
from .project_models import Project
from .task_models import Task, TaskResult
from .workflow_models import WorkflowExecution, WorkflowStep

__all__ = ["create_project", "create_task", "create_workflow_steps", "execute_task", "execute_workflow"]


def create_task(name: str, module: str, action: str, **parameters: Any) -> Task:
    """A new :class:`Task` (not added anywhere); keyword arguments become its ``parameters``."""
    return Task(name=name, module=module, action=action, parameters=parameters)


def create_project(name: str, description: str = "", template: str | None = None) -> Project:
    """A new :class:`Project` record (not registered with any manager)."""
    return Project(name=name, description=description, template_name=template)


def create_workflow_steps(name: str, steps: Sequence[WorkflowStep]) -> bool:
    """Create workflow ``name`` in the process-wide :class:`WorkflowManager`; False if invalid."""
    return get_workflow_manager().create_workflow(name, list(steps))


def execute_workflow(name: str, **kwargs: Any) -> Coroutine[Any, Any, WorkflowExecution]:
    """The process-wide manager's ``execute_workflow(name, **kwargs)``: await it.

    From synchronous code use ``get_workflow_manager().run_workflow(name, ...)``.
    """
    return get_workflow_manager().execute_workflow(name, **kwargs)


def execute_task(task: Task) -> TaskResult:
    """Run ``task`` now on the process-wide orchestrator and return its result (one attempt)."""
    return get_task_orchestrator().execute_task(task)
