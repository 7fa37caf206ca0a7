"""The version-1 DAG document: shape, states, layout, truncation, live updates."""

from __future__ import annotations

import json

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.dag_json import (
    MAX_COLUMNS,
    MAX_NODES,
    LiveDocument,
    dag_document,
    graph_for_execution,
    layered_positions,
    same_graph,
    status_color,
)
from codomyrmex_jupyter.engine.graph import compile_graph
from codomyrmex_jupyter.engine.state import STATE_COLORS, StepRecord


def _steps(spec: list[tuple[str, list[str]]], module: str = "m") -> list[WorkflowStep]:
    return [WorkflowStep(n, module, n, dependencies=d, max_retries=1) for n, d in spec]


DIAMOND = [("a", []), ("b", ["a"]), ("c", ["a"]), ("d", ["b", "c"])]


def _etl(manager: WorkflowManager) -> None:
    def load() -> list[int]:
        return [1, 2, 3]

    def clean(load: list[int]) -> list[int]:
        return [x * 2 for x in load]

    def bad(load: list[int]) -> None:
        raise ValueError("bad input\nsecond line")

    def after(bad: None) -> int:
        return 1

    steps = [
        WorkflowStep(n, "notebook.etl", n, dependencies=d, max_retries=1)
        for n, d in [("load", []), ("clean", ["load"]), ("bad", ["load"]), ("after", ["bad"])]
    ]
    fns = {"load": load, "clean": clean, "bad": bad, "after": after}
    assert manager.create_workflow("etl", steps, callables=fns)


