"""ProjectManager: projects, their templates, and scaffolding on disk.

A project is a named record (status, type, tags, metadata) with a directory.
Creating one from a template makes the template's directories and files
inside that directory. Every template entry must stay inside it: ``../x``,
absolute paths and paths through a symlink that points outside are refused
with :class:`~codomyrmex_jupyter.errors.ContainmentError`, and all entries are
checked before anything is created.

Projects (``"project"`` documents) and custom templates (``"template"``
documents) persist in the store; without a store they live in memory only.
Built-in templates come from :mod:`.project_templates`; more can be read from
``templates_dir`` (one YAML or JSON mapping per file, loaded with
``yaml.safe_load``).
"""

from __future__ import annotations

import logging
import os
import shutil
import string
import threading
from pathlib import Path
from typing import Any

from ..engine.store import Store, default_config_dir
from ..engine.validation import check_mapping
from ..errors import (
    ArgumentTypeError,
    CodomyrmexError,
    ContainmentError,
    ProjectError,
    WorkflowValidationError,
)
from .owned_dirs import claim_directory, remove_owned_directory
from .paths import check_entry as _check_entry
from .paths import contained as _contained
from .project_models import (
    PROJECT_FILE,
    Project,
    ProjectStatus,
    ProjectTemplate,
    ProjectType,
    _coerce,
    _now,
)
from .project_templates import BUILTIN_TEMPLATES, StarterContext, starter_content
from .projects_compat import ProjectManagerCompat

__all__ = ["Project", "ProjectManager", "ProjectStatus", "ProjectTemplate", "ProjectType"]

log = logging.getLogger(__name__)

PROJECT_KIND = "project"
TEMPLATE_KIND = "template"
_UPDATABLE = ("description", "project_type", "status", "path", "tags", "metadata", "template_name")
_CREATE_OPTIONS = ("path", "project_type", "tags", "metadata", "status", "author", "docs")


def _project_error(message: str) -> CodomyrmexError:
    return ProjectError(message)


def _check_name(name: str, what: str = "project") -> None:
    if not isinstance(name, str) or not name.strip():
        raise _project_error(f"{what} name must be a non-empty string, got {name!r:.40}")
    if any(sep in name for sep in ("/", "\\", "\0")) or ".." in name or name in (".", "~"):
        raise ContainmentError(
            f"{what} name {name!r} may not contain path separators or '..'; use a plain name",
            path=name,
        )


def _check_fields(fields: dict[str, Any]) -> None:
    """Types of the project fields given to create or update (before anything changes)."""
    path = fields.get("path")
    if path is not None and (not isinstance(path, str | os.PathLike) or not os.fspath(path)):
        raise ArgumentTypeError(f"path {path!r:.40} is not a path; give a directory", argument="path")
    description = fields.get("description")
    if description is not None and not isinstance(description, str):
        raise ArgumentTypeError(
            f"description {description!r:.40} is a {type(description).__name__}, not a string",
            argument="description",
        )
    tags = fields.get("tags")
    if tags is not None and (
        isinstance(tags, str) or not isinstance(tags, list | tuple)
        or not all(isinstance(t, str) for t in tags)
    ):
        raise ArgumentTypeError(f"tags {tags!r:.40} must be a list of strings", argument="tags")
    if fields.get("metadata") is not None:
        check_mapping(fields["metadata"], "metadata")


class _Docs:
    """Documents of one kind: in the store, or in a dict when there is none."""

    def __init__(self, store: Store | None, kind: str) -> None:
        self.store, self.kind = store, kind
        self._memory: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self._memory.get(key) if self.store is None else self.store.get_doc(self.kind, key)

    def put(self, key: str, value: Any) -> None:
        if self.store is None:
            self._memory[key] = value
        else:
            self.store.put_doc(self.kind, key, value)

    def delete(self, key: str) -> bool:
        if self.store is None:
            return self._memory.pop(key, None) is not None
        return self.store.delete_doc(self.kind, key)

    def all(self) -> dict[str, Any]:
        return dict(sorted(self._memory.items())) if self.store is None else self.store.list_docs(self.kind)


