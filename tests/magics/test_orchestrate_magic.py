"""%orchestrate through IPython's test shell (orchestrate_magic and commands)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import pytest

from codomyrmex_jupyter import get_workflow_manager, runtime
from codomyrmex_jupyter.api.run_handle import RunHandle
from codomyrmex_jupyter.api.workflow_models import WorkflowExecution, WorkflowStatus
from codomyrmex_jupyter.magics import commands

ETL = """\
def load(n: int = 10):
    return list(range(n))

def clean(load):
    return [x * 2 for x in load]
"""

SLOW = """\
import asyncio

async def slow(seconds: float = 30):
    await asyncio.sleep(seconds)
    return seconds
"""


@pytest.fixture
def etl(ip: Any) -> Any:
    ip.run_cell_magic("workflow", "etl --quiet", ETL)
    return ip


def _wait_running(run_id: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        ex = get_workflow_manager().get_execution(run_id)
        if ex is not None and ex.step_records["slow"].status == "running":
            return
        time.sleep(0.01)
    raise AssertionError("the step never started")


def test_run_blocks_and_returns_the_execution(etl: Any) -> None:
    ex = etl.run_line_magic("orchestrate", "run etl -p n=3 --timeout 30")
    assert isinstance(ex, WorkflowExecution)
    assert ex.status is WorkflowStatus.COMPLETED
    assert ex.results == {"load": [0, 1, 2], "clean": [0, 2, 4]}
    bundle = ex._repr_mimebundle_()
    assert {"text/plain", "text/html"} <= set(bundle)


def test_background_returns_a_handle(etl: Any) -> None:
    handle = etl.run_line_magic("orchestrate", "run etl --background -p n=2")
    assert isinstance(handle, RunHandle)
    ex = handle.result(timeout=10)
    assert ex.results["clean"] == [0, 2]
    assert handle.status is WorkflowStatus.COMPLETED
    assert handle.done()
    assert "text/html" in handle._repr_mimebundle_()


def test_cancel_a_background_run(ip: Any) -> None:
    ip.run_cell_magic("workflow", "slow --quiet", SLOW)
    handle = ip.run_line_magic("orchestrate", "run slow --background")
    _wait_running(handle.run_id)
    ex = ip.run_line_magic("orchestrate", f"cancel {handle.run_id[:8]}")
    assert ex.status is WorkflowStatus.CANCELLED
    assert handle.result(timeout=10).status is WorkflowStatus.CANCELLED
    (recorded,) = get_workflow_manager().history("slow")
    assert recorded.status is WorkflowStatus.CANCELLED


def test_handle_cancel_method(ip: Any) -> None:
    ip.run_cell_magic("workflow", "slow --quiet", SLOW)
    handle = ip.run_line_magic("orchestrate", "run slow --background")
    _wait_running(handle.run_id)
    assert handle.cancel() is True
    assert handle.result(timeout=10).status is WorkflowStatus.CANCELLED


def test_interrupt_cancels_a_blocking_run(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_cell_magic("workflow", "slow --quiet", SLOW)
    main = threading.main_thread().ident
    assert main is not None

    def interrupt() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            active = get_workflow_manager().active_runs()
            if active and active[0].step_records["slow"].status == "running":
                signal.pthread_kill(main, signal.SIGINT)
                return
            time.sleep(0.01)

    threading.Thread(target=interrupt, daemon=True).start()
    ex = ip.run_line_magic("orchestrate", "run slow")
    assert ex.status is WorkflowStatus.CANCELLED
    assert ex.step_records["slow"].status == "cancelled"
    (recorded,) = get_workflow_manager().history("slow")
    assert recorded.status is WorkflowStatus.CANCELLED
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"run {ex.execution_id[:8]} of 'slow' was cancelled and recorded as cancelled"]


def test_list_dag_show_history(etl: Any) -> None:
    first = etl.run_line_magic("orchestrate", "run etl -p n=1")
    second = etl.run_line_magic("orchestrate", "run etl -p n=2")
    table = etl.run_line_magic("orchestrate", "list")
    assert len(table) == 1 and "etl" in repr(table)
    dag = etl.run_line_magic("orchestrate", "dag etl")
    doc = dag._repr_mimebundle_()["application/vnd.codomyrmex.dag+json"]
    assert sorted(n["id"] for n in doc["nodes"]) == ["clean", "load"]
    shown = etl.run_line_magic("orchestrate", f"show {first.execution_id[:10]}")
    assert shown.execution_id == first.execution_id
    assert shown.results["clean"] == [0]
    history = etl.run_line_magic("orchestrate", "history etl -n 1")
    assert len(history) == 1
    assert second.execution_id[:8] in repr(history)
    assert "<table" in history._repr_html_()
    assert len(etl.run_line_magic("orchestrate", "history")) == 2


def test_config_switches_the_loop_mode(ip: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # nest_asyncio.apply() patches asyncio for the whole process and cannot be
    # undone: here we only check the switch; the real kernel test applies it.
    applied: list[bool] = []
    monkeypatch.setattr(runtime, "_apply_nest_asyncio", lambda: applied.append(True))
    table = ip.run_line_magic("orchestrate", "config --loop nested")
    assert applied == [True]
    assert runtime.get_loop_mode() == "nested"
    assert "nested" in repr(table)
    ip.run_line_magic("orchestrate", "config --loop thread")
    assert runtime.get_loop_mode() == "thread"
    assert "thread" in repr(ip.run_line_magic("orchestrate", "config"))


def test_status_lists_loop_mode_and_workflows(etl: Any) -> None:
    text = repr(etl.run_line_magic("orchestrate", "status"))
    assert "loop mode" in text and "thread" in text
    assert "workflows" in text


def test_resources_tasks_projects_sessions(ip: Any) -> None:
    pytest.importorskip("codomyrmex_jupyter.api.sessions")
    pytest.importorskip("codomyrmex_jupyter.api.projects")
    from codomyrmex_jupyter import Resource, ResourceType, get_resource_manager

    get_resource_manager().add_resource(
        Resource(id="gpu_1", name="GPU", resource_type=ResourceType.GPU, capacity=2.0)
    )
    resources = ip.run_line_magic("orchestrate", "resources")
    assert "gpu_1" in repr(resources)
    assert len(resources) == 1
    for sub in ("tasks", "projects", "sessions"):
        table = ip.run_line_magic("orchestrate", sub)
        assert len(table) == 0, sub


def test_dashboard_is_a_widget(ip: Any) -> None:
    pytest.importorskip("codomyrmex_jupyter.widgets.dashboard")
    import ipywidgets

    board = ip.run_line_magic("orchestrate", "dashboard")
    try:
        assert isinstance(board, ipywidgets.Widget)
    finally:
        board.close()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("frobnicate", "unknown subcommand 'frobnicate'; use one of: run, list, dag, show, "
         "history, cancel, status, resources, tasks, projects, sessions, dashboard, config"),
        ("run", "the following arguments are required: name; usage: %orchestrate run"),
        ("run etl --timeout soon", "argument --timeout: invalid float value: 'soon'"),
        ("run etl --bogus", "unrecognized arguments: --bogus; usage: %orchestrate run [-p KEY=VALUE]"),
        ("run nope", "Workflow 'nope' not found; defined: etl"),
        ("run etl -p x", "parameter 'x' must look like name=value (e.g. -p n=5)"),
        ("run etl --executor dask://nohost", "--executor must be 'local', 'dask-local' or dask://HOST:PORT"),
        ("run etl --executor spark://h:1", "--executor must be 'local', 'dask-local' or dask://HOST:PORT"),
        ("show zzzz", "%orchestrate show: no run with id 'zzzz'"),
        ("cancel zzzz", "%orchestrate cancel: no run with id 'zzzz'"),
        ("dag nope", "%orchestrate dag: Workflow 'nope' not found"),
        ("history -n 0", "%orchestrate history: -n must be at least 1, got 0"),
        ("config --loop fibers", "argument --loop: invalid choice: 'fibers'"),
        ("run etl 'unclosed", "No closing quotation"),
    ],
)
def test_user_errors(etl: Any, usage_error: Any, line: str, expected: str) -> None:
    assert expected in usage_error(line)


def test_cancel_of_a_finished_run(etl: Any, usage_error: Any) -> None:
    ex = etl.run_line_magic("orchestrate", "run etl")
    message = usage_error(f"cancel {ex.execution_id}")
    assert message == (
        f"%orchestrate cancel: run {ex.execution_id[:8]} is not running in this kernel "
        "(status: completed)"
    )


def test_dask_executor_missing(etl: Any, usage_error: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    message = usage_error("run etl --executor dask://127.0.0.1:8786")
    assert "pip install codomyrmex_jupyter[dask]" in message


def test_help(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.run_line_magic("orchestrate", "--help") is None
    overview = capsys.readouterr().out
    for sub in ("run", "list", "dag", "show", "history", "cancel", "status", "resources",
                "tasks", "projects", "sessions", "dashboard", "config"):
        assert f"%orchestrate {sub}" in overview
    assert ip.run_line_magic("orchestrate", "run --help") is None
    run_help = capsys.readouterr().out
    assert "--background" in run_help and "--executor" in run_help and "--timeout" in run_help


def test_commands_work_without_ipython(manager: Any) -> None:
    from codomyrmex_jupyter.magics.cell_parsing import parse_spec_cell

    parsed = parse_spec_cell("- {name: env, module: environment_setup, action: check_environment}")
    assert manager.create_workflow("env", parsed.steps)
    ex = commands.run(manager=manager, name="env")
    assert ex.status is WorkflowStatus.COMPLETED
    assert commands.show(manager=manager, run_id=ex.execution_id[:6]).execution_id == ex.execution_id
    assert len(commands.history(manager=manager, name="env")) == 1
    handle = commands.run(manager=manager, name="env", background=True)
    assert handle.result(timeout=10).status is WorkflowStatus.COMPLETED


def test_export_writes_a_module_once_unless_forced(etl: Any, usage_error: Any, tmp_path: Any) -> None:
    target = tmp_path / "etl_flow.py"
    result = etl.run_line_magic("orchestrate", f"export etl {target} --module team.etl")
    assert (result.path, result.module, result.steps) == (target, "team.etl", ["load", "clean"])
    assert 'ACTIONS = "team.etl"' in target.read_text()
    assert "run it: codomyrmex-jupyter run etl --import etl_flow" in repr(result)
    message = usage_error(f"export etl {target}")
    assert message == f"%orchestrate export: {target} exists; pass --force (force=True) to overwrite it"
    assert etl.run_line_magic("orchestrate", f"export etl {target} --force").module == "etl_flow"
    assert usage_error("export nope x.py").startswith("%orchestrate export: Workflow 'nope' not found")


def test_config_history_limit(ip: Any, usage_error: Any) -> None:
    manager = get_workflow_manager()
    def limit_row(table: Any) -> str:
        (row,) = [line for line in repr(table).splitlines() if line.startswith("history limit ")]
        return " ".join(row.split()[2:])

    assert limit_row(ip.run_line_magic("orchestrate", "config")) == "keep every run"
    table = ip.run_line_magic("orchestrate", "config --history-limit 2")
    assert manager.history_limit == 2
    assert limit_row(table) == "2"
    ip.run_cell_magic("workflow", "hl --quiet", "def one():\n    return 1\n")
    for _ in range(4):
        ip.run_line_magic("orchestrate", "run hl")
    assert manager.store.count_runs("hl") == 2
    ip.run_line_magic("orchestrate", "config --history-limit none")
    assert manager.history_limit is None
    assert usage_error("config --history-limit 0") == (
        "%orchestrate config: --history-limit must be a number of runs >= 1, or none (keep every run); got '0'"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("run etl --timeout -1", "--timeout -1.0 is not positive"),
        ("run etl --timeout nan", "--timeout nan is not a finite number"),
        ("show a", "run id 'a' is too short: give at least 4 characters"),
        ("cancel a", "run id 'a' is too short: give at least 4 characters"),
    ],
)
def test_bad_values_are_usage_errors_and_nothing_runs(
    etl: Any, usage_error: Any, line: str, expected: str
) -> None:
    assert expected in usage_error(line)
    assert get_workflow_manager().store.list_runs() == []


def test_show_and_cancel_of_an_ambiguous_prefix(etl: Any, usage_error: Any) -> None:
    manager = get_workflow_manager()
    for run_id in ("feed0001", "feed0002"):
        manager.run_workflow("etl", run_id=run_id)
    for sub in ("show", "cancel"):
        message = usage_error(f"{sub} feed")
        assert "run id prefix 'feed' matches 2 runs (feed0001, feed0002)" in message


# -- typos, run parameters, config and init ---------------------------------------------------
def test_a_typo_of_a_step_name_is_caught_at_definition(ip: Any, usage_error: Any) -> None:
    message = usage_error("typo", "def load():\n    return 1\n\ndef clean(laod):\n    return laod\n")
    assert message.startswith(
        "%%workflow typo: line 5: parameter 'laod' of step 'clean': did you mean step 'load'?"
    )
    assert get_workflow_manager().get_workflow("typo") is None


def test_an_unknown_run_parameter_lists_the_accepted_ones(etl: Any, usage_error: Any) -> None:
    message = usage_error("run etl -p m=4")
    assert message == "no step of workflow 'etl' takes the run parameter 'm'; it accepts: n"
    assert get_workflow_manager().history("etl") == []


def test_config_says_which_store_and_why(ip: Any) -> None:
    table = ip.run_line_magic("orchestrate", "config")
    rows = {r["key"]: r["value"] for r in table.rows}
    manager = get_workflow_manager()
    assert rows["store"] == manager.store.path
    assert rows["chosen because"] == "$CODOMYRMEX_HOME is set"
    assert rows["loop"] == "thread"


def test_init_creates_a_project_store_and_switches_to_it(
    ip: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODOMYRMEX_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the default store, never the real one
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    tmp_path = tmp_path / "work"
    before = get_workflow_manager()
    table = ip.run_line_magic("orchestrate", "init")
    rows = {r["key"]: r["value"] for r in table.rows}
    assert rows["store folder"] == str(tmp_path / ".codomyrmex")
    assert rows["status"] == "created; this kernel uses it from now on"
    after = get_workflow_manager()
    assert after is not before and after.config_location.source == "project"
    assert after.store.path == str(tmp_path / ".codomyrmex" / "codomyrmex.sqlite3")
    again = {r["key"]: r["value"] for r in ip.run_line_magic("orchestrate", "init").rows}
    assert again["status"] == "already there; this kernel uses it"
