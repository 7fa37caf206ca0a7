"""Workflow graphs: validation, topological order and layers.

A workflow is compiled once into a :class:`Graph` of integer indices, so the
scheduler and the layout work on lists instead of dictionaries of names.

Validation runs Kahn's algorithm over those indices. It gives the
topological order and the generations (layers) in one pass, and detects a
cycle when some nodes never reach in-degree zero. Only then does it walk the
remaining nodes to *name* the cycle, which is cheap once one is known to exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..errors import CycleError, StepTypeError, WorkflowValidationError

__all__ = ["Graph", "HasDependencies", "compile_graph", "find_cycle"]


class HasDependencies(Protocol):
    """Anything with a ``name`` and the names it depends on."""

    @property
    def name(self) -> str: ...

    @property
    def dependencies(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Graph:
    """A validated DAG over integer node indices.

    :func:`compile_graph` makes one of tuples; a run whose graph grows while
    it runs (:class:`~.open_run.OpenRun`) holds one of lists that it extends.

    Attributes
    ----------
    names:
        Node names; a node's index is its position here (definition order).
    index:
        Name to index.
    parents:
        For each node, the indices it depends on.
    children:
        For each node, the indices that depend on it.
    order:
        A topological order (definition order among ready nodes).
    layers:
        ``layers[i]`` is the topological generation of node ``i`` (0 = roots).
    """

    names: Sequence[str]
    index: dict[str, int]
    parents: Sequence[Sequence[int]]
    children: Sequence[Sequence[int]]
    order: Sequence[int]
    layers: Sequence[int]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def edges(self) -> list[tuple[str, str]]:
        """``(dependency, dependent)`` name pairs."""
        names = self.names
        return [(names[p], names[i]) for i, ps in enumerate(self.parents) for p in ps]

    def generations(self) -> list[list[str]]:
        """Node names grouped by layer, like ``networkx.topological_generations``."""
        out: list[list[str]] = [[] for _ in range(max(self.layers, default=-1) + 1)]
        for i in self.order:
            out[self.layers[i]].append(self.names[i])
        return out

    def descendants(self, node: int) -> list[int]:
        """Every node that depends on ``node``, directly or not."""
        seen = {node}
        stack = [node]
        out: list[int] = []
        children = self.children
        while stack:
            for c in children[stack.pop()]:
                if c not in seen:
                    seen.add(c)
                    out.append(c)
                    stack.append(c)
        return out


def _index_names(nodes: Sequence[HasDependencies]) -> dict[str, int]:
    if not nodes:
        raise WorkflowValidationError("a workflow needs at least one step")
    index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        name = node.name
        if not isinstance(name, str):
            raise StepTypeError(
                f"step #{i + 1} name {name!r:.40} is a {type(name).__name__}, not a string; "
                "give every step a text name"
            )
        if not name.strip():
            raise WorkflowValidationError(f"step #{i + 1} has an empty name; give every step a name")
        if name in index:
            raise WorkflowValidationError(
                f"duplicate step name {name!r}; step names must be unique", step=name
            )
        index[name] = i
    return index


def _resolve_parents(
    nodes: Sequence[HasDependencies], index: dict[str, int]
) -> list[tuple[int, ...]]:
    parents: list[tuple[int, ...]] = []
    for node in nodes:
        deps = node.dependencies
        try:
            if isinstance(deps, str):  # iterating it would take each letter for a step name
                raise TypeError(deps)
            parents.append(tuple(map(index.__getitem__, deps)) if deps else ())
        except (KeyError, TypeError):
            wrong = next((d for d in deps if not isinstance(d, str)), None)
            if wrong is not None or isinstance(deps, str):
                shown = deps if isinstance(deps, str) else wrong
                raise StepTypeError(
                    f"step {node.name!r}: dependency {shown!r:.40} is a {type(shown).__name__}; "
                    "give a list of step names",
                    step=node.name,
                ) from None
            missing = next(d for d in deps if d not in index)
            raise WorkflowValidationError(
                f"step {node.name!r} depends on unknown step {missing!r}; "
                f"known steps: {', '.join(list(index)[:20])}",
                step=node.name,
            ) from None
    return parents


def compile_graph(nodes: Sequence[HasDependencies]) -> Graph:
    """Validate ``nodes`` and compile them into a :class:`Graph`.

    Raises
    ------
    WorkflowValidationError
        Empty workflow, empty or duplicate step name, unknown dependency.
    CycleError
        The dependencies form a cycle; ``err.cycle`` names it.
    """
    index = _index_names(nodes)
    parents = _resolve_parents(nodes, index)
    n = len(parents)
    children: list[list[int]] = [[] for _ in range(n)]
    indegree = [0] * n
    for i, ps in enumerate(parents):
        indegree[i] = len(ps)
        for p in ps:
            children[p].append(i)
    layers = [0] * n
    order = [i for i in range(n) if not indegree[i]]
    # Kahn's algorithm; ``order`` doubles as the queue.
    head = 0
    while head < len(order):
        node = order[head]
        head += 1
        next_layer = layers[node] + 1
        for c in children[node]:
            if layers[c] < next_layer:  # noqa: PLR1730 - max() is a call per edge on the hot path
                layers[c] = next_layer
            indegree[c] -= 1
            if not indegree[c]:
                order.append(c)
    if len(order) != n:
        names = [nd.name for nd in nodes]
        stuck = [i for i in range(n) if indegree[i]]
        raise CycleError([names[i] for i in find_cycle(parents, stuck)])
    return Graph(
        names=tuple(index),
        index=index,
        parents=tuple(parents),
        children=tuple(tuple(c) for c in children),
        order=tuple(order),
        layers=tuple(layers),
    )


def find_cycle(parents: Sequence[Sequence[int]], candidates: Iterable[int]) -> list[int]:
    """Return one cycle as ``[a, b, ..., a]`` among ``candidates``.

    ``candidates`` are the nodes Kahn's algorithm could not order; every one of
    them lies on a cycle or downstream of one, so following parent links from
    any of them must revisit a node.
    """
    stuck = set(candidates)
    start = next(iter(sorted(stuck)))
    position: dict[int, int] = {}
    path: list[int] = []
    node = start
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = next(p for p in parents[node] if p in stuck)
    cycle = path[position[node] :]
    # Parent links walk against the edges; reverse so it reads in run order.
    cycle.reverse()
    return [*cycle, cycle[0]]
