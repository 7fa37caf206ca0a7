"""``codomyrmex_jupyter.workflow_manager``: what the original package's module of that name exported."""

from .api.accessors import get_workflow_manager
from .api.workflow_manager import WorkflowManager
from .api.workflow_models import WorkflowExecution, WorkflowStatus, WorkflowStep

__all__ = [
    "WorkflowExecution",
    "WorkflowManager",
    "WorkflowStatus",
    "WorkflowStep",
    "get_workflow_manager",
]
