"""``codomyrmex_jupyter.project_manager``: what the original package's module of that name exported."""

from .api.accessors import get_project_manager
from .api.documentation import DocumentationGenerator
from .api.projects import Project, ProjectManager, ProjectStatus, ProjectTemplate, ProjectType

__all__ = [
    "DocumentationGenerator",
    "Project",
    "ProjectManager",
    "ProjectStatus",
    "ProjectTemplate",
    "ProjectType",
    "get_project_manager",
]
