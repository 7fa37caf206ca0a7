"""Run code written for ``codomyrmex.project_orchestration`` on this package.

One call, once per process, before the old imports run::

    import codomyrmex_jupyter; codomyrmex_jupyter.alias_original_package()

    from codomyrmex.project_orchestration import get_workflow_manager, WorkflowStep
    from codomyrmex.project_orchestration.task_orchestrator import TaskQueue

After it, ``codomyrmex.project_orchestration`` *is* ``codomyrmex_jupyter`` and
``codomyrmex.project_orchestration.<module>`` is ``codomyrmex_jupyter.<module>``
(the same module objects, so classes, singletons and ``isinstance`` agree).
Nothing happens at import time; the alias is opt-in.

How: a finder placed first on :data:`sys.meta_path` answers for the alias
names only and hands back the already-imported real module. When no real
``codomyrmex`` package is installed, an empty stand-in package takes its
place, so ``import codomyrmex.project_orchestration`` works; a real one is
left alone (only its ``project_orchestration`` is redirected).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Sequence

__all__ = ["ORIGINAL_PACKAGE", "alias_original_package", "remove_alias"]

ORIGINAL_PACKAGE = "codomyrmex.project_orchestration"
_TARGET = "codomyrmex_jupyter"
_lock = threading.Lock()


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Resolves ``<alias>[.sub]`` to ``codomyrmex_jupyter[.sub]`` (the same module objects)."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        parts = alias.split(".")
        self.ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
        self.provides_parents = False  # no real parent package: this finder makes empty ones

    def _real_name(self, fullname: str) -> str | None:
        if fullname == self.alias:
            return _TARGET
        if fullname.startswith(self.alias + "."):
            return _TARGET + fullname[len(self.alias):]
        return None

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if self.provides_parents and fullname in self.ancestors:
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        real = self._real_name(fullname)
        if real is None or importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        real = self._real_name(spec.name)
        if real is None:  # an empty parent package (no real one is installed)
            module = types.ModuleType(spec.name, "Empty parent of the aliased original package.")
            module.__path__ = []
            return module
        return importlib.import_module(real)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the real module is already executed."""


def alias_original_package(name: str = ORIGINAL_PACKAGE) -> None:
    """Make ``name`` (and its submodules) import as ``codomyrmex_jupyter`` (idempotent).

    Parameters
    ----------
    name:
        The dotted package name old code imports, by default
        ``"codomyrmex.project_orchestration"``.

    Raises
    ------
    ValueError
        ``name`` is empty or is this package's own name.
    """
    if not name or name.split(".", maxsplit=1)[0] == _TARGET:
        raise ValueError(f"cannot alias {name!r}; give the old package's dotted name")
    with _lock:
        if any(isinstance(f, _AliasFinder) and f.alias == name for f in sys.meta_path):
            return
        finder = _AliasFinder(name)
        if finder.ancestors and finder.ancestors[0] not in sys.modules:
            finder.provides_parents = importlib.util.find_spec(finder.ancestors[0]) is None
        sys.meta_path.insert(0, finder)


def remove_alias(name: str = ORIGINAL_PACKAGE) -> bool:
    """Undo :func:`alias_original_package` for ``name``; False if it was not installed.

    Modules already imported under the alias stay in :data:`sys.modules` under
    those names until they are removed from it too.
    """
    with _lock:
        finders = [f for f in sys.meta_path if isinstance(f, _AliasFinder) and f.alias == name]
        for finder in finders:
            sys.meta_path.remove(finder)
        for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
            del sys.modules[key]
        for finder in finders:
            if finder.provides_parents:
                for ancestor in finder.ancestors:
                    sys.modules.pop(ancestor, None)
        return bool(finders)
