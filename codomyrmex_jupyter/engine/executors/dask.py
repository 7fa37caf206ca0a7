"""Run steps on a Dask ``distributed`` cluster, leaving their data there.

The run keeps scheduling in the kernel (dependencies, priorities, retries,
timeouts, cancel, skips, states, recording); only the calls go to the
cluster, and only handles come back:

* A finished step reports a :class:`~..remote.RemoteResult` (its Dask
  future), not its value. A step's upstream results are passed to
  ``client.submit`` as those futures, so Dask moves the data from worker to
  worker and it never crosses the kernel. ``run.results`` is a
  :class:`~..remote.RemoteResults`: reading an entry fetches it. At the end
  of the run the ``fetch`` option says what is fetched at once: ``"leaves"``
  (default: the results no other step consumed), ``"all"`` or ``"none"``.
* Every key of a run is ``("<workflow>-<run id>", step index, attempt)``, so
  Dask sees one key prefix per run (its scheduler slows down with the number
  of distinct prefixes) and a retry never reuses a failed key.
* A step's ``resources`` that the kernel's resource pool does not define go
  to Dask as worker resources; a resource that neither the pool nor any
  worker declares fails the step at once, naming the resources the workers
  do declare. A step's ``priority`` is Dask's ``priority``.
* A worker that dies while it runs a step (or while it holds a result that
  is still needed) is seen through the scheduler's ``remove-worker`` event:
  Dask runs the task again on another worker, and the step's record says
  which worker was lost. Dask's re-runs do not count against
  ``max_retries``; when Dask gives up (``KilledWorker``, after
  ``distributed.scheduler.allowed-failures`` lost workers) the step fails
  with that error, which is retried like any other.

``distributed`` is imported when the executor is created, never before; a
missing install says which command fixes it.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import threading
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from ... import runtime
from ...errors import ArgumentError, ResourceUnavailable
from ..actions import ActionSpec
from ..remote import RemoteResult, RemoteResults
from .base import Cancellable, DoneCallback

__all__ = ["DaskExecutor", "DaskRunCalls", "dashboard_link", "parse_dask_address"]

log = logging.getLogger(__name__)
_UNKNOWN = object()


def parse_dask_address(text: str) -> str:
    """Turn ``dask://host:port`` (or ``tcp://host:port``) into a scheduler address."""
    for prefix in ("dask://", "tcp://"):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            break
    else:
        raise ArgumentError(
            f"executor {text!r} is not an address; use dask://HOST:PORT", argument="executor"
        )
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ArgumentError(
            f"executor {text!r} needs a host and a port, as in dask://127.0.0.1:8786",
            argument="executor",
        )
    return f"tcp://{host}:{port}"


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise RuntimeError(
            "the Dask executor needs distributed: pip install 'codomyrmex_jupyter[dask]'"
        ) from exc
    return distributed


def _call(fn: Any, kwargs: dict[str, Any]) -> Any:
    result = fn(**kwargs)
    if inspect.iscoroutine(result):
        return asyncio.run(result)
    return result


