"""WorkflowManager: define, validate, run, record and query workflows."""

from __future__ import annotations

import logging
import math
import os
import statistics
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import runtime
from ..engine.actions import NOTEBOOK_MODULE_PREFIX, ActionRegistry, ActionSpec, default_registry
from ..engine.events import RunListener
from ..engine.executors import Executor, make_executor
from ..engine.graph import Graph, compile_graph
from ..engine.home import locate_config_dir
from ..engine.remote import check_fetch as check_fetch_option
from ..engine.runner import Run
from ..engine.store import Store
from ..engine.validation import (
    check_count,
    check_delay,
    check_mapping,
    check_name,
    check_run_id,
    check_run_prefix,
    check_seconds,
    check_steps,
)
from ..errors import (
    AmbiguousRunError,
    ArgumentError,
    ArgumentTypeError,
    CodomyrmexError,
    UnknownWorkflowError,
)
from . import reproducibility
from .history_limit import HistoryLimit, check_history_limit
from .module_workflows import module_workflow, stored_version
from .recorder import RunRecorder
from .run_handle import RunHandle
from .run_parameters import check_run_parameters
from .workflow_compat import WorkflowManagerCompat
from .workflow_listing import describe_workflow, stored_workflows
from .workflow_models import WorkflowExecution, WorkflowStatus, WorkflowStep, step_from_dict

if TYPE_CHECKING:
    from ..engine.cache.step_cache import CacheUsage, StepCache
    from .explanation import CacheExplanation
    from .export import ExportResult
    from .rerun import RerunPlan
    from .run_diff import RunDiff

__all__ = ["WorkflowManager"]

log = logging.getLogger(__name__)

ListenerFactory = Callable[[Run, WorkflowExecution], "RunListener | None"]


