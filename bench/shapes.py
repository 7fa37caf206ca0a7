"""Graph shapes used by every benchmark, built from a fixed seed.

A shape is a list of :class:`Node` (a name and the names it depends on), in
definition order. Converters turn it into what each contender consumes: our
``WorkflowStep`` objects, a ``graphlib`` mapping, a Dask graph.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "SEED",
    "SHAPES",
    "Node",
    "chain",
    "dask_graph",
    "graphlib_mapping",
    "independent",
    "layered",
    "networkx_graph",
    "workflow_steps",
]

SEED = 20240601


@dataclass(frozen=True, slots=True)
class Node:
    """A light step: what ``compile_graph`` needs and nothing else."""

    name: str
    dependencies: tuple[str, ...] = ()


def independent(n: int) -> list[Node]:
    """``n`` steps with no dependencies."""
    return [Node(f"s{i}") for i in range(n)]


def chain(n: int) -> list[Node]:
    """``n`` steps, each depending on the previous one."""
    return [Node(f"s{i}", (f"s{i - 1}",) if i else ()) for i in range(n)]


def layered(n: int, width: int = 100, seed: int = SEED) -> list[Node]:
    """Layers of ``width`` steps; each depends on 2-3 steps of the previous layer."""
    rng = random.Random(seed)
    nodes: list[Node] = []
    previous: list[str] = []
    for layer in range((n + width - 1) // width):
        size = min(width, n - layer * width)
        current = [f"L{layer}_{j}" for j in range(size)]
        for name in current:
            deps = tuple(rng.sample(previous, min(len(previous), rng.randint(2, 3))))
            nodes.append(Node(name, deps))
        previous = current
    return nodes


# name -> generator taking the number of steps
SHAPES: dict[str, Callable[[int], list[Node]]] = {
    "independent": independent,
    "chain": chain,
    "layered": layered,
}


def workflow_steps(nodes: Sequence[Node], module: str, action: str) -> list[Any]:
    """The shape as ``WorkflowStep`` objects calling ``module.action``."""
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep

    return [
        WorkflowStep(name=n.name, module=module, action=action, dependencies=list(n.dependencies))
        for n in nodes
    ]


def graphlib_mapping(nodes: Sequence[Node]) -> dict[str, tuple[str, ...]]:
    """Node name to its predecessors, as ``graphlib.TopologicalSorter`` takes it."""
    return {n.name: n.dependencies for n in nodes}


def dask_graph(nodes: Sequence[Node], fn: Callable[..., Any]) -> dict[str, Any]:
    """A Dask task graph calling ``fn(*dependency_results)`` for every node."""
    return {n.name: (fn, *n.dependencies) for n in nodes}


def networkx_graph(nodes: Sequence[Node]) -> Any:
    """The shape as a ``networkx.DiGraph`` with edges dependency -> dependent."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n.name for n in nodes)
    g.add_edges_from((d, n.name) for n in nodes for d in n.dependencies)
    return g
