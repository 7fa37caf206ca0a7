"""Directories this package created, and removing them without ever touching anything else.

When :class:`~.projects.ProjectManager` creates a project directory it
*claims* it: it writes a marker file inside (``.codomyrmex-project``, holding
the project's id) and records the directory's identity (absolute path,
device and inode). Removing it later is allowed only when all of these still
hold:

* the project's path is still the one it was created at (a path changed
  with ``update_project(path=...)`` is never followed);
* that path is a real directory, not a symlink, with the recorded device
  and inode;
* the marker inside is a regular file holding the project's id.

The directory is then renamed to a hidden name beside it (one atomic step),
checked again under that name, and only then removed; so a directory
swapped in at the path between the checks is never the one deleted.
``shutil.rmtree`` does not follow symlinks inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any

__all__ = ["MARKER", "claim_directory", "remove_owned_directory"]

MARKER = ".codomyrmex-project"


def claim_directory(root: Path, project_id: str) -> dict[str, Any]:
    """Mark ``root`` (just created by us) as ours; return its identity to record."""
    (root / MARKER).write_text(json.dumps({"project_id": project_id}) + "\n", encoding="utf-8")
    st = os.lstat(root)
    return {"path": str(root.absolute()), "dev": st.st_dev, "ino": st.st_ino}


def _same(st: os.stat_result, identity: dict[str, Any]) -> bool:
    return stat.S_ISDIR(st.st_mode) and (st.st_dev, st.st_ino) == (identity["dev"], identity["ino"])


def _marker_id(root: Path) -> str | None:
    try:
        fd = os.open(root / MARKER, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(fd, encoding="utf-8") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        try:
            value = json.loads(f.read(4096)).get("project_id")
        except (ValueError, AttributeError):
            return None
    return value if isinstance(value, str) else None


def _refusal(root: Path, identity: dict[str, Any], project_id: str) -> str | None:
    try:
        st = os.lstat(root)
    except OSError as exc:
        return f"{root} cannot be examined ({exc.strerror or exc})"
    if not _same(st, identity):
        return f"{root} is no longer the directory that was created there"
    if _marker_id(root) != project_id:
        return f"{root} does not hold this project's marker file {MARKER}"
    return None


def remove_owned_directory(
    path: str | None, identity: dict[str, Any] | None, project_id: str
) -> str | None:
    """Remove the project directory if it is provably the one we created.

    Returns ``None`` when it was removed, else why it was left in place (one
    line, for a warning).
    """
    if not path or not identity:
        return f"the project directory {path} was not created by this package"
    root = Path(path)
    if str(root.absolute()) != identity.get("path"):
        return f"the project path changed to {path} since {identity.get('path')} was created"
    why = _refusal(root, identity, project_id)
    return why if why is not None else _move_aside_and_remove(root, identity)


def _move_aside_and_remove(root: Path, identity: dict[str, Any]) -> str | None:
    grave = root.with_name(f".{root.name}.removing-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(root, grave)  # atomic: from here on the name cannot be swapped under us
        if not _same(os.lstat(grave), identity):  # something was swapped in before the rename
            os.rename(grave, root)
            return f"{root} changed while it was being removed"
    except OSError as exc:
        return f"{root} could not be moved aside for removal ({exc.strerror or exc})"
    shutil.rmtree(grave)
    return None
