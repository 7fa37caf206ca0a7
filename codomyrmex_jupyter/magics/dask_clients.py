"""Dask clients the magics open for ``--executor dask://HOST:PORT``.

One client per scheduler address serves every run of the kernel. When its
scheduler goes away (``cluster.close()``), a plain ``distributed.Client``
tries to reconnect for its timeout and then logs "Failed to reconnect to
scheduler" as an error, which shows up red under whatever cell ran last. The
client made here closes at once and quietly instead: the next run with that
address connects a new one.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

__all__ = ["client_class", "close_clients", "executor_for"]

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 10.0

_executors: dict[str, tuple[Any, Any]] = {}  # address -> (executor, client)
_lock = threading.Lock()
_client_class: Any = None


def client_class() -> Any:
    """A ``distributed.Client`` that closes quietly when its scheduler goes away."""
    global _client_class  # noqa: PLW0603 - the class is built once, on first use (distributed is heavy)
    if _client_class is None:
        import distributed

        class ScopedClient(distributed.Client):
            """Closes, with no error output, when the connection to the scheduler is lost."""

            async def _reconnect(self) -> None:
                log.info("the Dask scheduler went away; closing the client %s", self.id)
                await self._close()

        _client_class = ScopedClient
    return _client_class


def _alive(client: Any) -> bool:
    return getattr(client, "status", "running") == "running"


def executor_for(address: str) -> Any:
    """The Dask executor for ``address`` (``tcp://HOST:PORT``), reused while its client lives.

    Raises
    ------
    OSError, TimeoutError
        The scheduler cannot be reached.
    """
    from ..engine.executors.dask import DaskExecutor

    with _lock:
        known = _executors.get(address)
        if known is not None and _alive(known[1]):
            return known[0]
        client = client_class()(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
        executor = DaskExecutor(client)
        _executors[address] = (executor, client)
        return executor


def close_clients() -> None:
    """Close every client opened here (``%unload_ext`` calls this)."""
    with _lock:
        items = list(_executors.values())
        _executors.clear()
    for _, client in items:
        try:
            client.close()
        except Exception:
            log.debug("closing a Dask client failed", exc_info=True)
