"""RunView and DagView without a kernel: the document, live patches, Cancel, the output bundle."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from matplotlib.figure import Figure
from sent import Sent
from widget_workflows import define_four_steps

from codomyrmex_jupyter import runtime
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.display.dag_json import MIME_TYPE
from codomyrmex_jupyter.engine.state import STATE_COLORS
from codomyrmex_jupyter.widgets.run_view import DagView, RunView

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
FINAL = {"load": "succeeded", "clean": "succeeded", "bad": "failed", "after": "skipped"}


def _states(doc: dict[str, Any]) -> dict[str, str]:
    return {n["id"]: n["state"] for n in doc["nodes"]}


def test_the_widget_is_the_lab_extensions_run_view(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=0)
    view = RunView.for_workflow(manager, "rv", manager=manager)
    state = view.get_state()
    assert (state["_model_module"], state["_model_name"], state["_view_name"]) == (
        "codomyrmex-jupyter", "RunDocModel", "RunDocWidgetView",
    )
    assert view.doc["kind"] == "workflow" and set(_states(view.doc).values()) == {"pending"}


def test_a_run_sends_patches_then_the_final_document(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=1)
    view = RunView.for_workflow(manager, "rv", manager=manager)
    sent = Sent(view)
    manager.run_workflow("rv", listeners=[view.listener])
    patches = sent.patches()
    assert patches, "no live update was sent"
    changed = {node["id"] for p in patches for _, node in p["nodes"]}
    assert changed == set(FINAL)
    assert all(set(p["run"]) >= {"status", "counts", "run_id"} for p in patches)
    final = sent.browser_doc()
    assert _states(final) == FINAL and final["status"] == "failed"
    assert final["nodes"][2]["attempts"] == 2
    assert final["nodes"][0]["result"]["text"] == "[1, 2, 3]"
    assert final["nodes"][2]["traceback"].endswith("ValueError: bad input\n")
    assert final["live"]["cancellable"] is False  # the run is over
    assert "live" not in view.document()


def test_the_output_is_the_document_never_the_widget_view(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=0)
    view = RunView.for_workflow(manager, "rv", manager=manager)
    manager.run_workflow("rv", listeners=[view.listener])
    bundle = view._repr_mimebundle_()
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    assert WIDGET_MIME not in bundle
    assert bundle[MIME_TYPE]["live"]["model_id"] == view.model_id
    assert "live" not in view.static_bundle()[MIME_TYPE]
    html = bundle["text/html"]
    for part in ("<svg", "codomyrmex-steps", "codomyrmex-timeline", "codomyrmex-failure", "Traceback"):
        assert part in html, part
    assert f"background:{STATE_COLORS['failed']}" in html
    assert bundle["text/plain"].startswith("rv [")


def test_a_browser_that_asks_gets_the_whole_document(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=0)
    view = DagView.for_workflow(manager, "rv")
    sent = Sent(view)
    view._on_frontend_msg(view, {"event": "sync"}, [])
    (message,) = sent.custom()
    assert _states(message["doc"]) == dict.fromkeys(FINAL, "pending")
    view._on_frontend_msg(view, {"event": "nonsense"}, [])  # ignored, not raised
    view._on_frontend_msg(view, "not a mapping", [])


def test_cancel_from_the_browser_cancels_a_background_run(manager: WorkflowManager) -> None:
    started = threading.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(30)
        return 1

    steps = [WorkflowStep("slow", "notebook.c", "slow", max_retries=0),
             WorkflowStep("next", "notebook.c", "next", dependencies=["slow"], max_retries=0)]
    assert manager.create_workflow("c", steps, callables={"slow": slow, "next": lambda slow: slow})
    view = RunView.start(manager, "c", background=True)
    assert started.wait(10)
    view.refresh()
    assert view.current_document(live=True)["live"]["cancellable"] is True
    view._on_frontend_msg(view, {"event": "cancel"}, [])
    ex = view.handle.result(10)
    assert ex.status is WorkflowStatus.CANCELLED
    assert view.document()["counts"] == {"cancelled": 2}


def test_a_settled_view_leaves_the_final_document_and_closes(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=0)
    view = RunView.for_workflow(manager, "rv", manager=manager)
    view.settle = True
    updates: list[dict[str, Any]] = []

    class Handle:
        def update(self, bundle: dict[str, Any], raw: bool) -> None:
            updates.append(bundle)

    view._display_handles.append(Handle())
    manager.run_workflow("rv", listeners=[view.listener])
    assert updates and "live" not in updates[-1][MIME_TYPE]
    assert _states(updates[-1][MIME_TYPE]) == FINAL
    assert view.comm is None  # closed: the notebook keeps nothing that needs a kernel


def test_attach_before_start_and_for_execution_after_the_end(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rv", max_retries=0)
    run, _ex = manager.prepare_run("rv")
    view = DagView(run.graph, workflow="rv")
    listener = view.attach(run)
    assert listener in run.listeners and listener.poll
    runtime.run_sync(run.execute())
    assert _states(view.document()) == FINAL
    ex = manager.run_workflow("rv")
    again = DagView.for_execution(ex)
    assert _states(again.doc) == FINAL and again.doc["status"] == "failed"  # built finished: whole
    assert isinstance(again.plot(), Figure) and isinstance(again.plot("gantt"), Figure)


def test_a_view_keeps_its_drawing_for_a_run_of_the_same_workflow(manager: WorkflowManager) -> None:
    steps = [WorkflowStep(f"s{i}", "notebook.same", f"s{i}", max_retries=0) for i in range(3)]
    assert manager.create_workflow("same", steps, callables={f"s{i}": (lambda: 1) for i in range(3)})
    view = RunView.for_workflow(manager, "same", manager=manager)
    model = view.model
    sent = Sent(view)
    first = manager.run_workflow("same", listeners=[view.listener])
    second = manager.run_workflow("same", listeners=[view.listener])
    seen = sent.browser_doc()
    assert view.model is model and seen["run_id"] == second.execution_id != first.execution_id
    assert seen["counts"] == {"succeeded": 3} and _states(seen) == dict.fromkeys(["s0", "s1", "s2"], "succeeded")
    assert sent.states() == []  # the same graph: patches only, never the whole document again


def test_a_big_run_sends_only_changed_steps(manager: WorkflowManager) -> None:
    n = 300
    steps = [WorkflowStep(f"s{i}", "notebook.big", "s", dependencies=[f"s{i - 1}"] if i % 10 else [],
                          max_retries=0) for i in range(n)]
    manager.register_action("notebook.big", "s", lambda **_: 1)
    assert manager.create_workflow("big", steps)
    view = RunView.for_workflow(manager, "big", manager=manager)
    sent = Sent(view)
    manager.run_workflow("big", listeners=[view.listener])
    per_node: dict[str, int] = {}
    for p in sent.patches():
        for _, node in p["nodes"]:
            per_node[node["id"]] = per_node.get(node["id"], 0) + 1
    assert max(per_node.values(), default=0) <= 3  # pending -> running -> succeeded at most
    assert sent.browser_doc()["counts"] == {"succeeded": n}
    assert sent.states() == []


def test_a_cached_run_reaches_the_browser_with_each_steps_cache_answer(manager: WorkflowManager) -> None:
    define_four_steps(manager, "rvc", max_retries=0)
    manager.run_workflow("rvc", cache=True)
    view = RunView.for_workflow(manager, "rvc", manager=manager)
    sent = Sent(view)
    manager.run_workflow("rvc", cache=True, listeners=[view.listener])
    # the live patches carry the cached state and the cache's answer, as the final document does
    patched = {node["id"]: node for p in sent.patches() for _, node in p["nodes"]}
    assert (patched["load"]["state"], patched["load"]["cache"]) == ("cached", "hit")
    final = sent.browser_doc()
    assert _states(final) == {"load": "cached", "clean": "cached", "bad": "failed", "after": "skipped"}
    nodes = {n["id"]: n for n in final["nodes"]}
    assert nodes["clean"]["cache"] == "hit" and nodes["clean"]["result"]["text"] == "[2, 4, 6]"
    assert nodes["bad"]["cache"] == "miss: no entry"  # a failure is never cached: it runs again
    assert final["counts"] == {"cached": 2, "failed": 1, "skipped": 1}
    html = view._repr_mimebundle_()["text/html"]
    assert ">cache</th>" in html and "rotate(45deg)" in html  # the twin: cache column, timeline marks
