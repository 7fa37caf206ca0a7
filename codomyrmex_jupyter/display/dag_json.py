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

The layout depends on the graph only, so :func:`layout_for` computes it once
per graph and every document of that graph (a new view per run, the static
twin) reuses it.

Live views keep a :class:`LiveDocument` and call :meth:`LiveDocument.update`
on each refresh: it rewrites only the nodes whose step has not yet been seen in
a final state, and counts only the steps not yet seen finished, so a refresh
late in a big run touches few nodes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.graph import Graph, compile_graph
from ..engine.state import STATE_COLORS, STEP_STATES, TERMINAL_STATES, StepRecord
from .run_document import MINOR_VERSION, RUN_DEFAULTS, STEP_DEFAULTS, fill_run, fill_step, iso_utc

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution
    from ..engine.runner import Run

__all__ = [
    "MAX_COLUMNS",
    "MAX_NODES",
    "MIME_TYPE",
    "RUN_STATUS_COLORS",
    "SCHEMA_VERSION",
    "Layout",
    "LiveDocument",
    "dag_document",
    "graph_for_execution",
    "layered_positions",
    "layout_for",
    "same_graph",
    "status_color",
]

MIME_TYPE = "application/vnd.codomyrmex.dag+json"
SCHEMA_VERSION = 1
MAX_NODES = 2000
MAX_COLUMNS = 200  # a layer summary groups adjacent layers into at most this many bars
_LAYOUT_CACHE_SIZE = 4  # graphs whose layout is kept (a strong reference each)

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


def layered_positions(graph: Graph) -> list[tuple[float, float]]:
    """``(x, y)`` of every node (by index): ``x`` its layer, ``y`` its centred row."""
    layers = graph.layers
    rows: list[list[int]] = [[] for _ in range(max(layers, default=-1) + 1)]
    for i in graph.order:
        rows[layers[i]].append(i)
    y = [0.0] * len(graph)
    parents = graph.parents
    for members in rows:
        if len(members) < 2:
            continue  # alone in its layer: centred at 0 already
        members.sort(key=lambda i: _barycentre(parents[i], y))
        offset = (len(members) - 1) / 2
        for row, i in enumerate(members):
            y[i] = row - offset
    return [(float(layers[i]), y[i]) for i in range(len(graph))]


def _barycentre(parents: Sequence[int], y: list[float]) -> float:
    if not parents:
        return 0.0
    return sum(y[p] for p in parents) / len(parents)


def same_graph(a: Graph | None, b: Graph | None) -> bool:
    """True when ``a`` and ``b`` are the same DAG: same names, same dependencies.

    Two compilations of one workflow are different objects with one layout;
    comparing them costs far less than laying one out again.
    """
    if a is b:
        return True
    if a is None or b is None:
        return False
    return a.names == b.names and a.parents == b.parents


@dataclass(frozen=True, slots=True)
class Layout:
    """The parts of a document that depend only on the graph (see :func:`layout_for`).

    Attributes
    ----------
    keep:
        Indices of the nodes drawn: the first :data:`MAX_NODES` in topological order.
    positions:
        ``(x, y)`` of each kept node, aligned with ``keep``.
    edges:
        ``[dependency, dependent]`` names between kept nodes (shared: do not mutate).
    columns:
        For every node (by index), its bar in a layer summary.
    n_columns, n_layers:
        Number of summary bars and of layers (a bar groups adjacent layers).
    """

    keep: Sequence[int]
    positions: tuple[tuple[float, float], ...]
    edges: list[list[str]]
    columns: Sequence[int]
    n_columns: int
    n_layers: int


_layouts: OrderedDict[int, tuple[Graph, Layout]] = OrderedDict()
_layouts_lock = threading.Lock()


def layout_for(graph: Graph) -> Layout:
    """The layout of ``graph``, computed once and reused by every document of it."""
    with _layouts_lock:
        hit = _layouts.get(id(graph))
        # The entry holds the graph itself, so its id cannot be reused while cached.
        if hit is not None and hit[0] is graph:
            _layouts.move_to_end(id(graph))
            return hit[1]
    layout = _compute_layout(graph)
    _remember(graph, layout)
    return layout


def _remember(graph: Graph, layout: Layout) -> None:
    with _layouts_lock:
        _layouts[id(graph)] = (graph, layout)
        _layouts.move_to_end(id(graph))
        while len(_layouts) > _LAYOUT_CACHE_SIZE:
            _layouts.popitem(last=False)


