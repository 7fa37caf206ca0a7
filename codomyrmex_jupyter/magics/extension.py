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

__all__ = ["MAGIC_NAMES", "load_ipython_extension", "unload_ipython_extension", "workflow_help_cell"]

log = logging.getLogger(__name__)

MAGIC_NAMES = {"line": ("orchestrate", "workflow"), "cell": ("workflow",)}
_registered: dict[int, Any] = {}
_labelers: dict[int, Callable[[], None]] = {}


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
    _register_figure_formatter(ip)
    if workflow_help_cell not in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.append(workflow_help_cell)
    _label_cells(ip)
    _start_status_comm(ip)


def workflow_help_cell(lines: list[str]) -> list[str]:
    """A ``%%workflow ...`` cell with nothing under it runs as ``%workflow ...``.

    IPython refuses a cell magic with an empty body before the magic runs, so
    ``%%workflow --help`` alone in a cell would never reach the help.
    """
    if not lines or not lines[0].lstrip().startswith("%%workflow") or any(x.strip() for x in lines[1:]):
        return lines
    return [lines[0].lstrip()[1:]]


def _label_cells(ip: Any) -> None:
    """Name notebook cells in step tracebacks as IPython does (``Cell In[3]``)."""
    from ..engine.tracebacks import add_file_labeler

    old = _labelers.pop(id(ip), None)
    if old is not None:
        old()
    compiler = getattr(ip, "compile", None)

    def label(filename: str) -> str | None:
        number = getattr(compiler, "_filename_map", {}).get(filename)
        return None if number is None else f"Cell In[{number}]"

    _labelers[id(ip)] = add_file_labeler(label)


def _figure_png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _register_figure_formatter(ip: Any) -> None:
    # ``execution.plot()`` returns a matplotlib Figure built without pyplot;
    # show it as a PNG even when no ``%matplotlib`` backend registered one.
    # Registered by name so matplotlib is not imported until a figure exists.
    formatter = ip.display_formatter.formatters.get("image/png")
    if formatter is None:
        return
    try:
        formatter.lookup_by_type("matplotlib.figure.Figure")
    except KeyError:
        formatter.for_type_by_name("matplotlib.figure", "Figure", _figure_png)


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
    if workflow_help_cell in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.remove(workflow_help_cell)
    remove_labeler = _labelers.pop(id(ip), None)
    if remove_labeler is not None:
        remove_labeler()
    from .commands import close_executors

    close_executors()
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
