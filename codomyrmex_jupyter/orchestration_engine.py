"""``codomyrmex_jupyter.orchestration_engine``: what the original package's module of that name exported."""

from .api.accessors import get_orchestration_engine
from .api.projects import Project, ProjectManager, ProjectStatus
from .api.resources import Resource, ResourceManager, ResourceType
from .api.sessions import (
    OrchestrationContext,
    OrchestrationEngine,
    OrchestrationMode,
    OrchestrationSession,
    SessionStatus,
)
from .api.task_models import Task, TaskStatus
from .api.tasks import TaskOrchestrator
from .api.workflow_manager import WorkflowManager
from .api.workflow_models import WorkflowStatus

__all__ = [
    "OrchestrationContext",
    "OrchestrationEngine",
    "OrchestrationMode",
    "OrchestrationSession",
    "Project",
    "ProjectManager",
    "ProjectStatus",
    "Resource",
    "ResourceManager",
    "ResourceType",
    "SessionStatus",
    "Task",
    "TaskOrchestrator",
    "TaskStatus",
    "WorkflowManager",
    "WorkflowStatus",
    "get_orchestration_engine",
]
