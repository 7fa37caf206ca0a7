"""How ``WorkflowManager`` wires the step cache and run records into its runs.

Kept out of ``workflow_manager.py`` so the manager's methods stay one call
each. A run gets a :class:`~codomyrmex_jupyter.engine.cache.step_cache.RunCache`
only when one of its steps uses the cache (or a rerun keeps results): a run
without caching pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.cache.entries import KEY_FILENAME
from ..engine.cache.step_cache import DEFAULT_MAX_BYTES, RunCache, StepCache
from ..engine.provenance import load_record
from ..engine.store import Store, encode_json_lenient
from ..engine.validation import show
from ..errors import ArgumentTypeError, WorkflowValidationError
from .provenance_recorder import ProvenanceRecorder

if TYPE_CHECKING:
    from ..engine.graph import Graph
    from .explanation import CacheExplanation
    from .rerun import RerunPlan
    from .workflow_manager import WorkflowManager
    from .workflow_models import WorkflowExecution, WorkflowStep

__all__ = [
    "CACHE_DIRNAME",
    "CONFIG_KIND",
    "apply_record",
    "check_max_bytes",
    "explain",
    "make_cache",
    "provenance_recorder",
    "run_cache",
    "stored_max_bytes",
]

CACHE_DIRNAME = "cache"
CONFIG_KIND = "config"
_MAX_BYTES_KEY = "cache_max_bytes"
_cached = attrgetter("cache")


def check_max_bytes(value: int | None) -> int | None:
    """``value`` if it is a valid cache bound (or ``None``); else ``ValueError``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"cache_max_bytes must be a whole number of bytes >= 0, got {value!r}")
    return value


def stored_max_bytes(store: Store) -> int | None:
    """The bound set with ``%orchestrate config --cache-max-bytes`` (kept in the store)."""
    value = store.get_doc(CONFIG_KIND, _MAX_BYTES_KEY)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def store_max_bytes(store: Store, value: int) -> None:
    """Keep the bound in the store, for every later kernel."""
    store.put_doc(CONFIG_KIND, _MAX_BYTES_KEY, check_max_bytes(value))


def make_cache(store: Store, max_bytes: int | None) -> StepCache:
    """The cache beside the store's file (in memory for an in-memory store)."""
    bound = max_bytes if max_bytes is not None else stored_max_bytes(store)
    if bound is None:
        bound = DEFAULT_MAX_BYTES
    if store.path == ":memory:":
        return StepCache(store, None, max_bytes=bound)
    home = Path(store.path).parent
    return StepCache(store, home / CACHE_DIRNAME, key_file=home / KEY_FILENAME, max_bytes=bound)


def run_cache(
    manager: WorkflowManager,
    workflow: str,
    steps: Sequence[WorkflowStep],
    *,
    cache: bool | None,
    force: bool,
    rerun: RerunPlan | None,
) -> RunCache | None:
    """The run's cache side, or ``None`` when no step uses the cache and nothing is kept."""
    if cache is not None and not isinstance(cache, bool):
        raise ArgumentTypeError(f"cache {show(cache)} is a {type(cache).__name__}; give True, False "
                                "or None (each step's own setting)", argument="cache")
    if not isinstance(force, bool):
        raise ArgumentTypeError(f"force {show(force)} is a {type(force).__name__}; give True or False",
                                argument="force")
    kept = rerun.kept if rerun is not None else {}
    if cache is None:
        if not kept and not any(map(_cached, steps)):
            return None
        enabled = [bool(s.cache) for s in steps]
    elif cache:
        enabled = [True] * len(steps)
    elif not kept:
        return None
    else:
        enabled = [False] * len(steps)
    note = rerun.note if rerun is not None else "kept"
    return manager.cache.for_run(workflow=workflow, enabled=enabled, force=force, kept=kept, kept_note=note)


def provenance_recorder(
    manager: WorkflowManager,
    steps: Sequence[WorkflowStep],
    version: int | None,
    parameters: Mapping[str, Any] | None,
    run_cache: RunCache | None,
    *,
    cache: bool | None,
    force: bool,
    rerun: RerunPlan | None,
) -> ProvenanceRecorder:
    """The listener that records the run's code, environment, cache keys and summaries."""
    options: dict[str, Any] = {"cache_option": cache, "force": force or None}
    if parameters:
        unstored = encode_json_lenient(dict(parameters))[1]
        options["parameters_not_stored"] = unstored
    if rerun is not None:
        options["rerun_of"] = rerun.source.run_id
        options["from_failed"] = rerun.from_failed or None
    definition = [s.to_dict() for s in steps] if version is None else None
    return ProvenanceRecorder(manager.store, run_cache=run_cache, options=options, definition=definition)


def apply_record(store: Store, execution: WorkflowExecution) -> None:
    """Give a stored execution's step records their cache outcomes."""
    record = load_record(store, execution.execution_id)
    for name, entry in ((record or {}).get("cache") or {}).items():
        rec = execution.step_records.get(name)
        if rec is not None:
            rec.cache = entry.get("outcome")


def explain(
    manager: WorkflowManager,
    workflow: str,
    *,
    steps: Sequence[WorkflowStep],
    graph: Graph,
    step: str | None,
    parameters: Mapping[str, Any] | None,
    cache: bool | None,
) -> CacheExplanation:
    """See :meth:`WorkflowManager.explain`."""
    from ..engine.cache.explain import explain_steps
    from .explanation import CacheExplanation

    if step is not None and step not in graph.index:
        raise WorkflowValidationError(
            f"workflow {workflow!r} has no step {step!r}; its steps: {', '.join(graph.names)}", step=step
        )
    answers = explain_steps(
        manager.cache, workflow=workflow, steps=steps, graph=graph, registry=manager.registry,
        parameters=parameters, use_cache=cache,
    )
    if step is not None:
        answers = [a for a in answers if a.step == step]
    return CacheExplanation(workflow, answers)
