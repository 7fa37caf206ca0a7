"""Live views of the engine, drawn by the lab extension: run/DAG views, resource gauges, dashboard.

ipywidgets is imported by the submodules only; this package loads them on
first use of a name.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Coalescer",
    "DagView",
    "Dashboard",
    "LiveListener",
    "ResourceGauges",
    "RunView",
    "TextProgress",
    "dashboard",
]

_EXPORTS: dict[str, str] = {
    "Coalescer": "coalesce",
    "LiveListener": "coalesce",
    "TextProgress": "coalesce",
    "DagView": "run_view",
    "ResourceGauges": "gauges",
    "RunView": "run_view",
    "Dashboard": "dashboard",
    "dashboard": "dashboard",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'codomyrmex_jupyter.widgets' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
