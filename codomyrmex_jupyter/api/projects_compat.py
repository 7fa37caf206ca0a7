"""The original package's ProjectManager surface, on top of ours.

:class:`ProjectManagerCompat` is a mixin of
:class:`~codomyrmex_jupyter.api.projects.ProjectManager`:

* ``projects`` -- ``{name: Project}``, a live view of the stored projects.
  Assigning ``projects[name] = project`` records that project (its directory
  is not scaffolded); ``del projects[name]`` forgets it. The values are
  snapshots: change a project with ``update_project`` (or assign it again);
* ``templates`` -- ``{name: ProjectTemplate}`` of the user's templates (custom
  ones and those read from ``templates_dir``; not the built-ins), live and
  writable; :meth:`get_template` and ``create_project`` consult them first;
* ``doc_generator`` -- the :class:`~codomyrmex_jupyter.api.documentation.DocumentationGenerator`
  project creation uses (user templates in ``<templates_dir>/doc_templates``);
* :meth:`save_template`, :meth:`update_project_metrics`,
  :meth:`add_project_milestone`, :meth:`get_project_status`,
  :meth:`get_projects_summary` and :meth:`archive_project`.
"""

from __future__ import annotations

import json
import logging
import shutil
import tarfile
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CodomyrmexError, ProjectError
from .documentation import DocumentationGenerator
from .live_views import MISSING, LiveDict
from .paths import contained
from .project_models import PROJECT_FILE, Project, ProjectStatus, ProjectTemplate, _now
from .project_templates import BUILTIN_TEMPLATES

if TYPE_CHECKING:
    from .projects import _Docs

__all__ = ["ProjectManagerCompat"]

log = logging.getLogger("codomyrmex_jupyter.api.projects")


