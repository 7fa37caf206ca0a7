"""Helpers of the command-line tests: the console script, its environment, a module of flows."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
