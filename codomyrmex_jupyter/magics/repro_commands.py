"""The reproducibility subcommands as plain keyword-only functions (no IPython needed).

``why`` explains the cache, ``diff`` compares two runs, ``rerun`` repeats one,
``load`` puts a step's inputs into a namespace, ``debug`` opens a debugger on
a failed step (post-mortem, or a new call with its inputs), ``cache`` shows
and clears the step cache. The ``%orchestrate`` magic only parses its line and
calls one of them.
"""

from __future__ import annotations

import keyword
import logging
import pdb
import sys
from bdb import BdbQuit
from collections.abc import Coroutine, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import runtime
from ..display.svg import format_bytes
from ..engine.cache.hashing import short_repr
from ..errors import CodomyrmexError
from . import views

if TYPE_CHECKING:
    from ..api.explanation import CacheExplanation
    from ..api.rerun import RerunPlan
    from ..api.run_diff import RunDiff
    from ..api.run_handle import RunHandle
    from ..api.workflow_manager import WorkflowManager
    from ..api.workflow_models import WorkflowExecution
    from ..engine.events import RunListener

__all__ = [
    "cache_clear",
    "cache_usage",
    "debug",
    "diff",
    "format_bytes",
    "load",
    "parse_bytes",
    "rerun",
    "set_cache_max_bytes",
    "why",
]

log = logging.getLogger(__name__)

_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "t": 10**12, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(text: str | int) -> int:
    """``"5GiB"``, ``"500MB"``, ``"1e9"`` or ``1024`` as a number of bytes.

    Raises
    ------
    ValueError
        Not a size, or negative.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        number, unit = float(text), ""
    else:
        raw = str(text).strip().lower().replace("_", "").replace(" ", "")
        digits = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
        number, unit = _number(digits, text), raw[len(digits):]
    if unit not in _UNITS or number < 0:
        raise ValueError(f"{text!r} is not a size; use bytes or a unit, e.g. 5GiB, 500MB, 0")
    return int(number * _UNITS[unit])


def _number(digits: str, text: object) -> float:
    try:
        return float(digits)
    except ValueError:
        raise ValueError(f"{text!r} is not a size; use bytes or a unit, e.g. 5GiB, 500MB, 0") from None


# -- explain and compare ----------------------------------------------------------------
def why(
    *,
    manager: WorkflowManager,
    name: str,
    step: str | None = None,
    params: Mapping[str, Any] | None = None,
    cache: bool | None = None,
) -> CacheExplanation:
    """Would the next run of ``name`` take each step (or ``step``) from the cache, and why not."""
    return manager.explain(name, step, params, cache=cache)


def diff(*, manager: WorkflowManager, a: str, b: str) -> RunDiff:
    """The differences between runs ``a`` and ``b`` (ids or unique prefixes)."""
    return manager.diff_runs(a, b)


# -- repeat -------------------------------------------------------------------------------
def rerun(
    *,
    manager: WorkflowManager,
    run_id: str | RerunPlan,
    from_failed: bool = False,
    background: bool = False,
    timeout: float | None = None,
    executor: str | None = None,
    listeners: Sequence[RunListener] = (),
) -> WorkflowExecution | RunHandle:
    """Run a recorded run again (see :meth:`WorkflowManager.rerun`)."""
    from .commands import make_executor

    options: dict[str, Any] = {"timeout": timeout, "listeners": list(listeners)}
    made = make_executor(executor)
    if made is not None:
        options["executor"] = made
    if background:
        return manager.start_rerun(run_id, from_failed, **options)
    return manager.rerun(run_id, from_failed, **options)


# -- inputs and debugging ----------------------------------------------------------------
def load(
    *, manager: WorkflowManager, run_id: str, step: str, namespace: MutableMapping[str, Any]
) -> Any:
    """Put the keyword arguments ``step`` received in run ``run_id`` into ``namespace``.

    They go in as a dict named ``inputs``, and each as a variable of its own
    when its name is a valid identifier. Returns a table of what was set.
    """
    from ..api.step_inputs import step_call

    call = step_call(manager, run_id, step)
    if call.code_changed:
        log.warning("the code of step %r changed since run %s; its inputs are bound to the current "
                    "signature", step, call.run.short)
    namespace["inputs"] = dict(call.kwargs)
    rows = [{"name": "inputs", "value": f"dict of {len(call.kwargs)}"}]
    for key, value in call.kwargs.items():
        if key.isidentifier() and not keyword.iskeyword(key) and key != "inputs":
            namespace[key] = value
            rows.append({"name": key, "value": short_repr(value, 80)})
    return views.record_table(rows, ["name", "value"], f"inputs of {step!r} in run {call.run.short}")


def debug(
    *,
    manager: WorkflowManager,
    run_id: str,
    step: str,
    rerun: bool = False,
    debugger: pdb.Pdb | None = None,
) -> Any:
    """Open ``debugger`` on step ``step`` of run ``run_id``.

    Without ``rerun``: post-mortem on the exception the step failed with (only
    in the kernel where it failed). With ``rerun``: the step's callable is
    called with the inputs it received, stopping at its first line. Returns
    the call's result (``None`` post-mortem or when the debugger quits).
    """
    from ..api.step_inputs import step_call, step_exception

    dbg = debugger if debugger is not None else pdb.Pdb()
    if not rerun:
        exc = step_exception(manager, run_id, step)
        if exc.__traceback__ is None:
            raise CodomyrmexError(f"step {step!r} failed without a traceback; use --rerun")
        dbg.reset()
        dbg.interaction(None, exc.__traceback__)
        return None
    call = step_call(manager, run_id, step)
    if call.code_changed:
        print(f"note: the code of {step!r} changed since run {call.run.short}; debugging the "
              "current code with that run's inputs", file=sys.stderr)
    if call.spec.is_async:
        return runtime.run_in_this_thread(_traced(dbg, call.spec.fn(**call.kwargs)))
    try:
        return dbg.runcall(call.spec.fn, **call.kwargs)
    except BdbQuit:
        return None


async def _traced(dbg: pdb.Pdb, coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro`` with ``dbg`` tracing: it stops at the coroutine's first line."""
    dbg.reset()
    sys.settrace(dbg.trace_dispatch)
    try:
        return await coro
    except BdbQuit:
        return None
    finally:
        dbg.quitting = True
        sys.settrace(None)