class ProjectManagerCompat:
    """Mixin: the original ProjectManager's attributes and methods."""

    # Provided by ProjectManager.
    projects_dir: Path
    templates_dir: Path | None
    _projects: _Docs
    _templates: _Docs
    _file_templates: dict[str, ProjectTemplate]
    _lock: threading.RLock
    get_project: Callable[[str], Project | None]
    list_projects: Callable[..., list[str]]
    delete_project: Callable[..., bool]
    _save: Callable[..., None]
    _validate_template: Callable[[ProjectTemplate], None]

    # -- attributes -------------------------------------------------------------------------
    @property
    def projects(self) -> LiveDict[str, Project]:
        """Every project by name (live; writable: assigning records a project)."""
        return LiveDict(
            "ProjectManager.projects", self.list_projects, self._project_or_missing,
            set=self._record_project, delete=self.delete_project,
        )

    def _project_or_missing(self, name: Any) -> Any:
        project = self.get_project(name) if isinstance(name, str) else None
        return MISSING if project is None else project

    def _record_project(self, name: str, project: Project) -> None:
        if not isinstance(project, Project):
            raise ProjectError(f"projects[{name!r}] takes a Project, not {type(project).__name__}")
        if project.name != name:
            raise ProjectError(
                f"projects[{name!r}] = Project(name={project.name!r}): the key must be its name",
                project=name,
            )
        with self._lock:
            doc = self._projects.get(name)
            # the directory's identity goes with the record: a changed path is never followed
            self._save(project, owned=doc.get("_owned") if doc else None)

    @property
    def templates(self) -> LiveDict[str, ProjectTemplate]:
        """The user's templates by name (custom and ``templates_dir`` ones; live, writable)."""
        return LiveDict(
            "ProjectManager.templates", self._user_template_names, self._user_template_or_missing,
            set=self._put_template, delete=self._drop_template,
        )

    def _user_template_names(self) -> list[str]:
        return sorted({*self._templates.all(), *self._file_templates})

    def _user_template_or_missing(self, name: Any) -> Any:
        if not isinstance(name, str):
            return MISSING
        doc = self._templates.get(name)
        if doc is not None:
            return ProjectTemplate.from_dict(doc)
        return self._file_templates.get(name, MISSING)

    def _put_template(self, name: str, template: ProjectTemplate) -> None:
        if not isinstance(template, ProjectTemplate) or template.name != name:
            raise ProjectError(f"templates[{name!r}] takes a ProjectTemplate named {name!r}")
        self._validate_template(template)
        with self._lock:
            self._templates.put(name, template.to_dict())

    def _drop_template(self, name: str) -> bool:
        with self._lock:
            dropped = self._templates.delete(name)
            return self._file_templates.pop(name, None) is not None or dropped

    @cached_property
    def doc_generator(self) -> DocumentationGenerator:
        """Writes README.md/AGENTS.md when a project is created.

        User templates are read from ``<templates_dir>/doc_templates``.
        """
        folder = self.templates_dir / "doc_templates" if self.templates_dir is not None else None
        return DocumentationGenerator(folder)

    @property
    def logger(self) -> logging.Logger:
        """The logger this manager writes to."""
        return log

    # -- creation -----------------------------------------------------------------------------
    def _finish_scaffold(
        self, root: Path, template: ProjectTemplate | None, project: Project, *, docs: bool
    ) -> None:
        """Make ``.codomyrmex/``, copy the template's files and write the documentation."""
        try:
            (root / PROJECT_FILE).parent.mkdir(exist_ok=True)
        except OSError as exc:
            log.warning("project %r: %s not created: %s", project.name, PROJECT_FILE.parent, exc)
        if template is None:
            return
        self._copy_template_files(root, template)
        if docs:
            self._write_docs(root, template, project)

    def _copy_template_files(self, root: Path, template: ProjectTemplate) -> None:
        """Copy ``<templates_dir>/<template>/<pattern>`` matches into their destination folders."""
        if not template.template_files or self.templates_dir is None:
            return
        source = (self.templates_dir / template.name).resolve()
        if not source.is_dir():
            log.warning("template %r: %s has no files to copy", template.name, source)
            return
        base = root.resolve()
        for pattern, destination in template.template_files.items():
            for found in sorted(source.glob(pattern)):
                real = found.resolve()
                if not real.is_file() or source not in real.parents:
                    continue  # a folder, or a link out of the template's folder
                target = contained(base, f"{destination.rstrip('/')}/{found.name}")
                if target.exists():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(real, target)

    def _write_docs(self, root: Path, template: ProjectTemplate, project: Project) -> None:
        config = template.documentation_config
        if config:
            nested = list(config.get("nested_docs") or [])
            links = dict(config.get("doc_links") or template.doc_links)
        else:
            nested = [d for d in template.directory_structure
                      if d.strip("/\\") and d.strip("/\\") != PROJECT_FILE.parent.name]
            links = dict(template.doc_links)
        written = self.doc_generator.generate_all_documentation(
            root, project.name, project.project_type.value, project.description,
            project.version, project.author, project.created_at.isoformat(), nested,
            template=template.name, doc_links=links,
        )
        if not written:
            log.warning("project %r: some documentation files were not written", project.name)

    # -- templates on disk ------------------------------------------------------------------
    def save_template(self, template: ProjectTemplate) -> bool:
        """Write ``<templates_dir>/<name>.json`` (the original's format) and use it from now on.

        Returns False, with a warning, when there is no ``templates_dir``, the
        template is invalid or the file cannot be written.
        """
        if self.templates_dir is None:
            log.warning("template %r not saved: this manager has no templates_dir", template.name)
            return False
        if template.name in BUILTIN_TEMPLATES:
            log.warning("template %r not saved: it is a built-in template's name; pick another",
                        template.name)
            return False
        try:
            self._validate_template(template)
            self.templates_dir.mkdir(parents=True, exist_ok=True)
            target = self.templates_dir / f"{template.name}.json"
            target.write_text(json.dumps(template.to_dict(), indent=2) + "\n", encoding="utf-8")
        except (CodomyrmexError, OSError, TypeError, ValueError) as exc:
            log.warning("template %r not saved: %s", template.name, exc)
            return False
        with self._lock:
            self._file_templates[template.name] = template
        return True

    # -- project records --------------------------------------------------------------------
    def _change(self, name: str, change: Callable[[Project], None]) -> bool:
        with self._lock:
            doc = self._projects.get(name)
            if doc is None:
                return False
            project = Project.from_dict(doc)
            change(project)
            project.updated_at = _now()
            self._save(project, owned=doc.get("_owned"))
        return True

    def update_project_metrics(self, name: str, metrics: dict[str, Any]) -> bool:
        """Merge ``metrics`` into the project's metrics; False if the project is unknown."""
        return self._change(name, lambda p: p.metrics.update(metrics))

    def add_project_milestone(
        self, name: str, milestone_name: str, milestone_data: dict[str, Any] | None = None
    ) -> bool:
        """Record ``milestones[milestone_name]`` (with ``completed_at``); False if unknown."""
        entry = {**(milestone_data or {}), "completed_at": _now().isoformat()}
        return self._change(name, lambda p: p.milestones.__setitem__(milestone_name, entry))

    def get_project_status(self, name: str) -> dict[str, Any] | None:
        """A summary of one project (the original's keys), or ``None`` if unknown."""
        project = self.get_project(name)
        if project is None:
            return None
        updated = project.updated_at or project.created_at
        return {
            "name": project.name,
            "status": project.status.value,
            "type": project.project_type.value,
            "version": project.version,
            "path": project.path,
            "workflows": len(project.workflows),
            "active_workflows": len(project.active_workflows),
            "required_modules": list(project.required_modules),
            "created_at": project.created_at.isoformat(),
            "updated_at": updated.isoformat(),
            "milestones": dict(project.milestones),
            "metrics": dict(project.metrics),
        }

    def get_projects_summary(self) -> dict[str, Any]:
        """``total_projects``, counts ``by_status`` and ``by_type``, and ``recent_activity``."""
        projects = [p for p in (self.get_project(n) for n in self.list_projects()) if p]
        by_status: dict[str, int] = {}
        by_type: dict[str, int] = {}
        for p in projects:
            by_status[p.status.value] = by_status.get(p.status.value, 0) + 1
            by_type[p.project_type.value] = by_type.get(p.project_type.value, 0) + 1
        recent = sorted(
            ({"name": p.name, "status": p.status.value,
              "updated_at": (p.updated_at or p.created_at).isoformat()} for p in projects),
            key=lambda r: r["updated_at"], reverse=True,
        )
        return {"total_projects": len(projects), "by_status": by_status, "by_type": by_type,
                "recent_activity": recent[:10]}

    def archive_project(self, name: str, archive_path: str | Path | None = None) -> bool:
        """Pack the project's directory into a ``.tar.gz`` and mark it ARCHIVED.

        The archive goes to ``archive_path`` (default
        ``<projects_dir>/archives/<name>.tar.gz``) and never replaces an
        existing file. Returns False, with a warning, for an unknown project,
        a project without a directory, or an archive that cannot be written.
        """
        project = self.get_project(name)
        if project is None or not project.path or not Path(project.path).is_dir():
            log.warning("project %r not archived: unknown, or it has no directory", name)
            return False
        target = Path(archive_path) if archive_path else self.projects_dir / "archives" / f"{name}.tar.gz"
        if target.exists():
            log.warning("project %r not archived: %s exists", name, target)
            return False
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tarfile.open(target, "w:gz") as tar:
                tar.add(project.path, arcname=name)
        except OSError as exc:
            target.unlink(missing_ok=True)  # ours, half-written
            log.warning("project %r not archived: %s", name, exc)
            return False
        return self._change(name, lambda p: setattr(p, "status", ProjectStatus.ARCHIVED))