class WorkflowManager(WorkflowManagerCompat):
    """Manages workflow definitions, execution, and persistence.

    Parameters
    ----------
    config_dir:
        Directory of the SQLite database; else ``$CODOMYRMEX_HOME``, else the
        nearest ``.codomyrmex/`` in the working directory or its parents, else
        ``~/.codomyrmex`` (``config_location`` says which and why).
    enable_performance_monitoring:
        Record CPU time, peak memory and per-step durations of each run.
    store:
        An open :class:`~codomyrmex_jupyter.engine.store.Store` to use instead
        of ``config_dir`` (``Store(":memory:")`` keeps nothing on disk).
    registry:
        Action registry; the process-wide one when omitted.
    max_concurrency:
        Steps of one run that may run at once.
    retry_backoff:
        Seconds before the first retry of a failed step (doubles each time).
    allow_imports:
        Module prefixes whose ``module:function`` actions this manager (and
        no other) may import.
    history_limit:
        Keep only the newest ``N`` runs of each workflow: older ones are
        pruned after every run. ``None`` (the default) keeps every run.
    cache_max_bytes:
        Bound of the step cache (least recently used entries go first); else
        the value set with ``%orchestrate config --cache-max-bytes``, else 5 GiB.

    Workflow files of the original package (``<name>.json``) found in
    ``config_dir`` are loaded too (see
    :class:`~codomyrmex_jupyter.api.workflow_compat.WorkflowManagerCompat`).
    """

    def __init__(
        self,
        config_dir: Path | None = None,
        enable_performance_monitoring: bool = True,
        *,
        store: Store | None = None,
        registry: ActionRegistry | None = None,
        max_concurrency: int = 64,
        retry_backoff: float = 0.1,
        allow_imports: Sequence[str] = (),
        history_limit: int | None = None,
        cache_max_bytes: int | None = None,
    ) -> None:
        max_concurrency = check_count(max_concurrency, "max_concurrency", minimum=1)
        retry_backoff = check_delay(retry_backoff, "retry_backoff")
        self.config_location = locate_config_dir(check_directory(config_dir, "config_dir"))
        self.config_dir = self.config_location.path
        self.store = store if store is not None else Store(self.config_dir)
        self.registry = registry if registry is not None else default_registry()
        if check_prefixes(allow_imports):  # for this manager only, never the shared registry
            self.registry = self.registry.scoped(allow_imports)
        self.enable_performance_monitoring = enable_performance_monitoring
        self.max_concurrency = max_concurrency
        self.retry_backoff = retry_backoff
        self.history_limit = check_history_limit(history_limit)
        self.listener_factories: list[ListenerFactory] = []
        # Steps with ``resources`` acquire them here; the process-wide
        # ResourceManager's pool unless one is set.
        self.resource_pool: Any = None
        self._workflows: dict[str, tuple[list[WorkflowStep], Graph, int | None]] = {}
        self._executions: OrderedDict[str, WorkflowExecution] = OrderedDict()
        self._active: dict[str, Run] = {}
        self._lock = threading.RLock()
        self._cache: StepCache | None = None
        self._cache_max_bytes = reproducibility.check_max_bytes(cache_max_bytes)
        if store is None:  # a config dir of our own: old <name>.json definitions in it load
            self._load_workflow_folder()

    # -- definitions -------------------------------------------------------------------
    def validate(self, steps: Sequence[WorkflowStep]) -> Graph:
        """Check ``steps`` and return their compiled graph.

        Raises
        ------
        WorkflowValidationError
            No steps, an empty or duplicate name, or an unknown dependency.
        CycleError
            The dependencies form a cycle (``err.cycle`` names it).
        """
        check_steps(steps, WorkflowStep)
        return compile_graph(steps)

    def unknown_actions(self, steps: Sequence[WorkflowStep]) -> list[str]:
        """Each ``module.action`` the steps use that is not registered (yet)."""
        used = dict.fromkeys((s.module, s.action) for s in steps)  # many steps share one
        return [f"{m}.{a}" for m, a in used if self.registry.find(m, a) is None]

    def create_workflow(
        self,
        name: str,
        steps: list[WorkflowStep],
        save: bool = True,
        *,
        source: str | None = None,
        callables: Mapping[str, Callable[..., Any]] | None = None,
    ) -> bool:
        """Create (or replace) a workflow; return False and log why if it is invalid.

        Parameters
        ----------
        name:
            Unique name of the workflow.
        steps:
            The steps; validated (names, dependencies, cycles).
        save:
            Persist the definition to the store (a new version each time).
        source:
            Text the workflow was defined from (a notebook cell), stored with it.
        callables:
            Step name to function, for workflows of plain functions: they are
            registered as ``notebook.<name>.<step>`` in this kernel only.
        """
        try:
            self._define(name, steps, save=save, source=source, callables=callables)
        except CodomyrmexError as exc:
            log.warning("workflow %r not created: %s", name, exc)
            return False
        return True

    def _define(
        self,
        name: str,
        steps: list[WorkflowStep],
        *,
        save: bool,
        source: str | None,
        callables: Mapping[str, Callable[..., Any]] | None,
        origin: str | None = None,
    ) -> int | None:
        check_name(name, "workflow name")
        graph = self.validate(steps)
        if callables:
            self.registry.unregister(NOTEBOOK_MODULE_PREFIX + name)
            for step_name, fn in callables.items():
                self.registry.register(NOTEBOOK_MODULE_PREFIX + name, step_name, fn)
        for missing in self.unknown_actions(steps):
            log.warning("workflow %r: action %s is not registered yet", name, missing)
        version = None
        if save:
            origin = origin or ("cell" if callables else "api")
            version = self.store.save_workflow(
                name, [s.to_dict() for s in steps], source=source, origin=origin
            )
        with self._lock:
            self._workflows[name] = (list(steps), graph, version)
        return version

    def get_workflow(self, name: str) -> list[WorkflowStep] | None:
        """The steps of workflow ``name`` (from this process or the store), or ``None``."""
        entry = self._lookup(name)
        return None if entry is None else list(entry[0])

    def _lookup(self, name: str) -> tuple[list[WorkflowStep], Graph, int | None] | None:
        with self._lock:
            entry = self._workflows.get(name)
        if entry is not None:
            return entry
        coded = module_workflow(name)  # registered by an imported (exported) module
        if coded is not None:
            steps = list(coded.steps)
            entry = (steps, compile_graph(steps), stored_version(self.store, coded))
        else:
            row = self.store.load_workflow(name)
            if row is None:
                return None
            steps = [step_from_dict(d, i) for i, d in enumerate(row["definition"])]
            entry = (steps, compile_graph(steps), row["version"])
        with self._lock:
            self._workflows[name] = entry
        return entry

    def get_graph(self, name: str) -> Graph:
        """The compiled DAG of workflow ``name``."""
        return self._require(name)[1]

    def _require(self, name: str) -> tuple[list[WorkflowStep], Graph, int | None]:
        entry = self._lookup(name)
        if entry is None:
            raise UnknownWorkflowError(name, list(self.list_workflows()))
        return entry

    def delete_workflow(self, name: str) -> bool:
        """Remove a workflow definition (its recorded runs stay)."""
        with self._lock:
            known = self._workflows.pop(name, None) is not None
        return self.store.delete_workflow(name) or known

    def list_workflows(self) -> dict[str, dict[str, Any]]:
        """Lists all available workflows with metadata.

        Each value has ``steps`` (count), ``step_names``, ``modules``,
        ``estimated_duration`` (mean of recorded runs, seconds; 0.0 when
        never run), ``has_dependencies``, ``created``/``updated`` (epoch
        seconds), ``version``, ``origin`` and ``last_status``.
        """
        out = stored_workflows(self.store)
        with self._lock:
            unsaved = {n: e for n, e in self._workflows.items() if n not in out}
        for name, (steps, _, _) in unsaved.items():
            out[name] = describe_workflow(self.store, name, steps, None)
        return dict(sorted(out.items()))

    # -- execution ------------------------------------------------------------------------
    def add_listener_factory(self, factory: ListenerFactory) -> Callable[[], None]:
        """Attach ``factory(run, execution)``'s listener to every future run."""
        self.listener_factories.append(factory)
        return lambda: self.listener_factories.remove(factory)

    def prepare_run(
        self,
        name: str,
        parameters: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        *,
        executor: Executor | str | None = None,
        listeners: Sequence[RunListener] = (),
        run_id: str | None = None,
        session_id: str | None = None,
        cache: bool | None = None,
        force: bool = False,
        rerun: RerunPlan | None = None,
        fetch: str = "leaves",
    ) -> tuple[Run, WorkflowExecution]:
        """Build the run and its execution record without starting it.

        ``executor`` is ``None``/``"local"``, ``"dask://HOST:PORT"``,
        ``"dask-local"`` (a ``LocalCluster`` of this process), a
        ``distributed.Client`` or an executor object. ``fetch`` says which
        results a run on a cluster brings back when it ends (``"leaves"``,
        ``"all"``, ``"none"``); the others are fetched when read. ``cache`` and ``force``
        are those of :meth:`execute_workflow`; ``rerun`` runs a recorded
        run's definition instead of the current one (see :meth:`rerun`). A run
        parameter that no step takes raises
        :class:`~codomyrmex_jupyter.errors.UnknownParameterError` (a rerun
        repeats the parameters its run was accepted with, unchecked).
        """
        check_fetch_option(fetch)
        parameters, timeout, run_id = self._check_run_inputs(name, parameters, timeout, run_id)
        if rerun is not None:
            steps, graph, version = rerun.steps, rerun.graph, rerun.version
        else:
            steps, graph, version = self._require(name)
            check_run_parameters(name, steps, self.registry, parameters)
        executor = make_executor(executor)
        resource_pool = self._resource_pool(steps)
        execution = WorkflowExecution(
            workflow_name=name,
            execution_id=run_id,
            parameters=dict(parameters),
            version=version,
            session_id=session_id,
        )
        recorder = RunRecorder(execution, self.store, monitor=self.enable_performance_monitoring)
        run_cache = reproducibility.run_cache(self, name, steps, cache=cache, force=force, rerun=rerun)
        provenance = reproducibility.provenance_recorder(
            self, steps, version, parameters, run_cache, cache=cache, force=force, rerun=rerun
        )
        # The run's own record and the cache's index are written after the caller's
        # listeners have seen the end of the run (a live view settles first).
        after = [run_cache, provenance] if run_cache is not None else [provenance]
        run = Run(
            steps,
            workflow=name,
            graph=graph,
            registry=self.registry,
            run_id=run_id,
            parameters=parameters,
            timeout=timeout,
            executor=executor,
            listeners=[recorder, *listeners, *after, *self._upkeep_listeners()],
            max_concurrency=self.max_concurrency,
            retry_backoff=self.retry_backoff,
            resources=resource_pool,
            fetch=fetch,
            results_from=run_cache,
        )
        execution._run = run
        execution.step_records = dict(zip(graph.names, run.records, strict=True))
        for factory in list(self.listener_factories):
            try:
                extra = factory(run, execution)
            except Exception:  # a broken display must not stop the run: drop it, say so once
                log.exception("listener factory %r failed and was removed", factory)
                self.listener_factories.remove(factory)
                continue
            if extra is not None:
                run.add_listener(extra)
        self._remember(execution)
        return run, execution

    def _upkeep_listeners(self) -> list[RunListener]:
        # last: after the run and its record are written, so the run that just ended counts
        limit = check_history_limit(self.history_limit)
        return [] if limit is None else [HistoryLimit(self.store, limit, cache=lambda: self.cache)]

    def _check_run_inputs(
        self, name: Any, parameters: Any, timeout: Any, run_id: Any
    ) -> tuple[dict[str, Any], float | None, str]:
        """Check what a run is started with, before anything is stored or started."""
        check_name(name, "workflow name")
        params = check_mapping(parameters, "parameters")
        seconds = check_seconds(timeout, "timeout")
        if run_id is None:
            return params, seconds, uuid.uuid4().hex
        check_run_id(run_id)
        with self._lock:
            taken = run_id in self._executions
        if taken or self.store.get_run(run_id, with_steps=False, exact=True) is not None:
            raise ArgumentError(
                f"run_id {run_id!r} is already used by another run; pass a new id or none",
                argument="run_id",
            )
        return params, seconds, run_id

    def _resource_pool(self, steps: Sequence[WorkflowStep]) -> Any:
        if not any(s.resources for s in steps):
            return None
        if self.resource_pool is None:
            from .accessors import get_resource_manager

            self.resource_pool = get_resource_manager().pool
        return self.resource_pool

    def _remember(self, execution: WorkflowExecution) -> None:
        with self._lock:
            self._executions[execution.execution_id] = execution
            while len(self._executions) > 500:
                self._executions.popitem(last=False)

    async def execute_workflow(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        timeout: float | None = None,
        *,
        executor: Executor | str | None = None,
        listeners: Sequence[RunListener] = (),
        run_id: str | None = None,
        session_id: str | None = None,
        cache: bool | None = None,
        force: bool = False,
        fetch: str = "leaves",
    ) -> WorkflowExecution:
        """Execute workflow ``name`` and return its :class:`WorkflowExecution`.

        Steps start as soon as their dependencies succeed, concurrently up to
        ``max_concurrency``. A failed step skips its descendants and the
        workflow ends ``FAILED`` with one line per failure in ``errors``.
        Cancelling the awaiting task cancels the run (recorded ``CANCELLED``)
        and re-raises ``CancelledError``.

        Parameters
        ----------
        name:
            Name of the workflow to execute.
        parameters:
            Global parameters, passed to each step callable that accepts them.
        timeout:
            Maximum execution time of the whole run in seconds.
        cache:
            ``None``: each step uses the step cache if its ``cache`` says so;
            ``True``/``False``: every step does, or none.
        force:
            Compute the cached steps anyway and refresh their entries.
        executor:
            Where steps run (see :meth:`prepare_run`).
        fetch:
            On a cluster, the results fetched when the run ends:
            ``"leaves"`` (default), ``"all"`` or ``"none"``. Every other
            result stays on the cluster and is fetched when read
            (``execution.results[name]``).
        """
        run, execution = self.prepare_run(
            name, parameters, timeout, executor=executor, listeners=listeners,
            run_id=run_id, session_id=session_id, cache=cache, force=force, fetch=fetch,
        )
        return await self._execute(run, execution)

    async def _execute(self, run: Run, execution: WorkflowExecution) -> WorkflowExecution:
        with self._lock:
            self._active[run.run_id] = run
        try:
            await run.execute()
        finally:
            with self._lock:
                self._active.pop(run.run_id, None)
            execution.sync_from_run()
        return execution

    def run_workflow(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> WorkflowExecution:
        """Synchronous :meth:`execute_workflow`, usable inside a running event loop.

        The run happens on the runtime's background loop thread (or on the
        caller's loop in ``nested`` loop mode). ``KeyboardInterrupt`` cancels
        the run, records it cancelled, and is re-raised.
        """
        return runtime.run_sync(self.execute_workflow(name, parameters, timeout, **kwargs))

    def start_workflow(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> RunHandle:
        """Start a run on the background loop and return its handle at once."""
        # Checked here, not only in the coroutine: a refused run must fail now,
        # not later in a handle nobody may ever wait on. The coroutine checks
        # again (one primary-key read), as every run start does: a run may have
        # taken the id meanwhile.
        parameters, timeout, run_id = self._check_run_inputs(
            name, parameters, timeout, kwargs.pop("run_id", None)
        )
        check_fetch_option(kwargs.get("fetch", "leaves"))
        self._require(name)
        coro = self.execute_workflow(name, parameters, timeout, run_id=run_id, **kwargs)
        return RunHandle(self, run_id, name, runtime.spawn(coro))

    def cancel_execution(self, run_id: str) -> bool:
        """Cancel an active run (any thread); True if it was running here.

        ``run_id`` is a run id or a prefix of at least 4 characters that
        matches one run.

        Raises
        ------
        ArgumentError
            The prefix is shorter than 4 characters.
        AmbiguousRunError
            The prefix matches several runs (``err.matches`` lists them).
        """
        full = self._resolve_run_id(run_id)
        with self._lock:
            run = self._active.get(full) if full is not None else None
        if run is None:
            return False
        run.cancel()
        return True

    def _resolve_run_id(self, run_id: str) -> str | None:
        """The one run id ``run_id`` names (itself, or the run it is a prefix of), or ``None``."""
        with self._lock:
            if run_id in self._executions or run_id in self._active:
                return run_id
        check_run_prefix(run_id)
        if self.store.get_run(run_id, with_steps=False, exact=True) is not None:
            return run_id
        with self._lock:
            found = {k for k in (*self._executions, *self._active) if k.startswith(run_id)}
        found.update(self.store.find_run_ids(run_id, limit=10))
        if len(found) > 1:
            raise AmbiguousRunError(run_id, sorted(found))
        return found.pop() if found else None

    def active_runs(self) -> list[WorkflowExecution]:
        """Executions still running in this process."""
        with self._lock:
            ids = list(self._active)
        return [e for e in (self.get_execution(i) for i in ids) if e is not None]

    # -- history ----------------------------------------------------------------------------
    def get_execution(self, run_id: str) -> WorkflowExecution | None:
        """An execution by id (or a prefix of at least 4 characters), from memory or the store.

        Raises
        ------
        ArgumentError
            The prefix is shorter than 4 characters.
        AmbiguousRunError
            The prefix matches several runs (``err.matches`` lists them).
        """
        with self._lock:
            ex = self._executions.get(run_id)
        if ex is not None:
            return ex
        full = self._resolve_run_id(run_id)
        if full is None:
            return None
        with self._lock:
            ex = self._executions.get(full)
        if ex is not None:
            return ex
        row = self.store.get_run(full, exact=True)
        if row is None:
            return None
        ex = _execution_from_row(row)
        ex.edges = self._stored_edges(row["workflow"], row["version"])
        reproducibility.apply_record(self.store, ex)
        return ex

    def _stored_edges(self, name: str, version: int | None) -> list[tuple[str, str]]:
        stored = self.store.load_workflow(name, version) if version is not None else None
        if stored is None:
            return []
        return [(d, s["name"]) for s in stored["definition"] for d in s.get("dependencies", [])]

    def history(
        self, workflow: str | None = None, limit: int | None = 20, *, status: str | None = None
    ) -> list[WorkflowExecution]:
        """Recorded executions, newest first (without step results)."""
        rows = self.store.list_runs(workflow, limit=limit, status=status)
        return [_execution_from_row(r) for r in rows]

    def get_performance_summary(self, workflow_name: str | None = None) -> dict[str, Any]:
        """Performance summary computed from recorded runs.

        Keys: ``total_workflows_executed``, ``successful_executions``,
        ``failed_executions``, ``cancelled_executions``, ``success_rate``,
        ``average_duration``, ``p95_duration``, ``workflows`` (per workflow:
        runs, successes, failures, mean and p95 duration), ``steps`` (per
        ``workflow.step``: runs, failures, retries, mean and p95 duration)
        and ``module_usage`` (steps executed per module); the original
        package's keys too: ``performance_stats`` (the ``steps`` table),
        ``average_execution_time`` and ``module_usage_stats`` (per module:
        ``count`` of steps executed and their ``total_time``).
        """
        runs = self.store.run_durations(workflow_name)
        statuses = [r["status"] for r in runs]
        total = len(runs)
        ok = statuses.count("completed")
        durations = [r["duration"] for r in runs if r["duration"] is not None]
        step_rows = self.store.step_durations(workflow_name)
        definitions = self.store.list_workflows()  # read and decoded once, for both module tables
        summary = {
            "total_workflows_executed": total,
            "successful_executions": ok,
            "failed_executions": statuses.count("failed"),
            "cancelled_executions": statuses.count("cancelled"),
            "success_rate": ok / total if total else 0.0,
            "average_duration": statistics.fmean(durations) if durations else 0.0,
            "p95_duration": _p95(durations),
            "workflows": _group_runs(runs),
            "steps": _group_steps(step_rows),
            "module_usage": self._module_usage(workflow_name, definitions),
        }
        summary.update(self._original_summary_keys(summary, step_rows, definitions))
        return summary

    def _module_usage(
        self, workflow_name: str | None, definitions: Sequence[Mapping[str, Any]]
    ) -> dict[str, int]:
        usage: dict[str, int] = {}
        runs = self.store.runs_per_workflow()
        for row in definitions:
            if workflow_name is not None and row["name"] != workflow_name:
                continue
            n_runs = runs.get(row["name"], 0)
            for step in row["definition"]:
                usage[step["module"]] = usage.get(step["module"], 0) + n_runs
        return dict(sorted(usage.items()))

    def export_workflow(  # type: ignore[override]  # the original's folder form still works
        self,
        name: str,
        path: str | Path | None = None,
        *,
        module: str | None = None,
        force: bool = False,
        overwrite: bool = False,
    ) -> ExportResult | Path:
        """Write workflow ``name`` to ``path`` so it runs (or loads) elsewhere.

        The path says what is written:

        * ``NAME.py``: a plain Python module. A workflow of notebook functions
          brings its step functions and the helpers, imports and literal
          globals they use, ``@action`` registrations under ``module`` and
          the definition; importing it is enough to run the workflow by name
          (see :mod:`.export`). A workflow of registered actions brings its
          definition.
        * ``NAME.yaml`` / ``.yml``: the YAML of a workflow of registered actions.
        * a folder (default ``config_dir``): ``<folder>/<name>.json`` in the
          original package's format (see docs/compatibility.md); returns its path.

        ``force`` (or ``overwrite``) replaces an existing file.

        Raises
        ------
        ExportError
            Nothing was written: the file exists, the suffix does not fit, or
            a step uses something that cannot be carried over (named).
        FileExistsError
            The original's ``<name>.json`` exists and neither flag is set.
        UnknownWorkflowError
            No workflow of that name.
        """
        from .export import MODULE_SUFFIXES, ExportError, export_workflow

        target = Path(path) if path is not None else None
        replace = force or overwrite
        if target is None or target.suffix == "" or target.is_dir():
            return super().export_workflow(name, target, overwrite=replace)
        if target.suffix not in MODULE_SUFFIXES:
            raise ExportError(
                f"export to a .py module, a .yaml file or a folder (for the original's <name>.json), "
                f"not {target.name!r}"
            )
        return export_workflow(self, name, target, module=module, force=replace)

    # -- reproducibility ----------------------------------------------------------------------
    @property
    def cache(self) -> StepCache:
        """The step cache beside this manager's database (made on first use)."""
        with self._lock:
            if self._cache is None:
                self._cache = reproducibility.make_cache(self.store, self._cache_max_bytes)
            return self._cache

    @property
    def cache_max_bytes(self) -> int:
        """The step cache's bound in bytes (setting it evicts what no longer fits)."""
        return self.cache.max_bytes

    @cache_max_bytes.setter
    def cache_max_bytes(self, value: int) -> None:
        self.cache.set_max_bytes(reproducibility.check_max_bytes(value) or 0)
        self._cache_max_bytes = value

    def cache_usage(self) -> CacheUsage:
        """Entries, bytes, bound and hits/misses per workflow of the step cache."""
        return self.cache.usage()

    def clear_cache(self, workflow: str | None = None) -> tuple[int, int]:
        """Remove the cache entries of ``workflow`` (or all); return ``(entries, bytes)`` freed."""
        return self.cache.clear(workflow)

    def explain(
        self,
        name: str,
        step: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        *,
        cache: bool | None = None,
    ) -> CacheExplanation:
        """Would the next run of ``name`` take each step from the cache, and if not, why?

        Parameters
        ----------
        name:
            The workflow.
        step:
            Only this step (its dependencies are still keyed).
        parameters:
            The run parameters the next run would get.
        cache:
            The run's ``cache`` option (``None``: what each step says).
        """
        steps, graph, _ = self._require(name)
        return reproducibility.explain(
            self, name, steps=steps, graph=graph, step=step, parameters=parameters, cache=cache
        )

    def diff_runs(self, a: str, b: str) -> RunDiff:
        """Compare two recorded runs (ids or unique prefixes): steps, code, parameters,
        states, durations, result summaries and environment."""
        from .run_diff import diff_runs

        return diff_runs(self, a, b)

    def plan_rerun(self, run_id: str, from_failed: bool = False) -> RerunPlan:
        """Check that a recorded run can be repeated here, and what a rerun would do.

        Raises
        ------
        ReproducibilityError
            The run cannot be repeated here (the message says why).
        """
        from .rerun import plan_rerun

        return plan_rerun(self, run_id, from_failed=from_failed)

    async def execute_rerun(
        self,
        run_id: str | RerunPlan,
        from_failed: bool = False,
        *,
        timeout: float | None = None,
        executor: Executor | str | None = None,
        listeners: Sequence[RunListener] = (),
        new_run_id: str | None = None,
    ) -> WorkflowExecution:
        """Async :meth:`rerun`."""
        plan = self._plan(run_id, from_failed)
        return await self._execute_plan(plan, timeout, executor, listeners, new_run_id)

    def _plan(self, run: str | RerunPlan, from_failed: bool) -> RerunPlan:
        return self.plan_rerun(run, from_failed) if isinstance(run, str) else run

    async def _execute_plan(
        self, plan: RerunPlan, timeout: float | None, executor: Executor | str | None,
        listeners: Sequence[RunListener], run_id: str | None,
    ) -> WorkflowExecution:
        run, execution = self.prepare_run(
            plan.workflow, plan.parameters, timeout, executor=executor, listeners=listeners,
            run_id=run_id, cache=plan.cache_option, rerun=plan,
        )
        return await self._execute(run, execution)

    def rerun(self, run_id: str | RerunPlan, from_failed: bool = False, **kwargs: Any) -> WorkflowExecution:
        """Run a recorded run again: the same definition version and parameters.

        A plain rerun needs the code the run used (each step's fingerprint
        must match); ``from_failed=True`` keeps the results of the steps that
        succeeded (from this kernel, the cache or the stored results) and runs
        the failed, skipped and cancelled ones with the code registered now.
        ``run_id`` may also be a plan from :meth:`plan_rerun`. Keyword
        arguments are those of :meth:`execute_rerun`.

        Raises
        ------
        ReproducibilityError
            The run cannot be repeated here (the message says why).
        """
        return runtime.run_sync(self.execute_rerun(self._plan(run_id, from_failed), **kwargs))

    def start_rerun(
        self,
        run_id: str | RerunPlan,
        from_failed: bool = False,
        *,
        timeout: float | None = None,
        executor: Executor | str | None = None,
        listeners: Sequence[RunListener] = (),
        new_run_id: str | None = None,
    ) -> RunHandle:
        """:meth:`rerun` in the background: returns a run handle at once."""
        plan = self._plan(run_id, from_failed)  # errors before anything starts
        new_run_id = new_run_id or uuid.uuid4().hex
        coro = self._execute_plan(plan, timeout, executor, listeners, new_run_id)
        return RunHandle(self, new_run_id, plan.workflow, runtime.spawn(coro))

    def actions(self) -> list[str]:
        """Every registered ``module.action``."""
        return self.registry.known()

    def register_action(self, module: str, name: str, fn: Callable[..., Any]) -> ActionSpec:
        """Register a callable as ``module.name`` in this manager's registry."""
        return self.registry.register(module, name, fn)

    def close(self) -> None:
        """Cancel active runs and close the store."""
        for run_id in list(self._active):
            self.cancel_execution(run_id)
        self.store.close()


def check_prefixes(value: Any) -> list[str]:
    """``allow_imports``: a list of module prefixes (a single string is refused: it is iterable)."""
    if isinstance(value, str) or not isinstance(value, Sequence | set | frozenset):
        raise ArgumentTypeError(
            f"allow_imports {value!r:.40} is a {type(value).__name__}; give a list of module "
            "prefixes such as ['mypkg.']",
            argument="allow_imports",
        )
    for prefix in value:
        check_name(prefix, "allow_imports entry")
    return list(value)


def check_directory(value: Any, what: str) -> Path | None:
    """``None``, or a ``str``/``PathLike`` as a ``Path``."""
    if value is None:
        return None
    if not isinstance(value, str | os.PathLike) or not os.fspath(value):
        raise ArgumentTypeError(
            f"{what} {value!r:.40} is not a path; give a directory as a str or pathlib.Path",
            argument=what,
        )
    return Path(value)


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def _group_runs(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["workflow"], []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        d = [r["duration"] for r in rs if r["duration"] is not None]
        out[name] = {
            "runs": len(rs),
            "successes": sum(r["status"] == "completed" for r in rs),
            "failures": sum(r["status"] == "failed" for r in rs),
            "mean_duration": statistics.fmean(d) if d else 0.0,
            "p95_duration": _p95(d),
        }
    return out


def _group_steps(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{r['workflow']}.{r['name']}", []).append(r)
    out = {}
    for key, rs in sorted(groups.items()):
        d = [r["duration"] for r in rs if r["duration"] is not None]
        out[key] = {
            "runs": len(rs),
            "failures": sum(r["status"] == "failed" for r in rs),
            "retries": sum(max(0, (r["attempts"] or 0) - 1) for r in rs),
            "mean_duration": statistics.fmean(d) if d else 0.0,
            "p95_duration": _p95(d),
        }
    return out


def _status(value: str) -> WorkflowStatus:
    try:
        return WorkflowStatus(value)
    except ValueError:  # a status written by a newer version
        return WorkflowStatus.FAILED


def _execution_from_row(row: dict[str, Any]) -> WorkflowExecution:
    from ..engine.state import StepRecord, epoch_to_datetime

    ex = WorkflowExecution(
        workflow_name=row["workflow"],
        status=_status(row["status"]),
        start_time=epoch_to_datetime(row["start"]),
        end_time=epoch_to_datetime(row["end"]),
        errors=list(row["errors"] or []),
        performance_metrics=dict(row["metrics"] or {}),
        execution_id=row["run_id"],
        parameters=dict(row["parameters"] or {}),
        version=row["version"],
        session_id=row["session_id"],
    )
    for s in row.get("steps", []):
        rec = StepRecord(
            s["name"], s["status"], s["start"], s["end"], s["attempts"], s["error"],
            s["traceback"], s["result"], s["reason"],
        )
        ex.step_records[s["name"]] = rec
        if s["status"] in ("succeeded", "cached"):
            ex.results[s["name"]] = s["result"]
    return ex
