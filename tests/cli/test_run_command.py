"""codomyrmex_jupyter.cli.run_command: ``run`` in a subprocess: progress, exit codes, interrupts."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import SCRIPT, Cli, cli_env


def test_run_an_imported_workflow(cli: Cli, flows: Path) -> None:
    result = cli("run", "sum", "--import", "flows", "-p", "n=5")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("started: 2 step(s)")
    assert any(line.endswith("total succeeded" + line.split("total succeeded")[-1]) for line in lines)
    assert lines[-1].startswith("sum [") and " completed in " in lines[-1]
    assert lines[-1].endswith(": 2 succeeded")
    run_id = lines[0].split("[")[1].split("]")[0]
    (run,) = cli("history", "sum", "--json").json()
    assert run["run_id"].startswith(run_id)
    assert run["parameters"] == {"n": 5}
    shown = cli("show", run["run_id"], "--json").json()
    assert {s["name"]: s["result"] for s in shown["steps"]} == {"load": [0, 1, 2, 3, 4], "total": 10}
    listed = {w["name"]: w for w in cli("list", "--json").json()}
    assert (listed["sum"]["origin"], listed["sum"]["version"]) == ("module", 1)
    # the same definition again: no new version
    assert cli("run", "sum", "--import", "flows", "--json").json()["version"] == 1


def test_plain_lines_name_each_state_change(cli: Cli, flows: Path) -> None:
    result = cli("run", "fails", "--import", str(flows), "-p", "n=2")
    assert result.code == 1
    body = [line.split("] ", 1)[1] for line in result.out.splitlines() if line.startswith("[")]
    assert body[0] == "load running"
    assert body[1].startswith("load succeeded in ")
    assert body[2] == "boom running"
    assert body[3].startswith("boom failed in ") and "ValueError: boom after 2" in body[3]
    assert body[4] == "after skipped"
    assert result.out.splitlines()[-2].endswith(": 1 failed, 1 skipped, 1 succeeded")
    assert result.out.splitlines()[-1].startswith("  error: Step boom failed: ValueError: boom after 2")
    assert "\x1b[" not in result.out


def test_json_prints_the_finished_run(cli: Cli, flows: Path) -> None:
    result = cli("run", "fails", "--import", "flows", "--json")
    assert result.code == 1
    data = result.json()
    assert data["status"] == "failed"
    assert [s["status"] for s in data["steps"]] == ["succeeded", "failed", "skipped"]


def test_timeout_fails_the_run(cli: Cli, flows: Path) -> None:
    result = cli("run", "slow", "--import", "flows", "--timeout", "0.5", "-p", "seconds=5")
    assert result.code == 1
    (summary,) = [line for line in result.out.splitlines() if line.startswith("slow [") and " in " in line]
    assert " failed in " in summary
    assert "  error: Workflow timed out after 0.5s" in result.out.splitlines()


def test_a_notebook_workflow_must_be_exported_first(cli: Cli, _isolated_home: Path) -> None:
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.magics.cell_parsing import parse_function_cell

    parsed = parse_function_cell("def load():\n    return 1\n\ndef clean(load):\n    return load\n", "etl")
    manager = WorkflowManager(config_dir=_isolated_home)
    manager.create_workflow("etl", parsed.steps, source="%%workflow etl\n...",
                            callables={"load": lambda: 1, "clean": lambda load: load})
    manager.close()
    result = cli("run", "etl")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "workflow 'etl' was defined in a notebook cell" in line
    assert "%orchestrate export etl etl_flow.py" in line
    assert "--import etl_flow.py" in line
    assert result.out == ""


def test_a_module_workflow_without_its_module_says_which_to_import(cli: Cli, flows: Path) -> None:
    assert cli("run", "sum", "--import", "flows").code == 0
    result = cli("run", "sum")
    assert result.code == 2
    assert "calls flows.load, which nothing in this process registers" in result.err
    assert "--import flows" in result.err


def test_a_module_that_fails_to_import_is_named(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "broken_flow.py").write_text("x = 1\nraise RuntimeError('no config')\n")
    result = cli("run", "sum", "--import", "broken_flow")
    assert result.code == 2
    (line,) = result.err.splitlines()
    assert "--import broken_flow: importing it failed: broken_flow.py line 2: RuntimeError: no config" in line
    (tmp_path / "needs.py").write_text("import not_installed_anywhere\n")
    result = cli("run", "sum", "--import", "needs")
    assert "No module named 'not_installed_anywhere'; install what it needs" in result.err


@pytest.fixture
def running(flows: Path, tmp_path: Path) -> Iterator[Any]:
    """Start ``run slow`` (a 60 s step) and return ``(process, marker)`` once the step runs."""
    marker = tmp_path / "marker.txt"
    proc = subprocess.Popen(
        [SCRIPT, "run", "slow", "--import", "flows", "-p", f"marker={str(marker)!r}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env(), cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupt_cancels_the_run_and_records_it(cli: Cli, running: Any, sig: int, code: int) -> None:
    started = time.monotonic()
    running.send_signal(sig)
    out, err = running.communicate(timeout=60)
    assert running.returncode == code, err
    assert time.monotonic() - started < 30  # not the step's 60 seconds
    assert "Traceback" not in err
    (message,) = err.splitlines()
    assert message.endswith("of 'slow' was cancelled and recorded as cancelled")
    assert out.splitlines()[-1].split(": ")[0].split()[2] == "cancelled"
    (run,) = cli("history", "slow", "--json").json()
    assert run["status"] == "cancelled"
    steps = {s["name"]: s["status"] for s in cli("show", run["run_id"], "--json").json()["steps"]}
    assert steps == {"load": "succeeded", "wait": "cancelled"}


def test_a_terminal_gets_a_live_display(flows: Path, tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [SCRIPT, "run", "fails", "--import", "flows"], stdout=follower, stderr=follower,
        env=cli_env({"COLUMNS": "80", "LINES": "24"}), cwd=tmp_path, close_fds=True,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=60) == 1
    out = b"".join(chunks).decode()
    assert "\x1b[?25l" in out and out.count("\x1b[?25h") >= 1  # cursor hidden, then shown again
    assert "\x1b[5F" in out  # the block (header, 3 steps, bar) is redrawn in place
    last = out.rsplit("\x1b[J", 2)[-2]
    assert "✗" in last and "boom" in last and "failed" in last
    assert "3/3 steps" in last
    assert out.rstrip().splitlines()[-2].endswith(": 1 failed, 1 skipped, 1 succeeded")


@pytest.mark.dask
@pytest.mark.slow
def test_on_a_dask_cluster_the_workers_import_the_module(
    cli: Cli, flows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("distributed")
    # the scheduler (in this process) and the worker processes find flows.py as any deployment
    # would: on their path
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=40)
    try:
        address = cluster.scheduler_address.removeprefix("tcp://")
        result = cli("run", "sum", "--import", "flows", "-p", "n=6", "--executor", f"dask://{address}", "--json")
        data = result.json()
        assert result.code == 0, [s["error"] for s in data["steps"]]
        assert data["metrics"]["executor"] == "dask"
        # the leaf came back; the intermediate list stayed on the cluster (fetch="leaves") and says so
        assert {s["name"]: s["result"] for s in data["steps"]} == {"load": None, "total": 15}
        assert data["metrics"]["results_not_stored"]["load"].startswith("not fetched: ")
    finally:
        cluster.close()


@pytest.mark.dask
@pytest.mark.slow
def test_dask_local_runs_on_a_cluster_started_for_the_run(
    cli: Cli, flows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    result = cli("run", "sum", "--import", "flows", "-p", "n=4", "--executor", "dask-local", "--json")
    data = result.json()
    assert result.code == 0, [s["error"] for s in data["steps"]]
    assert data["metrics"]["executor"] == "dask"
    assert {s["name"]: s["result"] for s in data["steps"]} == {"load": None, "total": 6}
    assert data["metrics"]["results_not_stored"]["load"].startswith("not fetched: ")


def test_registered_actions_need_no_import(cli: Cli, _isolated_home: Path) -> None:
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep

    manager = WorkflowManager(config_dir=_isolated_home)
    manager.create_workflow("env", [WorkflowStep("check", "environment_setup", "check_environment")])
    manager.close()
    data = cli("run", "env", "--json").json()
    assert data["status"] == "completed"
    (step,) = data["steps"]
    assert step["result"]["python"]["version"].count(".") == 2
