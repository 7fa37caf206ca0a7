"""The API document's examples, run as written (only the import lines differ).

Each example body below is the document's text; the import names
``codomyrmex_jupyter`` instead of ``codomyrmex.project_orchestration``. The
examples run in a temporary working directory holding one small Python file,
so ``static_analysis`` has something real (and quick) to analyse.
"""

from __future__ import annotations

import asyncio
import time  # the Resource Management Example calls time.sleep without importing it
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    Resource,
    ResourceType,
    Task,
    TaskPriority,
    TaskResource,
    TaskStatus,
    WorkflowStatus,
    WorkflowStep,
    get_orchestration_engine,
    get_resource_manager,
    get_task_orchestrator,
    get_workflow_manager,
)


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "mod.py").write_text(
        "def f(x):\n    if x:\n        return 1\n    return 2\n\n\nclass C:\n    pass\n"
    )
    monkeypatch.chdir(work)
    return work


# -- Complete Workflow Example (verbatim) ---------------------------------------------
async def complete_workflow_example():
    # Get orchestration engine
    engine = get_orchestration_engine()

    # Create session
    session = engine.create_session(
        name="Complete Workflow Example",
        description="Demonstrates complete orchestration workflow"
    )

    # Add resources
    cpu_resource = Resource(
        id="cpu_1",
        name="CPU Core 1",
        resource_type=ResourceType.CPU,
        capacity=100.0
    )
    engine.resource_manager.add_resource(cpu_resource)

    # Allocate resources for session
    engine.allocate_resources_for_session(session.session_id, "cpu_1", 50.0)

    # Create workflow
    steps = [
        WorkflowStep(
            name="setup",
            module="environment_setup",
            action="check_environment"
        ),
        WorkflowStep(
            name="analyze",
            module="static_analysis",
            action="analyze_code",
            dependencies=["setup"]
        ),
        WorkflowStep(
            name="visualize",
            module="data_visualization",
            action="create_chart",
            dependencies=["analyze"]
        )
    ]

    engine.workflow_manager.create_workflow("complete_workflow", steps)

    # Execute workflow
    result = engine.execute_workflow_in_session(session.session_id, "complete_workflow")
    print(f"Workflow execution result: {result}")

    # Add tasks to session
    task1 = Task(
        name="session_task1",
        module="module1",
        action="action1",
        priority=TaskPriority.HIGH
    )

    task2 = Task(
        name="session_task2",
        module="module2",
        action="action2",
        dependencies=["session_task1"],
        priority=TaskPriority.NORMAL
    )

    engine.add_task_to_session(session.session_id, task1)
    engine.add_task_to_session(session.session_id, task2)

    # Create project in session
    project = engine.create_project_in_session(  # noqa: F841 - as in the document
        session.session_id,
        "example_project",
        "Example project for orchestration"
    )

    # Get system status
    status = engine.get_system_status()
    print(f"System status: {status}")

    # Get health status
    health = engine.get_health_status()
    print(f"Health status: {health}")

    # Cleanup session
    engine.cleanup_session(session.session_id)

    # Shutdown engine
    engine.shutdown()


# -- Resource Management Example (verbatim) ---------------------------------------------
def resource_management_example():
    # Get managers
    resource_manager = get_resource_manager()
    task_orchestrator = get_task_orchestrator()

    # Add resources
    cpu_resource = Resource(
        id="cpu_1",
        name="CPU Core 1",
        resource_type=ResourceType.CPU,
        capacity=100.0
    )

    mem_resource = Resource(
        id="mem_1",
        name="Memory 1",
        resource_type=ResourceType.MEMORY,
        capacity=1024.0
    )

    resource_manager.add_resource(cpu_resource)
    resource_manager.add_resource(mem_resource)

    # Create tasks with resource requirements
    task1 = Task(
        name="cpu_intensive_task",
        module="module1",
        action="action1",
        resources=[
            TaskResource(type=ResourceType.CPU, identifier="cpu_1", mode="exclusive")
        ]
    )

    task2 = Task(
        name="memory_intensive_task",
        module="module2",
        action="action2",
        resources=[
            TaskResource(type=ResourceType.MEMORY, identifier="mem_1", mode="exclusive")
        ]
    )

    # Add tasks to orchestrator
    task_orchestrator.add_task(task1)
    task_orchestrator.add_task(task2)

    # Start execution
    task_orchestrator.start_execution()

    # Wait for tasks to complete
    time.sleep(2)

    # Stop execution
    task_orchestrator.stop_execution()

    # Get resource usage
    cpu_usage = resource_manager.get_resource_usage("cpu_1")
    mem_usage = resource_manager.get_resource_usage("mem_1")

    print(f"CPU usage: {cpu_usage.current_usage if cpu_usage else 0}")
    print(f"Memory usage: {mem_usage.current_usage if mem_usage else 0}")

    # Get resource summary
    summary = resource_manager.get_resource_summary()
    print(f"Resource summary: {summary}")


