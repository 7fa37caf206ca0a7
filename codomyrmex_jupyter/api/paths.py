"""Paths that must stay inside a directory (a project, a templates folder).

Every template entry and every generated file goes through :func:`contained`:
absolute paths, ``..`` and symlinks that lead out are refused with
:class:`~codomyrmex_jupyter.errors.ContainmentError` before anything is
written.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import ContainmentError

__all__ = ["check_entry", "contained"]


def check_entry(entry: str) -> PurePosixPath:
    """The entry as a relative path; raise if it is empty, absolute or climbs with ``..``."""
    if not isinstance(entry, str) or not entry.strip():
        raise ContainmentError("template entries must be non-empty relative paths", path=str(entry))
    win = PureWindowsPath(entry)
    pure = PurePosixPath(entry.replace("\\", "/"))
    if pure.is_absolute() or win.is_absolute() or win.drive:
        raise ContainmentError(
            f"template entry {entry!r} is absolute; make it relative to the project", path=entry
        )
    if ".." in pure.parts:
        raise ContainmentError(
            f"template entry {entry!r} climbs out with '..'; keep it inside the project", path=entry
        )
    return pure


def contained(base: Path, entry: str) -> Path:
    """Where ``entry`` lands under ``base`` (resolved), refusing symlinks that lead out."""
    target = (base / check_entry(entry)).resolve()
    if target != base and base not in target.parents:
        raise ContainmentError(
            f"template entry {entry!r} resolves to {target}, outside the project {base} "
            "(through a symlink); remove the link or change the entry",
            path=entry,
        )
    return target
