"""Run steps on a Dask ``distributed`` cluster.

The runner keeps scheduling (dependencies, retries, timeouts, states) on its
own loop; only the calls go to the cluster. Each call is one
``client.submit``; its completion comes back through the runtime's
:class:`~codomyrmex_jupyter.runtime.Inbox`, batched like worker threads.
Coroutine functions are run with ``asyncio.run`` on the worker.

``distributed`` is imported when the executor is created, never before; a
missing install says which command fixes it.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from ... import runtime
from ...errors import ArgumentError
from ..actions import ActionSpec
from .base import Cancellable, DoneCallback

__all__ = ["DaskExecutor", "parse_dask_address"]


def parse_dask_address(text: str) -> str:
    """Turn ``dask://host:port`` (or ``tcp://host:port``) into a scheduler address."""
    for prefix in ("dask://", "tcp://"):
        if text.startswith(prefix):
            rest = text[len(prefix):]
            break
    else:
        raise ArgumentError(f"executor {text!r} is not an address; use dask://HOST:PORT", argument="executor")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ArgumentError(
            f"executor {text!r} needs a host and a port, as in dask://127.0.0.1:8786", argument="executor"
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


class _DaskCall:
    __slots__ = ("future",)

    def __init__(self, future: Any) -> None:
        self.future = future

    def cancel(self) -> Any:
        return self.future.cancel()


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
        distributed = _import_distributed()
        if isinstance(target, str):
            self.client = distributed.Client(
                parse_dask_address(target), set_as_default=False, timeout=timeout
            )
            self._owns_client = True
        else:
            self.client = target
            self._owns_client = False
        self._inbox: runtime.Inbox | None = None
        self._futures: set[Any] = set()

    def submit(self, spec: ActionSpec, kwargs: dict[str, Any], done: DoneCallback) -> Cancellable:
        """Submit one call to the cluster; see :class:`~.base.Executor`."""
        if self._inbox is None:
            self._inbox = runtime.Inbox(asyncio.get_running_loop())
        inbox = self._inbox
        future = self.client.submit(_call, spec.fn, kwargs, pure=False)
        self._futures.add(future)

        def finished(fut: Any) -> None:
            self._futures.discard(fut)
            if fut.status == "finished":
                inbox.put(done, True, fut.result())
            elif fut.status == "cancelled":
                inbox.put(done, False, asyncio.CancelledError())
            else:
                inbox.put(done, False, fut.exception())

        future.add_done_callback(finished)
        return _DaskCall(future)

    async def aclose(self) -> None:
        """Cancel calls still on the cluster (a cancelled run leaves none)."""
        pending = [f for f in self._futures if not f.done()]
        if pending:
            self.client.cancel(pending)

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._owns_client:
            self.client.close()
