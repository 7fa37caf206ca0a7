"""Listing tables: aligned text, escaped HTML, coloured statuses."""

from __future__ import annotations

from datetime import datetime

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, WorkflowStep
from codomyrmex_jupyter.display.tables import HistoryTable, RecordTable, WorkflowTable, cell_text
from codomyrmex_jupyter.engine.state import STATE_COLORS


def test_record_table_text_and_html() -> None:
    table = RecordTable([{"name": "<a>", "status": "failed"}, {"name": "b", "status": "completed"}],
                        title="T")
    assert table.to_text().splitlines() == ["T", "name  status", "<a>   failed", "b     completed"]
    html = table.to_html()
    assert "&lt;a&gt;" in html and "<a>" not in html
    assert f"color:{STATE_COLORS['failed']}" in html
    assert f"color:{STATE_COLORS['succeeded']}" in html  # completed runs share the colour
    assert set(table._repr_mimebundle_()) == {"text/plain", "text/html"}
    assert len(table) == 2


def test_sequence_rows_and_empty_tables() -> None:
    table = RecordTable([("x", 1.23456)], columns=["k", "v"])
    assert table.cells() == [["x", "1.235"]]
    empty = RecordTable([], columns=["k"])
    assert "(none)" in empty.to_text() and "<i>none</i>" in empty.to_html()


def test_cell_text() -> None:
    assert cell_text(WorkflowStatus.FAILED) == "failed"
    assert cell_text(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    assert cell_text(["a", "b"]) == "a, b"
    assert cell_text(None) == ""


def test_history_and_workflow_tables(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("one", "notebook.h", "one")]
    assert manager.create_workflow("h", steps, callables={"one": lambda: 1})
    ex = manager.run_workflow("h")
    history = HistoryTable(manager.history())
    assert history.cells()[0][:3] == [ex.execution_id[:8], "h", "completed"]
    assert history.rows[0]["steps"] == "succeeded=1"
    workflows = WorkflowTable(manager.list_workflows())
    row = workflows.rows[0]
    assert row["name"] == "h" and row["steps"] == 1 and row["last_status"] == "completed"


def test_the_history_counts_the_steps_taken_from_the_cache(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("one", "notebook.hc", "one", cache=True),
             WorkflowStep("two", "notebook.hc", "two", dependencies=["one"])]
    assert manager.create_workflow("hc", steps, callables={"one": lambda: 1, "two": lambda one: one + 1})
    manager.run_workflow("hc")
    manager.run_workflow("hc")
    history = HistoryTable(manager.history("hc"))  # as the store gives them: no step records
    assert [r["steps"] for r in history.rows] == ["cached=1 succeeded=1", "succeeded=2"]
    assert "cached=1 succeeded=1" in history.to_text()
