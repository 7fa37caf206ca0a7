"""``codomyrmex_jupyter.task_orchestrator``: what the original package's module of that name exported.

``ResourceManager`` here is the original's *task-level* resource manager
(:class:`~codomyrmex_jupyter.api.task_helpers.TaskResourceManager`: locks by
key, no capacities), not the top-level
:class:`~codomyrmex_jupyter.resource_manager.ResourceManager`.
"""

from .api.accessors import get_task_orchestrator
from .api.resources import ResourceType
from .api.task_helpers import TaskQueue, TaskResourceManager
from .api.task_models import Task, TaskPriority, TaskResource, TaskResult, TaskStatus
from .api.tasks import TaskOrchestrator

ResourceManager = TaskResourceManager

__all__ = [
    "ResourceManager",
    "ResourceType",
    "Task",
    "TaskOrchestrator",
    "TaskPriority",
    "TaskQueue",
    "TaskResource",
    "TaskResult",
    "TaskStatus",
    "get_task_orchestrator",
]
