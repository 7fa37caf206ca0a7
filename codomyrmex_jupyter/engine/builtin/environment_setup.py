"""``environment_setup.check_environment``: what interpreter and packages a run has.

The report is plain JSON-ready data, so it is stored with the run and a later
reader can tell which versions produced a result.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Iterable
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..actions import ActionRegistry

__all__ = ["DEFAULT_PACKAGES", "REQUIRED_PACKAGES", "check_environment", "register"]

# What the notebook surface needs to work at all; the rest are optional extras.
REQUIRED_PACKAGES: tuple[str, ...] = ("ipython", "ipywidgets", "networkx", "matplotlib", "pyyaml")
DEFAULT_PACKAGES: tuple[str, ...] = (
    "ipython",
    "ipykernel",
    "ipywidgets",
    "jupyterlab",
    "networkx",
    "matplotlib",
    "pyyaml",
    "dask",
    "distributed",
)


def check_environment(
    packages: list[str] | str | None = None,
    required: list[str] | str | None = None,
) -> dict[str, Any]:
    """Describe the interpreter, the platform and the installed package versions.

    Parameters
    ----------
    packages:
        Distribution names to look up (``"pyyaml"``, not ``"yaml"``); defaults
        to :data:`DEFAULT_PACKAGES`. A single name may be given as a string.
    required:
        Names that must be installed for ``ok`` to be true; defaults to
        :data:`REQUIRED_PACKAGES`. They are always looked up.

    Returns
    -------
    dict
        ``python`` (version, implementation, executable), ``platform`` (system,
        release, machine), ``packages`` (name -> version or ``None``),
        ``cpu_count``, ``required``, ``missing`` (names not installed) and
        ``ok`` (every required package is installed).

    Examples
    --------
    >>> report = check_environment(["pip"], required=[])
    >>> report["ok"], sorted(report["packages"])
    (True, ['pip'])
    """
    wanted = _names(packages, DEFAULT_PACKAGES, "packages")
    needed = _names(required, REQUIRED_PACKAGES, "required")
    versions = {name: _version(name) for name in _unique([*wanted, *needed])}
    missing = [name for name, version in versions.items() if version is None]
    return {
        "python": _python_info(),
        "platform": _platform_info(),
        "packages": versions,
        "cpu_count": os.cpu_count() or 1,
        "required": needed,
        "missing": missing,
        "ok": not any(versions[name] is None for name in needed),
    }


def _names(value: Iterable[str] | str | None, default: tuple[str, ...], what: str) -> list[str]:
    """Normalise a package list parameter, rejecting anything but names."""
    if value is None:
        return list(default)
    names = [value] if isinstance(value, str) else list(value)
    bad = [n for n in names if not isinstance(n, str) or not n.strip()]
    if bad:
        raise ValueError(f"{what} must be a list of package names; got {bad[0]!r}")
    return [n.strip() for n in names]


def _unique(names: list[str]) -> list[str]:
    """Drop repeats but keep the caller's order, so the report reads as asked."""
    return list(dict.fromkeys(names))


def _version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _python_info() -> dict[str, str]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def _platform_info() -> dict[str, str]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
    }


def register(registry: ActionRegistry) -> None:
    """Register ``environment_setup.check_environment`` with ``registry``."""
    registry.register("environment_setup", "check_environment", check_environment)
