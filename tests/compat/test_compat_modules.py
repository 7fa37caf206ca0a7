"""The original package's module layout, top-level additions and the one-line alias.

Written from ../shared/compat/original-api.md ("Module layout").
"""

from __future__ import annotations

import asyncio
import importlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import codomyrmex_jupyter as cj
from codomyrmex_jupyter.api.task_helpers import TaskQueue, TaskResourceManager
from codomyrmex_jupyter.compat import alias_original_package, remove_alias

SUBMODULES = {
    "workflow_manager": {
        "WorkflowManager", "WorkflowStep", "WorkflowExecution", "WorkflowStatus",
        "get_workflow_manager",
    },
    "task_orchestrator": {
        "TaskOrchestrator", "Task", "TaskStatus", "TaskPriority", "TaskResult", "TaskResource",
        "ResourceType", "ResourceManager", "TaskQueue", "get_task_orchestrator",
    },
    "resource_manager": {
        "ResourceManager", "Resource", "ResourceType", "ResourceStatus", "ResourceAllocation",
        "ResourceUsage", "get_resource_manager",
    },
    "project_manager": {
        "ProjectManager", "Project", "ProjectTemplate", "ProjectStatus", "ProjectType",
        "DocumentationGenerator", "get_project_manager",
    },
    "orchestration_engine": {
        "OrchestrationEngine", "OrchestrationSession", "OrchestrationContext",
        "OrchestrationMode", "SessionStatus", "get_orchestration_engine",
    },
    "documentation_generator": {"DocumentationGenerator"},
}


@pytest.mark.parametrize(("name", "names"), sorted(SUBMODULES.items()))
def test_submodules_export_what_the_original_did(name: str, names: set[str]) -> None:
    module = importlib.import_module(f"codomyrmex_jupyter.{name}")
    assert names <= set(module.__all__)
    for attr in names:
        value = getattr(module, attr)
        if attr != "ResourceManager" or name != "task_orchestrator":
            # one class per name: the submodule re-exports the package's own
            assert getattr(cj, attr, value) is value, (name, attr)


def test_task_orchestrator_resource_manager_is_the_task_level_one() -> None:
    from codomyrmex_jupyter import resource_manager, task_orchestrator

    assert task_orchestrator.ResourceManager is TaskResourceManager
    assert resource_manager.ResourceManager is cj.ResourceManager
    assert task_orchestrator.ResourceManager is not resource_manager.ResourceManager


def test_top_level_additions() -> None:
    assert cj.DocumentationGenerator.__module__ == "codomyrmex_jupyter.api.documentation"
    assert cj.TaskQueue is TaskQueue
    assert cj.OrchestrationContext is cj.OrchestrationSession
    for name in ("DocumentationGenerator", "TaskQueue", "OrchestrationContext", "create_task",
                 "create_project", "create_workflow_steps", "execute_workflow", "execute_task",
                 "alias_original_package"):
        assert name in cj.__all__


def test_create_task_puts_keywords_in_parameters() -> None:
    task = cj.create_task("t", "m", "a", path=".", depth=2)
    assert (task.name, task.module, task.action) == ("t", "m", "a")
    assert task.parameters == {"path": ".", "depth": 2}
    assert cj.get_task_orchestrator().get_task(task.id) is None  # not added anywhere


def test_create_project_is_an_unregistered_record() -> None:
    project = cj.create_project("p", "desc", template="ai_analysis")
    assert (project.name, project.description, project.template) == ("p", "desc", "ai_analysis")
    assert project.template_name == "ai_analysis"
    assert cj.get_project_manager().get_project("p") is None


def test_create_workflow_steps_execute_workflow_and_execute_task() -> None:
    steps = [cj.WorkflowStep("env", "environment_setup", "check_environment")]
    assert cj.create_workflow_steps("w", steps) is True
    assert cj.create_workflow_steps("", steps) is False
    execution = asyncio.run(cj.execute_workflow("w", parameters={}))
    assert execution.status is cj.WorkflowStatus.COMPLETED
    assert "python" in execution.results["env"]
    result = cj.execute_task(cj.Task(module="environment_setup", action="check_environment"))
    assert result.success is True
    assert "python" in result.data


