"""``%orchestrate SUBCOMMAND ...``: parse the line, call :mod:`.commands`, show the result.

Each subcommand has its own ``magic_arguments`` parser (``%orchestrate run
--help``); ``%orchestrate --help`` lists them all. Engine errors become
one-line ``UsageError``s.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..api.run_handle import RunHandle
from ..api.workflow_models import WorkflowStatus
from ..engine.validation import check_seconds
from ..errors import CodomyrmexError
from ..params import parse_params
from . import commands
from .arguments import cache_options, command, one_line, option, parse, run_options
from .help import command_help
from .progress import LiveExecution, LiveRunHandle, live_view
from .repro_magic import REPRO_SUBCOMMANDS

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager

__all__ = ["SUBCOMMANDS", "check_run_options", "orchestrate", "overview", "run_from_args", "usage_error"]

Handler = Callable[[Any, "WorkflowManager", argparse.Namespace], Any]


def usage_error(exc: BaseException, prefix: str = "") -> UsageError:
    """A one-line ``UsageError`` from an engine error."""
    return UsageError(one_line(f"{prefix}{exc}"))


# -- running -------------------------------------------------------------------------------
def run_parameters(shell: Any, args: argparse.Namespace) -> dict[str, Any]:
    """``--params VAR`` (a dict in the notebook) updated with each ``-p key=value``."""
    params: dict[str, Any] = {}
    if args.params is not None:
        if args.params not in shell.user_ns:
            raise UsageError(f"--params {args.params}: no notebook variable named {args.params!r}")
        value = shell.user_ns[args.params]
        if not isinstance(value, dict):
            raise UsageError(
                f"--params {args.params}: expected a dict of parameters, got {type(value).__name__}"
            )
        params.update(value)
    try:
        params.update(parse_params(args.param))
    except CodomyrmexError as exc:
        raise usage_error(exc) from None
    return params


def check_run_options(shell: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Check the run options (before anything is displayed, stored or started); return the parameters."""
    params = run_parameters(shell, args)
    try:
        check_seconds(args.timeout, "--timeout")
        commands.check_executor(args.executor)
    except CodomyrmexError as exc:
        raise usage_error(exc) from None
    return params


def run_from_args(
    shell: Any, manager: WorkflowManager, name: str, args: argparse.Namespace,
    *, params: dict[str, Any] | None = None,
) -> Any:
    """Start ``name`` with the parsed run options; used by ``%orchestrate run`` and ``%%workflow --run``.

    ``params`` are the run parameters when the caller checked the options already.
    """
    if params is None:
        params = check_run_options(shell, args)
    try:
        commands.check_runnable(manager, name, params)
    except CodomyrmexError as exc:
        raise usage_error(exc) from None
    listeners, view = live_view(shell, manager, name)
    try:
        result = commands.run(
            manager=manager, name=name, params=params, timeout=args.timeout,
            background=args.background, executor=args.executor, listeners=listeners,
            cache=getattr(args, "run_cache", None), force=getattr(args, "force", False),
            fetch=getattr(args, "fetch", "leaves"),
        )
    except CodomyrmexError as exc:
        raise usage_error(exc) from None
    if isinstance(result, RunHandle):
        if view is not None:
            view.handle = result
        return LiveRunHandle.wrap(result, view)
    if result.status is WorkflowStatus.CANCELLED:
        print(
            f"run {result.execution_id[:8]} of {name!r} was cancelled and recorded as cancelled",
            file=sys.stderr,
        )
    return result if view is None else LiveExecution.wrap(result)


