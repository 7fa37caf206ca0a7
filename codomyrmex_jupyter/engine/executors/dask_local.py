"""``"dask-local"``: one Dask ``LocalCluster`` on loopback for this process.

Started on first use (two worker processes, or one per core when there are
more than two; a dashboard when bokeh is installed) and closed when the
process exits or :func:`close_local_cluster` is called (``%unload_ext``
calls it). Every run given ``executor="dask-local"`` shares it.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

__all__ = ["close_local_cluster", "local_cluster_executor"]

log = logging.getLogger(__name__)

_lock = threading.Lock()
_state: dict[str, Any] = {}


def _dashboard_address() -> str | None:
    try:
        import bokeh  # noqa: F401 - the dashboard needs it
    except ImportError:
        return None
    return "127.0.0.1:0"  # any free port, loopback only


def local_cluster_executor() -> Any:
    """The executor of this process's ``LocalCluster``, started on first call."""
    from .dask import DaskExecutor, _import_distributed

    with _lock:
        executor = _state.get("executor")
        if executor is not None and executor.client.status == "running":
            return executor
        distributed = _import_distributed()
        workers = max(2, min(4, os.cpu_count() or 2))
        cluster = distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=_dashboard_address(), silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster, set_as_default=False)
        executor = DaskExecutor(client)
        _state.update(cluster=cluster, client=client, executor=executor)
        if not _state.get("atexit"):
            atexit.register(close_local_cluster)
            _state["atexit"] = True
        log.info("started a Dask LocalCluster for this kernel: %s", cluster.scheduler_address)
        return executor


def close_local_cluster() -> bool:
    """Close this process's ``LocalCluster`` if it was started; True if it was."""
    with _lock:
        client = _state.pop("client", None)
        cluster = _state.pop("cluster", None)
        _state.pop("executor", None)
    if cluster is None:
        return False
    for thing in (client, cluster):
        try:
            thing.close()
        except Exception:
            log.debug("closing the local Dask cluster failed", exc_info=True)
    return True
