"""WorkflowManager: the seed examples, validation, history, summaries, facades."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from codomyrmex_jupyter import (
    CycleError,
    WorkflowManager,
    WorkflowStatus,
    WorkflowStep,
    WorkflowValidationError,
    get_workflow_manager,
)
from codomyrmex_jupyter.errors import UnknownWorkflowError

ROOT = Path(__file__).resolve().parents[2]


def seed_steps() -> list[WorkflowStep]:
    return [
        WorkflowStep(name="analyze", module="static_analysis", action="analyze_code_quality",
                     parameters={"path": str(ROOT / "codomyrmex_jupyter" / "engine")}),
        WorkflowStep(name="visualize", module="data_visualization", action="create_chart",
                     dependencies=["analyze"]),
    ]


def test_seed_create_list_execute_summary() -> None:
    # The seed's WorkflowManager examples, with real built-in actions.
    manager = get_workflow_manager()
    assert manager is get_workflow_manager()
    success = manager.create_workflow("code_analysis", seed_steps())
    assert success is True

    workflows = manager.list_workflows()
    info = workflows["code_analysis"]
    assert info["steps"] == 2
    assert info["modules"] == ["data_visualization", "static_analysis"]
    assert info["estimated_duration"] == 0.0 and info["has_dependencies"] is True

    execution = asyncio.run(
        manager.execute_workflow("code_analysis", parameters={"project_path": str(ROOT)})
    )
    assert execution.status == WorkflowStatus.COMPLETED, execution.errors
    assert execution.results["analyze"]["files"] >= 5
    assert execution.results["visualize"]["png"].startswith(b"\x89PNG")
    assert execution.errors == []

    summary = manager.get_performance_summary()
    assert summary["total_workflows_executed"] == 1
    assert summary["successful_executions"] / summary["total_workflows_executed"] * 100 == 100.0
    assert summary["module_usage"] == {"data_visualization": 1, "static_analysis": 1}
    assert set(summary["steps"]) == {"code_analysis.analyze", "code_analysis.visualize"}
    assert manager.list_workflows()["code_analysis"]["estimated_duration"] > 0


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ([], "a workflow needs at least one step"),
        ([WorkflowStep("a", "m", "x"), WorkflowStep("a", "m", "x")], "duplicate step name 'a'"),
        ([WorkflowStep("a", "m", "x", dependencies=["b"])], "unknown step 'b'"),
        ([WorkflowStep("a", "m", "x", dependencies=["b"]), WorkflowStep("b", "m", "x", dependencies=["a"])],
         "dependency cycle: b -> a -> b"),
        ([WorkflowStep("a", "m", "x", timeout=0)], "timeout must be positive"),
    ],
)
def test_invalid_workflows_return_false_and_log(
    manager: WorkflowManager, steps, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert manager.create_workflow("bad", steps) is False
    assert reason in caplog.text
    assert "bad" not in manager.list_workflows()
    with pytest.raises(WorkflowValidationError, match=reason.split("'", maxsplit=1)[0]):
        manager.validate(steps)


def test_validate_raises_cycle_error_with_cycle(manager: WorkflowManager) -> None:
    steps = [WorkflowStep("a", "m", "x", dependencies=["b"]), WorkflowStep("b", "m", "x", dependencies=["a"])]
    with pytest.raises(CycleError) as info:
        manager.validate(steps)
    assert info.value.cycle == ["b", "a", "b"]


def test_unregistered_action_is_a_warning_then_a_run_time_error(
    manager: WorkflowManager, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert manager.create_workflow("later", [WorkflowStep("a", "static_analysis", "analyse_code")])
    assert "action static_analysis.analyse_code is not registered yet" in caplog.text
    ex = manager.run_workflow("later")
    assert ex.status == WorkflowStatus.FAILED
    assert "did you mean static_analysis.analyze_code" in ex.errors[0]


def test_unknown_workflow(manager: WorkflowManager) -> None:
    with pytest.raises(UnknownWorkflowError, match="Workflow 'nope' not found"):
        manager.run_workflow("nope")


def test_run_workflow_inside_a_running_loop(manager: WorkflowManager) -> None:
    manager.register_action("t", "one", lambda: 1)
    manager.create_workflow("w", [WorkflowStep("a", "t", "one")])

    async def cell() -> WorkflowStatus:
        return manager.run_workflow("w").status  # a sync call from inside a loop

    assert asyncio.run(cell()) == WorkflowStatus.COMPLETED


def test_background_run_cancel_is_recorded(manager: WorkflowManager) -> None:
    async def slow() -> None:
        await asyncio.sleep(30)

    manager.register_action("t", "slow", slow)
    manager.create_workflow("slow", [WorkflowStep("a", "t", "slow"), WorkflowStep("b", "t", "slow", dependencies=["a"])])
    handle = manager.start_workflow("slow")
    deadline = time.monotonic() + 5
    while handle.status != WorkflowStatus.RUNNING and time.monotonic() < deadline:
        time.sleep(0.01)
    assert handle.cancel() is True
    ex = handle.result(timeout=5)
    assert ex.status == WorkflowStatus.CANCELLED
    stored = manager.store.get_run(handle.run_id)
    assert stored["status"] == "cancelled"
    assert [s["status"] for s in stored["steps"]] == ["cancelled", "cancelled"]
    assert handle.cancel() is False


def test_not_storable_result_stays_in_memory(manager: WorkflowManager, caplog) -> None:
    marker = object()
    manager.register_action("t", "obj", lambda: marker)
    manager.create_workflow("o", [WorkflowStep("a", "t", "obj")])
    with caplog.at_level(logging.WARNING):
        ex = manager.run_workflow("o")
    assert ex.status == WorkflowStatus.COMPLETED
    assert ex.results["a"] is marker
    assert "cannot be stored as JSON" in ex.performance_metrics["results_not_stored"]["a"]
    assert "cannot be stored as JSON" in caplog.text
    assert manager.store.get_run(ex.execution_id)["steps"][0]["result"] is None


def test_redefinition_makes_a_new_version(manager: WorkflowManager) -> None:
    manager.register_action("t", "one", lambda: 1)
    manager.create_workflow("w", [WorkflowStep("a", "t", "one")])
    first = manager.run_workflow("w")
    manager.create_workflow("w", [WorkflowStep("a", "t", "one"), WorkflowStep("b", "t", "one")])
    second = manager.run_workflow("w")
    assert (first.version, second.version) == (1, 2)
    assert manager.store.get_run(first.execution_id)["version"] == 1
    assert len(manager.get_execution(second.execution_id).step_records) == 2


SECOND_PROCESS = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from codomyrmex_jupyter import WorkflowManager
    m = WorkflowManager(config_dir=Path(sys.argv[1]))
    print(sorted(m.list_workflows()))
    h = m.history("w")
    print(len(h), h[0].status.value, h[0].execution_id == sys.argv[2])
    ex = m.get_execution(sys.argv[2])
    print(ex.results, ex.step_records["a"].attempts)
    """
)


