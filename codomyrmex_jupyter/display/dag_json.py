"""The ``application/vnd.codomyrmex.dag+json`` document (version 1).

One document describes a workflow definition or a run: nodes with their state,
timings and layout position, edges, state colours and counts. It is the view
model of every DAG display: the static SVG, the matplotlib plot, the live
widget and the JupyterLab renderer all draw from it. The schema is in
``docs/dag-mime-schema.md``.

Layout
------
Layers are the topological generations the graph already computed
(``Graph.layers``), drawn left to right (``x`` = layer). Inside a layer, nodes
are ordered by the mean row of their parents (one barycentre sweep, which
removes most crossings of typical pipelines at O(V + E)), then centred on
``y = 0``.

Live views keep a :class:`LiveDocument` and call :meth:`LiveDocument.update`
on each refresh: it rewrites only the nodes whose step has not yet been seen in
a final state, so a refresh late in a big run touches few nodes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph, compile_graph
from ..engine.state import STATE_COLORS, STEP_STATES, TERMINAL_STATES, StepRecord

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution
    from ..engine.runner import Run

__all__ = [
    "MAX_NODES",
    "MIME_TYPE",
    "RUN_STATUS_COLORS",
    "SCHEMA_VERSION",
    "LiveDocument",
    "dag_document",
    "graph_for_execution",
    "layered_positions",
    "status_color",
]

MIME_TYPE = "application/vnd.codomyrmex.dag+json"
SCHEMA_VERSION = 1
MAX_NODES = 2000

# Run statuses borrow the colour of the step state that means the same.
RUN_STATUS_COLORS: dict[str, str] = {
    "pending": STATE_COLORS["pending"],
    "running": STATE_COLORS["running"],
    "completed": STATE_COLORS["succeeded"],
    "failed": STATE_COLORS["failed"],
    "cancelled": STATE_COLORS["cancelled"],
}


def status_color(status: str | None) -> str:
    """Fill colour of a step state or run status (grey when unknown)."""
    if status is None:
        return STATE_COLORS["pending"]
    return STATE_COLORS.get(status) or RUN_STATUS_COLORS.get(status, STATE_COLORS["pending"])


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def layered_positions(graph: Graph) -> list[tuple[float, float]]:
    """``(x, y)`` of every node (by index): ``x`` its layer, ``y`` its centred row."""
    layers = graph.layers
    rows: list[list[int]] = [[] for _ in range(max(layers, default=-1) + 1)]
    for i in graph.order:
        rows[layers[i]].append(i)
    y = [0.0] * len(graph)
    for members in rows:
        members.sort(key=lambda i: _barycentre(graph.parents[i], y))
        offset = (len(members) - 1) / 2
        for row, i in enumerate(members):
            y[i] = row - offset
    return [(float(layers[i]), y[i]) for i in range(len(graph))]


def _barycentre(parents: Sequence[int], y: list[float]) -> float:
    if not parents:
        return 0.0
    return sum(y[p] for p in parents) / len(parents)


@dataclass(frozen=True, slots=True)
class _Node:
    name: str
    dependencies: tuple[str, ...]


def graph_for_execution(execution: WorkflowExecution) -> Graph | None:
    """The graph of ``execution``: its live run's, else rebuilt from its records and edges."""
    run = execution._run
    if run is not None:
        return run.graph
    names = list(execution.step_records)
    if not names:
        return None
    deps: dict[str, list[str]] = {n: [] for n in names}
    for src, dst in execution.edges:
        if src in deps and dst in deps:
            deps[dst].append(src)
    return compile_graph([_Node(n, tuple(deps[n])) for n in names])


def _records_for(
    graph: Graph,
    run: Run | None,
    execution: WorkflowExecution | None,
    records: Sequence[StepRecord] | Mapping[str, StepRecord] | None,
) -> list[StepRecord | None]:
    if run is not None:
        return list(run.records)
    if execution is not None:
        records = execution.step_records
    if records is None:
        return [None] * len(graph)
    if isinstance(records, Mapping):
        return [records.get(n) for n in graph.names]
    return list(records)


