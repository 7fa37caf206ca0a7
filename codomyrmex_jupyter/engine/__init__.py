"""The engine: pure Python, no IPython, ipywidgets, traitlets or matplotlib imports.

``graph`` validates and orders DAGs, ``state`` names step states, ``runner``
executes a run through an ``executors`` executor, ``actions`` resolves step
callables, ``store`` persists definitions and runs, ``resources`` accounts
for capacity, ``events`` lets views observe runs without the engine knowing
them. Names load on first use, so importing one submodule stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "STATE_COLORS": "state",
    "STEP_STATES": "state",
    "StepRecord": "state",
    "ActionRegistry": "actions",
    "ActionSpec": "actions",
    "action": "actions",
    "default_registry": "actions",
    "BaseListener": "events",
    "RunEvent": "events",
    "RunListener": "events",
    "run_events": "events",
    "Graph": "graph",
    "compile_graph": "graph",
    "Holding": "resources",
    "ResourceChange": "resources",
    "ResourcePool": "resources",
    "ResourceStatistics": "resources",
    "Run": "runner",
    "Store": "store",
}

__all__ = [
    "STATE_COLORS",
    "STEP_STATES",
    "ActionRegistry",
    "ActionSpec",
    "BaseListener",
    "Graph",
    "Holding",
    "ResourceChange",
    "ResourcePool",
    "ResourceStatistics",
    "Run",
    "RunEvent",
    "RunListener",
    "StepRecord",
    "Store",
    "action",
    "compile_graph",
    "default_registry",
    "run_events",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codomyrmex_jupyter.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .actions import ActionRegistry, ActionSpec, action, default_registry
    from .events import BaseListener, RunEvent, RunListener, run_events
    from .graph import Graph, compile_graph
    from .resources import Holding, ResourceChange, ResourcePool, ResourceStatistics
    from .runner import Run
    from .state import STATE_COLORS, STEP_STATES, StepRecord
    from .store import Store
