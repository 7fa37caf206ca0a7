"""Graph validation, order and layers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codomyrmex_jupyter.engine.graph import compile_graph
from codomyrmex_jupyter.errors import CycleError, WorkflowValidationError


@dataclass
class N:
    name: str
    dependencies: list[str] = field(default_factory=list)


def nodes(spec: dict[str, list[str]]) -> list[N]:
    return [N(k, v) for k, v in spec.items()]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({}, "a workflow needs at least one step"),
        ({"": []}, "step #1 has an empty name; give every step a name"),
        ({"a": ["zz"]}, "step 'a' depends on unknown step 'zz'; known steps: a"),
    ],
)
def test_invalid_definitions(spec: dict[str, list[str]], message: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        compile_graph(nodes(spec))
    assert str(info.value) == message


def test_duplicate_names() -> None:
    with pytest.raises(WorkflowValidationError, match="duplicate step name 'a'; step names must be unique"):
        compile_graph([N("a"), N("a")])


@pytest.mark.parametrize(
    ("spec", "cycle"),
    [
        ({"a": ["b"], "b": ["a"]}, ["b", "a", "b"]),
        ({"a": ["a"]}, ["a", "a"]),
        ({"r": [], "a": ["r", "c"], "b": ["a"], "c": ["b"], "d": ["c"]}, ["b", "c", "a", "b"]),
    ],
)
def test_cycles_are_named(spec: dict[str, list[str]], cycle: list[str]) -> None:
    with pytest.raises(CycleError) as info:
        compile_graph(nodes(spec))
    err = info.value
    assert isinstance(err, ValueError)
    assert err.cycle == cycle
    assert " -> ".join(cycle) in str(err)
    # the named cycle is a real cycle of the definition
    for src, dst in zip(err.cycle, err.cycle[1:], strict=False):
        assert src in spec[dst]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(1, 120))
def test_order_and_layers_match_networkx(seed: int, n: int) -> None:
    rng = random.Random(seed)
    spec = {f"n{i}": [f"n{d}" for d in rng.sample(range(i), rng.randint(0, min(i, 3)))] for i in range(n)}
    g = compile_graph(nodes(spec))
    pos = {g.names[i]: k for k, i in enumerate(g.order)}
    for name, deps in spec.items():
        for d in deps:
            assert pos[d] < pos[name]
    dg = nx.DiGraph()
    dg.add_nodes_from(spec)
    dg.add_edges_from((d, k) for k, ds in spec.items() for d in ds)
    expected = [sorted(gen) for gen in nx.topological_generations(dg)]
    assert [sorted(gen) for gen in g.generations()] == expected


def test_descendants_and_edges() -> None:
    g = compile_graph(nodes({"a": [], "b": ["a"], "c": ["b"], "d": []}))
    assert sorted(g.names[i] for i in g.descendants(g.index["a"])) == ["b", "c"]
    assert g.edges == [("a", "b"), ("b", "c")]
    assert len(g) == 4
