"""WorkflowManager: the original package's attributes, files and summary keys.

Written from ../shared/compat/original-api.md ("WorkflowManager (wm)").
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    CodomyrmexError,
    UnknownWorkflowError,
    WorkflowExecution,
    WorkflowManager,
    WorkflowStep,
)
from codomyrmex_jupyter.engine.store import Store


def _steps() -> list[WorkflowStep]:
    return [
        WorkflowStep("setup", "environment_setup", "check_environment"),
        WorkflowStep("report", "environment_setup", "check_environment", dependencies=["setup"],
                     parameters={"packages": ["pytest"]}, timeout=30, max_retries=1),
    ]


ORIGINAL_STEP_KEYS = {
    "name", "module", "action", "parameters", "dependencies", "timeout", "retry_count",
    "max_retries",
}


# -- attributes ---------------------------------------------------------------------------
def test_workflows_is_a_live_view_of_memory_and_store(tmp_path: Path) -> None:
    first = WorkflowManager(config_dir=tmp_path)
    assert first.workflows == {}
    assert first.create_workflow("saved", _steps()) is True
    assert first.create_workflow("draft", _steps()[:1], save=False) is True
    assert first.workflows["saved"] == _steps()
    assert sorted(first.workflows) == ["draft", "saved"]
    second = WorkflowManager(config_dir=tmp_path)  # stored ones included
    assert list(second.workflows) == ["saved"]
    assert second.workflows["saved"][1].dependencies == ["setup"]
    assert first.delete_workflow("saved") is True
    assert "saved" not in first.workflows
    assert "saved" not in second.workflows  # the same store: in sync
    assert len(first.workflows) == 1


def test_workflows_assignment_creates_and_del_deletes(tmp_path: Path) -> None:
    m = WorkflowManager(config_dir=tmp_path)
    m.workflows["w"] = _steps()
    assert m.get_workflow("w") == _steps()
    assert m.store.load_workflow("w") is not None  # saved, like create_workflow
    with pytest.raises(CodomyrmexError, match="unknown step"):
        m.workflows["bad"] = [WorkflowStep("a", "m", "x", dependencies=["zz"])]
    assert "bad" not in m.workflows
    del m.workflows["w"]
    assert m.get_workflow("w") is None
    with pytest.raises(KeyError):
        del m.workflows["w"]
    copy = m.workflows.copy()
    assert copy == {}


def test_executions_is_the_writable_dict_of_this_process(manager: WorkflowManager) -> None:
    manager.create_workflow("w", _steps())
    execution = manager.run_workflow("w")
    assert manager.executions[execution.execution_id] is execution
    manager.executions["by_hand"] = WorkflowExecution(workflow_name="w")
    assert manager.get_execution("by_hand").workflow_name == "w"  # type: ignore[union-attr]
    manager.executions = {}
    assert manager.executions == {}
    assert manager.get_execution("by_hand") is None


def test_performance_monitor_and_logger(tmp_path: Path) -> None:
    off = WorkflowManager(config_dir=tmp_path / "off", enable_performance_monitoring=False)
    assert off.performance_monitor is None
    on = WorkflowManager(config_dir=tmp_path / "on")
    on.create_workflow("w", _steps())
    on.run_workflow("w")
    stats = on.performance_monitor.get_stats()  # type: ignore[union-attr]
    assert set(stats) == {"w.setup", "w.report"}
    assert stats["w.setup"]["runs"] == 1
    assert isinstance(on.logger, logging.Logger)


def test_create_workflow_empty_name_or_no_steps_is_false(manager: WorkflowManager) -> None:
    assert manager.create_workflow("", _steps()) is False
    assert manager.create_workflow("w", []) is False
    assert manager.workflows == {}


def test_unknown_workflow_is_a_value_error_named_like_the_original(manager: WorkflowManager) -> None:
    with pytest.raises(ValueError, match=r"^Workflow 'nope' not found") as info:
        manager.run_workflow("nope")
    assert isinstance(info.value, UnknownWorkflowError)
    assert isinstance(info.value, KeyError)


def test_performance_summary_has_the_original_keys(manager: WorkflowManager) -> None:
    manager.create_workflow("w", _steps())
    manager.run_workflow("w")
    manager.run_workflow("w")
    summary = manager.get_performance_summary()
    assert {
        "performance_stats", "total_workflows_executed", "successful_executions",
        "failed_executions", "average_execution_time", "module_usage_stats",
    } <= set(summary)
    assert (summary["total_workflows_executed"], summary["successful_executions"]) == (2, 2)
    assert summary["failed_executions"] == 0
    assert summary["average_execution_time"] == summary["average_duration"] > 0
    usage = summary["module_usage_stats"]
    assert set(usage) == {"environment_setup"}
    assert usage["environment_setup"]["count"] == 4  # two steps, two runs
    assert usage["environment_setup"]["total_time"] > 0
    assert summary["performance_stats"]["w.report"]["runs"] == 2


# -- <name>.json files ----------------------------------------------------------------------
def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _original_doc(name: str) -> dict[str, object]:
    return {"name": name, "steps": [
        {"name": "a", "module": "environment_setup", "action": "check_environment",
         "parameters": {}, "dependencies": [], "timeout": None, "retry_count": 0,
         "max_retries": 3},
        {"name": "b", "module": "environment_setup", "action": "check_environment",
         "parameters": {"packages": ["pytest"]}, "dependencies": ["a"], "timeout": 10,
         "retry_count": 0, "max_retries": 1},
    ]}


def test_a_folder_of_original_definitions_loads_at_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path, "etl.json", _original_doc("etl"))
    _write(tmp_path, "broken.json", "not json {")
    _write(tmp_path, "nameless.json", {"steps": []})
    _write(tmp_path, "stepless.json", {"name": "stepless"})
    _write(tmp_path, "cyclic.json", {"name": "cyclic", "steps": [
        {"name": "a", "module": "m", "action": "x", "dependencies": ["b"]},
        {"name": "b", "module": "m", "action": "x", "dependencies": ["a"]}]})
    with caplog.at_level(logging.WARNING):
        m = WorkflowManager(config_dir=tmp_path)
    assert list(m.workflows) == ["etl"]
    assert [s.name for s in m.workflows["etl"]] == ["a", "b"]
    assert m.workflows["etl"][1].timeout == 10
    for bad in ("broken.json", "nameless.json", "stepless.json", "cyclic.json"):
        assert bad in caplog.text
    assert m.run_workflow("etl").status.value == "completed"


def test_a_project_record_in_the_folder_is_not_a_workflow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _write(tmp_path, "project.json", {"name": "p", "type": "custom"})
    with caplog.at_level(logging.WARNING):
        m = WorkflowManager(config_dir=tmp_path)
    assert m.workflows == {} and caplog.text == ""


def test_a_stored_definition_wins_over_a_file(tmp_path: Path) -> None:
    WorkflowManager(config_dir=tmp_path).create_workflow("etl", _steps())
    _write(tmp_path, "etl.json", _original_doc("etl"))
    m = WorkflowManager(config_dir=tmp_path)
    assert [s.name for s in m.workflows["etl"]] == ["setup", "report"]


def test_files_are_only_read_from_the_managers_own_config_dir(tmp_path: Path) -> None:
    _write(tmp_path, "etl.json", _original_doc("etl"))
    m = WorkflowManager(config_dir=tmp_path, store=Store(":memory:"))
    assert m.workflows == {}


def test_export_writes_the_original_format_and_import_reads_it(tmp_path: Path) -> None:
    source = WorkflowManager(config_dir=tmp_path / "a")
    source.create_workflow("w", _steps())
    path = source.export_workflow("w", tmp_path / "out")
    assert path == tmp_path / "out" / "w.json"
    doc = json.loads(path.read_text())
    assert doc["name"] == "w"
    assert [set(s) for s in doc["steps"]] == [ORIGINAL_STEP_KEYS, ORIGINAL_STEP_KEYS]
    assert doc["steps"][1]["dependencies"] == ["setup"]
    with pytest.raises(FileExistsError, match="overwrite=True"):
        source.export_workflow("w", tmp_path / "out")
    assert source.export_workflow("w", tmp_path / "out", overwrite=True) == path
    with pytest.raises(UnknownWorkflowError):
        source.export_workflow("nope", tmp_path / "out")

    target = WorkflowManager(config_dir=tmp_path / "b")
    assert target.import_workflows(tmp_path / "out") == ["w"]
    assert target.get_workflow("w") == _steps()
    assert target.store.load_workflow("w")["origin"] == "file"  # type: ignore[index]
    assert target.import_workflows(tmp_path / "out", save=False) == ["w"]
    with pytest.raises(FileNotFoundError):
        target.import_workflows(tmp_path / "missing")


def test_export_workflows_writes_every_workflow_into_config_dir(tmp_path: Path) -> None:
    m = WorkflowManager(config_dir=tmp_path)
    m.create_workflow("one", _steps())
    m.create_workflow("two", _steps()[:1])
    paths = m.export_workflows()
    assert [p.name for p in paths] == ["one.json", "two.json"]
    again = WorkflowManager(config_dir=tmp_path)  # the files are read back too
    assert list(again.workflows) == ["one", "two"]


def test_export_never_leaves_the_folder_and_refuses_non_json(tmp_path: Path) -> None:
    from codomyrmex_jupyter.api.workflow_files import write_workflow_file
    from codomyrmex_jupyter.errors import ContainmentError, NotStorableError

    with pytest.raises(ContainmentError):
        write_workflow_file(tmp_path, "../escape", _steps())
    odd = [WorkflowStep("a", "m", "x", parameters={"when": object()})]
    with pytest.raises(NotStorableError, match="cannot be written as JSON"):
        write_workflow_file(tmp_path, "odd", odd)
    assert list(tmp_path.iterdir()) == []
