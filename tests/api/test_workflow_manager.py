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
        ([WorkflowStep("a", "m", "x", timeout=0)], "timeout 0 is not positive"),
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


# -- bad input found by a hostile tester: refused before anything is stored ------------------
def _one_step(manager: WorkflowManager, **fields) -> None:
    @manager.registry.action("bad", "quick")
    async def quick() -> int:
        return 1

    manager.create_workflow("one", [WorkflowStep("only", "bad", "quick", **fields)])


def test_nan_step_timeout_is_refused_and_other_timeouts_keep_time(manager: WorkflowManager) -> None:
    from codomyrmex_jupyter.errors import StepTypeError

    with pytest.raises(WorkflowValidationError, match=r"step 'a': timeout nan is not a finite number"):
        manager.validate([WorkflowStep("a", "m", "x", timeout=float("nan"))])
    with pytest.raises(StepTypeError, match=r"step 'a': timeout '5' is a str, not a number") as info:
        manager.validate([WorkflowStep("a", "m", "x", timeout="5")])  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError) and info.value.step == "a"
    assert manager.create_workflow("nan", [WorkflowStep("a", "m", "x", timeout=float("nan"))]) is False
    assert manager.store.list_workflows() == []


def test_step_named_with_a_number_says_so(manager: WorkflowManager) -> None:
    from codomyrmex_jupyter.errors import StepTypeError

    with pytest.raises(StepTypeError, match=r"step #1 name 42 is a int, not a string"):
        manager.validate([WorkflowStep(42, "m", "x")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("timeout", "error", "fragment"),
    [
        (-1, "ArgumentError", "timeout -1 is not positive"),
        (float("nan"), "ArgumentError", "timeout nan is not a finite number"),
        (float("inf"), "ArgumentError", "timeout inf is not a finite number"),
        ("5", "ArgumentTypeError", "timeout '5' is a str, not a number"),
        (True, "ArgumentTypeError", "timeout True is a bool, not a number"),
    ],
)
def test_bad_run_timeout_is_refused_before_the_run_row(
    manager: WorkflowManager, timeout, error: str, fragment: str
) -> None:
    from codomyrmex_jupyter import errors

    _one_step(manager)
    cls = getattr(errors, error)
    with pytest.raises(cls, match=fragment):
        asyncio.run(manager.execute_workflow("one", timeout=timeout))
    with pytest.raises(cls, match=fragment):
        manager.run_workflow("one", timeout=timeout)
    with pytest.raises(cls, match=fragment):
        manager.start_workflow("one", timeout=timeout)  # refused now, not in the handle
    assert manager.store.list_runs() == []
    assert manager.history() == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"parameters": [1, 2]}, r"parameters \[1, 2\] is a list, not a mapping"),
        ({"parameters": {1: "x"}}, "parameters key 1 is a int, not a string"),
        ({"run_id": "has space"}, "run_id 'has space' may only hold"),
        ({"run_id": 7}, "run_id 7 is a int, not a string"),
    ],
)
def test_bad_run_inputs_are_refused_before_the_run_row(
    manager: WorkflowManager, kwargs, fragment: str
) -> None:
    from codomyrmex_jupyter.errors import ArgumentError

    _one_step(manager)
    with pytest.raises(ArgumentError, match=fragment):
        manager.run_workflow("one", **kwargs)
    assert manager.store.list_runs() == []


def test_a_run_id_cannot_be_used_twice(manager: WorkflowManager) -> None:
    from codomyrmex_jupyter.errors import ArgumentError

    _one_step(manager)
    manager.run_workflow("one", run_id="first-run")
    with pytest.raises(ArgumentError, match="run_id 'first-run' is already used"):
        manager.run_workflow("one", run_id="first-run")
    assert [r["run_id"] for r in manager.store.list_runs()] == ["first-run"]


def test_run_id_prefixes_need_four_characters_and_one_match(tmp_path: Path) -> None:
    from codomyrmex_jupyter.errors import AmbiguousRunError, ArgumentError

    manager = WorkflowManager(config_dir=tmp_path / "wm")
    _one_step(manager)
    for run_id in ("abcd0001", "abcd0002", "abce0003"):
        manager.run_workflow("one", run_id=run_id)
    for call in (manager.get_execution, manager.cancel_execution):
        for short in ("", "a", "abc"):
            with pytest.raises(ArgumentError, match=f"run id {short!r} is too short: give at least 4"):
                call(short)
        with pytest.raises(AmbiguousRunError, match=r"'abcd' matches 2 runs \(abcd0001, abcd0002\)") as info:
            call("abcd")
        assert info.value.matches == ["abcd0001", "abcd0002"]
    assert manager.get_execution("abce").execution_id == "abce0003"
    assert manager.get_execution("zzzz") is None
    assert manager.cancel_execution("abce") is False  # found, but not running
    manager.close()
    # a new process (no executions in memory) reads the same answers from the store
    fresh = WorkflowManager(config_dir=tmp_path / "wm")
    with pytest.raises(AmbiguousRunError):
        fresh.get_execution("abcd")
    assert fresh.get_execution("abcd0002").execution_id == "abcd0002"
    assert fresh.get_execution("abce").execution_id == "abce0003"
    # '_' is a plain character in a prefix, not a LIKE wildcard
    assert fresh.get_execution("abc_") is None
    fresh.close()