def _steps_for(
    graph: Graph, run: Run | None, execution: WorkflowExecution | None, steps: Sequence[Any] | None
) -> list[Any]:
    if steps is None and run is not None:
        steps = run.steps
    if steps is None and execution is not None and execution._run is not None:
        steps = execution._run.steps
    if steps is None:
        return [None] * len(graph)
    by_name = {getattr(s, "name", None): s for s in steps}
    return [by_name.get(n) for n in graph.names]


def _node(
    name: str, layer: int, pos: tuple[float, float], step: Any, rec: StepRecord | None
) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": name,
        "label": name,
        "module": getattr(step, "module", None),
        "action": getattr(step, "action", None),
        "layer": layer,
        "x": pos[0],
        "y": pos[1],
    }
    _fill_state(node, rec)
    return node


def _fill_state(node: dict[str, Any], rec: StepRecord | None, stamps: bool = True) -> None:
    if rec is None:
        node.update(state="pending", duration=None, attempts=0, started=None, ended=None, error=None)
        return
    node["state"] = rec.status if rec.status in STATE_COLORS else "pending"
    node["duration"] = rec.duration
    node["attempts"] = rec.attempts
    node["error"] = rec.error if rec.status in ("failed", "retrying") else None
    if stamps:  # ISO strings cost more than the rest together: only for exported documents
        node["started"] = _iso(rec.start)
        node["ended"] = _iso(rec.end)