def _compute_layout(graph: Graph) -> Layout:
    keep = graph.order[:MAX_NODES]
    names, parents = graph.names, graph.parents
    pos = layered_positions(graph)
    if len(keep) < len(graph):
        kept = set(keep)
        edges = [[names[p], names[i]] for i in keep for p in parents[i] if p in kept]
    else:
        edges = [[names[p], names[i]] for i in keep for p in parents[i]]
    n_layers = max(graph.layers, default=-1) + 1
    n_columns = min(n_layers, MAX_COLUMNS)
    columns: Sequence[int] = graph.layers
    if n_layers > n_columns:
        columns = [layer * n_columns // n_layers for layer in graph.layers]
    return Layout(keep, tuple(pos[i] for i in keep), edges, columns, n_columns, n_layers)


class _Tally:
    """Steps per state in each summary column; a finished step is counted once, then skipped."""

    def __init__(self, columns: Sequence[int], n_columns: int, size: int) -> None:
        self._columns = columns
        self._final: list[dict[str, int]] = [{} for _ in range(n_columns)]
        self._live: list[dict[str, int]] = [{} for _ in range(n_columns)]
        self._open = list(range(size))

    def update(self, records: Sequence[StepRecord | None]) -> None:
        """Count the steps not yet seen finished."""
        final, cols = self._final, self._columns
        live: list[dict[str, int]] = [{} for _ in final]
        still: list[int] = []
        for i in self._open:
            rec = records[i]
            state = "pending" if rec is None else rec.status
            if rec is None or state in TERMINAL_STATES:  # neither changes again
                counts = final[cols[i]]
            else:
                still.append(i)
                counts = live[cols[i]]
            counts[state] = counts.get(state, 0) + 1
        self._open, self._live = still, live

    def per_column(self) -> list[dict[str, int]]:
        """Steps per state in each column, as of the last :meth:`update`."""
        return [_merged(f, v) for f, v in zip(self._final, self._live, strict=True)]

    def totals(self) -> dict[str, int]:
        """Steps per state over the whole graph, in :data:`STEP_STATES` order."""
        out: dict[str, int] = {}
        for part in (*self._final, *self._live):
            for state, n in part.items():
                out[state] = out.get(state, 0) + n
        return {s: out[s] for s in STEP_STATES if s in out}


def _merged(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    if not b:
        return dict(a)
    out = dict(a)
    for state, n in b.items():
        out[state] = out.get(state, 0) + n
    return out


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
    graph: Graph,
    keep: Sequence[int],
    run: Run | None,
    execution: WorkflowExecution | None,
    steps: Sequence[Any] | None,
) -> list[Any]:
    """Step definitions of the kept nodes, aligned with ``keep``."""
    if steps is None and run is not None:
        steps = run.steps
    if steps is None and execution is not None and execution._run is not None:
        steps = execution._run.steps
    if steps is None:
        return [None] * len(keep)
    if not isinstance(steps, Sequence):
        steps = list(steps)
    names = graph.names
    # Steps usually come in definition order, which is index order: no dict needed.
    if len(steps) == len(names) and all(getattr(steps[i], "name", None) == names[i] for i in keep):
        return [steps[i] for i in keep]
    by_name = {getattr(s, "name", None): s for s in steps}
    return [by_name.get(names[i]) for i in keep]


def _node(name: str, layer: int, pos: tuple[float, float], step: Any) -> dict[str, Any]:
    return {
        "id": name, "label": name,
        "module": getattr(step, "module", None), "action": getattr(step, "action", None),
        "layer": layer, "x": pos[0], "y": pos[1],
        "state": "pending", "duration": None, "attempts": 0, "started": None, "ended": None,
        "error": None, **STEP_DEFAULTS,
    }


def _fill_state(
    node: dict[str, Any], rec: StepRecord, stamps: bool = True, run_start: float | None = None
) -> None:
    node["state"] = rec.status if rec.status in STATE_COLORS else "pending"
    node["duration"] = rec.duration
    node["attempts"] = rec.attempts
    node["error"] = rec.error if rec.status in ("failed", "retrying") else None
    if stamps:  # ISO strings cost more than the rest together: only for exported documents
        node["started"] = iso_utc(rec.start)
        node["ended"] = iso_utc(rec.end)
    fill_step(node, rec, run_start)


def _run_defaults() -> dict[str, Any]:
    return {k: (v.copy() if isinstance(v, (dict, list)) else v) for k, v in RUN_DEFAULTS.items()}


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
    ``layout`` is the graph's shared :class:`Layout` (``None`` without a graph).
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
        self.layout: Layout | None = None
        if graph is None:
            self.records: list[StepRecord | None] = []
            self.doc = self._empty(workflow, run_id, status)
            return
        self.layout = layout_for(graph)
        self.records = _records_for(graph, run, execution, records)
        kind = "run" if (run or execution or records is not None or run_id) else "workflow"
        if run_id is None:
            run_id = run.run_id if run is not None else getattr(execution, "execution_id", None)
        self.doc = self._build(graph, workflow, kind, run_id, steps)
        self._stale = True
        self._update()

    def _empty(self, workflow: str, run_id: str | None, status: str | None) -> dict[str, Any]:
        self._stale = False
        self._open_stamped: list[int] = []
        self._open_fast: list[int] = []
        self._tally = _Tally((), 0, 0)
        return {
            "version": SCHEMA_VERSION, "version_minor": MINOR_VERSION,
            "kind": "run" if run_id else "workflow",
            "workflow": workflow, "run_id": run_id, "status": status, "direction": "LR",
            "nodes": [], "edges": [], "states": dict(STATE_COLORS), "counts": {},
            "truncated": False, "total_nodes": 0, **_run_defaults(),
        }

    def _build(
        self, graph: Graph, workflow: str, kind: str, run_id: str | None, steps: Any
    ) -> dict[str, Any]:
        layout = layout_for(graph)
        keep = layout.keep
        defs = _steps_for(graph, keep, self.run, self.execution, steps)
        names, layers = graph.names, graph.layers
        nodes = [
            _node(names[i], layers[i], pos, step)
            for i, pos, step in zip(keep, layout.positions, defs, strict=True)
        ]
        return {
            "version": SCHEMA_VERSION, "version_minor": MINOR_VERSION, "kind": kind, "workflow": workflow,
            "run_id": run_id if kind == "run" else None, "status": None, "direction": "LR",
            "nodes": nodes, "edges": list(layout.edges), "states": dict(STATE_COLORS),
            "counts": {}, "truncated": len(keep) < len(graph), "total_nodes": len(graph),
            **_run_defaults(),
        }

    def _reset(self) -> None:
        """Every node and record is to be looked at again."""
        assert self.layout is not None
        self._stale = False
        self._open_stamped = list(range(len(self.layout.keep)))
        self._open_fast = list(self._open_stamped)
        self._tally = _Tally(self.layout.columns, self.layout.n_columns, len(self.records))

    def update(self, *, stamps: bool = True) -> dict[str, Any]:
        """Refresh the document from the records; return it.

        ``stamps=False`` (live redraws) leaves ``started``/``ended`` as they
        are; they are filled by the next update with stamps.
        """
        with self._lock:  # live views may refresh from the loop and the kernel thread
            return self._update(stamps)

    def _update(self, stamps: bool = True) -> dict[str, Any]:
        doc = self.doc
        if self.layout is None:
            return doc
        if self._stale:
            self._reset()
        records, nodes, keep = self.records, doc["nodes"], self.layout.keep
        # A terminal record never changes again: its node leaves the open list.
        # Nodes settled without stamps stay open for the next update with stamps.
        # A missing record stays missing (only rebind swaps the records, and
        # reopens every node): its node keeps the pending state it was built with.
        run_start = fill_run(doc, self.run, self.execution) if doc["kind"] == "run" else None
        still: list[int] = []
        for j in self._open_stamped if stamps else self._open_fast:
            rec = records[keep[j]]
            if rec is None:
                continue
            _fill_state(nodes[j], rec, stamps, run_start)
            if rec.status not in TERMINAL_STATES:
                still.append(j)
        if stamps:
            self._open_stamped = still
        self._open_fast = list(still) if stamps else still
        self._tally.update(records)
        doc["counts"] = self._tally.totals()
        if doc["kind"] == "run":
            doc["status"] = self._status or _run_status(self.run, self.execution)
        return doc

    def column_counts(self) -> list[dict[str, int]]:
        """Steps per state in each summary column (``layout.columns``), as of the last update."""
        with self._lock:
            return self._tally.per_column()

    def rebind(self, run: Run) -> None:
        """Follow ``run``'s records, keeping the layout (``run.graph`` must be this graph).

        Cheap, since it runs when the run starts: node states and counts
        follow at the next :meth:`update`.
        """
        if not same_graph(run.graph, self.graph):
            raise ValueError("rebind needs a run of the same graph; build a new LiveDocument")
        with self._lock:
            self.graph = run.graph
            self.run, self.execution = run, None
            self.records = list(run.records)
            self.doc["kind"], self.doc["run_id"] = "run", run.run_id
            self.doc["status"] = self._status or _run_status(run, None)
            self._stale = True  # reopened by the next update, not at the run's start

    def set_status(self, status: str | None) -> None:
        """Use ``status`` as the run status instead of the live object's."""
        self._status = status