def test_a_second_process_reads_definitions_and_runs(tmp_path: Path) -> None:
    m = WorkflowManager(config_dir=tmp_path)
    m.register_action("t", "one", lambda: {"v": 1})
    m.create_workflow("w", [WorkflowStep("a", "t", "one")])
    ex = m.run_workflow("w")
    m.close()
    out = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(tmp_path), ex.execution_id],
        capture_output=True, text=True, check=True,
    )
    assert out.stdout.splitlines() == ["['w']", "1 completed True", "{'a': {'v': 1}} 1"]


def test_performance_monitoring_metrics(manager: WorkflowManager) -> None:
    manager.register_action("t", "one", lambda: 1)
    manager.create_workflow("w", [WorkflowStep("a", "t", "one")])
    ex = manager.run_workflow("w")
    metrics = ex.performance_metrics
    assert metrics["counts"] == {"succeeded": 1}
    assert metrics["steps"] == 1 and metrics["retries"] == 0
    assert set(metrics) >= {"duration", "cpu_time", "max_rss_kb", "slowest_steps", "peak_concurrency"}


def test_steps_with_resources_share_the_kernel_pool() -> None:
    from codomyrmex_jupyter import Resource, ResourceType, get_resource_manager

    rm = get_resource_manager()
    rm.add_resource(Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2.0))
    seen: list[float] = []

    async def work() -> None:
        seen.append(rm.pool.statistics("gpu").allocated)
        await asyncio.sleep(0.01)

    manager = get_workflow_manager()
    manager.register_action("t", "work", work)
    steps = [WorkflowStep(f"s{i}", "t", "work", resources={"gpu": 1.0}) for i in range(8)]
    assert manager.create_workflow("gpu_bound", steps)
    ex = manager.run_workflow("gpu_bound")
    assert ex.status == WorkflowStatus.COMPLETED
    assert max(seen) == 2.0 and len(seen) == 8
    assert rm.pool.statistics("gpu").allocated == 0.0
    assert rm.pool.statistics("gpu").peak == 2.0


def test_recorded_runs_keep_their_edges(tmp_path: Path) -> None:
    m = WorkflowManager(config_dir=tmp_path)
    m.register_action("t", "one", lambda: 1)
    m.create_workflow("w", [WorkflowStep("a", "t", "one"), WorkflowStep("b", "t", "one", dependencies=["a"])])
    run_id = m.run_workflow("w").execution_id
    m.close()
    fresh = WorkflowManager(config_dir=tmp_path)
    ex = fresh.get_execution(run_id)
    assert ex.edges == [("a", "b")]
    assert [r.status for r in ex.step_records.values()] == ["succeeded", "succeeded"]
    fresh.close()


def test_retry_count_is_recorded_on_the_step(manager: WorkflowManager) -> None:
    calls = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("flaky")
        return 1

    manager.register_action("t", "flaky", flaky)
    manager.create_workflow("f", [WorkflowStep("a", "t", "flaky", max_retries=3)])
    ex = manager.run_workflow("f")
    assert ex.status == WorkflowStatus.COMPLETED
    assert manager.get_workflow("f")[0].retry_count == 2
    assert ex.step_records["a"].attempts == 3