def test_manager_options_are_checked(tmp_path: Path) -> None:
    from codomyrmex_jupyter.errors import ArgumentError, ArgumentTypeError

    with pytest.raises(ArgumentError, match="max_concurrency 0 is below 1"):
        WorkflowManager(config_dir=tmp_path, max_concurrency=0)
    with pytest.raises(ArgumentError, match="retry_backoff -1 is not positive"):
        WorkflowManager(config_dir=tmp_path, retry_backoff=-1)
    with pytest.raises(ArgumentTypeError, match="config_dir 5 is not a path"):
        WorkflowManager(config_dir=5)  # type: ignore[arg-type]
    assert not (tmp_path / "codomyrmex.sqlite3").exists()


def test_raising_listeners_and_factories_never_leave_a_run_running(
    manager: WorkflowManager, caplog: pytest.LogCaptureFixture
) -> None:
    from codomyrmex_jupyter.engine.events import BaseListener

    class Boom(BaseListener):
        def __init__(self, at: str) -> None:
            self.at = at

        def run_started(self, run):
            if self.at == "run_started":
                raise RuntimeError("boom")

        def step_changed(self, run, index, state):
            if state == self.at:
                raise RuntimeError("boom")

        def run_finished(self, run):
            if self.at == "run_finished":
                raise RuntimeError("boom")

    def broken_factory(run, execution):
        raise RuntimeError("factory boom")

    _one_step(manager)
    manager.create_workflow("two", [WorkflowStep("a", "bad", "quick"),
                                    WorkflowStep("b", "bad", "quick", dependencies=["a"])])
    manager.add_listener_factory(broken_factory)
    with caplog.at_level(logging.ERROR):
        for at in ("run_started", "ready", "running", "succeeded", "run_finished"):
            ex = manager.run_workflow("two", listeners=[Boom(at)], timeout=10)
            assert ex.status is WorkflowStatus.COMPLETED, (at, ex.errors)
            assert ex.results == {"a": 1, "b": 1}
    assert [r["status"] for r in manager.store.list_runs()] == ["completed"] * 5
    assert manager.listener_factories == []  # the broken factory was removed, once
    factory_logs = [r for r in caplog.records if "listener factory" in r.getMessage()]
    assert len(factory_logs) == 1 and "broken_factory" in factory_logs[0].getMessage()
    detached = [r for r in caplog.records if "was detached" in r.getMessage()]
    assert len(detached) == 5


SWEEP = textwrap.dedent(
    """
    import sys
    from codomyrmex_jupyter import WorkflowManager, WorkflowStep
    manager = WorkflowManager(config_dir=sys.argv[1])
    manager.register_action("sweep", "double", lambda x=1: 2 * x)
    manager.register_action("sweep", "inc", lambda double: double + 1)
    manager.create_workflow("sweep_" + sys.argv[2], [
        WorkflowStep("double", "sweep", "double"),
        WorkflowStep("inc", "sweep", "inc", dependencies=["double"]),
    ])
    statuses = [manager.run_workflow("sweep_" + sys.argv[2], {"x": i}).status.value for i in range(500)]
    print(statuses.count("completed"))
    """
)


@pytest.mark.slow
def test_two_processes_recording_500_runs_each_lose_none(tmp_path: Path) -> None:
    home = tmp_path / "shared"
    WorkflowManager(config_dir=home).close()
    children = [
        subprocess.Popen([sys.executable, "-c", SWEEP, str(home), tag], stdout=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    outs = [c.communicate(timeout=240)[0] for c in children]
    assert [c.returncode for c in children] == [0, 0]
    assert [int(o) for o in outs] == [500, 500]
    manager = WorkflowManager(config_dir=home)
    runs = manager.store.list_runs(limit=None)
    assert len(runs) == 1000 and {r["status"] for r in runs} == {"completed"}
    assert manager.store.runs_per_workflow() == {"sweep_a": 500, "sweep_b": 500}
    results = {manager.get_execution(r["run_id"]).results["inc"] for r in runs[:50]}
    assert results <= {2 * i + 1 for i in range(500)}
    manager.close()


def test_an_uncreatable_home_is_a_store_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from codomyrmex_jupyter.api.accessors import reset_singletons
    from codomyrmex_jupyter.errors import StoreError

    (tmp_path / "file").write_text("x")
    monkeypatch.setenv("CODOMYRMEX_HOME", str(tmp_path / "file" / "home"))
    reset_singletons()
    with pytest.raises(StoreError, match=f"cannot create the directory {tmp_path / 'file' / 'home'}"):
        get_workflow_manager()


def test_allow_imports_applies_to_its_manager_only(tmp_path: Path) -> None:
    from codomyrmex_jupyter.engine.actions import default_registry
    from codomyrmex_jupyter.errors import ArgumentTypeError

    steps = [WorkflowStep("dump", "json", "dumps", parameters={"obj": [1, 2]})]
    trusting = WorkflowManager(config_dir=tmp_path / "wm", allow_imports=["json"])
    assert trusting.create_workflow("dump", steps) is True
    assert trusting.run_workflow("dump").results == {"dump": "[1, 2]"}
    plain = WorkflowManager(config_dir=tmp_path / "wm")  # the same store, no allow_imports
    refused = plain.run_workflow("dump")
    assert refused.status is WorkflowStatus.FAILED
    assert "unknown action json.dumps" in refused.errors[0]
    assert default_registry().find("json", "dumps") is None
    assert default_registry().allow_imports == []
    with pytest.raises(ArgumentTypeError, match="allow_imports 'json' is a str; give a list"):
        WorkflowManager(config_dir=tmp_path / "wm", allow_imports="json")  # type: ignore[arg-type]
    for m in (trusting, plain):
        m.close()