# -- subcommands -----------------------------------------------------------------------------
@command("orchestrate run")
@option("name", help="workflow to run")
@run_options
@cache_options
def _run(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Run a workflow; blocks (with live progress) unless --background."""
    return run_from_args(shell, manager, args.name, args)


@command("orchestrate list")
def _list(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """List the defined workflows."""
    return commands.list_workflows(manager=manager)


@command("orchestrate dag")
@option("name", help="workflow name")
def _dag(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Show the DAG of a workflow."""
    return commands.dag(manager=manager, name=args.name)


@command("orchestrate show")
@option("run_id", help="run id or unique prefix")
def _show(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Show one run (status, steps, errors, results)."""
    return commands.show(manager=manager, run_id=args.run_id)


@command("orchestrate history")
@option("name", nargs="?", default=None, help="only runs of this workflow")
@option("-n", type=int, default=20, help="how many runs (default 20)")
def _history(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Recorded runs, newest first."""
    return commands.history(manager=manager, name=args.name, limit=args.n)


@command("orchestrate cancel")
@option("run_id", help="run id or unique prefix")
def _cancel(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Cancel a run going on in this kernel."""
    return commands.cancel(manager=manager, run_id=args.run_id)


@command("orchestrate status")
def _status(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """System status: active runs, loop mode, components."""
    return commands.status(manager=manager)


@command("orchestrate resources")
def _resources(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Resources with capacity and availability."""
    return commands.resources()


@command("orchestrate tasks")
def _tasks(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Tasks of the task orchestrator."""
    return commands.tasks()


@command("orchestrate projects")
def _projects(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Projects."""
    return commands.projects()


@command("orchestrate sessions")
def _sessions(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Orchestration sessions."""
    return commands.sessions()


@command("orchestrate dashboard")
def _dashboard(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """The live dashboard (runs, resources)."""
    return commands.dashboard(manager=manager)


@command("orchestrate config")
@option("--loop", choices=["thread", "nested"], default=None,
          help="how blocking runs share the kernel's event loop")
@option("--cache-max-bytes", default=None, metavar="N",
          help="bound of the step cache, e.g. 5GiB, 500MB or a number of bytes (kept for later kernels)")
@option("--history-limit", dest="history_limit", default=None, metavar="N|none",
          help="keep only the newest N runs of each workflow, pruned after every run "
          "(default: none, keep every run)")
def _config(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Show the configuration (the store in use and why it was chosen, the step cache's bound,
    the history limit), or change the loop mode, the cache's bound or the history limit."""
    return commands.config(
        manager=manager, loop=args.loop, cache_max_bytes=args.cache_max_bytes,
        history_limit=args.history_limit,
    )


@command("orchestrate init")
@option("path", nargs="?", default=None, help="the project folder (default: the working directory)")
def _init(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Create a .codomyrmex/ store in a folder: notebooks there and below use it."""
    return commands.init(path=args.path)


@command("orchestrate export")
@option("name", help="workflow to export")
@option("path", help="file to write: NAME.py (a module; YAML workflows: .yaml too)")
@option("--module", default=None, metavar="M",
          help="action module the steps are registered under (default: the file's name)")
@option("--force", action="store_true", help="overwrite PATH if it exists")
def _export(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Write a workflow to a module (or YAML) that runs outside the notebook."""
    return commands.export(
        manager=manager, name=args.name, path=args.path, module=args.module, force=args.force
    )


SUBCOMMANDS: dict[str, Handler] = {
    "run": _run, "list": _list, "dag": _dag, "show": _show, "history": _history,
    "cancel": _cancel, "status": _status, "resources": _resources, "tasks": _tasks,
    "projects": _projects, "sessions": _sessions, "dashboard": _dashboard, "config": _config,
    "init": _init, "export": _export, **REPRO_SUBCOMMANDS,
}


_NO_MANAGER = frozenset({"init"})


def overview() -> str:
    """Every subcommand with its usage, what it does and an example (``%orchestrate?``)."""
    return command_help({name: h.parser for name, h in SUBCOMMANDS.items()})  # type: ignore[attr-defined]


def orchestrate(shell: Any, manager_factory: Callable[[], WorkflowManager], line: str) -> Any:
    """Run one ``%orchestrate`` line and return what the subcommand returns."""
    sub, _, rest = line.strip().partition(" ")
    if sub in ("", "-h", "--help", "help"):
        print(overview())
        return None
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        raise UsageError(
            f"unknown subcommand {sub!r}; use one of: {', '.join(SUBCOMMANDS)}"
        )
    args = parse(handler, rest)
    if args is None:
        return None
    try:
        # init must not open a store first: it decides which one the kernel uses
        manager: Any = None if sub in _NO_MANAGER else manager_factory()
        return handler(shell, manager, args)
    except CodomyrmexError as exc:
        raise usage_error(exc, f"%orchestrate {sub}: ") from None

