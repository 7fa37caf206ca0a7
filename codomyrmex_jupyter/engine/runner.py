"""Running one workflow: the scheduler loop, retries, deadlines and cancellation.

Algorithm
---------
The run is driven by completion callbacks, all on one event-loop thread:

* Which step may start is decided by the sans-I/O scheduling core
  (:class:`~.scheduling.Schedule`, shared with the task orchestrator): it
  counts each step's unfinished dependencies and hands out ready steps by
  priority (``step.priority``, higher first; FIFO within a priority,
  retries and steps that waited for resources go first). This module is
  the I/O shell around it: executors, timers, states, listeners.
* ``_launch`` starts ready steps while fewer than ``max_concurrency`` run.
  Starting a step resolves its action, binds its arguments and hands the call
  to the executor with a completion callback. No coroutine wraps the user's
  callable, so an async step costs one asyncio task.
* When a step succeeds, the core returns the children that became ready.
  When a step fails for good, the core returns every pending descendant,
  which is *skipped* with the reason. Other branches keep running.
* An executor may take a run's steps itself (``executor.bind(run)``, the
  Dask executor): it then gets each step's index and attempt
  (``submit_step``), may give the run its results mapping (results that
  stay on a cluster, fetched on access) and fetches what the run's
  ``fetch`` option asks for when the run ends.
* A failed attempt with retries left waits ``retry_backoff * 2**(attempt-1)``
  seconds (capped) in state *retrying*, then goes back to the front of the
  queue.
* Per-step timeouts use one deadline heap and a single ``loop.call_at``
  timer for the earliest deadline, instead of an ``asyncio.timeout`` per step.
  A step past its deadline is cancelled and fails with :class:`StepTimeout`;
  a late completion of the same attempt is ignored (each completion carries
  its attempt number). The time of a call on a worker thread counts from
  when a thread takes it, not from its submission (a deadline that comes
  while it still waits in the queue is moved). A thread cannot be stopped:
  a timed-out or cancelled sync step keeps its resources booked until its
  thread returns.
* A step about to start asks the run's result source, when it has one (the
  step cache, see ``engine/cache``): a hit ends the step *cached* with that
  value, without calling it, and its children become ready as for a success.
* The run timeout is one more timer: running steps fail with
  :class:`StepTimeout`, the rest are skipped, the run fails.
* Cancellation (``cancel()``, cancelling the awaiting task, or an interrupt)
  cancels running steps, marks every unfinished step *cancelled*, waits for
  cancelled asyncio tasks to finish their clean-up, and ends the run
  *cancelled*. A cancelled awaiting task still sees ``CancelledError``.

Listeners (:class:`~.events.RunListener`) see every transition; the runner
knows nothing about what they do with it. A listener that raises is logged
once, with its name, and detached; the run goes on and is recorded.

Every transition is one of :data:`~.state.TRANSITIONS`. With
``check_transitions=True`` (the debug mode, used by the property tests) each
one is checked as it happens, and a run that made an illegal one raises
``AssertionError`` once it has ended and been recorded.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Protocol

from ..errors import ResourceUnavailable, StepTimeout, UnknownActionError
from .actions import ActionRegistry, ActionSpec, default_registry
from .binding import bind_arguments
from .events import BaseListener, RunEvent, RunListener, run_events
from .executors import Cancellable, Executor, LocalExecutor
from .graph import Graph, compile_graph
from .remote import check_fetch
from .scheduling import CANCELLED, SKIPPED, Schedule
from .state import StepRecord, check_transition
from .tracebacks import user_traceback
from .validation import check_count, check_delay, check_mapping, check_seconds, check_steps

__all__ = ["CHECK_TRANSITIONS", "ResultSource", "Run", "StepLike", "format_error"]

log = logging.getLogger(__name__)

# Debug mode for every run (see Run's check_transitions); tests may set it.
CHECK_TRANSITIONS = os.environ.get("CODOMYRMEX_CHECK_TRANSITIONS") == "1"
_AT_SUBMIT = object()  # a call whose start is its submission (asyncio, process pool, Dask)
_HELD = "its thread still runs and keeps the step's resources booked until it returns"

_UNFINISHED = frozenset({"pending", "ready", "running", "retrying"})


class StepLike(Protocol):
    """What the runner needs from a step definition (``WorkflowStep`` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def parameters(self) -> Mapping[str, Any]: ...
    @property
    def dependencies(self) -> Sequence[str]: ...
    @property
    def timeout(self) -> float | None: ...
    @property
    def max_retries(self) -> int: ...


class ResourceGate(Protocol):
    """What the runner needs from a resource pool (``engine.resources.ResourcePool``)."""

    def try_acquire(self, holder: str, request: Mapping[str, float]) -> bool:
        """Take every amount in ``request`` for ``holder`` at once, or nothing.

        Raises ``ResourceUnavailable`` when the request can never be met
        (unknown resource, or more than its capacity).
        """

    def release(self, holder: str) -> Any:
        """Give back everything ``holder`` took."""

    def subscribe(self, callback: Any) -> Any:
        """Call ``callback(change)`` after every change (from any thread)."""


class ResultSource(Protocol):
    """Where a step's result may come from without running it (``engine.cache.RunCache``)."""

    def lookup(self, run: Run, index: int, spec: ActionSpec) -> tuple[bool, Any]:
        """``(True, value)`` to end step ``index`` *cached* with ``value``; ``(False, None)`` to run it.

        Called once per step, before its first attempt; it may set the step
        record's ``cache`` text. It must not raise.
        """


def format_error(exc: BaseException) -> str:
    """One line for an exception: ``"ValueError: message"``."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class Run:
    """One execution of a workflow.

    Parameters
    ----------
    steps:
        Step definitions (anything shaped like :class:`StepLike`).
    workflow:
        The workflow's name.
    graph:
        A compiled graph of ``steps``; compiled (and validated) when omitted.
    registry:
        Where actions are resolved; the default registry when omitted.
    specs:
        Callables by step name that bypass the registry (notebook functions).
    run_id:
        Unique id; a new UUID4 hex when omitted.
    parameters:
        The run's global parameters.
    timeout:
        Seconds for the whole run, or ``None``.
    executor:
        Who runs the callables; a :class:`LocalExecutor` when omitted.
    listeners:
        Observers of this run.
    max_concurrency:
        Upper bound on steps running at once.
    retry_backoff, max_backoff:
        First retry delay in seconds and the cap of the exponential backoff.
    resources:
        The pool that steps with ``resources`` acquire from. With an
        executor that runs steps on a cluster, the pool books only the
        resources it defines; the others go to the cluster.
    fetch:
        What a run whose results stay on a cluster fetches when it ends:
        ``"leaves"`` (results no step consumed), ``"all"`` or ``"none"``.
        Results not fetched are fetched when read.
    results_from:
        Asked before each step's first attempt whether its result is known
        already (the step cache); ``None`` runs every step.
    check_transitions:
        Check every state transition against :data:`~.state.TRANSITIONS`
        (debug mode); an illegal one makes :meth:`execute` raise
        ``AssertionError`` after the run has ended. ``None`` (the default)
        follows :data:`CHECK_TRANSITIONS`, which the environment variable
        ``CODOMYRMEX_CHECK_TRANSITIONS=1`` turns on for every run.
    """

    def __init__(
        self,
        steps: Sequence[StepLike],
        *,
        workflow: str,
        graph: Graph | None = None,
        registry: ActionRegistry | None = None,
        specs: Mapping[str, ActionSpec] | None = None,
        run_id: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        executor: Executor | None = None,
        listeners: Sequence[RunListener] = (),
        max_concurrency: int = 256,
        retry_backoff: float = 0.1,
        max_backoff: float = 30.0,
        resources: ResourceGate | None = None,
        fetch: str = "leaves",
        results_from: ResultSource | None = None,
        check_transitions: bool | None = None,
    ) -> None:
        check_count(max_concurrency, "max_concurrency", minimum=1)
        self.timeout = check_seconds(timeout, "run timeout")
        self.parameters: dict[str, Any] = check_mapping(parameters, "run parameters")
        self.retry_backoff, self.max_backoff = _delays(retry_backoff, max_backoff)
        self.steps = list(steps)
        if graph is None:  # a given graph was compiled from checked steps
            check_steps(self.steps)
            graph = compile_graph(self.steps)
        self.graph = graph
        self.workflow = workflow
        self.run_id = run_id or uuid.uuid4().hex
        self.fetch = check_fetch(fetch)
        self.resource_gate = resources
        self.loop: asyncio.AbstractEventLoop | None = None
        self.executor: Executor = _bound(executor if executor is not None else LocalExecutor(), self)
        self._submit_step = getattr(self.executor, "submit_step", None)
        self.listeners = list(listeners)
        self.max_concurrency = max_concurrency
        self.registry = registry if registry is not None else default_registry()
        self.status = "pending"
        self.start: float | None = None
        self.end: float | None = None
        self.records = [StepRecord(name) for name in self.graph.names]
        results_for = getattr(self.executor, "results_for", None)
        self.results: dict[str, Any] = results_for(self) if results_for is not None else {}
        self.errors: list[str] = []
        self.exceptions: dict[str, BaseException] = {}
        self.peak_concurrency = 0
        self._specs: list[ActionSpec | None] = [None] * len(self.steps)
        self._by_action: dict[tuple[str, str], ActionSpec] = {}
        if specs:
            for name, spec in specs.items():
                self._specs[self.graph.index[name]] = spec
        self._init_scheduler()
        self._step_callbacks = [
            lst.step_changed for lst in self.listeners if _observes_steps(lst)
        ]
        self._gate = resources
        # which steps asked the result source already (once each)
        self._source, self._consulted = results_from, bytearray(len(self.steps) if results_from else 0)
        self._needs: dict[int, Mapping[str, float]] = {
            i: req for i, st in enumerate(self.steps) if (req := getattr(st, "resources", None))
        }
        if self._needs and self._submit_step is not None:
            # the cluster books what the kernel's pool does not define
            defined = set(getattr(resources, "resource_ids", list)())
            local = {i: {k: v for k, v in r.items() if k in defined} for i, r in self._needs.items()}
            self._needs = {i: r for i, r in local.items() if r}
        if self._needs and resources is None:
            raise ValueError("steps request resources but the run has no resource pool")
        self._blocked = False  # some step waits for resources (in the core, deferred)
        self._holding: set[int] = set()
        self._unsubscribe: Any = None
        self.illegal_transitions: list[str] = []
        if CHECK_TRANSITIONS if check_transitions is None else check_transitions:
            # an instance attribute: the normal path pays nothing
            self._set = self._set_checked  # type: ignore[method-assign]

    def _init_scheduler(self) -> None:
        """The scheduler's private state (see the module docstring)."""
        priorities = [getattr(s, "priority", 0) for s in self.steps]
        self._core = Schedule(
            self.graph.parents, self.graph.children,
            [int(p) for p in priorities] if any(priorities) else None,
        )
        self._deferred: deque[tuple[int, BaseException]] = deque()
        self._handles: dict[int, Cancellable] = {}
        self._retry_timers: dict[int, asyncio.TimerHandle] = {}
        self._deadlines: list[tuple[float, int, int]] = []
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._run_timer: asyncio.TimerHandle | None = None
        self._running = 0
        self._finished_count = 0
        self._gate_changed = False  # the resource pool changed since the last try (see _acquire)
        self._acquiring = False
        self._launching = False
        self._cancel_reason: str | None = None
        self._timed_out = False
        self._crashed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished: asyncio.Future[None] | None = None

    # -- public ------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The run has ended (any status)."""
        return self.status in ("completed", "failed", "cancelled")

    def counts(self) -> dict[str, int]:
        """Number of steps per state."""
        out: dict[str, int] = {}
        for rec in self.records:
            out[rec.status] = out.get(rec.status, 0) + 1
        return out

    def record(self, name: str) -> StepRecord:
        """The record of step ``name``."""
        return self.records[self.graph.index[name]]

    def resolved_spec(self, index: int) -> ActionSpec | None:
        """The action of step ``index`` if it was resolved (the step started), else ``None``."""
        return self._specs[index]

    def resolved_specs(self) -> list[ActionSpec | None]:
        """The action of every step; those that never started are looked up now (``None``: unknown)."""
        specs = list(self._specs)
        if not any(s is None for s in specs):  # by identity: specs' __eq__ is slow
            return specs
        for i, spec in enumerate(specs):
            if spec is None:
                step = self.steps[i]
                specs[i] = self._by_action.get((step.module, step.action)) or self.registry.find(
                    step.module, step.action
                )
        return specs

    def add_listener(self, listener: RunListener) -> None:
        """Attach another listener (before the run starts, or from the loop thread)."""
        self.listeners.append(listener)
        if _observes_steps(listener):
            self._step_callbacks.append(listener.step_changed)

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Cancel the run from any thread; running steps are cancelled."""
        loop = self._loop
        if loop is None or self.done:
            self._cancel_reason = reason
            return
        if _on_loop_thread(loop):
            self._abort(reason)
        else:
            loop.call_soon_threadsafe(self._abort, reason)

    async def execute(self) -> Run:
        """Run every step; return ``self`` once the run has ended."""
        loop = asyncio.get_running_loop()
        self._loop = self.loop = loop
        self._finished = loop.create_future()
        try:
            self._begin(loop)
            await self._finished
        except (asyncio.CancelledError, KeyboardInterrupt):
            self._abort("cancelled")
            await self._end()
            raise
        except Exception as exc:  # an error of the engine itself: the run still ends, recorded
            self.errors.append(f"run stopped by an internal error: {format_error(exc)}")
            self._crashed = True
            self._abort(f"internal error: {format_error(exc)}")
            await self._end()
            raise
        await self._end()
        if self.illegal_transitions:
            raise AssertionError("illegal step transitions: " + "; ".join(self.illegal_transitions))
        return self

    async def _end(self) -> None:
        try:
            await self._settle()
        finally:
            self._close()
            # An ended run notifies nobody: let its listeners (views, recorders) go,
            # so a finished run kept in a manager's recent executions keeps none alive.
            self.listeners = []
            self._step_callbacks = []

    # -- lifecycle ----------------------------------------------------------------
    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self.status = "running"
        self.start = time.time()
        self._notify("run_started")
        run_events.publish(RunEvent("run_started", self.run_id, self.workflow, "running"))
        if self._cancel_reason is not None:
            self._abort(self._cancel_reason)
            return
        if self.timeout is not None:
            self._run_timer = loop.call_later(self.timeout, self._on_run_timeout)
        if self._needs and self._gate is not None:
            self._unsubscribe = self._gate.subscribe(self._on_resources_changed)
        for i, parents in enumerate(self.graph.parents):
            if not parents:  # the core made them ready already
                self._set(i, self.records[i], "ready")
        self._launch()

    async def _settle(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        for i in list(self._holding):
            self._release(i)
        for timer in (self._run_timer, self._deadline_timer, *self._retry_timers.values()):
            if timer is not None:
                timer.cancel()
        finish = getattr(self.executor, "finish", None)
        try:
            if finish is not None:
                await finish(self)  # results left on a cluster: fetch per the fetch option
        finally:
            await self.executor.aclose()

    def _close(self) -> None:
        self.end = time.time()
        if self._crashed:
            self.status = "failed"
        elif self._cancel_reason is not None:
            self.status = "cancelled"
        elif self._timed_out or any(r.status == "failed" for r in self.records):
            self.status = "failed"
        else:
            self.status = "completed"
        self._notify("run_finished")
        counts = tuple(sorted(self.counts().items()))
        run_events.publish(RunEvent("run_finished", self.run_id, self.workflow, self.status, counts))

    def _check_done(self) -> None:
        fut = self._finished
        if self._finished_count >= len(self.records) and fut is not None and not fut.done():
            fut.set_result(None)

    # -- listeners ----------------------------------------------------------------
    def _notify(self, event: str) -> None:
        for lst in list(self.listeners):
            try:
                getattr(lst, event)(self)
            except Exception as exc:  # noqa: BLE001 - a broken listener must not break the run
                self._detach(lst, event, exc)

    def _detach(self, listener: Any, event: str, exc: BaseException) -> None:
        """Log a listener's failure once, with its name, and stop calling it."""
        owner = getattr(listener, "__self__", listener)  # a bound step_changed -> its listener
        name = getattr(type(owner), "__qualname__", repr(owner))
        log.error(
            "run %s: listener %s raised in %s and was detached; the run goes on: %s",
            self.run_id[:8], name, event, format_error(exc), exc_info=exc,
        )
        self.listeners = [x for x in self.listeners if x is not owner]
        self._step_callbacks = [
            cb for cb in self._step_callbacks if getattr(cb, "__self__", None) is not owner
        ]

    # -- scheduling ---------------------------------------------------------------
    def _set(self, i: int, rec: StepRecord, state: str) -> None:
        rec.status = state
        if i in self._holding and state not in ("running", "retrying"):
            self._release(i)
        for cb in self._step_callbacks:
            try:
                cb(self, i, state)
            except Exception as exc:  # noqa: BLE001 - a broken listener must not break the run
                self._detach(cb, f"step_changed({self.graph.names[i]!r}, {state!r})", exc)

    def _set_checked(self, i: int, rec: StepRecord, state: str) -> None:
        try:
            check_transition(rec.status, state)
        except ValueError as exc:
            self.illegal_transitions.append(f"step {self.graph.names[i]!r}: {exc}")
            log.error("run %s: step %r: %s", self.run_id[:8], self.graph.names[i], exc)
        Run._set(self, i, rec, state)

    def _launch(self) -> None:
        if self._launching:
            return
        self._launching = True
        try:
            pop, deferred, limit = self._core.pop, self._deferred, self.max_concurrency
            while True:
                while self._running < limit:
                    i = pop()
                    if i < 0:
                        break
                    self._start(i)
                if not deferred:
                    break
                i, exc = deferred.popleft()
                self._fail(i, exc)
        finally:
            self._launching = False

    def _spec(self, i: int) -> ActionSpec:
        spec = self._specs[i]
        if spec is None:
            step = self.steps[i]
            key = (step.module, step.action)
            spec = self._by_action.get(key)  # many steps share one action
            if spec is None:
                spec = self.registry.find(step.module, step.action)
                if spec is None:
                    raise self.registry.unknown(step.module, step.action, step=step.name)
                self._by_action[key] = spec
            self._specs[i] = spec
        return spec

    def _arguments(self, i: int, spec: ActionSpec) -> dict[str, Any]:
        step = self.steps[i]
        if not spec.params and not spec.var_kw and not step.parameters:
            return {}
        # The records hold the results as they came (a cluster's are handles, not values).
        names, records = self.graph.names, self.records
        upstream = {names[p]: records[p].result for p in self.graph.parents[i]}
        return bind_arguments(spec, step.name, step.parameters, upstream, self.parameters)

    def call_ahead(self, i: int, upstream: Mapping[str, Any]) -> tuple[ActionSpec, dict[str, Any]] | None:
        """The call step ``i`` will make, bound to ``upstream`` handles, or ``None``.

        For an executor that submits a step before its parents have ended
        (they are on a cluster and it passes their futures). ``None`` when
        the step must wait for the kernel: it books resources of the
        kernel's pool, the run asks a result source (the step cache) before
        each step, the run is ending, or its action or arguments do not
        resolve (the normal start then reports why).
        """
        if i in self._needs or self._cancel_reason is not None or self._timed_out:
            return None
        if self._source is not None:  # the cache is asked at the step's start: do not compute ahead
            return None
        try:
            spec = self._spec(i)
            step = self.steps[i]
            if not spec.params and not spec.var_kw and not step.parameters:
                return spec, {}
            return spec, bind_arguments(spec, step.name, step.parameters, upstream, self.parameters)
        except (UnknownActionError, TypeError):
            return None

    def _start(self, i: int) -> None:  # noqa: PLR0912 - one flat hot path reads better than helpers
        rec = self.records[i]
        try:
            spec = self._spec(i)
            if self._source is not None and not self._consulted[i]:
                self._consulted[i] = 1  # once: not again after a retry or a wait for resources
                known, value = self._source.lookup(self, i, spec)
                if known:
                    rec.start = time.time()
                    self._succeed(i, rec, value, "cached")
                    return
            kwargs = self._arguments(i, spec)
        except (UnknownActionError, TypeError) as exc:
            self._deferred.append((i, exc))
            return
        if i in self._needs and i not in self._holding:
            try:
                if not self._acquire(i):
                    return
            except ResourceUnavailable as exc:  # unknown resource or more than its capacity
                self._deferred.append((i, exc))
                return
        rec.attempts += 1
        if rec.start is None:
            rec.start = time.time()
        self._set(i, rec, "running")
        self._running += 1
        if self._running > self.peak_concurrency:  # noqa: PLR1730 - max() is a call per step
            self.peak_concurrency = self._running
        attempt = rec.attempts
        try:
            if self._submit_step is not None:
                handle = self._submit_step(i, attempt, spec, kwargs, partial(self._on_done, i, attempt))
            else:
                handle = self.executor.submit(spec, kwargs, partial(self._on_done, i, attempt))
        except Exception as exc:  # noqa: BLE001 - the executor refused the call: the step fails
            self._running -= 1
            self._deferred.append((i, exc))
            return
        if rec.status != "running" or rec.attempts != attempt:
            return  # it already ended inside submit (an eager step that never suspended)
        self._handles[i] = handle
        seconds = self.steps[i].timeout
        if seconds is not None and self._loop is not None:
            heapq.heappush(self._deadlines, (self._loop.time() + seconds, i, attempt))
            self._arm_deadline()

    def _on_done(self, i: int, attempt: int, ok: bool, value: Any) -> None:
        rec = self.records[i]
        if rec.attempts != attempt or rec.status != "running":
            return  # a late completion of a timed-out or cancelled attempt
        self._running -= 1
        self._handles.pop(i, None)
        if ok:
            self._succeed(i, rec, value)
        elif rec.attempts <= self.steps[i].max_retries and not isinstance(
            value, asyncio.CancelledError
        ):
            self._schedule_retry(i, rec, value)
        else:
            self._fail(i, value)
        self._launch()

    def _succeed(self, i: int, rec: StepRecord, value: Any, state: str = "succeeded") -> None:
        rec.end = time.time()
        rec.result = value
        self.results[rec.name] = value
        self._finished_count += 1
        self._set(i, rec, state)
        records = self.records
        for c in self._core.succeed(i):
            self._set(c, records[c], "ready")
        self._check_done()

    def _fail(self, i: int, exc: BaseException) -> None:
        rec = self.records[i]
        rec.end = time.time()
        if rec.start is None:
            rec.start = rec.end
        rec.error = format_error(exc)
        rec.traceback = user_traceback(exc)
        self.exceptions[rec.name] = exc
        self.errors.append(f"Step {rec.name} failed: {rec.error}")
        self._finished_count += 1
        self._set(i, rec, "failed")
        self._skip_dependents(self._core.fail(i), f"dependency {rec.name!r} failed")
        self._check_done()

    def _skip_dependents(self, pairs: list[tuple[int, int]], reason: str) -> None:
        """Skip the ``(node, cause)`` pairs the core returned, all for ``reason``."""
        for d, _ in pairs:
            self._finish_unrun(d, "skipped", reason)

    def _finish_unrun(self, i: int, state: str, reason: str) -> None:
        rec = self.records[i]
        if rec.status not in ("pending", "ready", "retrying"):
            return
        timer = self._retry_timers.pop(i, None)
        if timer is not None:
            timer.cancel()
        self._core.close(i, SKIPPED if state == "skipped" else CANCELLED)
        if state == "skipped" and rec.status == "retrying":
            # It ran and failed; the retry it was waiting for will not happen.
            state = "failed"
            self.errors.append(f"Step {rec.name} failed: {rec.error} (no retry: {reason})")
        rec.reason = reason
        rec.end = time.time() if rec.start is not None else None
        self._finished_count += 1
        self._set(i, rec, state)

    def _schedule_retry(self, i: int, rec: StepRecord, exc: BaseException) -> None:
        rec.error = format_error(exc)
        self._set(i, rec, "retrying")
        fixed = getattr(self.steps[i], "retry_delay", None)  # a task's fixed delay
        if fixed is None:
            delay = min(self.retry_backoff * 2 ** (rec.attempts - 1), self.max_backoff)
        else:
            delay = fixed
        assert self._loop is not None
        self._retry_timers[i] = self._loop.call_later(delay, self._retry, i)

    def _retry(self, i: int) -> None:
        self._retry_timers.pop(i, None)
        if self.records[i].status == "retrying":
            self._core.requeue(i)
            self._launch()

    # -- resources ----------------------------------------------------------------
    def _holder(self, i: int) -> str:
        return f"{self.run_id}:{self.graph.names[i]}"

    def _acquire(self, i: int) -> bool:
        assert self._gate is not None
        self._gate_changed = False
        self._acquiring = True  # the gate's own changes while it tries (a partial take given back)
        try:
            granted = self._gate.try_acquire(self._holder(i), self._needs[i])
        finally:
            self._acquiring = False
        if granted:
            self._holding.add(i)
            return True
        self._core.defer(i)
        self._blocked = True
        if self._gate_changed:  # a release raced with this refusal: try again soon
            self._post_unblock()
        return False

    def _release(self, i: int) -> None:
        self._holding.discard(i)
        if self._gate is not None:
            self._gate.release(self._holder(i))

    def _on_resources_changed(self, change: Any = None) -> None:
        if self._acquiring and self._loop is not None and _on_loop_thread(self._loop):
            return  # made by _acquire's own try
        self._gate_changed = True
        if self._blocked:
            self._post_unblock()

    def _post_unblock(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if _on_loop_thread(loop):
            self._unblock()
        else:
            loop.call_soon_threadsafe(self._unblock)

    def _unblock(self) -> None:
        if not self._blocked:
            return
        self._blocked = False
        self._core.unblock()
        self._launch()

    # -- deadlines ----------------------------------------------------------------
    def _arm_deadline(self) -> None:
        heap, timer, loop = self._deadlines, self._deadline_timer, self._loop
        if not heap or loop is None:
            return
        when = heap[0][0]
        if timer is not None:
            if timer.when() <= when:
                return
            timer.cancel()
        self._deadline_timer = loop.call_at(when, self._on_deadline)

    def _on_deadline(self) -> None:
        self._deadline_timer = None
        assert self._loop is not None
        now = self._loop.time()
        heap = self._deadlines
        later: list[tuple[float, int, int]] = []
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            i, attempt = entry[1], entry[2]
            rec = self.records[i]
            if rec.status != "running" or rec.attempts != attempt:
                continue
            seconds = float(self.steps[i].timeout or 0)
            # A call on a worker thread may have waited in the queue: its time
            # counts from when a thread took it (not known yet: not before now).
            started: Any = getattr(self._handles.get(i), "started", _AT_SUBMIT)
            if started is None:
                later.append((now + seconds, i, attempt))
            elif started is not _AT_SUBMIT and started + seconds > now:
                later.append((started + seconds, i, attempt))
            else:
                self._time_out(i, seconds)
        for entry in later:
            heapq.heappush(heap, entry)
        self._arm_deadline()
        self._launch()

    def _time_out(self, i: int, seconds: float) -> None:
        held = self._stop_call(i) is True
        self._running -= 1
        if held:
            self.records[i].reason = _HELD
        self._fail(i, StepTimeout(self.graph.names[i], seconds, run_id=self.run_id))

    def _stop_call(self, i: int) -> bool | None:
        """Cancel step ``i``'s call. A thread cannot be stopped: if the step
        holds resources, they stay booked (to it) until its thread returns.

        Returns True when they do; ``None`` when the call was still waiting
        for a thread and never ran (the attempt is taken back).
        """
        handle = self._handles.pop(i, None)
        if handle is None:
            return False
        withdraw = getattr(handle, "withdraw", None)
        if withdraw is not None and withdraw():
            rec = self.records[i]
            rec.attempts -= 1
            if not rec.attempts:
                rec.start = None
            return None
        self._cancel_handle(handle)
        when_returned = getattr(handle, "when_returned", None)
        if i not in self._holding or when_returned is None:
            return False
        if not when_returned(partial(self._release_late, self._holder(i))):
            return False  # it never started, or has returned: release as usual
        self._holding.discard(i)
        return True

    def _cancel_handle(self, handle: Cancellable) -> None:
        handle.cancel()

    def _release_late(self, holder: str) -> None:
        if self._gate is not None:  # on the worker thread, once the call has returned
            self._gate.release(holder)

    def _on_run_timeout(self) -> None:
        self._timed_out = True
        seconds = float(self.timeout or 0)
        self.errors.append(f"Workflow timed out after {seconds:g}s")
        # Skip what has not started first, so the reason names the run timeout
        # rather than the timed-out dependency.
        for i in range(len(self.records)):
            self._finish_unrun(i, "skipped", f"workflow timed out after {seconds:g}s")
        for i, rec in enumerate(self.records):
            if rec.status == "running":
                self._time_out(i, seconds)
        self._check_done()

    # -- cancellation -------------------------------------------------------------
    def _abort(self, reason: str) -> None:
        if self.done or self._finished_count >= len(self.records):
            return
        self._cancel_reason = reason
        close = self._core.close
        for i, rec in enumerate(self.records):
            if rec.status == "running":
                close(i, CANCELLED)
                held = self._stop_call(i)
                rec.end = time.time() if rec.start is not None else None
                rec.reason = f"{reason}; {_HELD}" if held else reason
                self._finished_count += 1
                self._set(i, rec, "cancelled")
            else:
                self._finish_unrun(i, "cancelled", reason)
        self._running = 0
        self._check_done()


def _bound(executor: Any, run: Run) -> Executor:
    """The executor's calls for ``run``: its own per-run object when it has one (``bind``)."""
    bind = getattr(executor, "bind", None)
    return bind(run) if bind is not None else executor  # type: ignore[no-any-return]


def _delays(retry_backoff: Any, max_backoff: Any) -> tuple[float, float]:
    return check_delay(retry_backoff, "retry_backoff"), check_delay(max_backoff, "max_backoff")


def _observes_steps(listener: RunListener) -> bool:
    # Transitions are the hot path: skip listeners that inherit the no-op.
    method = getattr(type(listener), "step_changed", None)
    return method is not BaseListener.step_changed


def _on_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    thread_id = getattr(loop, "_thread_id", None)
    return thread_id == threading.get_ident()