def _to_futures(value: Any) -> Any:
    """Replace result handles by their futures (in the kwargs and one level inside)."""
    if isinstance(value, RemoteResult):
        return value.future
    if type(value) is dict:
        return {k: _to_futures(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_to_futures(v) for v in value)
    return value


def dashboard_link(client: Any) -> str | None:
    """The scheduler's dashboard URL, or ``None`` when it serves none."""
    try:
        info = client.scheduler_info(n_workers=0)
    except Exception:  # noqa: BLE001 - a client that lost its scheduler has no dashboard
        return None
    if "dashboard" not in (info.get("services") or {}):
        return None
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - same
        return None
    return str(link) if link else None


class _DaskCall:
    __slots__ = ("future", "on_cancel")

    def __init__(self, future: Any, on_cancel: Callable[[], Any] | None = None) -> None:
        self.future = future
        self.on_cancel = on_cancel

    def cancel(self) -> Any:
        if self.on_cancel is not None:
            self.on_cancel()
        return self.future.cancel()


class _LostWorkers:
    """Follows one client's ``remove-worker`` events while it has runs going.

    Subscribed only while runs are going: a client subscribed to the
    scheduler's ``"all"`` topic makes the scheduler log an error when that
    client closes (it tries to send the client its own departure).
    """

    def __init__(self, client: Any) -> None:
        self.client = client
        self.runs: dict[str, DaskRunCalls] = {}
        self._previous: Any = None
        self._lock = threading.Lock()

    def add(self, calls: DaskRunCalls) -> None:
        with self._lock:
            first = not self.runs
            self.runs[calls.prefix] = calls
        if first:
            handlers = getattr(self.client, "_event_handlers", {})
            previous = handlers.get("all")  # keep a handler the user subscribed already
            self._previous = None if previous == self._on_event else previous
            self.client.subscribe_topic("all", self._on_event)

    def remove(self, calls: DaskRunCalls) -> None:
        with self._lock:
            self.runs.pop(calls.prefix, None)
            last = not self.runs
        if not last or self.client.status != "running":
            return
        try:
            if self._previous is not None:
                self.client.subscribe_topic("all", self._previous)
            else:
                self.client.unsubscribe_topic("all")
        except Exception:
            log.debug("could not unsubscribe from the scheduler's events", exc_info=True)

    def _on_event(self, event: Any) -> None:
        if self._previous is not None:
            try:
                self._previous(event)
            except Exception:
                log.exception("a Dask event handler failed")
        msg = event[1] if isinstance(event, tuple | list) and len(event) == 2 else event
        if not isinstance(msg, dict) or msg.get("action") != "remove-worker":
            return
        worker = str(msg.get("worker", "?"))
        lost = (("running", msg.get("processing-tasks")), ("result", msg.get("lost-computed-tasks")))
        for kind, keys in lost:
            for key in keys or ():
                if isinstance(key, list | tuple) and len(key) == 3:
                    calls = self.runs.get(key[0])
                    if calls is not None:
                        calls.lost_worker(tuple(key), worker, kind)


_watches: weakref.WeakKeyDictionary[Any, _LostWorkers] = weakref.WeakKeyDictionary()
_watches_lock = threading.Lock()


def _watch(client: Any) -> _LostWorkers:
    """The one watcher of ``client`` (many executors may share a client)."""
    with _watches_lock:
        watch = _watches.get(client)
        if watch is None:
            watch = _watches[client] = _LostWorkers(client)
        return watch


class DaskExecutor:
    """Send step calls to a ``distributed`` scheduler.

    Parameters
    ----------
    target:
        A ``distributed.Client``, or a scheduler address (``dask://host:port``
        or ``tcp://host:port``) to connect a client to.
    timeout:
        Seconds to wait for the scheduler when connecting to an address.
    """

    name = "dask"

    def __init__(self, target: Any, *, timeout: float = 30.0) -> None:
        # a malformed address fails before distributed is imported
        address = parse_dask_address(target) if isinstance(target, str) else None
        distributed = _import_distributed()
        if address is not None:
            self.client = distributed.Client(address, set_as_default=False, timeout=timeout)
            self._owns_client = True
        else:
            self.client = target
            self._owns_client = False
        self._inbox: runtime.Inbox | None = None
        self._futures: set[Any] = set()

    # -- per run ---------------------------------------------------------------------------
    def bind(self, run: Any) -> DaskRunCalls:
        """The calls of one run (its keys, resources, results and clean-up)."""
        return DaskRunCalls(self, run)

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL, when the scheduler serves one."""
        return dashboard_link(self.client)

    def worker_resources(self) -> dict[str, dict[str, float]]:
        """Resources each worker declares, by worker address (one scheduler round trip)."""
        info = self.client.scheduler_info(n_workers=-1)
        return {
            addr: dict(w.get("resources") or {}) for addr, w in (info.get("workers") or {}).items()
        }

    def call(
        self,
        spec: ActionSpec,
        kwargs: dict[str, Any],
        done: DoneCallback,
        *,
        key: Any = None,
        resources: Mapping[str, float] | None = None,
        priority: int = 0,
        futures: set[Any] | None = None,
    ) -> _DaskCall:
        """Submit ``spec.fn(**kwargs)``; ``done(True, RemoteResult)`` or ``done(False, exc)``.

        Result handles in ``kwargs`` go to Dask as futures. ``done`` runs on
        the caller's event loop (the running loop of the first call).
        """
        track = self._futures if futures is None else futures
        future = self.submit_future(spec, kwargs, key=key, resources=resources, priority=priority)
        track.add(future)
        self.attach(future, done, track)
        return _DaskCall(future)

    def submit_future(
        self,
        spec: ActionSpec,
        kwargs: dict[str, Any],
        *,
        key: Any = None,
        resources: Mapping[str, float] | None = None,
        priority: int = 0,
    ) -> Any:
        """``client.submit`` of one call (handles in ``kwargs`` become futures); its future."""
        options: dict[str, Any] = {"pure": False}
        if key is not None:
            options["key"] = key
        if resources:
            options["resources"] = dict(resources)
        if priority:
            options["priority"] = priority
        return self.client.submit(_call, spec.fn, _to_futures(kwargs), **options)

    def attach(self, future: Any, done: DoneCallback, track: set[Any]) -> None:
        """Report ``future``'s end through ``done`` on the running loop."""
        loop = asyncio.get_running_loop()
        inbox = self._inbox
        if inbox is None or inbox.loop is not loop:  # one executor may serve many loops
            inbox = self._inbox = runtime.Inbox(loop)

        def finished(fut: Any) -> None:
            track.discard(fut)
            status = fut.status
            if status == "finished":
                inbox.put(done, True, RemoteResult(fut, _type_text(fut.type)))
            elif status == "cancelled":
                inbox.put(done, False, asyncio.CancelledError())
            else:
                try:
                    exc = fut.exception()
                except Exception as err:  # noqa: BLE001 - the scheduler is gone: that is the failure
                    exc = err
                inbox.put(done, False, exc)

        future.add_done_callback(finished)

    # -- the executor protocol (calls outside a run) -------------------------------------
    def submit(self, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback) -> Cancellable:
        """Submit one call whose value comes back to the kernel; see :class:`~.base.Executor`."""
        return self.call(spec, kwargs, partial(_fetched, done))

    async def aclose(self) -> None:
        """Cancel calls still on the cluster (a cancelled run leaves none)."""
        pending = [f for f in self._futures if not f.done()]
        if pending:
            self.client.cancel(pending)

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._owns_client:
            self.client.close()


def _type_text(kind: Any) -> str | None:
    if kind is None:
        return None
    if isinstance(kind, type):
        module = kind.__module__
        name = kind.__qualname__
        return name if module == "builtins" else f"{module.split('.')[0]}.{name}"
    text = str(kind)  # Dask reports "<class 'bytes'>" or the name
    return text.removeprefix("<class '").removesuffix("'>")


def _fetched(done: DoneCallback, ok: bool, value: Any) -> None:
    """Complete with the value itself (fetched on the loop thread when it is a handle)."""
    if ok and isinstance(value, RemoteResult):
        try:
            value = value.fetch()
        except Exception as exc:  # noqa: BLE001 - a value that cannot come back fails the call
            done(False, exc)
            return
    done(ok, value)


class DaskRunCalls:
    """One run's calls on a cluster: keys, resources, priorities, results, clean-up.

    Made by :meth:`DaskExecutor.bind`; the run hands it each step with
    :meth:`submit_step`.
    """

    name = "dask"
    remote = True

    def __init__(self, executor: DaskExecutor, run: Any) -> None:
        self.executor = executor
        self.client = executor.client
        self.run = run
        self.prefix = f"{run.workflow}-{run.run_id}"
        self._futures: set[Any] = set()
        self._inbox: runtime.Inbox | None = None
        self._dask_resources: dict[int, dict[str, float]] = {}
        self._missing: dict[int, str] = {}
        self._ahead: dict[int, Any] = {}  # step -> its call submitted ahead, not started yet
        self._inflight: dict[int, Any] = {}  # step -> its latest call on the cluster
        self._keys: dict[Any, tuple[int, int]] = {}  # Dask key -> (step, attempt)
        self._serial = itertools.count(1)
        self._watching = False
        self._dashboard: object = _UNKNOWN
        self._plan_resources(run)

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's URL, when the scheduler serves one (asked once per run)."""
        if self._dashboard is _UNKNOWN:
            self._dashboard = self.executor.dashboard_link
        return self._dashboard  # type: ignore[return-value]

    def _plan_resources(self, run: Any) -> None:
        wanted = {
            i: dict(req) for i, step in enumerate(run.steps)
            if (req := getattr(step, "resources", None))
        }
        if not wanted:
            return
        defined = set(_defined(run))
        remote = {i: {k: v for k, v in req.items() if k not in defined} for i, req in wanted.items()}
        remote = {i: req for i, req in remote.items() if req}
        if not remote:
            return
        workers = self.executor.worker_resources()
        declared = sorted({r for res in workers.values() for r in res})
        for i, req in remote.items():
            unknown = [r for r in req if r not in declared]
            if unknown:
                shown = ", ".join(declared) if declared else "none"
                self._missing[i] = (
                    f"step {run.steps[i].name!r} needs resource {unknown[0]!r}, which no Dask "
                    f"worker declares (workers declare: {shown}) and this kernel does not define; "
                    "start a worker with --resources or define it with ResourceManager.add_resource"
                )
            else:
                self._dask_resources[i] = req

    # -- results ------------------------------------------------------------------------------
    def results_for(self, run: Any) -> RemoteResults:
        """The run's results mapping: handles fetched on access (and kept in the handle)."""
        return RemoteResults(self.client.gather)

    async def finish(self, run: Any) -> None:
        """Fetch what the run's ``fetch`` option asks for; size the rest (one round trip each)."""
        results = run.results
        if not isinstance(results, RemoteResults) or not dict.__len__(results):
            return
        mode = getattr(run, "fetch", "leaves")
        names: list[str] = []
        if mode == "all":
            names = list(dict.keys(results))
        elif mode == "leaves":
            children = run.graph.children
            names = [n for n in dict.keys(results) if not children[run.graph.index[n]]]
        wanted = set(names)
        left = [n for n in results.on_cluster() if n not in wanted]
        await _off_loop(partial(self._fetch_and_size, results, names, left))

    def _fetch_and_size(self, results: RemoteResults, names: list[str], left: list[str]) -> None:
        if names:
            results.fetch(names)
        if not left:
            return
        handles = [results.handle(n) for n in left]
        try:
            sizes = self.client.nbytes([h.future.key for h in handles], summary=False)
        except Exception:
            log.debug("could not ask the scheduler for result sizes", exc_info=True)
            return
        for handle in handles:
            handle.nbytes = sizes.get(handle.future.key)

    # -- calls ------------------------------------------------------------------------------------
    def submit_step(
        self, i: int, attempt: int, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback
    ) -> Cancellable:
        """Submit attempt ``attempt`` of step ``i`` (or adopt the call submitted ahead for it).

        Then submit ahead the steps whose every parent is now on the
        cluster (see :meth:`_submit_ahead`).
        """
        missing = self._missing.get(i)
        if missing is not None:
            raise ResourceUnavailable(missing)
        if not self._watching:  # from the first call to the run's end
            self._watching = True
            _watch(self.client).add(self)
        wrapped = partial(self._finished, i, done)
        future = self._ahead.pop(i, None)
        if future is not None and (attempt != 1 or future.status in ("error", "cancelled")):
            self._drop(i, future)
            future = None
        if future is None:
            future = self._submit(i, attempt, spec, kwargs)
        else:
            self._keys[future.key] = (i, attempt)
        self._inflight[i] = future
        self.executor.attach(future, wrapped, self._futures)
        self._submit_ahead(i)
        return _DaskCall(future, partial(self._drop_below, i))

    def _submit(self, i: int, attempt: int, spec: ActionSpec, kwargs: dict[str, Any]) -> Any:
        step = self.run.steps[i]
        key = (self.prefix, i, next(self._serial))
        future = self.executor.submit_future(
            spec, kwargs, key=key,
            resources=self._dask_resources.get(i),
            priority=int(getattr(step, "priority", 0) or 0),
        )
        self._keys[key] = (i, attempt)
        self._futures.add(future)
        return future

    def _submit_ahead(self, i: int) -> None:
        """Submit the steps that only wait for calls already on the cluster.

        Dask starts a task as soon as its input futures are done, without a
        round trip to the kernel, so a chain runs on the cluster at Dask's
        own pace. The kernel still starts each step (states, timeout,
        listeners) when its parents have succeeded, and then adopts the
        call. A parent that fails, times out or is cancelled takes the calls
        submitted ahead below it back (they would only fail with it); a
        retried parent's children are submitted when it succeeds.
        """
        run, records, graph = self.run, self.run.records, self.run.graph
        names, inflight = graph.names, self._inflight
        stack = [i]
        while stack:
            node = stack.pop()
            for c in graph.children[node]:
                if c in self._ahead or records[c].status != "pending" or c in self._missing:
                    continue
                upstream: dict[str, Any] = {}
                for p in graph.parents[c]:
                    rec = records[p]
                    if rec.status in ("succeeded", "cached"):
                        upstream[names[p]] = rec.result
                    elif (f := inflight.get(p)) is not None and f.status == "pending":
                        upstream[names[p]] = f
                    else:
                        break
                else:
                    call = run.call_ahead(c, upstream)
                    if call is None:
                        continue
                    future = self._submit(c, 1, *call)
                    self._ahead[c] = future
                    inflight[c] = future
                    stack.append(c)

    def _drop(self, i: int, future: Any) -> None:
        """Cancel a call submitted ahead for step ``i`` and those submitted below it."""
        if self._inflight.get(i) is future:
            del self._inflight[i]
        self._futures.discard(future)
        if not future.done():
            future.cancel()
        self._drop_below(i)

    def _drop_below(self, i: int) -> None:
        for c in self.run.graph.children[i]:
            future = self._ahead.pop(c, None)
            if future is not None:
                self._drop(c, future)

    def _finished(self, i: int, done: DoneCallback, ok: bool, value: Any) -> None:
        if not ok:
            self._drop_below(i)
        done(ok, value)

    def submit(self, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback) -> Cancellable:
        """A call of this run that is not one of its steps."""
        return self.executor.call(spec, kwargs, done, futures=self._futures)

    def lost_worker(self, key: Any, worker: str, kind: str) -> None:
        """The scheduler lost ``worker`` while it ran (or held the result of) call ``key``."""
        found = self._keys.get(key)
        if found is None:
            return
        i, attempt = found
        loop = self.run.loop
        if loop is None or loop.is_closed():
            return
        if self._inbox is None:
            self._inbox = runtime.Inbox(loop)
        self._inbox.put(partial(self._note_lost, i, attempt, worker, kind), True, None)

    def _note_lost(self, i: int, attempt: int, worker: str, kind: str, *_completion: Any) -> None:
        rec = self.run.records[i]
        if kind == "running":
            note = (
                f"worker {worker} was lost while it ran attempt {attempt}; Dask ran it again "
                "on another worker (not counted in max_retries)"
            )
        else:
            note = f"its result was lost with worker {worker}; Dask computes it again when it is needed"
        rec.reason = note if rec.reason is None else f"{rec.reason}; {note}"
        log.warning("run %s step %s: %s", self.run.run_id[:8], rec.name, note)

    async def aclose(self) -> None:
        """Cancel this run's calls still on the cluster (a cancelled run leaves none)."""
        if self._watching:
            self._watching = False
            _watch(self.client).remove(self)
        pending = [f for f in self._futures if not f.done()]
        if pending:
            self.client.cancel(pending)


def _defined(run: Any) -> list[str]:
    """Resource ids the run's own pool defines."""
    gate = getattr(run, "resource_gate", None)
    ids = getattr(gate, "resource_ids", None)
    return list(ids()) if callable(ids) else []


async def _off_loop(fn: Callable[[], Any]) -> Any:
    """Run a blocking call (fetching results) on a worker thread and wait for it."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    runtime.worker_pool().submit(fn, {}, runtime.Inbox(loop), settle)
    return await future
