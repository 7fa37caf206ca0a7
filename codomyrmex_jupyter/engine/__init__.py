"""The engine: pure Python, no IPython, ipywidgets, traitlets or matplotlib imports.

``graph`` validates and orders DAGs, ``state`` names step states, ``runner``
executes a run through an ``executors`` executor, ``actions`` resolves step
callables, ``store`` persists definitions and runs, ``events`` lets views
observe runs without the engine knowing them.
"""

from .actions import ActionRegistry, ActionSpec, action, default_registry
from .events import BaseListener, RunEvent, RunListener, run_events
from .graph import Graph, compile_graph
from .resources import Holding, ResourceChange, ResourcePool, ResourceStatistics
from .runner import Run
from .state import STATE_COLORS, STEP_STATES, StepRecord
from .store import Store

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
