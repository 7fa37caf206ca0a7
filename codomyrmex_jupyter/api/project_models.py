"""Project data classes of the public API: projects, templates, their enums.

:class:`Project` and :class:`ProjectTemplate` carry the seed API's fields and
the original package's too. Where the two name the same thing differently,
both names work (as keywords and attributes) and :meth:`to_dict` writes both:
``type`` is ``project_type``, ``template`` is ``template_name``.
"""

from __future__ import annotations

import enum
import json
import logging
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ProjectError, WorkflowValidationError
from .aliases import Alias

__all__ = ["PROJECT_FILE", "Project", "ProjectStatus", "ProjectTemplate", "ProjectType"]

log = logging.getLogger(__name__)

# Where Project.save writes, relative to the project directory (the original's place).
PROJECT_FILE = Path(".codomyrmex") / "project.json"

E = TypeVar("E", bound=enum.Enum)


class ProjectStatus(enum.Enum):
    """Lifecycle state of a project."""

    PLANNING = "planning"
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    ARCHIVED = "archived"
    CANCELLED = "cancelled"
    PAUSED = "paused"
    FAILED = "failed"


class ProjectType(enum.Enum):
    """Kind of project (templates set it)."""

    GENERAL = "general"
    AI_ANALYSIS = "ai_analysis"
    DATA_PIPELINE = "data_pipeline"
    WEB_APPLICATION = "web_application"
    ML_MODEL = "ml_model"
    RESEARCH = "research"
    LIBRARY = "library"
    CUSTOM = "custom"
    DOCUMENTATION = "documentation"


