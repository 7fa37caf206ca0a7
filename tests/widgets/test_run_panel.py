"""RunPanel and RunView without a kernel: progress, table, tracebacks, timeline, cancel."""

from __future__ import annotations

import threading

from waiting import wait_until
from widget_workflows import define_four_steps

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.display.dag_json import MIME_TYPE
from codomyrmex_jupyter.engine.state import STATE_COLORS
from codomyrmex_jupyter.widgets.run_panel import RunPanel, RunView

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _define(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rp", max_retries=1)


def test_panel_shows_progress_table_and_tracebacks(manager: WorkflowManager) -> None:
    _define(manager)
    run, _ex = manager.prepare_run("rp")
    panel = RunPanel.for_run(run)
    assert panel.progress.value == 0 and panel.progress.max == 4
    manager.run_workflow("rp", listeners=[panel.listener])
    assert panel.progress.value == 4 and panel.progress.max == 4
    assert panel.progress.bar_style == "danger"
    assert panel.counts.value == "4/4 done (2 succeeded, 1 failed, 1 skipped)"
    table = panel.table.value
    assert "<td>bad</td>" in table and "<td>2</td>" in table  # two attempts
    assert "[1, 2, 3]" in table and "[2, 4, 6]" in table
    assert "dependency &#x27;bad&#x27; failed" in table
    assert len(panel.errors.children) == 1
    assert panel.errors.titles == ("bad: ValueError: bad input",)
    assert "Traceback" in panel.errors.children[0].value
    wait_until(lambda: len(panel.timeline.outputs) == 1)
    assert panel.timeline.outputs[0]["data"]["image/png"]


def test_panel_of_a_recorded_execution(manager: WorkflowManager, tmp_path) -> None:
    _define(manager)
    ex = manager.run_workflow("rp")
    other = WorkflowManager(config_dir=tmp_path / "wm")
    try:
        stored = other.get_execution(ex.execution_id)
        panel = RunPanel.for_execution(stored)
        assert panel.progress.value == 4
        assert len(panel.errors.children) == 1
        assert len(panel.timeline.outputs) == 1  # drawn at once without a loop
        assert panel._repr_mimebundle_()[MIME_TYPE]["status"] == "failed"
    finally:
        other.close()


def test_success_is_green(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("one", "notebook.ok", "one")]
    assert manager.create_workflow("ok", steps, callables={"one": lambda: 1})
    view = RunView.start(manager, "ok")
    assert view.panel.progress.bar_style == "success"
    assert view.cancel_button.disabled
    assert "completed" in view.status.value
    bundle = view._repr_mimebundle_()
    assert set(bundle) >= {WIDGET_MIME, MIME_TYPE, "text/html", "text/plain"}
    assert f'fill="{STATE_COLORS["succeeded"]}"' in bundle["text/html"]


def test_run_view_shares_one_document(manager: WorkflowManager) -> None:
    _define(manager)
    view = RunView.start(manager, "rp")
    assert view.dag.model is view.panel.model
    assert view.document()["counts"] == {"succeeded": 2, "failed": 1, "skipped": 1}
    assert view.panel.progress.value == 4


def test_cancel_button_cancels_a_background_run(manager: WorkflowManager) -> None:
    started, release = threading.Event(), threading.Event()

    def slow() -> int:
        started.set()
        release.wait(10)
        return 1

    steps = [WorkflowStep("slow", "notebook.c", "slow"), WorkflowStep("next", "notebook.c", "next",
                                                                      dependencies=["slow"])]
    assert manager.create_workflow("c", steps, callables={"slow": slow, "next": lambda slow: slow})
    view = RunView.start(manager, "c", background=True)
    try:
        assert started.wait(10)
        assert not view.cancel_button.disabled
        view.cancel_button.click()
        assert view.cancel_button.disabled and view.cancel_button.description == "Cancelling…"
        ex = view.handle.result(10)
    finally:
        release.set()
    assert ex.status is WorkflowStatus.CANCELLED
    wait_until(lambda: "cancelled" in view.status.value)
    assert view.document()["counts"] == {"cancelled": 2}


def test_for_execution_follows_a_live_run(manager: WorkflowManager) -> None:
    release = threading.Event()
    steps = [WorkflowStep("w", "notebook.l", "w")]
    assert manager.create_workflow("l", steps, callables={"w": lambda: release.wait(10)})
    handle = manager.start_workflow("l")
    try:
        wait_until(lambda: handle.execution is not None and handle.execution._run is not None
                  and handle.execution._run.status == "running")
        view = RunView.for_execution(handle.execution, manager=manager)
        assert view.listener.poll
    finally:
        release.set()
    handle.result(10)
    wait_until(lambda: "completed" in view.status.value)
    assert view.panel.progress.value == 1


def _define_ok(manager: WorkflowManager, name: str = "ok3") -> None:
    steps = [WorkflowStep(f"s{i}", "notebook.ok3", f"s{i}", dependencies=[f"s{i - 1}"] if i else [])
             for i in range(3)]
    assert manager.create_workflow(name, steps, callables={f"s{i}": (lambda **_: 1) for i in range(3)})


def test_an_awaited_run_is_drawn_final_after_one_loop_iteration(manager: WorkflowManager) -> None:
    import asyncio

    _define_ok(manager)
    view = RunView.for_workflow(manager, "ok3")

    async def drive() -> tuple[str, str, int, bool]:
        await manager.execute_workflow("ok3", listeners=[view.listener])
        before = view.status.value  # the run returned before its final drawing
        await asyncio.sleep(0)
        return before, view.status.value, view.panel.progress.value, view.cancel_button.disabled

    before, after, progress, disabled = asyncio.run(drive())
    assert "completed" not in before
    assert "completed" in after and progress == 3 and disabled
    assert view.panel.counts.value == "3/3 done (3 succeeded)"
    assert view.document()["counts"] == {"succeeded": 3}


def test_a_view_keeps_its_layout_for_a_run_of_the_same_workflow(
    manager: WorkflowManager, monkeypatch
) -> None:
    from codomyrmex_jupyter.display import dag_json
    from codomyrmex_jupyter.engine.graph import compile_graph

    calls: list[int] = []
    real = dag_json.layered_positions
    monkeypatch.setattr(dag_json, "layered_positions", lambda g: calls.append(1) or real(g))
    _define_ok(manager)
    steps = manager.get_workflow("ok3")
    # built from its own compilation of the workflow, as a view made before the run is
    view = RunView(dag_json.LiveDocument(compile_graph(steps), workflow="ok3", steps=steps))
    model = view.dag.model
    ex = manager.run_workflow("ok3", listeners=[view.listener])
    assert calls == [1]
    assert view.dag.model is model and view.panel.model is model
    assert model.graph is manager.get_graph("ok3") and model.doc["run_id"] == ex.execution_id
    assert "completed" in view.status.value


def test_a_refresh_updates_the_shared_document_once(manager: WorkflowManager) -> None:
    _define_ok(manager)
    view = RunView.for_workflow(manager, "ok3")
    model = view.dag.model
    calls: list[bool] = []
    real = model.update

    def counting(*, stamps: bool = True) -> dict:
        calls.append(stamps)
        return real(stamps=stamps)

    model.update = counting  # type: ignore[method-assign]
    view.refresh()
    assert calls == [False]


def test_a_new_run_drops_the_tracebacks_of_the_previous_one(manager: WorkflowManager) -> None:
    _define(manager)
    panel = RunPanel(RunView.for_workflow(manager, "rp").dag.model)
    manager.run_workflow("rp", listeners=[panel.listener])
    assert len(panel.errors.children) == 1
    run, _ex = manager.prepare_run("rp")
    panel.bind_run(run)
    assert panel.errors.children == () and panel.errors.titles == ()
    panel.refresh()
    assert panel.progress.value == 0 and panel.counts.value == "0/4 done (4 pending)"


def test_cached_steps_show_their_result_and_cache_answer(manager: WorkflowManager) -> None:
    _define_ok(manager, "ok_cached")
    manager.run_workflow("ok_cached", cache=True)
    view = RunView.for_workflow(manager, "ok_cached")
    manager.run_workflow("ok_cached", cache=True, listeners=[view.listener])
    view.refresh()
    table = view.panel.table.value
    assert table.count(">cached</td>") == 3 and "title='cache: hit'" in table
    assert view.panel.counts.value.endswith("(3 cached)")
    name = manager.get_graph("ok_cached").names[0]
    details = view.dag._details_html(name)
    assert "<th style='text-align:left'>cache</th><td>hit</td>" in details
