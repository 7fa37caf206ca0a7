"""``%orchestrate why | diff | rerun | load | debug | cache``: parse, call :mod:`.repro_commands`.

Registered into the ``%orchestrate`` subcommands by :mod:`.orchestrate_magic`;
its dispatcher turns engine errors into one-line ``UsageError``s.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..api.run_handle import RunHandle
from ..errors import CodomyrmexError
from . import repro_commands
from .arguments import command, option
from .progress import LiveExecution, LiveRunHandle, live_view

if TYPE_CHECKING:
    from ..api.workflow_manager import WorkflowManager

__all__ = ["REPRO_SUBCOMMANDS"]

Handler = Callable[[Any, "WorkflowManager", argparse.Namespace], Any]


@command("orchestrate why")
@option("name", help="workflow")
@option("step", nargs="?", default=None, help="only this step")
@option("-p", "--param", action="append", default=[], metavar="KEY=VALUE",
        help="a run parameter the next run would get (repeatable)")
@option("--params", metavar="VAR", default=None,
        help="name of a notebook variable holding a dict of run parameters")
@option("--cache", dest="run_cache", action="store_const", const=True, default=None,
        help="as for a run with --cache (every step cached)")
def _why(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Would the next run take each step from the cache, and if not, what changed.

    A miss names the part of the key that changed against the step's newest
    entry: the code (with a unified diff), a parameter (from what to what), an
    upstream step, or the version.
    """
    from .orchestrate_magic import run_parameters

    params = run_parameters(shell, args)
    return repro_commands.why(manager=manager, name=args.name, step=args.step, params=params,
                              cache=args.run_cache)


@command("orchestrate diff")
@option("run_a", help="run id or unique prefix")
@option("run_b", help="run id or unique prefix")
def _diff(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Compare two runs: steps, code, parameters, states, durations, results, environment."""
    return repro_commands.diff(manager=manager, a=args.run_a, b=args.run_b)


@command("orchestrate rerun")
@option("run_id", help="run id or unique prefix")
@option("--from-failed", action="store_true",
        help="keep the results of the steps that succeeded; run the failed, skipped and cancelled ones")
@option("--timeout", type=float, default=None, metavar="S", help="seconds for the whole run")
@option("--background", action="store_true", help="return a run handle at once")
@option("--executor", default=None, metavar="local|dask://HOST:PORT",
        help="where steps run (default: this kernel)")
def _rerun(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Run a recorded run again: the same definition version and parameters."""
    from .commands import check_executor

    check_executor(args.executor)
    plan = manager.plan_rerun(args.run_id, from_failed=args.from_failed)  # errors before any display
    try:
        listeners, view = live_view(shell, manager, plan.workflow)
    except CodomyrmexError:  # the workflow is no longer defined: no live view, the run goes on
        listeners, view = [], None
    result = repro_commands.rerun(
        manager=manager, run_id=plan, from_failed=args.from_failed,
        background=args.background, timeout=args.timeout, executor=args.executor, listeners=listeners,
    )
    if isinstance(result, RunHandle):
        if view is not None:
            view.handle = result
        return LiveRunHandle.wrap(result, view)
    return result if view is None else LiveExecution.wrap(result)


@command("orchestrate load")
@option("run_id", help="run id or unique prefix")
@option("step", help="the step whose inputs to load")
def _load(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Put the keyword arguments a step received into the notebook (as the variable inputs).

    Each argument whose name is an identifier also becomes a variable.
    """
    return repro_commands.load(manager=manager, run_id=args.run_id, step=args.step,
                               namespace=shell.user_ns)


@command("orchestrate debug")
@option("run_id", help="run id or unique prefix")
@option("step", help="the step to debug")
@option("--rerun", action="store_true",
        help="call the step with the inputs it received, under the debugger (works in any kernel)")
def _debug(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """Debug a step: post-mortem where it failed, or with --rerun called again with its inputs."""
    from IPython.core.debugger import Pdb

    result = repro_commands.debug(manager=manager, run_id=args.run_id, step=args.step,
                                  rerun=args.rerun, debugger=Pdb())
    return result if args.rerun else None


@command("orchestrate cache")
@option("action", nargs="?", choices=["clear"], default=None, help="clear: remove entries")
@option("name", nargs="?", default=None, help="with clear: only this workflow's entries")
def _cache(shell: Any, manager: WorkflowManager, args: argparse.Namespace) -> Any:
    """The step cache: entries, size and hit rate; cache clear [NAME] removes entries."""
    if args.action == "clear":
        return repro_commands.cache_clear(manager=manager, name=args.name)
    return repro_commands.cache_usage(manager=manager)


REPRO_SUBCOMMANDS: dict[str, Handler] = {
    "why": _why, "diff": _diff, "rerun": _rerun, "load": _load, "debug": _debug, "cache": _cache,
}
