"""The ``%orchestrate`` subcommands as plain keyword-only functions.

Each function works without IPython (call it from a script or a test); the
magic only parses its line and calls one of them. They return objects with
rich reprs. User mistakes raise :class:`CommandError` (or the engine's own
:class:`~codomyrmex_jupyter.errors.CodomyrmexError`), which the magic turns
into a one-line ``UsageError``.

Blocking runs and interrupts: :func:`run` without ``background`` waits for the
run. A ``KeyboardInterrupt`` (the kernel's interrupt button) cancels it, waits
for the cancellation to be recorded, and returns the execution with status
``CANCELLED`` instead of raising, so the notebook gets control back with the
record in hand.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import runtime
from ..errors import CodomyrmexError
from . import views

if TYPE_CHECKING:
    from ..api.run_handle import RunHandle
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution
    from ..engine.events import RunListener
    from ..engine.executors import Executor

__all__ = [
    "CommandError",
    "cancel",
    "check_executor",
    "check_runnable",
    "config",
    "dag",
    "dashboard",
    "export",
    "history",
    "init",
    "list_workflows",
    "make_executor",
    "parse_history_limit",
    "projects",
    "resources",
    "run",
    "sessions",
    "show",
    "status",
    "tasks",
]

log = logging.getLogger(__name__)

_DASK_ADDRESS = re.compile(r"dask://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})")
_CANCEL_WAIT = 5.0


class CommandError(CodomyrmexError, ValueError):
    """A subcommand cannot do what was asked (unknown run, bad address, missing extra)."""


# -- run ---------------------------------------------------------------------------------
def check_executor(spec: str | None) -> str | None:
    """Validate ``--executor`` without connecting; the scheduler address, ``"dask-local"`` or ``None``.

    Raises
    ------
    CommandError
        A malformed address, or the Dask executor is not installed.
    """
    if spec is None or spec == "local":
        return None
    if spec == "dask-local":
        _require_distributed()
        return spec
    match = _DASK_ADDRESS.fullmatch(spec)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise CommandError(
            "--executor must be 'local', 'dask-local' or dask://HOST:PORT "
            f"(e.g. dask://127.0.0.1:8786), got {spec!r}"
        )
    _require_distributed()
    return f"tcp://{match['host']}:{match['port']}"


def _require_distributed() -> None:
    try:
        import distributed  # noqa: F401

        from ..engine.executors import dask  # noqa: F401
    except ImportError as exc:
        raise CommandError(
            f"the Dask executor is not available: pip install codomyrmex_jupyter[dask] ({exc})"
        ) from None


def make_executor(spec: str | None) -> Executor | None:
    """The executor for ``--executor``: ``None`` (local) or a Dask executor, reused per address."""
    address = check_executor(spec)
    if address is None:
        return None
    if address == "dask-local":
        from ..engine.executors.dask_local import local_cluster_executor

        return local_cluster_executor()  # type: ignore[no-any-return]
    from .dask_clients import executor_for

    try:
        return executor_for(address)  # type: ignore[no-any-return]
    except (OSError, TimeoutError) as exc:
        raise CommandError(f"cannot reach the Dask scheduler at {address}: {exc}") from None


def close_executors() -> None:
    """Close the Dask clients ``--executor`` opened and the ``dask-local`` cluster (``%unload_ext``)."""
    from ..engine.executors.dask_local import close_local_cluster
    from .dask_clients import close_clients

    close_clients()
    close_local_cluster()


def check_runnable(manager: WorkflowManager, name: str, params: Mapping[str, Any] | None = None) -> None:
    """Raise before starting a run whose actions are not registered in this kernel,
    or with a run parameter that no step takes.

    A workflow defined in a notebook cell in an earlier kernel gets the message
    telling the user to run that ``%%workflow`` cell again.
    """
    from ..api.run_parameters import unresolved_steps

    missing = unresolved_steps(manager, name, params)
    if missing:
        first = missing[0]
        raise manager.registry.unknown(first.module, first.action, step=first.name)


def run(
    *,
    manager: WorkflowManager,
    name: str,
    params: Mapping[str, Any] | None = None,
    timeout: float | None = None,
    background: bool = False,
    executor: str | None = None,
    listeners: Sequence[RunListener] = (),
    run_id: str | None = None,
    cache: bool | None = None,
    force: bool = False,
    fetch: str = "leaves",
) -> WorkflowExecution | RunHandle:
    """Run workflow ``name``: wait for it, or return a :class:`RunHandle` at once.

    Parameters
    ----------
    manager:
        The workflow manager.
    name:
        Workflow to run.
    params:
        The run's global parameters.
    timeout:
        Seconds for the whole run.
    background:
        Return a handle at once instead of waiting.
    executor:
        ``"local"`` (default), ``"dask-local"`` or ``"dask://HOST:PORT"``.
    listeners:
        Extra run listeners (progress views).
    run_id:
        Id to give the run (a new one when omitted).
    cache, force:
        The step cache options of :meth:`WorkflowManager.execute_workflow`.
    fetch:
        On a cluster, the results fetched when the run ends (``"leaves"``,
        ``"all"``, ``"none"``).
    """
    check_runnable(manager, name)
    options: dict[str, Any] = {"listeners": list(listeners), "run_id": run_id or uuid.uuid4().hex}
    if fetch != "leaves":
        options["fetch"] = fetch
    if cache is not None or force:
        options.update(cache=cache, force=force)
    made = make_executor(executor)
    if made is not None:
        options["executor"] = made
    parameters = dict(params or {})
    if background:
        return manager.start_workflow(name, parameters, timeout, **options)
    return _run_blocking(manager, name, parameters, timeout, options)


def _run_blocking(
    manager: WorkflowManager,
    name: str,
    parameters: dict[str, Any],
    timeout: float | None,
    options: dict[str, Any],
) -> WorkflowExecution:
    run_id = options["run_id"]
    try:
        return manager.run_workflow(name, parameters, timeout, **options)
    except KeyboardInterrupt:
        log.info("run %s of %s interrupted; cancelling it", run_id, name)
        manager.cancel_execution(run_id)
        _settle_on_own_loop(manager, run_id)
    execution = manager.get_execution(run_id)
    if execution is None:  # interrupted before the run was even set up
        raise KeyboardInterrupt
    execution.sync_from_run()
    return execution


def _settle_on_own_loop(manager: WorkflowManager, run_id: str) -> None:
    """In ``nested`` loop mode the cancelled run lives on this thread's loop: let it finish."""
    if runtime.get_loop_mode() != "nested":
        return  # runtime.run_sync has already awaited the cancellation
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return

    async def wait_done() -> None:
        deadline = time.monotonic() + _CANCEL_WAIT
        while not _is_done(manager, run_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    loop.run_until_complete(wait_done())


def _is_done(manager: WorkflowManager, run_id: str) -> bool:
    execution = manager.get_execution(run_id)
    if execution is None:
        return True
    execution.sync_from_run()
    return execution.done


# -- definitions and history -----------------------------------------------------------
def list_workflows(*, manager: WorkflowManager) -> Any:
    """Every defined workflow with its metadata (a table)."""
    return views.workflow_table(manager.list_workflows())


def dag(*, manager: WorkflowManager, name: str) -> Any:
    """The DAG of workflow ``name``."""
    steps = manager.get_workflow(name)
    return views.dag_view(name, manager.get_graph(name), steps)


def show(*, manager: WorkflowManager, run_id: str) -> WorkflowExecution:
    """One execution, by run id or unique prefix."""
    execution = manager.get_execution(run_id)
    if execution is None:
        raise CommandError(f"no run with id {run_id!r}; see %orchestrate history for run ids")
    execution.sync_from_run()
    return execution


def history(*, manager: WorkflowManager, name: str | None = None, limit: int = 20) -> Any:
    """Recorded runs, newest first (a table); ``name`` filters by workflow."""
    if limit < 1:
        raise CommandError(f"-n must be at least 1, got {limit}")
    return views.history_view(manager.history(name, limit))


def cancel(*, manager: WorkflowManager, run_id: str) -> WorkflowExecution:
    """Cancel a run going on in this kernel and return its execution.

    Waits briefly for the cancellation to be recorded when the run is on the
    background loop (always the case for ``--background`` runs).
    """
    execution = manager.get_execution(run_id)
    if execution is None:
        raise CommandError(f"no run with id {run_id!r}; see %orchestrate history for run ids")
    if not manager.cancel_execution(execution.execution_id):
        execution.sync_from_run()
        raise CommandError(
            f"run {execution.execution_id[:8]} is not running in this kernel "
            f"(status: {execution.status.value})"
        )
    deadline = time.monotonic() + _CANCEL_WAIT
    while not _is_done(manager, execution.execution_id) and time.monotonic() < deadline:
        time.sleep(0.01)
    execution.sync_from_run()
    return execution


# -- the rest of the system --------------------------------------------------------------
def status(*, manager: WorkflowManager) -> Any:
    """System status: runs going on here and the engine's component summary."""
    rows: list[dict[str, Any]] = [
        {"key": f"run {e.execution_id[:8]}", "value": f"{e.workflow_name} {e.status.value}"}
        for e in manager.active_runs()
    ]
    rows.append({"key": "loop mode", "value": runtime.get_loop_mode()})
    rows.append({"key": "workflows", "value": len(manager.list_workflows())})
    try:
        from ..api.accessors import get_orchestration_engine

        system = get_orchestration_engine().get_system_status()
    except ImportError as exc:
        log.debug("orchestration engine unavailable: %s", exc)
        system = {}
    rows += [{"key": k, "value": _short(v)} for k, v in system.items()]
    return views.record_table(rows, ["key", "value"], "codomyrmex status")


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."


def resources() -> Any:
    """Every resource with its capacity and what is available."""
    from ..api.accessors import get_resource_manager

    rm = get_resource_manager()
    rows = [
        {
            "id": r.id, "name": r.name, "type": r.resource_type, "capacity": r.capacity,
            "available": rm.get_available_capacity(r.id), "unit": r.unit, "status": r.status,
        }
        for r in rm.list_resources()
    ]
    cols = ["id", "name", "type", "capacity", "available", "unit", "status"]
    return views.record_table(rows, cols, f"{len(rows)} resource(s)")


def tasks() -> Any:
    """Tasks of the task orchestrator."""
    from ..api.accessors import get_task_orchestrator

    rows = [
        {
            "id": t.id[:8], "name": t.name, "action": f"{t.module}.{t.action}",
            "priority": t.priority.name, "status": t.status,
        }
        for t in get_task_orchestrator().list_tasks()
    ]
    return views.record_table(rows, ["id", "name", "action", "priority", "status"], f"{len(rows)} task(s)")


def projects() -> Any:
    """Projects of the project manager."""
    from ..api.accessors import get_project_manager

    pm = get_project_manager()
    found = [pm.get_project(n) for n in pm.list_projects()]
    rows = [
        {"name": p.name, "type": p.project_type, "status": p.status, "path": p.path}
        for p in found
        if p is not None
    ]
    return views.record_table(rows, ["name", "type", "status", "path"], f"{len(rows)} project(s)")


def sessions() -> Any:
    """Orchestration sessions."""
    from ..api.accessors import get_orchestration_engine

    rows = [
        {
            "id": s.session_id[:8], "name": s.name, "status": getattr(s, "status", ""),
            "workflows": len(getattr(s, "workflows", []) or []),
        }
        for s in get_orchestration_engine().list_sessions()
    ]
    return views.record_table(rows, ["id", "name", "status", "workflows"], f"{len(rows)} session(s)")


def dashboard(*, manager: WorkflowManager) -> Any:
    """The live dashboard widget, with the kernel's resource manager and sessions."""
    try:
        from ..widgets.dashboard import dashboard as make_dashboard
    except ImportError as exc:
        raise CommandError(f"the dashboard needs ipywidgets: pip install ipywidgets ({exc})") from None
    return make_dashboard(manager=manager)


def config(
    *, manager: WorkflowManager | None = None, loop: str | None = None,
    cache_max_bytes: str | int | None = None, history_limit: str | None = None,
) -> Any:
    """Show the configuration (the store in use and why, the loop mode, the step cache's
    bound, the history limit), or set the loop mode (``thread`` or ``nested``), the step
    cache's bound (kept in the store for later kernels) or this kernel's history limit."""
    if loop is not None:
        try:
            runtime.set_loop_mode(loop)  # type: ignore[arg-type]
        except (ValueError, RuntimeError) as exc:
            raise CommandError(str(exc)) from None
    if history_limit is not None and manager is not None:
        manager.history_limit = parse_history_limit(history_limit)
    rows: list[dict[str, Any]] = []
    if manager is not None:
        from .repro_commands import format_bytes, set_cache_max_bytes

        if cache_max_bytes is not None:  # before anything is shown: a bad size is an error
            set_cache_max_bytes(manager, cache_max_bytes)
        location = manager.config_location
        rows += [
            {"key": "store", "value": manager.store.path},
            {"key": "config dir", "value": str(manager.config_dir)},
            {"key": "chosen because", "value": location.why},
        ]
    rows.append({"key": "loop", "value": runtime.get_loop_mode()})
    if manager is not None:
        rows.append({"key": "cache max bytes",
                     "value": f"{manager.cache_max_bytes} ({format_bytes(manager.cache_max_bytes)})"})
        limit = manager.history_limit
        rows.append({"key": "history limit", "value": "keep every run" if limit is None else limit})
    return views.record_table(rows, ["key", "value"], "codomyrmex config")


def parse_history_limit(text: str) -> int | None:
    """``--history-limit``: a count of runs to keep per workflow (>= 1), or ``none``."""
    if text.strip().lower() in ("none", "off", "all"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise CommandError(
            f"--history-limit must be a number of runs >= 1, or none (keep every run); got {text!r}"
        )
    return value


def export(
    *, manager: WorkflowManager, name: str, path: str, module: str | None = None, force: bool = False
) -> Any:
    """Write workflow ``name`` to ``path`` as a module (or YAML) that runs outside the notebook."""
    return manager.export_workflow(name, path, module=module, force=force)


def init(*, path: str | None = None) -> Any:
    """Create ``<path>/.codomyrmex/`` and use it in this kernel from now on.

    The kernel's managers switch to the new store when no run is going on;
    otherwise the message says to restart the kernel.
    """
    from ..api import accessors
    from ..engine.home import init_project_dir, locate_config_dir

    try:
        folder, created = init_project_dir(path)
    except (OSError, FileExistsError) as exc:
        raise CommandError(str(exc)) from None
    current = accessors.current_workflow_manager()
    here = locate_config_dir().path
    if current is not None and current.config_dir != here:
        if current.active_runs():
            note = "runs are going on: restart the kernel to use it"
        else:
            accessors.reset_singletons()
            note = "this kernel uses it from now on"
    elif here == folder:
        note = "this kernel uses it"
    else:
        note = f"the working directory uses {here} (chosen first); see %orchestrate config"
    verb = "created" if created else "already there"
    rows = [{"key": "store folder", "value": str(folder)}, {"key": "status", "value": f"{verb}; {note}"}]
    return views.record_table(rows, ["key", "value"], "codomyrmex init")
