"""A run whose graph grows while it runs: the runner's I/O shell for tasks.

:class:`OpenRun` is a :class:`~.runner.Run` (the same I/O shell over the same
scheduling core: executors, the deadline timer, retry backoff, cancel,
resources, listeners) with three differences, which are what a task
orchestrator needs:

* **Nodes are added one by one, from any thread, before or while it runs**
  (:meth:`OpenRun.add`). A node names existing parents, so no cycle can
  form; one added under a parent that failed, was cancelled or skipped is
  skipped at once. A node that already ended elsewhere (history, a status
  set by the caller) is added with :meth:`OpenRun.add_ended`.
* **It ends only when stopped.** :meth:`~.runner.Run.execute` serves until
  :meth:`OpenRun.stop`, which cancels what is running or waiting to retry
  (their dependents are skipped) and leaves the nodes that have not started
  as they are; ``execute`` may be awaited again later to go on with them.
* **A single node can be cancelled** (:meth:`OpenRun.cancel_node`), from
  any thread: it ends *cancelled* and its dependents are skipped, each
  naming the dependency that made it skip (``dependency 'a' cancelled``).

Thread safety: every entry point (executor completions, timers, ``add``,
``cancel_node``, ``stop``) holds the run's re-entrant ``lock``, which the
owner may share (the task orchestrator passes its own, so its listeners
and its readers see one consistent state). What must happen on the loop
(starting calls, cancelling an asyncio task, ending ``execute``) is posted
to it from other threads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

from .actions import ActionRegistry
from .events import RunListener
from .executors import Cancellable, Executor
from .graph import Graph
from .runner import _HELD, ResourceGate, Run, StepLike, _on_loop_thread
from .scheduling import READY
from .state import StepRecord

__all__ = ["OpenRun"]

_TERMINAL = frozenset({"succeeded", "failed", "skipped", "cancelled", "cached"})


class OpenRun(Run):
    """A run of nodes added while it runs; it ends when stopped.

    Parameters
    ----------
    workflow:
        A name for the run's calls (a Dask executor prefixes its keys with it).
    registry, executor, listeners, max_concurrency, retry_backoff, max_backoff, resources,
    check_transitions:
        As for :class:`~.runner.Run`. A node with a ``retry_delay`` attribute
        waits that many seconds between attempts instead of the backoff.
    holder_prefix:
        Resource holders are ``holder_prefix + key`` (default ``"<run id>:"``).
    lock:
        The re-entrant lock every entry point holds; a new one when omitted.
    """

    def __init__(
        self,
        *,
        workflow: str,
        registry: ActionRegistry | None = None,
        executor: Executor | None = None,
        listeners: Sequence[RunListener] = (),
        max_concurrency: int = 256,
        retry_backoff: float = 0.1,
        max_backoff: float = 30.0,
        resources: ResourceGate | None = None,
        holder_prefix: str | None = None,
        lock: threading.RLock | None = None,
        check_transitions: bool | None = None,
    ) -> None:
        self.lock = lock if lock is not None else threading.RLock()
        self._names: list[str] = []
        self._keys: list[str] = []
        self._parents: list[tuple[int, ...]] = []
        self._children: list[list[int]] = []
        self._order: list[int] = []
        self._layers: list[int] = []
        graph = Graph(
            names=self._names, index={}, parents=self._parents, children=self._children,
            order=self._order, layers=self._layers,
        )
        super().__init__(
            [], workflow=workflow, graph=graph, registry=registry, executor=executor,
            listeners=listeners, max_concurrency=max_concurrency, retry_backoff=retry_backoff,
            max_backoff=max_backoff, resources=resources, fetch="none",
            check_transitions=check_transitions,
        )
        self.results = {}  # nodes are read through their records; a cluster's handles stay there
        self.holder_prefix = f"{self.run_id}:" if holder_prefix is None else holder_prefix
        self.causes: dict[int, int] = {}  # skipped node -> the dependency that made it skip
        self.node_errors: dict[int, BaseException] = {}  # failed node -> its exception
        self._executing = False
        self._stop_pending = False
        self._launch_posted = False
        self._last_loop: asyncio.AbstractEventLoop | None = None

    # -- growing ---------------------------------------------------------------------------
    def add(self, step: StepLike, parents: Sequence[int] = (), *, key: str | None = None) -> int:
        """Add a node that runs ``step`` once every node in ``parents`` has succeeded.

        ``key`` (default: ``step.name``) names the node in ``graph.index``
        and its resource holder; it must be unique. From any thread; the
        node starts as soon as it is ready and a slot is free.

        Raises
        ------
        KeyError
            ``key`` is taken.
        IndexError
            A parent is not a node of this run.
        """
        with self.lock:
            key = self._check_key(step, key)
            if getattr(step, "resources", None) and self.resource_gate is None:
                raise ValueError(f"{step.name!r} requests resources but the run has no resource pool")
            node, cause = self._core.add(parents, int(getattr(step, "priority", 0) or 0))
            self._grow(node, step, key, tuple(parents))
            if cause is not None:
                self._skip_dependents([(node, cause)], "")
            elif self._core.state(node) == READY:
                self._set(node, self.records[node], "ready")
                self._launch_soon()
            return node

    def add_ended(self, step: StepLike, *, ok: bool, result: Any = None, key: str | None = None) -> int:
        """Add a node that already ended elsewhere: its dependents run (``ok``) or are skipped."""
        with self.lock:
            key = self._check_key(step, key)
            node = self._core.add_finished(ok)
            self._grow(node, step, key, ())
            rec = self.records[node]
            rec.status = "succeeded" if ok else "failed"
            rec.result = result
            self._finished_count += 1
            return node

    def _check_key(self, step: StepLike, key: str | None) -> str:
        key = step.name if key is None else key
        if key in self.graph.index:
            raise KeyError(f"{key!r} is already a node of this run")
        return key

    def _grow(self, node: int, step: StepLike, key: str, parents: tuple[int, ...]) -> None:
        self.steps.append(step)
        self.records.append(StepRecord(step.name))
        self._specs.append(None)
        self._names.append(step.name)
        self._keys.append(key)
        self.graph.index[key] = node
        self._parents.append(parents)
        self._children.append([])
        for p in parents:
            self._children[p].append(node)
        self._order.append(node)
        self._layers.append(max((self._layers[p] + 1 for p in parents), default=0))
        request = getattr(step, "resources", None)
        if request:
            self._needs[node] = request

    # -- controlling ---------------------------------------------------------------------------
    def cancel_node(self, node: int, reason: str) -> bool:
        """End ``node`` *cancelled* with ``reason`` and skip its dependents; False if it had ended.

        A running call is cancelled (an asyncio task is cancelled on its
        loop; a thread cannot be stopped: its late result is ignored and
        the node's resources stay booked until it returns).
        """
        with self.lock:
            rec = self.records[node]
            status = rec.status
            if status in _TERMINAL:
                return False
            skipped = self._core.cancel(node)
            if skipped is None:
                return False
            if status == "running":
                if self._stop_call(node) is True:
                    reason = f"{reason}; {_HELD}"
                self._running -= 1
            timer = self._retry_timers.pop(node, None)
            if timer is not None:
                timer.cancel()
            rec.reason = reason
            rec.end = time.time() if rec.start is not None else None
            self._finished_count += 1
            self._set(node, rec, "cancelled")
            self._skip_dependents(skipped, "")
            self._launch_soon()
            return True

    def stop(self, reason: str) -> None:
        """End the current ``execute``: cancel running and retrying nodes, keep the others.

        Nodes that have not started stay as they are (ready or waiting) and
        start when ``execute`` is awaited again. From any thread; before
        ``execute`` has begun, the next ``execute`` ends at once.
        """
        with self.lock:
            if not self._executing:
                self._stop_pending = True
                return
            self._executing = False
            for i, rec in enumerate(self.records):
                if rec.status in ("running", "retrying"):
                    self.cancel_node(i, reason)
            self._end_serving()

    def cancel(self, reason: str = "cancelled by user") -> None:
        """Stop serving (see :meth:`stop`)."""
        self.stop(reason)

    def unfinished(self) -> int:
        """How many nodes have not ended."""
        return len(self.records) - self._finished_count

    @property
    def executing(self) -> bool:
        """``execute`` is serving (nodes start as they become ready)."""
        return self._executing

    # -- the shell's hooks -----------------------------------------------------------------------
    def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        with self.lock:
            if self._last_loop is not None and self._last_loop is not loop:
                rebind = getattr(self.executor, "use_loop", None)
                if rebind is not None:  # the runtime's loop was replaced since the last serve
                    rebind(loop)
            self._last_loop = loop
            self.status = "running"
            if self.start is None:
                self.start = time.time()
            self._cancel_reason = None
            # the last serve cancelled its timers and every call it had running
            self._deadline_timer = None
            self._deadlines = []
            self._retry_timers = {}
            if self._stop_pending:
                self._stop_pending = False
                self._end_serving()
                return
            self._executing = True
            if self._gate is not None:
                self._unsubscribe = self._gate.subscribe(self._on_resources_changed)
            if self._blocked:  # nodes that waited for resources try again
                self._blocked = False
                self._core.unblock()
            self._launch()

    async def _end(self) -> None:
        await self._settle()
        with self.lock:
            self.status = "pending"  # stopped; execute() again goes on with what is left
            self._unsubscribe = None

    def _abort(self, reason: str) -> None:  # the serving task was cancelled (or the loop stopped)
        self.stop(reason)

    def _check_done(self) -> None:
        """An open run ends when stopped, not when its nodes have."""

    def _end_serving(self) -> None:
        fut, loop = self._finished, self._loop
        if fut is None or loop is None or fut.done():
            return
        if _on_loop_thread(loop):
            fut.set_result(None)
        else:
            loop.call_soon_threadsafe(_resolve, fut)

    def _launch_soon(self) -> None:
        loop = self._loop
        if not self._executing or self._launch_posted or loop is None:
            return
        self._launch_posted = True
        loop.call_soon_threadsafe(self._posted_launch)

    def _posted_launch(self) -> None:
        with self.lock:
            self._launch_posted = False
            self._launch()

    def _launch(self) -> None:
        with self.lock:
            if self._executing:
                super()._launch()

    def _on_done(self, i: int, attempt: int, ok: bool, value: Any) -> None:
        with self.lock:
            super()._on_done(i, attempt, ok, value)

    def _retry(self, i: int) -> None:
        with self.lock:
            super()._retry(i)

    def _on_deadline(self) -> None:
        with self.lock:
            super()._on_deadline()

    def _unblock(self) -> None:
        with self.lock:
            super()._unblock()

    def _fail(self, i: int, exc: BaseException) -> None:
        self.node_errors[i] = exc
        super()._fail(i, exc)

    def _skip_dependents(self, pairs: list[tuple[int, int]], reason: str) -> None:
        # Each names its own cause: the graph is not one workflow's, so "the step
        # that failed first" says less than "the dependency that did not succeed".
        names, records = self._names, self.records
        for d, cause in pairs:
            self.causes[d] = cause
            self._finish_unrun(d, "skipped", f"dependency {names[cause]!r} {records[cause].status}")

    def _holder(self, i: int) -> str:
        return self.holder_prefix + self._keys[i]

    def _cancel_handle(self, handle: Cancellable) -> None:
        loop = self._loop
        if loop is None or _on_loop_thread(loop) or loop.is_closed():
            handle.cancel()
        else:  # an asyncio task (or a cluster call's bookkeeping) belongs to the loop
            loop.call_soon_threadsafe(handle.cancel)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)
