"""Run the installed ``codomyrmex-jupyter`` console script in subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent
SCRIPT = shutil.which("codomyrmex-jupyter", path=str(BIN)) or str(BIN / "codomyrmex-jupyter")

# A module like the ones %orchestrate export writes: actions + a definition.
FLOWS = textwrap.dedent(
    """
    import pathlib
    import time

    from codomyrmex_jupyter import WorkflowStep, action, register_workflow

    ACTIONS = "flows"


    @action(ACTIONS, "load")
    def load(n: int = 3):
        return list(range(n))


    @action(ACTIONS, "total")
    def total(load):
        return sum(load)


    @action(ACTIONS, "wait")
    def wait(marker: str = "", seconds: float = 60.0):
        if marker:
            pathlib.Path(marker).write_text("running")
        time.sleep(seconds)
        return seconds


    @action(ACTIONS, "boom")
    def boom(load):
        raise ValueError(f"boom after {len(load)}")


    register_workflow("sum", [
        WorkflowStep(name="load", module=ACTIONS, action="load", max_retries=0),
        WorkflowStep(name="total", module=ACTIONS, action="total", dependencies=["load"], max_retries=0),
    ])
    register_workflow("fails", [
        WorkflowStep(name="load", module=ACTIONS, action="load", max_retries=0),
        WorkflowStep(name="boom", module=ACTIONS, action="boom", dependencies=["load"], max_retries=0),
        WorkflowStep(name="after", module=ACTIONS, action="total", dependencies=["boom"], max_retries=0),
    ])
    register_workflow("slow", [
        WorkflowStep(name="load", module=ACTIONS, action="load", max_retries=0),
        WorkflowStep(name="wait", module=ACTIONS, action="wait", dependencies=["load"], max_retries=0),
    ])
    """
)


@dataclass
class Result:
    """What a command printed and its exit code."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)


Cli = Callable[..., Result]


def cli_env(extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The test's environment (its ``$CODOMYRMEX_HOME``) with ``extra`` (``None`` unsets)."""
    env = dict(os.environ)
    env.pop("NO_COLOR", None)
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """``cli(*args, cwd=..., env=...)`` runs the console script and returns a :class:`Result`."""

    def run(*args: str, cwd: Path | None = None, env: dict[str, str | None] | None = None,
            timeout: float = 120) -> Result:
        proc = subprocess.run(
            [SCRIPT, *args], capture_output=True, text=True, env=cli_env(env),
            cwd=cwd or tmp_path, timeout=timeout, check=False,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    """``flows.py`` in the working directory of :func:`cli`: actions and three workflows."""
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    return path


@pytest.fixture
def recorded(_isolated_home: Path) -> dict[str, str]:
    """A store with two workflows and three runs (two completed, one failed); their ids."""
    from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
    from codomyrmex_jupyter.api.workflow_models import WorkflowStep
    from codomyrmex_jupyter.engine.actions import ActionRegistry

    registry = ActionRegistry(load_builtins=False, load_entry_points=False)
    registry.register("t", "ok", lambda n=1: n)
    registry.register("t", "boom", lambda: 1 / 0)
    manager = WorkflowManager(config_dir=_isolated_home, registry=registry, retry_backoff=0.01)
    try:
        manager.create_workflow("etl", [
            WorkflowStep("load", "t", "ok", max_retries=0),
            WorkflowStep("clean", "t", "ok", dependencies=["load"], max_retries=0),
        ])
        manager.create_workflow("broken", [
            WorkflowStep("a", "t", "boom", max_retries=0),
            WorkflowStep("b", "t", "ok", dependencies=["a"], max_retries=0),
        ])
        first = manager.run_workflow("etl", {"n": 3})
        second = manager.run_workflow("etl", {"n": 4})
        bad = manager.run_workflow("broken")
    finally:
        manager.close()
    return {"first": first.execution_id, "second": second.execution_id, "bad": bad.execution_id}
