"""``%load_ext codomyrmex_jupyter`` / ``%unload_ext codomyrmex_jupyter``.

Loading registers one :class:`~.workflow_magic.WorkflowMagics` instance
(``%%workflow`` and ``%orchestrate``), makes the ``step`` decorator available in
the notebook (unless that name is taken), and starts the JupyterLab status
comm when the display package provides it. Unloading undoes all three.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager

__all__ = ["MAGIC_NAMES", "load_ipython_extension", "unload_ipython_extension"]

log = logging.getLogger(__name__)

MAGIC_NAMES = {"line": ("orchestrate",), "cell": ("workflow",)}
_registered: dict[int, Any] = {}


def load_ipython_extension(
    ip: Any, manager_factory: Callable[[], WorkflowManager] | None = None
) -> None:
    """Register the magics on shell ``ip`` (again: replaces the previous instance)."""
    from .cell_parsing import step
    from .workflow_magic import WorkflowMagics

    magics = WorkflowMagics(ip, manager_factory=manager_factory)
    ip.register_magics(magics)
    _registered[id(ip)] = magics
    if "step" not in ip.user_ns:
        ip.push({"step": step}, interactive=False)
    _start_status_comm(ip)


def unload_ipython_extension(ip: Any) -> None:
    """Remove the magics, the ``step`` name we added, and stop the status comm."""
    magics = _registered.pop(id(ip), None)
    table = ip.magics_manager.magics
    for kind, names in MAGIC_NAMES.items():
        for name in names:
            bound = table[kind].get(name)
            if bound is not None and getattr(bound, "__self__", None) is magics:
                del table[kind][name]
    registry = ip.magics_manager.registry
    for key, value in list(registry.items()):
        if value is magics:
            del registry[key]
    from .cell_parsing import step

    if ip.user_ns.get("step") is step:
        del ip.user_ns["step"]
        ip.user_ns_hidden.pop("step", None)
    _stop_status_comm()


def _start_status_comm(ip: Any) -> None:
    try:
        from ..display.status_comm import start_status_comm
    except ImportError as exc:
        log.debug("no status comm: %s", exc)
        return
    start_status_comm(ip)


def _stop_status_comm() -> None:
    try:
        from ..display.status_comm import stop_status_comm
    except ImportError as exc:
        log.debug("no status comm: %s", exc)
        return
    stop_status_comm()
