"""A real Dask cluster for tests: a ``dask scheduler`` and ``dask worker`` processes on loopback.

Started with the ``dask`` command line, as a user starts one, and stopped by
the tests. Workers run without a nanny, so a test can kill one by its pid
and the scheduler sees it die (nothing restarts it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DaskProcesses"]

_DASK = str(Path(sys.executable).with_name("dask"))


@dataclass
class DaskProcesses:
    """One scheduler and its workers, each a separate process."""

    folder: Path
    scheduler: subprocess.Popen[bytes] | None = None
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # name -> process
    address: str = ""

    def start(self, workers: dict[str, dict[str, float]]) -> DaskProcesses:
        """Start the scheduler (with a dashboard) and one worker per name (with its resources)."""
        scheduler_file = self.folder / "scheduler.json"
        self.scheduler = self._spawn(
            "scheduler", [_DASK, "scheduler", "--host", "127.0.0.1", "--port", "0",
                          "--dashboard-address", "127.0.0.1:0", "--scheduler-file", str(scheduler_file)],
        )
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                raise RuntimeError(f"the dask scheduler did not start: {self.log('scheduler')}")
            time.sleep(0.05)
        time.sleep(0.05)  # the file is written in one go, but give the writer its close
        self.address = json.loads(scheduler_file.read_text())["address"]
        for name, resources in workers.items():
            self.add_worker(name, resources)
        self.wait_for_workers(len(workers))
        return self

    def add_worker(self, name: str, resources: dict[str, float] | None = None) -> None:
        """Start one more worker process (two threads, no nanny)."""
        cmd = [_DASK, "worker", self.address, "--name", name, "--nthreads", "2", "--no-nanny",
               "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"]
        if resources:
            cmd += ["--resources", ",".join(f"{k}={v:g}" for k, v in resources.items())]
        self.workers[name] = self._spawn(f"worker-{name}", cmd)

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        """Wait until the scheduler knows ``n`` workers."""
        import distributed

        with distributed.Client(self.address, set_as_default=False, timeout=30) as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill_worker_with_pid(self, pid: int) -> str:
        """SIGKILL the worker whose process is ``pid``; return its name."""
        for name, proc in self.workers.items():
            if proc.pid == pid:
                os.kill(pid, signal.SIGKILL)
                proc.wait(10)
                del self.workers[name]
                return name
        raise LookupError(f"no worker process with pid {pid}")

    def stop(self) -> None:
        """Stop every process this object started."""
        for proc in [*self.workers.values(), self.scheduler]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers.values(), self.scheduler]:
            if proc is not None:
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
        self.workers.clear()

    def log(self, name: str) -> str:
        """The end of a process's output (for failure messages)."""
        path = self.folder / f"{name}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        out = (self.folder / f"{name}.log").open("wb")
        env: dict[str, Any] = {**os.environ, "PYTHONUNBUFFERED": "1"}
        # the step functions of the tests live in test modules: workers import them by name,
        # as pytest does (their folders on the path)
        tests = Path(__file__).resolve().parent
        paths = [str(tests), str(tests / "engine"), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.folder)
