"""The Dask executor against plain ``client.submit``, and the bytes that cross the kernel.

Per-step overhead: the same graph run twice on the same ``LocalCluster`` (two
worker processes on loopback), interleaved: through ``WorkflowManager`` with
the Dask executor (scheduling, states, recording in the kernel; upstream
results passed as futures), and as plain ``client.submit`` calls with the
upstream futures as arguments, then gathering every future. Both count
from the first submit to the last result known to the kernel.

Bytes: a 2-step workflow whose first step returns 200 MB and whose second
returns its length. The bytes the kernel process reads from Dask's sockets
(every message from the scheduler and the workers) with ``fetch="leaves"``,
and with ``fetch="all"`` for contrast.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from .measure import Sample, interleave
from .report import Row, Section
from .shapes import SHAPES, Node, workflow_steps

__all__ = ["run_section"]

MODULE = "daskbench"
BIG = 200_000_000
_names = itertools.count()


def _noop(**_upstream: Any) -> None:
    return None


def _plain_noop(*_upstream: Any) -> None:
    return None


def big() -> bytes:
    """A 200 MB result."""
    return b"x" * BIG


def length(big: bytes) -> int:
    """The length of its upstream result."""
    return len(big)


def _manager(config_dir: str) -> Any:
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.engine.actions import ActionRegistry

    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    reg.register(MODULE, "noop", _noop)
    reg.register(MODULE, "big", big)
    reg.register(MODULE, "length", length)
    return WorkflowManager(config_dir=Path(config_dir), registry=reg)


def _engine(manager: Any, executor: Any, nodes: Sequence[Node], **options: Any) -> float:
    name = f"d{next(_names)}"
    steps = workflow_steps(nodes, MODULE, "noop")
    for s in steps:
        s.max_retries = 0
    manager.create_workflow(name, steps)
    t0 = time.perf_counter()
    ex = asyncio.run(manager.execute_workflow(name, executor=executor, **options))
    elapsed = time.perf_counter() - t0
    if ex.status.value != "completed":
        raise RuntimeError(f"benchmark run ended {ex.status}: {ex.errors[:3]}")
    return elapsed


def _plain(client: Any, nodes: Sequence[Node]) -> float:
    prefix = f"plain-{next(_names):08x}"
    t0 = time.perf_counter()
    futures: dict[str, Any] = {}
    for i, node in enumerate(nodes):
        args = [futures[d] for d in node.dependencies]
        futures[node.name] = client.submit(_plain_noop, *args, key=(prefix, i), pure=False)
    client.gather(list(futures.values()))
    elapsed = time.perf_counter() - t0
    del futures
    return elapsed


def sizes(quick: bool) -> dict[str, int]:
    """Steps per shape (Dask's own cost per task is about a millisecond here)."""
    if quick:
        return {"independent": 200, "chain": 50, "layered": 200}
    return {"independent": 1000, "chain": 200, "layered": 1000}


@contextlib.contextmanager
def counting_reads() -> Iterator[list[int]]:
    """Count the bytes this process reads from Dask's sockets while inside.

    ``distributed`` reads every comm through tornado's ``IOStream``
    (``read_bytes`` for the length prefixes, ``read_into`` for the
    messages); counting what they return counts what reaches the kernel
    process from the scheduler and the workers.
    """
    from tornado.iostream import BaseIOStream

    total = [0]
    read_into, read_bytes = BaseIOStream.read_into, BaseIOStream.read_bytes

    async def counted_into(self: Any, buf: Any, partial: bool = False) -> int:
        n = await read_into(self, buf, partial)
        total[0] += n
        return int(n)

    async def counted_bytes(self: Any, num_bytes: int, partial: bool = False) -> bytes:
        data = await read_bytes(self, num_bytes, partial)
        total[0] += len(data)
        return bytes(data)

    BaseIOStream.read_into = counted_into  # type: ignore[method-assign]
    BaseIOStream.read_bytes = counted_bytes  # type: ignore[method-assign]
    try:
        yield total
    finally:
        BaseIOStream.read_into = read_into  # type: ignore[method-assign]
        BaseIOStream.read_bytes = read_bytes  # type: ignore[method-assign]


def _bytes_rows(manager: Any, executor: Any) -> list[Row]:
    """Bytes the kernel reads while a 200 MB result feeds a step returning its length."""
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep

    rows = []
    for fetch, limit in (("leaves", 1.0), ("all", None)):
        name = f"big{next(_names)}"
        manager.create_workflow(name, [
            WorkflowStep("big", MODULE, "big", max_retries=0),
            WorkflowStep("length", MODULE, "length", dependencies=["big"], max_retries=0),
        ])
        with counting_reads() as total:
            ex = asyncio.run(manager.execute_workflow(name, executor=executor, fetch=fetch))
        moved = float(total[0])
        if ex.results["length"] != BIG:
            raise RuntimeError(f"the 200 MB workflow returned {ex.results['length']!r}")
        rows.append(Row(
            f"2-step 200 MB workflow, small leaf, fetch={fetch!r}: bytes read by the kernel",
            Sample([moved]), "MB", 1e-6, limit=limit, on="value",
            note="" if limit else "for contrast: the 200 MB result is fetched too",
        ))
        del ex
    return rows


def run_section(quick: bool) -> Section:
    """Measure the Dask section."""
    from codomyrmex_jupyter.engine.executors.dask import DaskExecutor

    distributed: Any = importlib.import_module("distributed")  # untyped: used through Any

    repeats = 3 if quick else 5
    sec = Section(
        "dask",
        "Dask executor overhead",
        "The same graph of no-op steps on one `LocalCluster` (2 worker processes, 1 thread "
        "each, loopback): through `WorkflowManager` with the Dask executor, against plain "
        "`client.submit` of every node with its upstream futures as arguments followed by "
        f"`client.gather` of all of them. {repeats} interleaved repeats per figure.",
    )
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=40,
    )
    client = distributed.Client(cluster, set_as_default=False)
    home = tempfile.TemporaryDirectory(prefix="codo-bench-dask-")
    manager = _manager(home.name)
    executor = DaskExecutor(client)
    try:
        for shape, n in sizes(quick).items():
            nodes = SHAPES[shape](n)
            cases: dict[str, Callable[[], float]] = {
                "plain": partial(_plain, client, nodes),
                "engine": partial(_engine, manager, executor, nodes),
            }
            s = {k: v.scaled(1 / n) for k, v in interleave(cases, repeats).items()}
            sec.rows.append(Row(
                f"{shape} ({n:,} steps): Dask executor", s["engine"], "us/step", 1e6,
                "plain client.submit", s["plain"], 1.5,
            ))
        sec.rows += _bytes_rows(manager, executor)
    finally:
        manager.close()
        client.close()
        cluster.close()
        home.cleanup()
    sec.notes.append(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus.")
    return sec
