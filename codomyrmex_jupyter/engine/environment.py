"""What a run ran on: the interpreter, the platform and the versions of the packages used.

A version is looked up once per package and process, cheapest first: the
module's ``__version__``, then the distribution of the same name, then the
distribution that provides the module (``packages_distributions``, which reads
every installed package's metadata once: tens of milliseconds, so it is the last
resort). Standard-library modules and ``__main__`` have no version of their
own; the Python version stands for them.
"""

from __future__ import annotations

import platform
import sys
import threading
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from typing import Any

__all__ = ["PACKAGE", "environment", "package_version"]

PACKAGE = "codomyrmex_jupyter"
_SKIP = frozenset({"", "__main__", "builtins", "__mp_main__"})
_lock = threading.Lock()
_versions: dict[str, str | None] = {}


@cache
def _distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def _find_version(name: str) -> str | None:
    module = sys.modules.get(name)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, ValueError):
        pass
    for dist in _distributions().get(name, []):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def package_version(name: str) -> str | None:
    """The installed version of top-level package ``name`` (``None`` when it has none)."""
    if name in _SKIP or name in sys.stdlib_module_names:
        return None
    with _lock:
        if name in _versions:
            return _versions[name]
    version = _find_version(name)
    with _lock:
        _versions[name] = version
    return version


def environment(modules: Iterable[str] = ()) -> dict[str, Any]:
    """The run's environment: Python, platform, and versions of ``modules`` and this package."""
    names = sorted({*modules, PACKAGE} - _SKIP)
    packages = {n: v for n in names if (v := package_version(n)) is not None}
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
    }