# -- the cache ------------------------------------------------------------------------------
def set_cache_max_bytes(manager: WorkflowManager, value: str | int) -> int:
    """Set the cache's bound now and for later kernels (``value`` as :func:`parse_bytes` reads it)."""
    from ..api.reproducibility import store_max_bytes
    from .commands import CommandError

    try:
        size = parse_bytes(value)
    except ValueError as exc:
        raise CommandError(f"--cache-max-bytes: {exc}") from None
    store_max_bytes(manager.store, size)
    manager.cache_max_bytes = size
    return size


def cache_usage(*, manager: WorkflowManager) -> Any:
    """Entries, bytes and hit rate of the step cache, per workflow and in total."""
    usage = manager.cache_usage()
    rows = [_usage_row(w["workflow"], w["entries"], w["bytes"], w["hits"], w["misses"])
            for w in usage.workflows]
    rows.append(_usage_row("(all)", usage.entries, usage.bytes, usage.hits, usage.misses))
    title = (f"step cache: {usage.entries} entries, {format_bytes(usage.bytes)} of "
             f"{format_bytes(usage.max_bytes)}" + (f" in {usage.directory}" if usage.directory else ""))
    return views.record_table(rows, ["workflow", "entries", "size", "hits", "misses", "hit rate"], title)


def _usage_row(name: str, entries: int, size: int, hits: int, misses: int) -> dict[str, Any]:
    lookups = hits + misses
    rate = f"{100 * hits / lookups:.0f}%" if lookups else "–"
    return {"workflow": name, "entries": entries, "size": format_bytes(size), "hits": hits,
            "misses": misses, "hit rate": rate}


def cache_clear(*, manager: WorkflowManager, name: str | None = None) -> Any:
    """Remove the cache entries of workflow ``name`` (or all); say what was freed."""
    count, freed = manager.clear_cache(name)
    whose = f" of {name!r}" if name else ""
    text = f"removed {count} cache entr{'y' if count == 1 else 'ies'}{whose} ({format_bytes(freed)})"
    return views.MimeBundle({"text/plain": text}, (count, freed))
