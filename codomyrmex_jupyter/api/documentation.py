"""README.md and AGENTS.md for a project and its directories, from templates.

:class:`DocumentationGenerator` writes four kinds of Markdown file:

==================  ====================  ===========================================
kind                file                  variables (besides any ``extra``)
==================  ====================  ===========================================
``README``          ``<project>/README``  project_name, project_type, project_type_title,
                                          description, version, author, created_at,
                                          directory_links
``AGENTS``          ``<project>/AGENTS``  project_name, project_type, project_type_title,
                                          description, nested_dirs
``README.nested``   ``<dir>/README``      directory_name, purpose, purpose_lower,
                                          parent_link, parent_line, project_name,
                                          project_type
``AGENTS.nested``   ``<dir>/AGENTS``      the same as README.nested
==================  ====================  ===========================================

A template is Markdown with ``{{ variable }}`` fields (spaces inside the
braces are allowed; a field with an unknown name is left as it is). It is looked up
in ``templates_dir`` as ``<template>_<kind>.template.md``, then
``<kind>.template.md``, then the built-in text below: a user's file overrides
the built-in one without any code.

Files are only written inside the directory they document: a nested
directory must be a relative path inside the project, and a file that is a
symlink is never written through. An existing file is left as it is unless
``overwrite=True``. Each ``generate_*`` returns False only when its file could
not be written (the reason is logged).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ContainmentError
from .paths import contained

__all__ = ["DIRECTORY_PURPOSES", "DocumentationGenerator", "render_template"]

log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SAFE_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

# Exact names first, then the first key contained in the name (in this order).
DIRECTORY_PURPOSES: dict[str, str] = {
    "src": "Source code and implementation files",
    "source": "Source code and implementation files",
    "lib": "Library code shared by the project",
    "app": "Application code",
    "api": "API definitions and endpoints",
    "tests": "Test files and test fixtures",
    "test": "Test files and test fixtures",
    "docs": "Documentation files",
    "doc": "Documentation files",
    "config": "Configuration files and settings",
    "configs": "Configuration files and settings",
    "settings": "Configuration files and settings",
    "data": "Data files and datasets",
    "raw": "Raw input data, kept as received",
    "processed": "Processed data derived from the raw data",
    "staging": "Intermediate data between pipeline stages",
    "notebooks": "Jupyter notebooks for exploration and analysis",
    "notebook": "Jupyter notebooks for exploration and analysis",
    "scripts": "Scripts for automation and one-off tasks",
    "models": "Trained models and model artefacts",
    "experiments": "Experiment definitions and their results",
    "reports": "Reports and generated analyses",
    "figures": "Figures and charts",
    "results": "Results of analyses and experiments",
    "output": "Generated output files",
    "outputs": "Generated output files",
    "pipelines": "Data pipeline definitions",
    "templates": "Templates used to generate files",
    "static": "Static assets (styles, scripts, images)",
    "assets": "Static assets (styles, scripts, images)",
    "frontend": "Front-end code",
    "backend": "Back-end code",
    "database": "Database schemas and migrations",
    "deploy": "Deployment configuration",
    "literature": "Papers and references",
    "paper": "The paper and its drafts",
    "examples": "Usage examples",
    "build": "Build outputs",
    "dist": "Distribution packages",
}

_BUILTIN: dict[str, str] = {
    "README": """\
# {{ project_name }}

{{ description }}

| | |
|---|---|
| Type | {{ project_type }} |
| Version | {{ version }} |
| Author | {{ author }} |
| Created | {{ created_at }} |

## Layout

{{ directory_links }}

[AGENTS.md](AGENTS.md) describes how the project is organised and how to work in it.
""",
    "AGENTS": """\
# {{ project_name }}: how this project is organised

{{ description }}

Project type: {{ project_type_title }}. Each directory below has a README.md
(what it holds) and an AGENTS.md (how to work in it).

## Directories

{{ nested_dirs }}

## Conventions

- Keep each kind of file in the directory made for it.
- Update the README.md of a directory when what it holds changes.
""",
    "README.nested": """\
# {{ directory_name }}

{{ purpose }}.

Part of **{{ project_name }}** ({{ project_type }}).

{{ parent_line }}
""",
    "AGENTS.nested": """\
# {{ directory_name }}: working here

What belongs here: {{ purpose_lower }}. Keep files that belong elsewhere out
of it, and update README.md when what this directory holds changes.

Part of **{{ project_name }}** ({{ project_type }}).

{{ parent_line }}
""",
}


def render_template(text: str, variables: Mapping[str, Any]) -> str:
    """Replace each ``{{ name }}`` whose name is in ``variables``; leave the others."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(variables[name]) if name in variables else match.group(0)

    return _PLACEHOLDER.sub(substitute, text)


