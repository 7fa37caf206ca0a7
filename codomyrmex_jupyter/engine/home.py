"""Where the store lives: found the way git finds its repository.

In order:

1. an explicit ``config_dir`` (``WorkflowManager(config_dir=...)``);
2. ``$CODOMYRMEX_HOME``;
3. the nearest ``.codomyrmex/`` folder in the working directory or one of its
   parents (``%orchestrate init`` creates one), so each project keeps its own
   runs and notebooks do not see each other's;
4. ``~/.codomyrmex``.

:func:`locate_config_dir` says which one and why; ``%orchestrate config``
shows it. :func:`init_project_dir` makes a folder a project.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_VAR", "PROJECT_DIR", "ConfigLocation", "init_project_dir", "locate_config_dir"]

ENV_VAR = "CODOMYRMEX_HOME"
PROJECT_DIR = ".codomyrmex"
_README = (
    "This folder holds codomyrmex_jupyter's store for the project around it: workflow\n"
    "definitions and recorded runs (codomyrmex.sqlite3). Notebooks in this folder and\n"
    "below use it. Delete the folder to forget them.\n"
)


@dataclass(frozen=True)
class ConfigLocation:
    """A config dir and how it was chosen.

    Attributes
    ----------
    path:
        The directory (it may not exist yet).
    source:
        ``"config_dir"``, ``"CODOMYRMEX_HOME"``, ``"project"`` or ``"default"``.
    why:
        One sentence for people.
    """

    path: Path
    source: str
    why: str


def _nearest_project_dir(start: Path, home: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / PROJECT_DIR
        if candidate.is_dir() and candidate != home / PROJECT_DIR:
            return candidate
    return None


def locate_config_dir(
    config_dir: str | os.PathLike[str] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConfigLocation:
    """The config dir to use and why (see the module docstring for the order)."""
    if config_dir is not None:
        return ConfigLocation(Path(config_dir).expanduser(), "config_dir", "given as config_dir")
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value:
        return ConfigLocation(Path(value).expanduser(), ENV_VAR, f"${ENV_VAR} is set")
    home = Path.home()
    start = Path(cwd if cwd is not None else os.getcwd()).resolve()
    found = _nearest_project_dir(start, home)
    if found is not None:
        where = (
            "the working directory" if found.parent == start
            else f"{found.parent}, a parent of the working directory"
        )
        return ConfigLocation(found, "project", f"the nearest {PROJECT_DIR}/ folder, in {where}")
    return ConfigLocation(
        home / PROJECT_DIR, "default",
        f"the default: no config_dir, no ${ENV_VAR}, "
        f"no {PROJECT_DIR}/ folder in the working directory or its parents",
    )


def init_project_dir(folder: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """Create ``<folder>/.codomyrmex/`` (the working directory by default).

    Returns the directory and whether it was created (``False``: it existed).

    Raises
    ------
    FileExistsError
        ``<folder>/.codomyrmex`` exists and is not a directory.
    """
    target = Path(folder if folder is not None else os.getcwd()).expanduser().resolve() / PROJECT_DIR
    if target.is_dir():
        return target, False
    if target.exists():
        raise FileExistsError(f"{target} exists and is not a folder; move it away first")
    target.mkdir(parents=True)
    (target / "README").write_text(_README, encoding="utf-8")
    return target, True
