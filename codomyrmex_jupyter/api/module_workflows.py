"""Workflows defined by Python modules: what an exported notebook workflow registers on import.

An exported module (``%orchestrate export``) registers its step functions
with ``@action`` and its definition with :func:`register_workflow`, so that
importing it is enough for any :class:`~.workflow_manager.WorkflowManager` in
the process to run the workflow by name.

A manager looks a name up in this order: what was defined in this process
(``%%workflow``, ``create_workflow``), then these module definitions, then
its store. The first time a manager uses a module definition it stores it as
a new version (origin ``"module"``) unless the store's current definition is
already the same, so runs record the version they ran and other processes
(a kernel's ``%orchestrate history``) see the same steps.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..engine.graph import compile_graph
from ..errors import WorkflowValidationError
from .workflow_models import WorkflowStep

if TYPE_CHECKING:
    from ..engine.store import Store

__all__ = [
    "ModuleWorkflow", "module_workflow", "module_workflows", "register_workflow", "stored_version",
]


@dataclass(frozen=True)
class ModuleWorkflow:
    """A definition registered by a module.

    Attributes
    ----------
    name:
        Workflow name.
    steps:
        Its steps.
    module:
        ``__name__`` of the module that registered it.
    source:
        That module's text (stored with the definition), when readable.
    """

    name: str
    steps: tuple[WorkflowStep, ...]
    module: str
    source: str | None = None


_lock = threading.Lock()
_registered: dict[str, ModuleWorkflow] = {}


def _caller_module(depth: int = 2) -> str:
    return str(sys._getframe(depth).f_globals.get("__name__", "?"))


def _module_source(module: str) -> str | None:
    path = getattr(sys.modules.get(module), "__file__", None)
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def register_workflow(name: str, steps: Sequence[WorkflowStep], *, module: str | None = None) -> None:
    """Make workflow ``name`` runnable by name in this process.

    Parameters
    ----------
    name:
        Workflow name.
    steps:
        Its steps; validated now (names, dependencies, cycles).
    module:
        The module defining it (default: the caller's ``__name__``).

    Raises
    ------
    WorkflowValidationError
        An empty name, a step that is not a ``WorkflowStep``, an unknown
        dependency or a cycle.
    """
    if not isinstance(name, str) or not name.strip():
        raise WorkflowValidationError("a workflow needs a non-empty name")
    for i, s in enumerate(steps):
        if not isinstance(s, WorkflowStep):
            raise WorkflowValidationError(f"step #{i + 1} is a {type(s).__name__}; use WorkflowStep(...)")
    compile_graph(list(steps))
    owner = module or _caller_module()
    entry = ModuleWorkflow(name, tuple(steps), owner, _module_source(owner))
    with _lock:
        _registered[name] = entry


def module_workflow(name: str) -> ModuleWorkflow | None:
    """The module definition of ``name``, or ``None``."""
    return _registered.get(name)


def module_workflows() -> dict[str, ModuleWorkflow]:
    """Every module definition, by name."""
    with _lock:
        return dict(_registered)


def stored_version(store: Store, workflow: ModuleWorkflow) -> int:
    """The store's version of ``workflow``: the current one if it is the same, else a new one."""
    definition = [s.to_dict() for s in workflow.steps]
    current = store.load_workflow(workflow.name)
    if current is not None and current["definition"] == definition:
        return int(current["version"])
    return store.save_workflow(workflow.name, definition, source=workflow.source, origin="module")