def _coerce(cls: type[E], value: Any) -> E:
    """An enum member from a member, its value or its name (any case)."""
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except ValueError:
        member = cls.__members__.get(str(value).upper())
        if member is not None:
            return member
    choices = ", ".join(m.value for m in cls)
    raise WorkflowValidationError(f"{cls.__name__} {value!r} is not one of: {choices}")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _time(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _pick(given: dict[str, Any], ours: str, theirs: str, default: Any) -> Any:
    """The value of a field that has two names; both given and different is an error."""
    if ours in given and theirs in given and given[ours] != given[theirs]:
        raise TypeError(f"{ours}= and {theirs}= name the same field; pass one of them")
    return given.get(ours, given.get(theirs, default))


@dataclass(init=False)
class Project:
    """A project: a named record with a directory.

    The first eleven fields are the seed API's. ``version``, ``config``,
    ``workflows``, ``active_workflows``, ``required_modules``, ``author``,
    ``milestones`` and ``metrics`` are the original package's;
    ``type``/``template`` are its names of ``project_type``/``template_name``.
    """

    id: str
    name: str
    description: str
    project_type: ProjectType
    status: ProjectStatus
    path: str | None
    template_name: str | None
    created_at: datetime
    updated_at: datetime | None
    tags: list[str]
    metadata: dict[str, Any]
    version: str
    config: dict[str, Any]
    workflows: list[str]
    active_workflows: list[str]
    required_modules: list[str]
    author: str
    milestones: dict[str, Any]
    metrics: dict[str, Any]

    def __init__(  # noqa: PLR0917 - the seed's fields, positional as in a dataclass
        self,
        id: str | None = None,
        name: str = "",
        description: str = "",
        project_type: Any = None,
        status: Any = ProjectStatus.PLANNING,
        path: str | None = None,
        template_name: str | None = None,
        created_at: datetime | str | None = None,
        updated_at: datetime | str | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - _EXTRA_KEYWORDS
        if unknown:
            raise TypeError(f"Project() got an unexpected keyword argument {sorted(unknown)[0]!r}")
        if project_type is not None:
            kwargs["project_type"] = project_type
        if template_name is not None:
            kwargs["template_name"] = template_name
        self.id = id if id is not None else str(uuid.uuid4())
        self.name = name
        self.description = description
        self.project_type = _pick(kwargs, "project_type", "type", ProjectType.GENERAL)
        self.status = status
        self.path = path
        self.template_name = _pick(kwargs, "template_name", "template", None)
        self.created_at = _time(created_at) or _now()
        self.updated_at = _time(updated_at)
        self.tags = list(tags or [])
        self.metadata = dict(metadata or {})
        self.version = str(kwargs.get("version", "1.0.0"))
        self.config = dict(kwargs.get("config") or {})
        self.workflows = list(kwargs.get("workflows") or [])
        self.active_workflows = list(kwargs.get("active_workflows") or [])
        self.required_modules = list(kwargs.get("required_modules") or [])
        self.author = str(kwargs.get("author", ""))
        self.milestones = dict(kwargs.get("milestones") or {})
        self.metrics = dict(kwargs.get("metrics") or {})
        self.__post_init__()

    def __post_init__(self) -> None:
        """Bring the enum fields back to members (they may be set as values or names)."""
        self.project_type = _coerce(ProjectType, self.project_type)
        self.status = _coerce(ProjectStatus, self.status)

    type = Alias("project_type", lambda v: _coerce(ProjectType, v))

    template = Alias("template_name")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (enum values, ISO times), with both names of aliased fields."""
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "project_type": self.project_type.value,
            "status": self.status.value,
            "path": self.path,
            "template_name": self.template_name,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "tags": list(self.tags),
            "metadata": dict(self.metadata),
            "version": self.version,
            "config": dict(self.config),
            "workflows": list(self.workflows),
            "active_workflows": list(self.active_workflows),
            "required_modules": list(self.required_modules),
            "author": self.author,
            "milestones": dict(self.milestones),
            "metrics": dict(self.metrics),
        }
        data["type"] = data["project_type"]
        data["template"] = data["template_name"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Project:
        """Inverse of :meth:`to_dict`; reads the original's ``project.json`` too (unknown keys ignored)."""
        values = {k: v for k, v in data.items() if k in _PROJECT_KEYWORDS}
        return cls(**values)

    # -- <path>/.codomyrmex/project.json ---------------------------------------------------
    def get_project_file_path(self) -> Path:
        """``<path>/.codomyrmex/project.json``."""
        if not self.path:
            raise ProjectError(f"project {self.name!r} has no path; set Project.path first",
                               project=self.name)
        return Path(self.path) / PROJECT_FILE

    def save(self) -> Path:
        """Write the project to ``<path>/.codomyrmex/project.json``; return the file.

        Raises
        ------
        ProjectError
            The project has no ``path``, or the file cannot be written.
        """
        target = self.get_project_file_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        except (OSError, TypeError, ValueError) as exc:
            raise ProjectError(f"cannot save project {self.name!r} to {target}: {exc}",
                               project=self.name) from exc
        return target

    @classmethod
    def load(cls, project_path: str | Path) -> Project | None:
        """The project saved in ``<project_path>/.codomyrmex/project.json``, or ``None``.

        A missing file is ``None``; an unreadable one is ``None`` with a warning.
        """
        source = Path(project_path) / PROJECT_FILE
        if not source.is_file():
            return None
        try:
            return cls.from_dict(json.loads(source.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError, WorkflowValidationError) as exc:
            log.warning("project file %s not loaded: %s", source, exc)
            return None


_PROJECT_KEYWORDS = frozenset({f.name for f in fields(Project)} | {"type", "template"})
_EXTRA_KEYWORDS = _PROJECT_KEYWORDS - {
    "id", "name", "description", "status", "path", "created_at", "updated_at", "tags", "metadata",
}


@dataclass(init=False)
class ProjectTemplate:
    """What a new project of some kind starts with.

    ``directory_structure`` and ``files_to_create`` are paths relative to the
    project directory; ``file_contents`` maps a path to its text (``$name`` and
    ``$description`` are substituted), other files get starter content that
    suits their extension. ``workflows`` names the workflows the template
    suggests.

    The original package's fields: ``type`` (alias of ``project_type``, also
    the second positional argument), ``version``, ``template_files`` (glob
    pattern in ``<templates_dir>/<name>/`` -> destination directory, copied
    in), ``required_modules``, ``optional_modules``, ``default_config`` (the new
    project's ``config``), ``documentation_config`` (``nested_docs``: the
    directories that get a README.md/AGENTS.md, ``doc_links``),
    ``template_generators``, ``doc_links``, ``author`` and ``created_at``.
    """

    name: str
    project_type: ProjectType
    description: str
    directory_structure: list[str]
    files_to_create: list[str]
    dependencies: list[str]
    workflows: list[str]
    file_contents: dict[str, str]
    metadata: dict[str, Any]
    version: str
    template_files: dict[str, str]
    required_modules: list[str]
    optional_modules: list[str]
    default_config: dict[str, Any]
    documentation_config: dict[str, Any]
    template_generators: dict[str, dict[str, Any]]
    doc_links: dict[str, Any]
    author: str
    created_at: datetime

    def __init__(
        self, name: str, project_type: Any = None, description: str = "", **kwargs: Any
    ) -> None:
        unknown = set(kwargs) - _TEMPLATE_KEYWORDS
        if unknown:
            raise TypeError(
                f"ProjectTemplate() got an unexpected keyword argument {sorted(unknown)[0]!r}"
            )
        if project_type is not None:
            kwargs["project_type"] = project_type
        self.name = name
        self.project_type = _pick(kwargs, "project_type", "type", ProjectType.GENERAL)
        self.description = description
        self.directory_structure = list(kwargs.get("directory_structure") or [])
        self.files_to_create = list(kwargs.get("files_to_create") or [])
        self.dependencies = list(kwargs.get("dependencies") or [])
        self.workflows = list(kwargs.get("workflows") or [])
        self.file_contents = dict(kwargs.get("file_contents") or {})
        self.metadata = dict(kwargs.get("metadata") or {})
        self.version = str(kwargs.get("version", "1.0"))
        self.template_files = dict(kwargs.get("template_files") or {})
        self.required_modules = list(kwargs.get("required_modules") or [])
        self.optional_modules = list(kwargs.get("optional_modules") or [])
        self.default_config = dict(kwargs.get("default_config") or {})
        self.documentation_config = dict(kwargs.get("documentation_config") or {})
        self.template_generators = dict(kwargs.get("template_generators") or {})
        self.doc_links = dict(kwargs.get("doc_links") or {})
        self.author = str(kwargs.get("author", ""))
        self.created_at = _time(kwargs.get("created_at")) or _now()
        self.__post_init__()

    def __post_init__(self) -> None:
        """Bring ``project_type`` back to a member."""
        self.project_type = _coerce(ProjectType, self.project_type)

    type = Alias("project_type", lambda v: _coerce(ProjectType, v))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, with both ``project_type`` and ``type``."""
        return {
            "name": self.name,
            "project_type": self.project_type.value,
            "type": self.project_type.value,
            "description": self.description,
            "directory_structure": list(self.directory_structure),
            "files_to_create": list(self.files_to_create),
            "dependencies": list(self.dependencies),
            "workflows": list(self.workflows),
            "file_contents": dict(self.file_contents),
            "metadata": dict(self.metadata),
            "version": self.version,
            "template_files": dict(self.template_files),
            "required_modules": list(self.required_modules),
            "optional_modules": list(self.optional_modules),
            "default_config": dict(self.default_config),
            "documentation_config": dict(self.documentation_config),
            "template_generators": dict(self.template_generators),
            "doc_links": dict(self.doc_links),
            "author": self.author,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProjectTemplate:
        """Inverse of :meth:`to_dict` (reads the original's JSON); raises on unknown keys."""
        unknown = set(data) - _TEMPLATE_KEYWORDS - {"name", "description"}
        if unknown:
            raise WorkflowValidationError(
                f"unknown template field(s): {', '.join(sorted(unknown))}"
            )
        return cls(**data)

    def files(self) -> list[str]:
        """Every file the template creates (``files_to_create`` then ``file_contents``)."""
        return list(dict.fromkeys([*self.files_to_create, *self.file_contents]))


_TEMPLATE_KEYWORDS = frozenset(
    {f.name for f in fields(ProjectTemplate)} - {"name", "description"} | {"type"}
)