def test_workflow_document_has_the_schema_fields() -> None:
    steps = _steps(DIAMOND)
    doc = dag_document(compile_graph(steps), workflow="w", steps=steps)
    assert doc["version"] == 1
    assert doc["kind"] == "workflow"
    assert doc["run_id"] is None and doc["status"] is None
    assert doc["direction"] == "LR"
    assert [n["id"] for n in doc["nodes"]] == ["a", "b", "c", "d"]
    assert doc["edges"] == [["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]]
    assert doc["states"] == STATE_COLORS
    assert doc["counts"] == {"pending": 4}
    assert doc["truncated"] is False and doc["total_nodes"] == 4
    node = doc["nodes"][1]
    assert node == {
        "id": "b", "label": "b", "module": "m", "action": "b", "layer": 1, "x": 1.0, "y": -0.5,
        "state": "pending", "duration": None, "attempts": 0, "started": None, "ended": None,
        "error": None, "offset": None, "reason": None, "traceback": None, "location": None,
        "result": None, "cache": None,
    }
    assert doc["version_minor"] == 2
    assert (doc["parameters"], doc["started"], doc["errors"]) == ({}, None, [])
    json.dumps(doc)  # JSON-ready


def test_layers_are_centred_rows() -> None:
    graph = compile_graph(_steps(DIAMOND))
    assert layered_positions(graph) == [(0.0, 0.0), (1.0, -0.5), (1.0, 0.5), (2.0, 0.0)]


def test_barycentre_orders_a_layer_by_parent_rows() -> None:
    # x2 depends on the lower root, x1 on the upper one: rows follow parents.
    graph = compile_graph(_steps([("r1", []), ("r2", []), ("x2", ["r2"]), ("x1", ["r1"])]))
    pos = dict(zip(graph.names, layered_positions(graph), strict=True))
    assert pos["x1"][1] < pos["x2"][1]


def test_run_document_has_states_timings_and_errors(manager: WorkflowManager) -> None:
    _etl(manager)
    ex = manager.run_workflow("etl")
    doc = dag_document(graph_for_execution(ex), workflow="etl", execution=ex)
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert doc["kind"] == "run" and doc["run_id"] == ex.execution_id
    assert doc["status"] == "failed"
    assert {k: n["state"] for k, n in nodes.items()} == {
        "load": "succeeded", "clean": "succeeded", "bad": "failed", "after": "skipped",
    }
    assert doc["counts"] == {"succeeded": 2, "failed": 1, "skipped": 1}
    assert nodes["bad"]["error"] == "ValueError: bad input"
    assert nodes["bad"]["attempts"] == 2
    assert nodes["load"]["duration"] is not None and nodes["load"]["duration"] >= 0
    assert nodes["load"]["started"].endswith("+00:00")
    assert nodes["after"]["duration"] is None and nodes["after"]["error"] is None
    assert nodes["load"]["module"] == "notebook.etl"
    json.dumps(doc)


def test_recorded_execution_rebuilds_its_graph(manager: WorkflowManager, tmp_path) -> None:
    _etl(manager)
    ex = manager.run_workflow("etl")
    other = WorkflowManager(config_dir=tmp_path / "wm")
    try:
        stored = other.get_execution(ex.execution_id)
        assert stored is not None and stored._run is None
        stored.edges = ex.edges
        graph = graph_for_execution(stored)
        assert graph is not None and graph.edges == compile_graph(manager.get_workflow("etl")).edges
        doc = dag_document(graph, workflow="etl", execution=stored)
        assert doc["status"] == "failed"
        assert doc["counts"] == {"succeeded": 2, "failed": 1, "skipped": 1}
    finally:
        other.close()


def test_big_graph_is_truncated_but_counts_cover_everything() -> None:
    n = MAX_NODES + 100
    steps = _steps([(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(n)])
    records = {f"s{i}": StepRecord(f"s{i}", "succeeded") for i in range(n)}
    doc = dag_document(compile_graph(steps), workflow="chain", records=records, run_id="r1")
    assert len(doc["nodes"]) == MAX_NODES
    assert doc["nodes"][-1]["id"] == f"s{MAX_NODES - 1}"
    assert len(doc["edges"]) == MAX_NODES - 1
    assert doc["truncated"] is True and doc["total_nodes"] == n
    assert doc["counts"] == {"succeeded": n}


def test_live_document_follows_records() -> None:
    steps = _steps(DIAMOND)
    records = [StepRecord(s.name) for s in steps]
    live = LiveDocument(compile_graph(steps), workflow="w", records=records, run_id="r", status="running")
    records[0].status, records[0].start, records[0].end = "succeeded", 10.0, 10.5
    records[1].status = "running"
    doc = live.update()
    assert [n["state"] for n in doc["nodes"]] == ["succeeded", "running", "pending", "pending"]
    assert doc["nodes"][0]["duration"] == 0.5
    assert doc["counts"] == {"pending": 2, "running": 1, "succeeded": 1}
    live.set_status("completed")
    assert live.update()["status"] == "completed"


def test_empty_document_and_status_colours() -> None:
    doc = dag_document(None, workflow="nothing")
    assert doc["nodes"] == [] and doc["total_nodes"] == 0 and doc["version"] == 1
    assert status_color("completed") == STATE_COLORS["succeeded"]
    assert status_color("failed") == STATE_COLORS["failed"]
    assert status_color("whatever") == STATE_COLORS["pending"]


def test_live_updates_without_stamps_fill_them_later() -> None:
    steps = _steps(DIAMOND)
    records = [StepRecord(s.name) for s in steps]
    live = LiveDocument(compile_graph(steps), workflow="w", records=records, run_id="r")
    records[0].status, records[0].start, records[0].end = "succeeded", 0.0, 1.0
    node = live.update(stamps=False)["nodes"][0]
    assert node["state"] == "succeeded" and node["duration"] == 1.0
    assert node["started"] is None  # live redraws skip the ISO strings
    node = live.update()["nodes"][0]
    assert node["started"] == "1970-01-01T00:00:00+00:00"
    assert node["ended"] == "1970-01-01T00:00:01+00:00"


def test_rebind_keeps_the_layout_for_a_run_of_the_same_graph(manager: WorkflowManager) -> None:
    import pytest

    _etl(manager)
    live = LiveDocument(manager.get_graph("etl"), workflow="etl")
    nodes = live.doc["nodes"]
    run, _ex = manager.prepare_run("etl")
    live.rebind(run)
    assert live.doc["nodes"] is nodes and live.doc["kind"] == "run"
    assert live.doc["run_id"] == run.run_id
    other = LiveDocument(compile_graph(_steps(DIAMOND)), workflow="w")
    with pytest.raises(ValueError, match="same graph"):
        other.rebind(run)


def _chain(n: int) -> list[WorkflowStep]:
    return _steps([(f"s{i}", [f"s{i - 1}"] if i else []) for i in range(n)])


def test_layout_is_computed_once_per_graph(monkeypatch) -> None:
    from codomyrmex_jupyter.display import dag_json

    calls: list[int] = []
    real = dag_json.layered_positions

    def counting(graph):
        calls.append(len(graph))
        return real(graph)

    monkeypatch.setattr(dag_json, "layered_positions", counting)
    steps = _steps(DIAMOND)
    graph = compile_graph(steps)
    first = LiveDocument(graph, workflow="w", steps=steps)
    second = LiveDocument(graph, workflow="w", records=[StepRecord(s.name) for s in steps])
    third = dag_document(graph, workflow="w")
    assert calls == [4]
    assert first.layout is second.layout is dag_json.layout_for(graph)
    assert [(n["x"], n["y"]) for n in third["nodes"]] == [(0.0, 0.0), (1.0, -0.5), (1.0, 0.5), (2.0, 0.0)]
    third["edges"].append(["x", "y"])  # a document's edge list is its own
    assert dag_document(graph, workflow="w")["edges"] == [["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]]
    assert calls == [4]


def test_same_graph_is_structural() -> None:
    steps = _steps(DIAMOND)
    a, b = compile_graph(steps), compile_graph(steps)
    assert a is not b and same_graph(a, b)
    assert not same_graph(a, compile_graph(_steps([("a", []), ("b", ["a"]), ("c", []), ("d", ["b", "c"])])))
    assert not same_graph(a, None) and same_graph(None, None)


def test_rebind_adopts_another_compilation_of_the_graph(manager: WorkflowManager) -> None:
    _etl(manager)
    live = LiveDocument(compile_graph(manager.get_workflow("etl")), workflow="etl")
    layout = live.layout
    run, _ex = manager.prepare_run("etl")
    assert run.graph is not live.graph
    live.rebind(run)
    assert live.graph is run.graph and live.layout is layout
    assert live.doc["kind"] == "run" and live.doc["run_id"] == run.run_id
    run.records[0].status = "succeeded"
    assert live.update()["counts"] == {"pending": 3, "succeeded": 1}


def test_counts_follow_records_across_updates() -> None:
    steps = _chain(3)
    records = [StepRecord(s.name) for s in steps]
    live = LiveDocument(compile_graph(steps), workflow="w", records=records, run_id="r")
    assert live.doc["counts"] == {"pending": 3}
    records[0].status, records[1].status = "succeeded", "retrying"
    assert live.update(stamps=False)["counts"] == {"pending": 1, "retrying": 1, "succeeded": 1}
    records[1].status, records[2].status = "failed", "skipped"
    doc = live.update(stamps=False)
    assert doc["counts"] == {"succeeded": 1, "failed": 1, "skipped": 1}
    assert [n["state"] for n in doc["nodes"]] == ["succeeded", "failed", "skipped"]
    assert live.update()["counts"] == {"succeeded": 1, "failed": 1, "skipped": 1}


def test_column_counts_group_long_chains() -> None:
    n = MAX_COLUMNS * 2 + 50
    steps = _chain(n)
    records = [StepRecord(s.name, "succeeded" if i < n // 2 else "pending") for i, s in enumerate(steps)]
    live = LiveDocument(compile_graph(steps), workflow="chain", records=records, run_id="r")
    assert live.layout is not None
    assert live.layout.n_layers == n and live.layout.n_columns == MAX_COLUMNS
    columns = live.column_counts()
    assert len(columns) == MAX_COLUMNS
    assert sum(c.get("succeeded", 0) for c in columns) == n // 2
    assert sum(sum(c.values()) for c in columns) == n
    assert columns[0] == {"succeeded": 3} and columns[-1] == {"pending": 2}