@pytest.fixture
def aliased() -> Iterator[None]:
    alias_original_package()
    yield
    remove_alias()


def test_alias_maps_the_original_names_onto_these_modules(aliased: None) -> None:
    po = importlib.import_module("codomyrmex.project_orchestration")
    assert po is cj
    for name in SUBMODULES:
        old = importlib.import_module(f"codomyrmex.project_orchestration.{name}")
        assert old is importlib.import_module(f"codomyrmex_jupyter.{name}")
    from codomyrmex.project_orchestration.task_orchestrator import TaskQueue as Old

    assert Old is TaskQueue
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("codomyrmex.project_orchestration.not_a_module")
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("codomyrmex.exceptions")  # only project_orchestration is ours


def test_alias_is_idempotent_and_removable() -> None:
    alias_original_package()
    alias_original_package()
    finders = [f for f in sys.meta_path if type(f).__name__ == "_AliasFinder"]
    assert len(finders) == 1
    assert remove_alias() is True
    assert remove_alias() is False
    assert "codomyrmex.project_orchestration" not in sys.modules
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("codomyrmex.project_orchestration")
    with pytest.raises(ValueError, match="cannot alias"):
        alias_original_package("codomyrmex_jupyter.api")


def test_legacy_script_runs_unchanged_in_a_fresh_interpreter(tmp_path: Path) -> None:
    """End to end: a script written for the original, after the one-line migration."""
    script = tmp_path / "legacy.py"
    script.write_text(textwrap.dedent("""
        import codomyrmex_jupyter; codomyrmex_jupyter.alias_original_package()

        import asyncio, time
        from codomyrmex.project_orchestration import (
            get_workflow_manager, get_resource_manager, WorkflowStep, Resource, ResourceType,
        )
        from codomyrmex.project_orchestration.resource_manager import ResourceStatus
        from codomyrmex.project_orchestration.task_orchestrator import Task, TaskQueue

        manager = get_workflow_manager()
        manager.create_workflow("legacy", [
            WorkflowStep(name="setup", module="environment_setup", action="check_environment"),
        ])
        assert "legacy" in manager.workflows
        execution = asyncio.run(manager.execute_workflow("legacy"))
        assert execution.status.value == "completed", execution.errors

        rm = get_resource_manager()
        rm.add_resource(Resource(id="cpu", name="CPU", resource_type=ResourceType.CPU, capacity=4))
        alloc = rm.allocate_resource("cpu", "t1", 1.0)
        assert alloc.status == ResourceStatus.IN_USE
        assert rm.allocations["t1"]["cpu"] == alloc

        queue = TaskQueue()
        queue.add_task(Task(module="m", action="a"))
        assert queue.get_next_ready_task(set()).name == "m.a"

        import json, pathlib, sys
        from codomyrmex.project_orchestration import WorkflowManager
        from codomyrmex.project_orchestration.project_manager import Project, ProjectManager
        folder = pathlib.Path(sys.argv[1])
        (folder / "old").mkdir()
        (folder / "old" / "nightly.json").write_text(json.dumps({"name": "nightly", "steps": [
            {"name": "env", "module": "environment_setup", "action": "check_environment",
             "parameters": {}, "dependencies": [], "timeout": None, "retry_count": 0,
             "max_retries": 3}]}))
        old = WorkflowManager(config_dir=folder / "old")
        assert list(old.workflows) == ["nightly"]
        assert asyncio.run(old.execute_workflow("nightly")).status.value == "completed"

        pm = ProjectManager(projects_dir=str(folder / "projects"),
                            templates_dir=str(folder / "templates"))
        made = pm.create_project("study", "A study", "research", path=str(folder / "study"))
        assert (folder / "study" / "AGENTS.md").read_text().startswith("# study")
        assert (folder / "study" / "notebooks" / "README.md").is_file()
        assert Project.load(folder / "study").template == "research"
        print("legacy ok")
    """))
    env_home = tmp_path / "home"
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=120,
        env={"CODOMYRMEX_HOME": str(env_home), "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "legacy ok"
