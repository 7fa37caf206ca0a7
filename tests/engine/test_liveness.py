"""liveness.py and the store's recovery: no run stays 'running' after its process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from codomyrmex_jupyter.engine.liveness import dead_run_reason, pid_alive, process_start_time
from codomyrmex_jupyter.engine.store import Store

HOST = "this-host"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_pid_alive_and_start_time() -> None:
    assert pid_alive(os.getpid()) is True
    assert pid_alive(_dead_pid()) is False
    started = process_start_time(os.getpid())
    if sys.platform.startswith("linux"):
        assert started is not None and time.time() - 3600 * 24 < started <= time.time()


def test_dead_run_reason() -> None:
    now = time.time()
    me = os.getpid()
    dead = _dead_pid()
    row = {"host": HOST, "pid": me, "start": now, "heartbeat": now}
    assert dead_run_reason(row, host=HOST, now=now) is None  # a run of this very process
    assert dead_run_reason({**row, "pid": dead}, host=HOST, now=now).startswith(
        f"process {dead} on {HOST} ended before the run did (last heartbeat "
    )
    if sys.platform.startswith("linux"):  # our pid, but a run from before this process started
        reused = dead_run_reason({**row, "start": 1000.0, "heartbeat": 1000.0}, host=HOST, now=now)
        assert reused == f"process {me} on {HOST} ended before the run did (its pid now belongs to a newer process)"
    other = {"host": "elsewhere", "pid": 1, "start": now - 500, "heartbeat": now - 200}
    assert dead_run_reason(other, host=HOST, now=now, lease=120) == (
        "process 1 on elsewhere sent no heartbeat for 200s (lease 120s)"
    )
    assert dead_run_reason({**other, "heartbeat": now - 10}, host=HOST, now=now, lease=120) is None


def _running_row(store: Store, run_id: str, **fields) -> None:
    values = {"host": store.host, "pid": os.getpid(), "start": time.time(), "heartbeat": None, **fields}
    with store._write() as conn:
        conn.execute(
            "INSERT INTO runs(run_id, workflow, status, start, host, pid, heartbeat) VALUES(?,?,?,?,?,?,?)",
            (run_id, "w", "running", values["start"], values["host"], values["pid"], values["heartbeat"]),
        )


def test_opening_the_store_ends_runs_of_gone_processes(tmp_path: Path) -> None:
    store = Store(tmp_path)
    dead = _dead_pid()
    now = time.time()
    _running_row(store, "gone", pid=dead)
    _running_row(store, "remote_stale", host="elsewhere", pid=7, start=now - 900, heartbeat=now - 600)
    _running_row(store, "remote_fresh", host="elsewhere", pid=7, start=now - 900, heartbeat=now - 5)
    _running_row(store, "mine")  # this process: alive
    store.close()

    again = Store(tmp_path, lease=120)
    assert sorted(run_id for run_id, _ in again.recovered) == ["gone", "remote_stale"]
    status = {r["run_id"]: r["status"] for r in again.list_runs(limit=None)}
    assert status == {"gone": "failed", "remote_stale": "failed", "remote_fresh": "running", "mine": "running"}
    gone = again.get_run("gone")
    assert gone["errors"] == [
        f"run ended without finishing: process {dead} on {again.host} ended before the run did "
        f"(last heartbeat {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(gone['end']))} UTC); "
        f"found by process {os.getpid()} on {again.host}"
    ]
    assert gone["end"] is not None and gone["metrics"]["reason"].startswith(f"process {dead}")
    assert "sent no heartbeat for 600s (lease 120s)" in again.get_run("remote_stale")["errors"][0]
    assert Store(tmp_path).recovered == []  # nothing left to end


def test_a_live_run_keeps_its_heartbeat_fresh(tmp_path: Path) -> None:
    store = Store(tmp_path, heartbeat=0.05)
    store.start_run("live", "w", version=None, start=time.time() - 100, parameters=None)
    first = store._read("SELECT heartbeat FROM runs")[0]["heartbeat"]
    deadline = time.monotonic() + 10
    while store._read("SELECT heartbeat FROM runs")[0]["heartbeat"] <= first + 0.04:
        assert time.monotonic() < deadline, "no heartbeat written"
        time.sleep(0.02)
    assert store._stop_beating is not None  # this store's heartbeat thread runs
    store.finish_run("live", status="completed", end=time.time(), errors=[], metrics=None)
    deadline = time.monotonic() + 5
    while store._stop_beating is not None:  # its next tick finds no live run and stops it
        assert time.monotonic() < deadline, "the heartbeat did not stop after the last run"
        time.sleep(0.02)
    # another host sees the run recent enough to be alive, then ended for good
    assert store.get_run("live")["status"] == "completed"


KILLED = textwrap.dedent(
    """
    import pathlib, sys, time
    from codomyrmex_jupyter import WorkflowManager, WorkflowStep
    marker = pathlib.Path(sys.argv[2])
    manager = WorkflowManager(config_dir=sys.argv[1])

    def first():
        return 1

    def slow(first):
        marker.write_text("running")
        time.sleep(600)

    manager.register_action("k", "first", first)
    manager.register_action("k", "slow", slow)
    manager.create_workflow("doomed", [WorkflowStep("first", "k", "first"),
                                       WorkflowStep("slow", "k", "slow", dependencies=["first"])])
    manager.run_workflow("doomed")
    """
)


def test_sigkill_mid_run_then_a_new_process_sees_the_run_ended(tmp_path: Path) -> None:
    from codomyrmex_jupyter import WorkflowManager, WorkflowStatus

    home, marker = tmp_path / "home", tmp_path / "running"
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(home), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the run never started"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL

    manager = WorkflowManager(config_dir=home)  # the next process to open the store
    (execution,) = manager.history("doomed")
    assert execution.status is WorkflowStatus.FAILED
    assert execution.end_time is not None
    (error,) = execution.errors
    assert error.startswith(f"run ended without finishing: process {child.pid} on ")
    assert f"found by process {os.getpid()}" in error
    assert manager.get_execution(execution.execution_id).status is WorkflowStatus.FAILED
    manager.close()
