"""The run document: run and step details, the same from a live run and from the store."""

from __future__ import annotations

import json

from import_blocker import blocking_script

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.display.bundles import execution_bundle
from codomyrmex_jupyter.display.dag_json import MIME_TYPE
from codomyrmex_jupyter.display.run_document import first_error, store_document, stored_run_document


def _failing(manager: WorkflowManager) -> str:
    def load(n: int = 3) -> list[int]:
        return list(range(n))

    def validate(load: list[int]) -> None:
        raise ValueError(f"bad input: {len(load)} rows")

    def report(validate: None) -> str:
        return "never"

    steps = [
        WorkflowStep("load", "notebook.doc", "load", max_retries=0),
        WorkflowStep("validate", "notebook.doc", "validate", dependencies=["load"], max_retries=0),
        WorkflowStep("report", "notebook.doc", "report", dependencies=["validate"], max_retries=0),
    ]
    assert manager.create_workflow("doc", steps, callables={"load": load, "validate": validate, "report": report})
    return manager.run_workflow("doc", {"n": 4}).execution_id


def test_a_failed_run_document_carries_the_run(manager: WorkflowManager) -> None:
    run_id = _failing(manager)
    doc = execution_bundle(manager.get_execution(run_id))[MIME_TYPE]
    assert (doc["version"], doc["version_minor"], doc["status"]) == (1, 2, "failed")
    assert doc["parameters"] == {"n": 4}
    assert doc["started"] and doc["ended"] and doc["duration"] > 0
    assert doc["errors"] == ["Step validate failed: ValueError: bad input: 4 rows"]
    nodes = {n["id"]: n for n in doc["nodes"]}
    assert nodes["load"]["result"] == {"type": "list", "length": 4, "text": "[0, 1, 2, 3]"}
    assert nodes["load"]["offset"] >= 0
    failed = nodes["validate"]
    assert failed["error"] == "ValueError: bad input: 4 rows"
    assert failed["traceback"].endswith("ValueError: bad input: 4 rows\n")
    assert "codomyrmex_jupyter" not in failed["traceback"]
    assert failed["location"]["code"] == 'raise ValueError(f"bad input: {len(load)} rows")'
    assert failed["location"]["label"].endswith(f", line {failed['location']['line']}")
    assert nodes["report"]["reason"] == "dependency 'validate' failed"
    assert first_error(doc) == "validate: ValueError: bad input: 4 rows"
    json.dumps(doc)


def test_the_stored_run_gives_the_same_document(manager: WorkflowManager) -> None:
    run_id = _failing(manager)
    live = execution_bundle(manager.get_execution(run_id))[MIME_TYPE]
    stored = store_document(manager.store, run_id[:8])
    assert stored is not None
    for key in ("workflow", "run_id", "status", "edges", "counts", "parameters", "started", "ended", "errors"):
        assert stored[key] == live[key], key
    for a, b in zip(stored["nodes"], live["nodes"], strict=True):
        assert {k: v for k, v in a.items() if v != b[k]} == {}, a["id"]


def test_cached_steps_carry_the_cache_answer_live_and_stored(manager: WorkflowManager) -> None:
    def one() -> int:
        return 1

    def two(one: int) -> int:
        return one + 1

    steps = [WorkflowStep("one", "notebook.c", "one", cache=True),
             WorkflowStep("two", "notebook.c", "two", dependencies=["one"])]
    assert manager.create_workflow("c", steps, callables={"one": one, "two": two})
    first = manager.run_workflow("c").execution_id
    run_id = manager.run_workflow("c").execution_id
    live = execution_bundle(manager.get_execution(run_id))[MIME_TYPE]
    stored = store_document(manager.store, run_id)
    assert stored is not None
    for doc in (live, stored):
        nodes = {n["id"]: n for n in doc["nodes"]}
        assert (nodes["one"]["state"], nodes["one"]["cache"]) == ("cached", "hit")
        assert nodes["one"]["result"]["text"] == "1"  # a cached step shows what it gave
        assert (nodes["two"]["state"], nodes["two"]["cache"]) == ("succeeded", None)
        assert doc["counts"] == {"succeeded": 1, "cached": 1}
    missed = store_document(manager.store, first)
    assert missed is not None and missed["nodes"][0]["cache"] == "miss: no entry"


def test_a_stored_run_without_its_definition_draws_unconnected_steps(manager: WorkflowManager) -> None:
    run_id = _failing(manager)
    run = manager.store.get_run(run_id)
    doc = stored_run_document(run)
    assert doc["edges"] == [] and [n["id"] for n in doc["nodes"]] == ["load", "validate", "report"]
    assert doc["nodes"][1]["state"] == "failed"


def test_a_stored_row_summary_wins_over_the_stored_result(manager: WorkflowManager) -> None:
    run_id = _failing(manager)
    run = manager.store.get_run(run_id)
    run["steps"][0]["summary"] = {"type": "pandas.DataFrame", "text": "DataFrame 4 rows × 1 columns"}
    doc = stored_run_document(run)
    assert doc["nodes"][0]["result"]["type"] == "pandas.DataFrame"


def test_store_document_of_an_unknown_run(manager: WorkflowManager) -> None:
    assert store_document(manager.store, "nope") is None


STORED_ONLY = blocking_script(
    ("IPython", "ipywidgets", "traitlets", "ipykernel", "comm", "matplotlib"),
    """
    from codomyrmex_jupyter.engine.store import Store
    from codomyrmex_jupyter.display.run_document import store_document
    from codomyrmex_jupyter.display.bundles import document_bundle

    doc = store_document(Store(sys.argv[1]), sys.argv[2])
    bundle = document_bundle(doc)
    print(doc["status"], len(doc["nodes"]), "codomyrmex-timeline" in bundle["text/html"])
    """,
)


def test_a_server_or_a_command_line_builds_the_document_without_jupyter(manager: WorkflowManager) -> None:
    import subprocess
    import sys

    run_id = _failing(manager)
    out = subprocess.run(
        [sys.executable, "-c", STORED_ONLY, manager.store.path, run_id],
        capture_output=True, text=True, check=False, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["failed", "3", "True"]