class ProjectManager(ProjectManagerCompat):
    """Projects and templates.

    Parameters
    ----------
    projects_dir:
        Where projects live by default (``<config dir>/projects``; the config
        dir is the store's directory, else ``$CODOMYRMEX_HOME`` or ``~/.codomyrmex``).
    templates_dir:
        A directory of extra templates (``*.yaml``, ``*.yml``, ``*.json``).
    store:
        Where projects and custom templates persist; ``None`` keeps them in memory.
    """

    def __init__(
        self,
        projects_dir: str | None = None,
        templates_dir: str | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        self.store = store
        config = default_config_dir()
        if store is not None and store.path != ":memory:":
            config = Path(store.path).parent
        self.projects_dir = Path(projects_dir).expanduser() if projects_dir else config / "projects"
        self.templates_dir = Path(templates_dir).expanduser() if templates_dir else None
        self._projects = _Docs(store, PROJECT_KIND)
        self._templates = _Docs(store, TEMPLATE_KIND)
        self._lock = threading.RLock()
        self._file_templates = self._load_templates_dir()

    # -- projects -----------------------------------------------------------------------
    def create_project(
        self, name: str, description: str = "", template_name: str | None = None, **kwargs: Any
    ) -> Project:
        """Create a project (and its directory, scaffolded from ``template_name``).

        Keyword arguments: ``path`` (default ``projects_dir/name``),
        ``project_type`` (default: the template's), ``tags``, ``metadata``,
        ``status``, ``author``, and ``docs`` (default True: write README.md and
        AGENTS.md for the project and its directories, never over an existing
        file; see :mod:`~codomyrmex_jupyter.api.documentation`).

        Every project gets ``<path>/.codomyrmex/project.json``
        (:meth:`Project.save`, rewritten on each change; the store stays the
        record). A template also brings its ``required_modules``,
        ``workflows`` and ``default_config`` (as ``config``).

        Raises
        ------
        ContainmentError
            If the name or a template entry would leave the project directory;
            nothing is created.
        WorkflowValidationError
            For a duplicate name, an unknown template or option, or a project
            directory that cannot be created.
        """
        _check_name(name)
        unknown = set(kwargs) - set(_CREATE_OPTIONS)
        if unknown:
            raise _project_error(
                f"unknown option(s) {', '.join(sorted(unknown))}; use {', '.join(_CREATE_OPTIONS)}"
            )
        _check_fields({**kwargs, "description": description})
        with self._lock:
            if self._projects.get(name) is not None:
                raise _project_error(
                    f"Project {name!r} already exists: a project named {name!r} exists; "
                    "pick another name"
                )
            template = self._template_or_error(template_name) if template_name else None
            project = self._new_project(name, description, template, kwargs)
            root = Path(project.path or "")
            owned = self._scaffold(root, template, project)
            self._finish_scaffold(root, template, project, docs=kwargs.get("docs", True))
            self._save(project, owned=owned)
        return project

    def get_project(self, name: str) -> Project | None:
        """The project called ``name``, or ``None``."""
        doc = self._projects.get(name)
        return None if doc is None else Project.from_dict(doc)

    def list_projects(self, status: ProjectStatus | str | None = None) -> list[str]:
        """Names of every project (with that status), sorted."""
        wanted = None if status is None else _coerce(ProjectStatus, status).value
        return sorted(
            key for key, doc in self._projects.all().items()
            if wanted is None or doc.get("status") == wanted
        )

    def update_project(self, name: str, /, **kwargs: Any) -> Project | None:
        """Change fields of a project (and set ``updated_at``); ``None`` if it is unknown.

        Updatable: description, project_type, status (enum or string), path,
        tags, metadata (replaced), template_name.
        """
        unknown = set(kwargs) - set(_UPDATABLE)
        if unknown:
            raise _project_error(
                f"cannot update {', '.join(sorted(unknown))}; updatable: {', '.join(_UPDATABLE)}"
            )
        _check_fields(kwargs)
        with self._lock:
            doc = self._projects.get(name)
            if doc is None:
                return None
            project = Project.from_dict(doc)
            for key, value in kwargs.items():
                setattr(project, key, value)
            project.__post_init__()
            project.updated_at = _now()
            self._save(project, owned=doc.get("_owned"))
        return project

    def delete_project(self, name: str, *, remove_files: bool = False) -> bool:
        """Forget a project; False if unknown.

        ``remove_files=True`` also deletes its directory, but only when
        :meth:`create_project` created that very directory at that path: a
        directory the user pointed ``path`` at, a path changed since with
        :meth:`update_project`, or a directory swapped in at the path is
        never removed (see :mod:`.owned_dirs`); a warning says why.
        """
        with self._lock:
            doc = self._projects.get(name)
            if doc is None:
                return False
            self._projects.delete(name)
        if remove_files:
            self._remove_directory(doc)
        return True

    # -- templates --------------------------------------------------------------------
    def create_template(self, template: ProjectTemplate) -> bool:
        """Add a custom template; False (with a warning) if the name exists or it is invalid."""
        try:
            self._validate_template(template)
        except CodomyrmexError as exc:
            log.warning("template %r not created: %s", template.name, exc)
            return False
        with self._lock:
            if template.name in self.list_templates():
                log.warning("template %r not created: the name exists", template.name)
                return False
            self._templates.put(template.name, template.to_dict())
        return True

    def list_templates(self) -> list[str]:
        """Names of every template (built-in, custom, from ``templates_dir``), sorted."""
        names = {*BUILTIN_TEMPLATES, *self._templates.all(), *self._file_templates}
        return sorted(names)

    def get_template(self, name: str) -> ProjectTemplate | None:
        """The template called ``name`` (the user's first, then built-in), or ``None``."""
        doc = self._templates.get(name)
        if doc is not None:
            return ProjectTemplate.from_dict(doc)
        if name in self._file_templates:
            return self._file_templates[name]
        if name in BUILTIN_TEMPLATES:
            return ProjectTemplate(name=name, **BUILTIN_TEMPLATES[name])
        return None

    def shutdown(self) -> None:
        """Nothing to stop; present so every manager can be shut down alike."""

    # -- internals -----------------------------------------------------------------------
    @staticmethod
    def _validate_template(template: ProjectTemplate) -> None:
        """Raise unless the name is plain and every entry stays inside the project."""
        _check_name(template.name, "template")
        for entry in [*template.directory_structure, *template.files(),
                      *template.template_files.values()]:
            _check_entry(entry)

    def _template_or_error(self, name: str) -> ProjectTemplate:
        template = self.get_template(name)
        if template is None:
            raise _project_error(
                f"Template {name!r} not found: unknown template {name!r}; "
                f"available: {', '.join(self.list_templates())}"
            )
        return template

    def _new_project(
        self, name: str, description: str, template: ProjectTemplate | None, options: dict[str, Any]
    ) -> Project:
        path = options.get("path")
        root = Path(path).expanduser() if path else self.projects_dir / name
        project_type = options.get("project_type") or (
            template.project_type if template else ProjectType.GENERAL
        )
        return Project(
            name=name,
            description=description,
            project_type=project_type,
            status=options.get("status") or ProjectStatus.PLANNING,
            path=str(root.absolute()),
            template_name=template.name if template else None,
            tags=list(options.get("tags") or []),
            metadata=dict(options.get("metadata") or {}),
            author=str(options.get("author") or ""),
            required_modules=list(template.required_modules) if template else [],
            workflows=list(template.workflows) if template else [],
            config=dict(template.default_config) if template else {},
        )

    def _scaffold(
        self, root: Path, template: ProjectTemplate | None, project: Project
    ) -> dict[str, Any] | None:
        """Create the directory and the template's entries.

        Returns the identity of ``root`` when this call created it (see
        :func:`.owned_dirs.claim_directory`), else ``None``.
        """
        base = root.resolve()
        dirs = [_contained(base, d) for d in template.directory_structure] if template else []
        files = [(f, _contained(base, f)) for f in template.files()] if template else []
        existed = root.exists()
        if existed and not root.is_dir():
            raise _project_error(f"project path {root} exists and is not a directory")
        try:
            root.mkdir(parents=True, exist_ok=True)
            for directory in dirs:
                directory.mkdir(parents=True, exist_ok=True)
            for entry, target in files:
                self._write_file(entry, target, template, project)
            owned = None if existed else claim_directory(root, project.id)
        except OSError as exc:
            if not existed:
                shutil.rmtree(root, ignore_errors=True)  # leave nothing half-made
            raise _project_error(
                f"cannot create project files in {root}: {exc.strerror or exc}; "
                "pass path= a writable directory"
            ) from exc
        return owned

    @staticmethod
    def _write_file(
        entry: str, target: Path, template: ProjectTemplate | None, project: Project
    ) -> None:
        if target.exists():
            log.debug("project file %s exists and was left as it is", target)
            return
        assert template is not None
        if entry in template.file_contents:
            text = string.Template(template.file_contents[entry]).safe_substitute(
                name=project.name, description=project.description
            )
        else:
            ctx = StarterContext(
                name=project.name,
                description=project.description or template.description,
                template_name=template.name,
                dependencies=template.dependencies,
                directories=template.directory_structure,
            )
            text = starter_content(entry, ctx)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def _save(self, project: Project, *, owned: dict[str, Any] | None) -> None:
        doc = {**project.to_dict(), "_owns_directory": owned is not None}
        if owned is not None:
            doc["_owned"] = owned
        self._projects.put(project.name, doc)
        if project.path and (Path(project.path) / PROJECT_FILE).parent.is_dir():
            try:  # the project's own copy, for Project.load(path); the store stays the record
                project.save()
            except ProjectError as exc:
                log.warning("%s", exc)

    @staticmethod
    def _remove_directory(doc: dict[str, Any]) -> None:
        why = remove_owned_directory(doc.get("path"), doc.get("_owned"), str(doc.get("id")))
        if why is not None:
            log.warning("project %r: directory left in place: %s", doc.get("name"), why)

    def _load_templates_dir(self) -> dict[str, ProjectTemplate]:
        if self.templates_dir is None:
            return {}
        if not self.templates_dir.is_dir():
            log.warning("templates_dir %s is not a directory; no templates read", self.templates_dir)
            return {}
        out: dict[str, ProjectTemplate] = {}
        for file in sorted(self.templates_dir.iterdir()):
            if file.suffix.lower() in (".yaml", ".yml", ".json"):
                template = _read_template_file(file)
                if template is not None and template.name in BUILTIN_TEMPLATES:
                    log.warning("template file %s skipped: %r is a built-in", file, template.name)
                elif template is not None:
                    out[template.name] = template
        return out


def _read_template_file(file: Path) -> ProjectTemplate | None:
    import yaml  # JSON is YAML, so one safe loader reads both

    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise WorkflowValidationError("the file must hold one mapping of template fields")
        data.setdefault("name", file.stem)
        template = ProjectTemplate.from_dict(data)
        _check_name(template.name, "template")
        for entry in [*template.directory_structure, *template.files()]:
            _check_entry(entry)
    except (OSError, yaml.YAMLError, TypeError, CodomyrmexError) as exc:
        log.warning("template file %s skipped: %s", file, exc)
        return None
    return template
