"""Workflow definitions as ``<name>.json`` files, in the original package's format.

The original orchestration package kept one file per workflow::

    {"name": "etl",
     "steps": [{"name": "load", "module": "io", "action": "read", "parameters": {},
                "dependencies": [], "timeout": null, "retry_count": 0, "max_retries": 3}]}

This module reads such files (so a folder of old definitions loads) and writes
them (so a definition can go back to code that expects them). Reading is
forgiving per file and strict per definition: a file that is not JSON, has no
``name``/``steps``, or describes an invalid workflow is skipped with a warning
naming the file and the reason; the other files still load.

Writing never leaves the folder it is given (the workflow name must be a plain
file name) and never replaces an existing file unless asked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..engine.graph import compile_graph
from ..errors import CodomyrmexError, ContainmentError, NotStorableError
from .workflow_models import WorkflowStep, step_from_dict

__all__ = ["read_workflow_file", "read_workflow_folder", "workflow_document", "write_workflow_file"]

log = logging.getLogger(__name__)

# The file Project.save writes into <project>/.codomyrmex/, which may be a config dir too.
_PROJECT_RECORD = "project.json"


def workflow_document(name: str, steps: Sequence[WorkflowStep]) -> dict[str, Any]:
    """The original's JSON document of a workflow (every step field spelled out)."""
    return {"name": name, "steps": [_step_document(s) for s in steps]}


def _step_document(step: WorkflowStep) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": step.name,
        "module": step.module,
        "action": step.action,
        "parameters": dict(step.parameters),
        "dependencies": list(step.dependencies),
        "timeout": step.timeout,
        "retry_count": step.retry_count,
        "max_retries": step.max_retries,
    }
    if step.resources:  # ours only; left out when unused so the original can read the file
        doc["resources"] = dict(step.resources)
    if step.priority:
        doc["priority"] = int(step.priority)
    return doc


def read_workflow_file(path: Path) -> tuple[str, list[WorkflowStep]] | None:
    """``(name, steps)`` of one file, or ``None`` (with a warning saying why)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("workflow file %s skipped: not readable JSON (%s)", path, exc)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        log.warning("workflow file %s skipped: it has no \"name\"", path)
        return None
    if not isinstance(data.get("steps"), list):
        log.warning("workflow file %s skipped: it has no \"steps\" list", path)
        return None
    try:
        steps = [step_from_dict(s) for s in data["steps"]]
        compile_graph(steps)
    except CodomyrmexError as exc:
        log.warning("workflow file %s skipped: %s", path, exc)
        return None
    return data["name"], steps


def read_workflow_folder(folder: Path) -> dict[str, list[WorkflowStep]]:
    """Every valid workflow file (``*.json``) of ``folder``, by workflow name, in file order.

    A missing folder reads as empty. When two files name the same workflow,
    the first (by file name) wins and the other is skipped with a warning.
    """
    out: dict[str, list[WorkflowStep]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        if path.name == _PROJECT_RECORD:
            continue  # a project's own record (Project.save), not a workflow
        entry = read_workflow_file(path)
        if entry is None:
            continue
        name, steps = entry
        if name in out:
            log.warning("workflow file %s skipped: workflow %r was already read", path, name)
            continue
        out[name] = steps
    return out


def _file_name(name: str) -> str:
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ContainmentError(
            f"workflow name {name!r} cannot be a file name; rename it to export it", path=name
        )
    return f"{name}.json"


def write_workflow_file(
    folder: Path, name: str, steps: Sequence[WorkflowStep], *, overwrite: bool = False
) -> Path:
    """Write ``<folder>/<name>.json`` and return its path.

    Raises
    ------
    ContainmentError
        The name is not a plain file name (it would leave ``folder``).
    FileExistsError
        The file exists and ``overwrite`` is False.
    NotStorableError
        A parameter is not JSON (nothing is written).
    """
    path = Path(folder) / _file_name(name)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    try:
        text = json.dumps(workflow_document(name, steps), indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise NotStorableError(
            f"workflow {name!r} cannot be written as JSON: {exc}; use JSON-friendly parameters"
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
