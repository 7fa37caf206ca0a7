"""MIME bundles of workflows and runs: three keys, final states, the SVG inside."""

from __future__ import annotations

import re

from matplotlib.figure import Figure

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.bundles import (
    DagDisplay,
    dag_display,
    execution_bundle,
    workflow_bundle,
)
from codomyrmex_jupyter.display.dag_json import MIME_TYPE
from codomyrmex_jupyter.engine.state import STATE_COLORS

KEYS = {"text/plain", "text/html", MIME_TYPE}


def _define(manager: WorkflowManager) -> None:
    def load() -> list[int]:
        return [1, 2, 3]

    def bad(load: list[int]) -> None:
        raise KeyError("missing")

    def after(bad: None) -> None:
        return None

    steps = [
        WorkflowStep("load", "notebook.b", "load", max_retries=0),
        WorkflowStep("bad", "notebook.b", "bad", dependencies=["load"], max_retries=0),
        WorkflowStep("after", "notebook.b", "after", dependencies=["bad"], max_retries=0),
    ]
    assert manager.create_workflow("b", steps, callables={"load": load, "bad": bad, "after": after})


def test_execution_bundle_shows_the_final_run(manager: WorkflowManager) -> None:
    _define(manager)
    ex = manager.run_workflow("b")
    bundle = execution_bundle(ex)
    assert set(bundle) == KEYS
    doc = bundle[MIME_TYPE]
    assert doc["status"] == "failed" and doc["run_id"] == ex.execution_id
    assert [n["state"] for n in doc["nodes"]] == ["succeeded", "failed", "skipped"]
    html = bundle["text/html"]
    assert "<svg" in html and STATE_COLORS["succeeded"] in html and STATE_COLORS["failed"] in html
    for part in ("class='codomyrmex-steps'", "codomyrmex-timeline", "class='codomyrmex-failure' data-id='bad'"):
        assert part in html, part
    lines = bundle["text/plain"].splitlines()
    assert lines[0] == ex.summary()
    assert lines[1] == "  bad: KeyError: 'missing'"


def test_execution_repr_uses_the_bundle(manager: WorkflowManager) -> None:
    _define(manager)
    ex = manager.run_workflow("b")
    assert set(ex._repr_mimebundle_()) == KEYS


def test_workflow_bundle_is_all_pending(manager: WorkflowManager) -> None:
    _define(manager)
    bundle = workflow_bundle("b", manager.get_graph("b"), manager.get_workflow("b"))
    doc = bundle[MIME_TYPE]
    assert doc["kind"] == "workflow" and doc["counts"] == {"pending": 3}
    assert bundle["text/plain"] == "b: 3 steps"
    assert "<table" not in bundle["text/html"] and "<svg" in bundle["text/html"]


def test_dag_display(manager: WorkflowManager) -> None:
    _define(manager)
    display = dag_display(manager, "b")
    assert isinstance(display, DagDisplay)
    assert set(display._repr_mimebundle_()) == KEYS
    assert display.svg(width=200).count('width="200"') == 1
    assert isinstance(display.plot(), Figure)
    assert repr(display) == "b: 3 steps"


def test_dag_display_for_execution(manager: WorkflowManager) -> None:
    _define(manager)
    ex = manager.run_workflow("b")
    doc = DagDisplay.for_execution(ex).doc
    assert doc["counts"] == {"succeeded": 1, "failed": 1, "skipped": 1}


def test_cached_steps_show_their_state_and_cache_column(manager: WorkflowManager) -> None:
    def one() -> int:
        return 1

    def two(one: int) -> int:
        return one + 1

    steps = [WorkflowStep("one", "notebook.c", "one", cache=True), WorkflowStep("two", "notebook.c", "two", dependencies=["one"])]
    assert manager.create_workflow("c", steps, callables={"one": one, "two": two})
    computed = manager.run_workflow("c")
    ex = manager.run_workflow("c")
    bundle = execution_bundle(ex)
    doc = bundle[MIME_TYPE]
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert (nodes["one"]["state"], nodes["one"]["cache"]) == ("cached", "hit")
    assert (nodes["two"]["state"], nodes["two"]["cache"]) == ("succeeded", None)
    assert doc["counts"] == {"succeeded": 1, "cached": 1}
    html = bundle["text/html"]
    # the twin's step table gets a cache column: hit for the cached step, empty for the other
    heads = re.findall(r"<th [^>]*>([a-z]+)</th>", html.split("codomyrmex-steps", 1)[1])
    assert heads[:8] == ["step", "state", "attempts", "duration", "started", "result", "cache", "error"]
    row = re.search(r"<tr data-id='one'>(.*?)</tr>", html).group(1)
    assert re.findall(r"<td [^>]*>([^<]*)</td>", row)[-2:] == ["hit", ""]
    # the graph: the cached colour, "cached" under the name, the cache's answer in the tooltip
    box = re.search(r'<g class="node" data-id="one" data-state="cached">(.*?)</g>', html).group(1)
    assert "cache: hit" in box and f'fill="{STATE_COLORS["cached"]}"' in box and ">cached</text>" in box
    # the timeline: a diamond (no bar) and "cached" for its time; the step that ran keeps its bar
    mark = re.search(r"<div class='codomyrmex-bar' data-id='one' data-state='cached'.*?</div>", html).group(0)
    assert "rotate(45deg)" in mark and "min-width:3px" not in mark and ">cached</span></div>" in mark
    ran = re.search(r"<div class='codomyrmex-bar' data-id='two' data-state='succeeded'.*?</div>", html).group(0)
    assert "min-width:3px" in ran and "rotate" not in ran
    assert "1 cached" in bundle["text/plain"]
    first = execution_bundle(computed)["text/html"]
    assert re.search(r"<tr data-id='one'>.*?>miss: no entry</td>", first)  # why it ran
    plain = execution_bundle(manager.run_workflow("c", cache=False))["text/html"]
    assert ">cache</th>" not in plain  # a run that did not ask the cache has no cache column
