"""The original package's WorkflowManager surface, on top of ours.

:class:`WorkflowManagerCompat` is a mixin of
:class:`~codomyrmex_jupyter.api.workflow_manager.WorkflowManager`; it adds what
code written for the original ``codomyrmex.project_orchestration`` reads:

* ``workflows`` -- every known workflow (stored ones included) as a live
  ``{name: [WorkflowStep, ...]}`` view; assigning ``workflows[name] = steps``
  creates the workflow (and raises if it is invalid), ``del`` deletes it;
* ``executions`` -- the executions of this process by id (a real, writable dict);
* ``performance_monitor`` (``None`` when monitoring is off) and ``logger``;
* ``<name>.json`` files in the original format: those in ``config_dir`` are
  loaded when the manager starts, :meth:`~WorkflowManagerCompat.import_workflows`
  and :meth:`~WorkflowManagerCompat.export_workflows` move definitions between
  such a folder and the store;
* the original's keys in :meth:`get_performance_summary`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph, compile_graph
from ..errors import CodomyrmexError, UnknownWorkflowError
from .live_views import MISSING, LiveDict
from .workflow_files import read_workflow_folder, write_workflow_file
from .workflow_models import WorkflowExecution, WorkflowStep, step_from_dict

if TYPE_CHECKING:
    from ..engine.store import Store

__all__ = ["PerformanceMonitor", "WorkflowManagerCompat"]

log = logging.getLogger("codomyrmex_jupyter.api.workflow_manager")


class PerformanceMonitor:
    """What ``enable_performance_monitoring`` turns on, readable as the original's monitor.

    Each run then records its CPU time, peak memory and slowest steps in
    ``performance_metrics``; :meth:`get_stats` summarises the recorded step
    timings (``{"workflow.step": {runs, failures, retries, mean_duration,
    p95_duration}}``).
    """

    def __init__(self, manager: WorkflowManagerCompat) -> None:
        self._manager = manager

    def get_stats(self, workflow_name: str | None = None) -> dict[str, Any]:
        """Per-step timing statistics of the recorded runs."""
        stats: dict[str, Any] = self._manager.get_performance_summary(workflow_name)[
            "performance_stats"
        ]
        return stats


class WorkflowManagerCompat:
    """Mixin: the original WorkflowManager's attributes, files and summary keys."""

    # Provided by WorkflowManager.
    store: Store
    config_dir: Path
    enable_performance_monitoring: bool
    _workflows: dict[str, tuple[list[WorkflowStep], Graph, int | None]]
    _executions: OrderedDict[str, WorkflowExecution]
    _lock: threading.RLock
    _define: Callable[..., int | None]
    get_workflow: Callable[[str], list[WorkflowStep] | None]
    delete_workflow: Callable[[str], bool]
    get_performance_summary: Callable[..., dict[str, Any]]

    # -- attributes -------------------------------------------------------------------------
    @property
    def workflows(self) -> LiveDict[str, list[WorkflowStep]]:
        """Every known workflow (this process and the store) as ``{name: steps}``, live."""
        return LiveDict(
            "WorkflowManager.workflows",
            self._workflow_names,
            self._steps_or_missing,
            set=self._assign_workflow,
            delete=self.delete_workflow,
        )

    def _workflow_names(self) -> list[str]:
        names = dict.fromkeys(row["name"] for row in self.store.list_workflows())
        with self._lock:  # unsaved ones; stored ones are read from the store
            names.update(dict.fromkeys(n for n, e in self._workflows.items() if e[2] is None))
        return sorted(names)

    def _steps_or_missing(self, name: str) -> Any:
        """The steps of ``name`` as the store has them now (another process may have changed it)."""
        if not isinstance(name, str):
            return MISSING
        with self._lock:
            entry = self._workflows.get(name)
        if entry is not None and entry[2] is None:  # defined here without saving
            return list(entry[0])
        row = self.store.load_workflow(name)
        if row is None:
            return MISSING
        if entry is not None and entry[2] == row["version"]:
            return list(entry[0])
        return [step_from_dict(d) for d in row["definition"]]

    def _assign_workflow(self, name: str, steps: list[WorkflowStep]) -> None:
        # A dict assignment cannot return False: an invalid workflow raises.
        self._define(name, list(steps), save=True, source=None, callables=None)

    @property
    def executions(self) -> OrderedDict[str, WorkflowExecution]:
        """Executions of this process by run id (newest last); writable."""
        return self._executions

    @executions.setter
    def executions(self, value: Mapping[str, WorkflowExecution]) -> None:
        with self._lock:
            self._executions.clear()
            self._executions.update(value)

    @property
    def performance_monitor(self) -> PerformanceMonitor | None:
        """The run monitor, or ``None`` when ``enable_performance_monitoring`` is off."""
        return PerformanceMonitor(self) if self.enable_performance_monitoring else None

    @property
    def logger(self) -> logging.Logger:
        """The logger this manager writes to."""
        return log

    # -- <name>.json files ------------------------------------------------------------------
    def _load_workflow_folder(self) -> None:
        """Make the ``*.json`` workflows of ``config_dir`` known (the store's win on a clash)."""
        found = read_workflow_folder(self.config_dir)
        if not found:
            return
        stored = {row["name"] for row in self.store.list_workflows()}
        for name, steps in found.items():
            if name in stored:
                log.debug("workflow file %s.json: the stored definition is used", name)
                continue
            with self._lock:
                self._workflows[name] = (steps, compile_graph(steps), None)

    def import_workflows(self, folder: str | Path | None = None, *, save: bool = True) -> list[str]:
        """Create a workflow from every valid ``<name>.json`` file of ``folder``.

        Files that are not JSON, lack ``name``/``steps`` or describe an invalid
        workflow are skipped with a warning. An imported workflow replaces one
        of the same name (a new stored version when ``save``).

        Parameters
        ----------
        folder:
            The folder to read; ``config_dir`` when omitted.
        save:
            Store each imported definition (as a new version).

        Returns
        -------
        list[str]
            Names of the workflows imported.
        """
        source = Path(folder) if folder is not None else self.config_dir
        if not source.is_dir():
            raise FileNotFoundError(f"{source} is not a folder of workflow files")
        imported = []
        for name, steps in read_workflow_folder(source).items():
            try:
                self._define(name, steps, save=save, source=None, callables=None, origin="file")
            except CodomyrmexError as exc:
                log.warning("workflow %r from %s not imported: %s", name, source, exc)
                continue
            imported.append(name)
        return imported

    def export_workflow(
        self, name: str, folder: str | Path | None = None, *, overwrite: bool = False
    ) -> Path:
        """Write workflow ``name`` as ``<folder>/<name>.json`` in the original format.

        Raises
        ------
        UnknownWorkflowError
            No such workflow.
        FileExistsError
            The file exists and ``overwrite`` is False.
        """
        steps = self.get_workflow(name)
        if steps is None:
            raise UnknownWorkflowError(name, self._workflow_names())
        target = Path(folder) if folder is not None else self.config_dir
        return write_workflow_file(target, name, steps, overwrite=overwrite)

    def export_workflows(
        self, folder: str | Path | None = None, *, overwrite: bool = False
    ) -> list[Path]:
        """Write every known workflow to ``folder`` (``config_dir`` by default); return the paths."""
        return [self.export_workflow(n, folder, overwrite=overwrite) for n in self._workflow_names()]

    # -- summary keys -----------------------------------------------------------------------
    @staticmethod
    def _original_summary_keys(
        summary: Mapping[str, Any],
        step_rows: Sequence[Mapping[str, Any]],
        definitions: Sequence[Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The keys the original's summary had, computed from the recorded runs.

        ``definitions`` are the stored workflows (``Store.list_workflows()``)
        the summary read.
        """
        return {
            "performance_stats": summary["steps"],
            "average_execution_time": summary["average_duration"],
            "module_usage_stats": _module_usage_stats(step_rows, definitions),
        }


def _module_usage_stats(
    step_rows: Sequence[Mapping[str, Any]], definitions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    modules = {
        (row["name"], step["name"]): step["module"]
        for row in definitions
        for step in row["definition"]
    }
    usage: dict[str, dict[str, Any]] = {}
    for r in step_rows:
        module = modules.get((r["workflow"], r["name"]))
        if module is None:  # a step of a deleted or renamed definition
            continue
        entry = usage.setdefault(module, {"count": 0, "total_time": 0.0})
        entry["count"] += 1
        entry["total_time"] += r["duration"] or 0.0
    return dict(sorted(usage.items()))