def _counts(records: Sequence[StepRecord | None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rec in records:
        state = "pending" if rec is None else rec.status
        counts[state] = counts.get(state, 0) + 1
    return {s: counts[s] for s in STEP_STATES if s in counts}


def _run_status(run: Run | None, execution: WorkflowExecution | None) -> str | None:
    if run is not None:
        return str(run.status)
    if execution is not None:
        live = execution._run
        return str(live.status) if live is not None else str(execution.status.value)
    return None


def dag_document(
    graph: Graph | None,
    *,
    workflow: str,
    run: Run | None = None,
    execution: WorkflowExecution | None = None,
    steps: Sequence[Any] | None = None,
    records: Sequence[StepRecord] | Mapping[str, StepRecord] | None = None,
    run_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """Build the version-1 DAG document of a workflow or a run.

    Parameters
    ----------
    graph:
        The compiled workflow graph (``None`` gives a document with no nodes).
    workflow:
        The workflow's name.
    run, execution:
        A live :class:`Run` or a :class:`WorkflowExecution`: the document is
        then of kind ``"run"`` with their step records, run id and status.
    steps:
        Step definitions (anything with ``name``, ``module``, ``action``).
    records:
        Step records by name or aligned with ``graph.names``, when neither
        ``run`` nor ``execution`` is given.
    run_id, status:
        Override the run id and status (a run without a live object).

    Returns
    -------
    dict
        The JSON-ready document; above :data:`MAX_NODES` nodes it holds the
        first ones in topological order and ``truncated`` is true.
    """
    return LiveDocument(
        graph, workflow=workflow, run=run, execution=execution, steps=steps,
        records=records, run_id=run_id, status=status,
    ).doc


class LiveDocument:
    """A DAG document kept in step with live step records.

    Parameters are those of :func:`dag_document`. ``doc`` is the document;
    :meth:`update` refreshes states, timings, counts and status in place.
    """

    def __init__(
        self,
        graph: Graph | None,
        *,
        workflow: str,
        run: Run | None = None,
        execution: WorkflowExecution | None = None,
        steps: Sequence[Any] | None = None,
        records: Sequence[StepRecord] | Mapping[str, StepRecord] | None = None,
        run_id: str | None = None,
        status: str | None = None,
    ) -> None:
        self.graph = graph
        self._lock = threading.Lock()
        self.run = run
        self.execution = execution
        self._status = status
        if graph is None:
            self.records: list[StepRecord | None] = []
            self.doc = self._empty(workflow, run_id, status)
            return
        self.records = _records_for(graph, run, execution, records)
        kind = "run" if (run or execution or records is not None or run_id) else "workflow"
        if run_id is None:
            run_id = run.run_id if run is not None else getattr(execution, "execution_id", None)
        self.doc = self._build(graph, workflow, kind, run_id, steps)
        self._settled = [False] * len(self.doc["nodes"])
        self._settled_fast = list(self._settled)
        self.update()

    def _empty(self, workflow: str, run_id: str | None, status: str | None) -> dict[str, Any]:
        self._settled, self._settled_fast = [], []
        return {
            "version": SCHEMA_VERSION, "kind": "run" if run_id else "workflow",
            "workflow": workflow, "run_id": run_id, "status": status, "direction": "LR",
            "nodes": [], "edges": [], "states": dict(STATE_COLORS), "counts": {},
            "truncated": False, "total_nodes": 0,
        }

    def _build(
        self, graph: Graph, workflow: str, kind: str, run_id: str | None, steps: Any
    ) -> dict[str, Any]:
        keep = graph.order[:MAX_NODES]
        kept = set(keep)
        pos = layered_positions(graph)
        defs = _steps_for(graph, self.run, self.execution, steps)
        names, layers = graph.names, graph.layers
        self._kept = list(keep)
        nodes = [_node(names[i], layers[i], pos[i], defs[i], None) for i in keep]
        edges = [[names[p], names[i]] for i in keep for p in graph.parents[i] if p in kept]
        return {
            "version": SCHEMA_VERSION, "kind": kind, "workflow": workflow,
            "run_id": run_id if kind == "run" else None, "status": None, "direction": "LR",
            "nodes": nodes, "edges": edges, "states": dict(STATE_COLORS), "counts": {},
            "truncated": len(keep) < len(graph), "total_nodes": len(graph),
        }

    def update(self, *, stamps: bool = True) -> dict[str, Any]:
        """Refresh the document from the records; return it.

        ``stamps=False`` (live redraws) leaves ``started``/``ended`` as they
        are; they are filled by the next update with stamps.
        """
        with self._lock:  # live views may refresh from the loop and the kernel thread
            return self._update(stamps)

    def _update(self, stamps: bool = True) -> dict[str, Any]:
        doc = self.doc
        if self.graph is None:
            return doc
        records = self.records
        # A terminal record never changes again: skip it on later refreshes.
        # Nodes settled without stamps are revisited once by an update with stamps.
        settled = self._settled if stamps else self._settled_fast
        for j, (i, node) in enumerate(zip(self._kept, doc["nodes"], strict=True)):
            if settled[j]:
                continue
            rec = records[i]
            _fill_state(node, rec, stamps)
            settled[j] = done = rec is not None and rec.status in TERMINAL_STATES
            if stamps:
                self._settled_fast[j] = done
        doc["counts"] = _counts(records)
        if doc["kind"] == "run":
            doc["status"] = self._status or _run_status(self.run, self.execution)
        return doc

    def rebind(self, run: Run) -> None:
        """Follow ``run``'s records, keeping the layout (``run.graph`` must be this graph)."""
        if run.graph is not self.graph:
            raise ValueError("rebind needs a run of the same graph; build a new LiveDocument")
        with self._lock:
            self.run, self.execution = run, None
            self.records = list(run.records)
            self._settled = [False] * len(self._settled)
            self._settled_fast = list(self._settled)
            self.doc["kind"], self.doc["run_id"] = "run", run.run_id
            self._update()

    def set_status(self, status: str | None) -> None:
        """Use ``status`` as the run status instead of the live object's."""
        self._status = status
