"""Fixtures of the command-line tests: run the installed console script in subprocesses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cli_helpers import FLOWS, SCRIPT, Cli, Result, cli_env


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