# -- tests -------------------------------------------------------------------------------------
def test_complete_workflow_example(project_dir, capsys) -> None:
    asyncio.run(complete_workflow_example())
    out = capsys.readouterr().out
    assert "Workflow execution result: True" in out
    assert "System status: {'sessions': {'total': 1" in out
    assert "Health status: {'status': 'healthy'" in out

    engine = get_orchestration_engine()
    (session,) = engine.list_sessions()
    assert session.status.value == "closed"
    assert session.resource_allocations == []
    assert engine.resource_manager.get_available_capacity("cpu_1") == 100.0
    (run_id,) = session.runs
    execution = get_workflow_manager().get_execution(run_id)
    assert execution.status is WorkflowStatus.COMPLETED
    assert execution.results["analyze"]["files"] == 1
    assert execution.results["analyze"]["functions"] == 1
    tasks = {t.name: t.status for t in engine.task_orchestrator.list_tasks()}
    # The example never starts task execution; cleanup cancels what is pending.
    assert tasks == {"session_task1": TaskStatus.CANCELLED, "session_task2": TaskStatus.SKIPPED}
    assert session.projects == ["example_project"]
    assert engine.project_manager.get_project("example_project") is not None


def test_resource_management_example(project_dir, capsys) -> None:
    resource_management_example()
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["CPU usage: 0.0", "Memory usage: 0.0"]
    assert out[2].startswith("Resource summary: {'total_resources': 2")
    tasks = {t.name: t for t in get_task_orchestrator().list_tasks()}
    # module1.action1 / module2.action2 do not exist: the tasks fail and say so.
    assert tasks["cpu_intensive_task"].status is TaskStatus.FAILED
    assert tasks["cpu_intensive_task"].result.error.startswith(
        "UnknownActionError: unknown action module1.action1"
    )
    assert tasks["memory_intensive_task"].result.error.startswith(
        "UnknownActionError: unknown action module2.action2"
    )
    assert get_resource_manager().get_resource_summary()["active_allocations"] == 0


def test_task_orchestrator_method_examples(project_dir) -> None:
    orchestrator = get_task_orchestrator()

    task = Task(
        name="analyze_code",
        module="static_analysis",
        action="analyze_code_quality",
        priority=TaskPriority.HIGH,
        parameters={"path": "."}
    )

    task_id = orchestrator.add_task(task)

    # List all tasks
    all_tasks = orchestrator.list_tasks()

    # List only pending tasks
    pending_tasks = orchestrator.list_tasks(TaskStatus.PENDING)

    assert all_tasks == pending_tasks == [task]
    orchestrator.start_execution()
    assert orchestrator.wait_for_completion(timeout=30)
    orchestrator.stop_execution()
    done = orchestrator.get_task(task_id)
    assert done.status is TaskStatus.COMPLETED
    assert (done.result.value["files"], done.result.value["classes"]) == (1, 1)


def test_engine_method_examples() -> None:
    engine = get_orchestration_engine()

    session = engine.create_session(
        name="My Session",
        description="A test orchestration session",
        metadata={"project": "test_project"}
    )
    assert engine.get_session(session.session_id) is session
    assert engine.resource_manager is get_resource_manager()
    assert engine.task_orchestrator is get_task_orchestrator()
    assert engine.workflow_manager is get_workflow_manager()
