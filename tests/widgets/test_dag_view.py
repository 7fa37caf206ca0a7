"""DagView without a kernel: SVG colours per node, inspector, twin bundle, summary mode."""

from __future__ import annotations

import re

from matplotlib.figure import Figure
from widget_workflows import define_four_steps

from codomyrmex_jupyter import runtime
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.dag_json import MIME_TYPE
from codomyrmex_jupyter.engine.state import STATE_COLORS
from codomyrmex_jupyter.widgets.dag_view import DagView, preview

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _define(manager: WorkflowManager) -> None:
    define_four_steps(manager, "dv", max_retries=0)


def _fills(svg: str) -> dict[str, str]:
    """Node id -> fill colour of its box."""
    return dict(re.findall(r'data-id="([^"]+)"[^>]*><title>[^<]*</title><rect[^>]*fill="([^"]+)"', svg))


def test_workflow_view_is_all_pending(manager: WorkflowManager) -> None:
    _define(manager)
    view = DagView.for_workflow(manager, "dv")
    assert _fills(view.canvas.value) == dict.fromkeys(["load", "clean", "bad", "after"], STATE_COLORS["pending"])
    assert view.selector.options == ("load", "clean", "bad", "after")
    assert "<b>dv</b>" in view.header.value


def test_listener_colours_nodes_by_final_state(manager: WorkflowManager) -> None:
    _define(manager)
    view = DagView.for_workflow(manager, "dv")
    manager.run_workflow("dv", listeners=[view.listener])
    assert _fills(view.canvas.value) == {
        "load": STATE_COLORS["succeeded"], "clean": STATE_COLORS["succeeded"],
        "bad": STATE_COLORS["failed"], "after": STATE_COLORS["skipped"],
    }
    assert view.canvas.value.count('class="error-marker"') == 1
    assert "failed" in view.header.value
    assert view.listener.draws >= 1  # at least the final drawing
    view.selector.value = "bad"
    assert "ValueError: bad input" in view.details.value
    view.selector.value = "load"
    assert "[1, 2, 3]" in view.details.value


def test_bundle_has_widget_view_and_static_twin(manager: WorkflowManager) -> None:
    _define(manager)
    view = DagView.for_workflow(manager, "dv")
    manager.run_workflow("dv", listeners=[view.listener])
    bundle = view._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == view.model_id
    assert bundle[MIME_TYPE]["status"] == "failed"
    assert bundle[MIME_TYPE]["counts"] == {"succeeded": 2, "failed": 1, "skipped": 1}
    assert "<svg" in bundle["text/html"] and STATE_COLORS["succeeded"] in bundle["text/html"]
    assert bundle["text/plain"].startswith("dv [")


def test_attach_to_a_run_before_it_starts(manager: WorkflowManager) -> None:
    _define(manager)
    run, _ex = manager.prepare_run("dv")
    view = DagView(run.graph, workflow="dv")
    listener = view.attach(run)
    assert listener in run.listeners and listener.poll
    runtime.run_sync(run.execute())
    assert _fills(view.canvas.value)["bad"] == STATE_COLORS["failed"]
    assert view.document()["status"] == "failed"


def test_for_execution_and_watch_of_a_finished_run(manager: WorkflowManager) -> None:
    _define(manager)
    ex = manager.run_workflow("dv")
    view = DagView.for_execution(ex)
    assert _fills(view.canvas.value)["clean"] == STATE_COLORS["succeeded"]
    assert ex._run is not None
    view.listener.watch(ex._run)  # already done: bound and drawn at once
    assert view.listener.run is ex._run
    assert isinstance(view.plot(), Figure)


def test_big_runs_switch_to_a_layer_summary(manager: WorkflowManager) -> None:
    _define(manager)
    view = DagView.for_workflow(manager, "dv", summary_above=2)
    svg = view.canvas.value
    assert 'class="node"' not in svg and "3 layers" in svg
    # the static twin still draws every node
    assert view._repr_mimebundle_()["text/html"].count('class="node"') == 4


def test_preview_is_short_and_safe() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert preview(list(range(1000))) == "[0, 1, 2, 3, 4, 5, ...]"
    assert len(preview("x" * 500)) <= 80
    assert preview({"k": "y" * 500}, limit=20) == "{'k': 'yyyyyyyyyyyy…"
    assert preview(Broken()).startswith("<Broken")


def test_summary_of_a_long_chain_is_grouped_and_builds_no_node_drawing(monkeypatch) -> None:
    from codomyrmex_jupyter.display.dag_json import MAX_COLUMNS
    from codomyrmex_jupyter.engine.graph import compile_graph
    from codomyrmex_jupyter.engine.state import StepRecord
    from codomyrmex_jupyter.widgets import dag_view

    built: list[int] = []
    real = dag_view.SvgRenderer

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, doc) -> None:
            built.append(1)
            super().__init__(doc)

    monkeypatch.setattr(dag_view, "SvgRenderer", Counting)
    n = 3 * MAX_COLUMNS
    steps = [WorkflowStep(f"s{i}", "m", "a", dependencies=[f"s{i - 1}"] if i else []) for i in range(n)]
    records = [StepRecord(s.name, "succeeded") for s in steps]
    view = DagView(compile_graph(steps), workflow="chain", records=records, summary_above=100)
    view.refresh()
    svg = view.canvas.value
    assert built == []  # the live view only ever drew the summary
    assert svg.count('data-state="succeeded"') == MAX_COLUMNS
    assert f"{n} layers in {MAX_COLUMNS} bars" in svg
    view._repr_mimebundle_()
    view._repr_mimebundle_()
    assert built == [1]  # the static twin draws every node, edges built once