def _title(project_type: str) -> str:
    return project_type.replace("_", " ").title()


class DocumentationGenerator:
    """Writes README.md and AGENTS.md files from templates.

    Parameters
    ----------
    templates_dir:
        A folder of user templates (created when missing); ``None`` uses
        the built-in templates only.
    """

    def __init__(self, templates_dir: str | Path | None = None) -> None:
        self.templates_dir = Path(templates_dir) if templates_dir is not None else None
        if self.templates_dir is not None:
            self.templates_dir.mkdir(parents=True, exist_ok=True)

    # -- templates ---------------------------------------------------------------------------
    def get_template(self, kind: str, template: str | None = None) -> str:
        """The text of ``kind`` (``README``, ``AGENTS``, ``README.nested``, ``AGENTS.nested``).

        Looks for ``<template>_<kind>.template.md``, then ``<kind>.template.md``
        in ``templates_dir``, then uses the built-in text.
        """
        if kind not in _BUILTIN:
            raise ValueError(f"unknown documentation kind {kind!r}; use one of {', '.join(_BUILTIN)}")
        for path in self._candidates(kind, template):
            try:
                return path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("documentation template %s not readable (%s); skipped", path, exc)
        return _BUILTIN[kind]

    def _candidates(self, kind: str, template: str | None) -> list[Path]:
        if self.templates_dir is None:
            return []
        names = [f"{kind}.template.md"]
        if template and _SAFE_TEMPLATE_NAME.match(template) and ".." not in template:
            names.insert(0, f"{template}_{kind}.template.md")
        return [self.templates_dir / n for n in names]

    # -- one file each -----------------------------------------------------------------------
    def generate_root_readme(  # noqa: PLR0917 - positional, as the original package's
        self,
        project_path: str | Path,
        project_name: str,
        project_type: str,
        description: str,
        version: str,
        author: str,
        created_at: str,
        template: str | None = None,
        *,
        nested_dirs: Sequence[str] = (),
        child_links: bool = True,
        overwrite: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write ``<project_path>/README.md``; an empty ``description`` reads "<Type> project"."""
        root = Path(project_path)
        variables = {
            **self._project_variables(project_name, project_type, description),
            "version": version,
            "author": author,
            "created_at": created_at,
            "directory_links": self._directory_lines(nested_dirs, project_type, "README.md"
                                                     if child_links else None),
            **(extra or {}),
        }
        return self._write(root, "README.md", self.get_template("README", template), variables,
                           overwrite)

    def generate_root_agents(  # noqa: PLR0917 - positional, as the original package's
        self,
        project_path: str | Path,
        project_name: str,
        project_type: str,
        description: str,
        nested_dirs: Sequence[str],
        template: str | None = None,
        *,
        child_links: bool = True,
        overwrite: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write ``<project_path>/AGENTS.md`` with one "- `dir/` – purpose" line per directory."""
        variables = {
            **self._project_variables(project_name, project_type, description),
            "nested_dirs": self._directory_lines(
                nested_dirs, project_type, "AGENTS.md" if child_links else None
            ),
            **(extra or {}),
        }
        return self._write(Path(project_path), "AGENTS.md", self.get_template("AGENTS", template),
                           variables, overwrite)

    def generate_nested_readme(  # noqa: PLR0917 - positional, as the original package's
        self,
        dir_path: str | Path,
        dir_name: str,
        project_name: str,
        project_type: str,
        parent_path: str | Path | None = None,
        template: str | None = None,
        *,
        parent_link: bool = True,
        overwrite: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write ``<dir_path>/README.md`` describing one directory of the project."""
        return self._nested("README", dir_path, dir_name, project_name, project_type,
                            parent_path, template, parent_link, overwrite, extra)

    def generate_nested_agents(  # noqa: PLR0917 - positional, as the original package's
        self,
        dir_path: str | Path,
        dir_name: str,
        project_name: str,
        project_type: str,
        parent_path: str | Path | None = None,
        template: str | None = None,
        *,
        parent_link: bool = True,
        overwrite: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write ``<dir_path>/AGENTS.md`` describing how to work in one directory."""
        return self._nested("AGENTS", dir_path, dir_name, project_name, project_type,
                            parent_path, template, parent_link, overwrite, extra)

    # -- everything --------------------------------------------------------------------------
    def generate_all_documentation(  # noqa: PLR0917 - positional, as the original package's
        self,
        project_path: str | Path,
        project_name: str,
        project_type: str,
        description: str,
        version: str,
        author: str,
        created_at: str,
        nested_dirs: Sequence[str],
        template: str | None = None,
        doc_links: Mapping[str, Any] | None = None,
        *,
        overwrite: bool = False,
    ) -> bool:
        """Write the root README.md and AGENTS.md, then both for each nested directory.

        ``nested_dirs`` are relative to ``project_path`` (a trailing "/" is
        ignored); one that does not exist is skipped, one that would leave the
        project counts as a failure. ``doc_links``: ``enabled`` (False writes
        the root files only), ``parent_link`` and ``child_links`` (links between
        the files). Returns True only if every file was written.
        """
        links = {"enabled": True, "parent_link": True, "child_links": True, **(doc_links or {})}
        root = Path(project_path)
        dirs = [d.rstrip("/\\") for d in nested_dirs if d.rstrip("/\\")]
        children = [d for d in dirs if self._is_inside_dir(root, d)]
        child_links = bool(links["child_links"])
        ok = self.generate_root_readme(
            root, project_name, project_type, description, version, author, created_at, template,
            nested_dirs=children, child_links=child_links, overwrite=overwrite,
        )
        ok &= self.generate_root_agents(
            root, project_name, project_type, description, children, template,
            child_links=child_links, overwrite=overwrite,
        )
        if not links["enabled"]:
            return ok
        for rel in dirs:
            try:
                directory = contained(root.resolve(), rel)
            except ContainmentError as exc:
                log.warning("documentation for %r not written: %s", rel, exc)
                ok = False
                continue
            if not directory.is_dir():
                log.debug("documentation for %s skipped: not a directory", directory)
                continue
            for kind in ("README", "AGENTS"):
                ok &= self._nested(kind, directory, rel, project_name, project_type, root.resolve(),
                                   template, bool(links["parent_link"]), overwrite, None)
        return ok

    # -- helpers ---------------------------------------------------------------------------------
    def _get_directory_purpose(self, dir_name: str, project_type: str) -> str:
        """A phrase for what a directory holds: its exact name first, then a known part of it."""
        name = Path(dir_name.rstrip("/\\")).name.lower()
        purpose = DIRECTORY_PURPOSES.get(name)
        if purpose is None:
            purpose = next((p for key, p in DIRECTORY_PURPOSES.items() if key in name), None)
        return purpose or f"Files and resources for {Path(dir_name.rstrip('/')).name}"

    @staticmethod
    def _project_variables(name: str, project_type: str, description: str) -> dict[str, Any]:
        title = _title(project_type)
        return {
            "project_name": name,
            "project_type": project_type,
            "project_type_title": title,
            "description": description or f"{title} project",
        }

    def _directory_lines(self, dirs: Sequence[str], project_type: str, link: str | None) -> str:
        lines = []
        for d in dirs:
            rel = d.rstrip("/\\")
            label = f"[`{rel}/`]({rel}/{link})" if link else f"`{rel}/`"
            lines.append(f"- {label} – {self._get_directory_purpose(rel, project_type)}")
        return "\n".join(lines) if lines else "_No directories yet._"

    @staticmethod
    def _is_inside_dir(root: Path, rel: str) -> bool:
        try:
            return contained(root.resolve(), rel).is_dir()
        except ContainmentError:
            return False

    def _nested(  # noqa: PLR0917 - mirrors the generate_nested_* signatures
        self,
        kind: str,
        dir_path: str | Path,
        dir_name: str,
        project_name: str,
        project_type: str,
        parent_path: str | Path | None,
        template: str | None,
        parent_link: bool,
        overwrite: bool,
        extra: Mapping[str, Any] | None,
    ) -> bool:
        directory = Path(dir_path)
        file_name = f"{kind}.md"
        depth = 1
        if parent_path is not None:
            try:
                depth = len(directory.resolve().relative_to(Path(parent_path).resolve()).parts)
            except ValueError:
                log.warning("%s is not inside %s; its parent link assumes one level", directory,
                            parent_path)
        purpose = self._get_directory_purpose(dir_name, project_type)
        link = "../" * max(depth, 1) + file_name
        variables = {
            "directory_name": dir_name.rstrip("/\\"),
            "purpose": purpose,
            "purpose_lower": purpose[:1].lower() + purpose[1:],
            "parent_link": link,
            "parent_line": f"Up: [{file_name}]({link})" if parent_link else "",
            "project_name": project_name,
            "project_type": project_type,
            **(extra or {}),
        }
        text = self.get_template(f"{kind}.nested", template)
        return self._write(directory, file_name, text, variables, overwrite)

    @staticmethod
    def _write(
        directory: Path, file_name: str, template: str, variables: Mapping[str, Any],
        overwrite: bool,
    ) -> bool:
        target = directory / file_name
        if target.is_symlink():
            log.warning("%s is a symlink; documentation is never written through one", target)
            return False
        if target.exists() and not overwrite:
            log.debug("%s exists and was left as it is", target)
            return True
        try:
            target.write_text(render_template(template, variables), encoding="utf-8")
        except OSError as exc:
            log.warning("%s not written: %s", target, exc.strerror or exc)
            return False
        return True
