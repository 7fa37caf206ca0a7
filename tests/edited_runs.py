"""Two recorded runs of one workflow that differ in each way a run diff shows (for run diff tests).

Run a: ``n=3``. Run b: ``clean`` edited (now failing for more than three
rows, so ``report`` is skipped), ``report`` given a ``title`` parameter,
``n=4``, and a recorded Python version of ``9.9.9``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter import WorkflowManager, WorkflowStep
from codomyrmex_jupyter.engine import provenance

SOURCE = '''
def load(n: int = 3):
    return list(range(n))

def clean(load):
    return [x * 2 for x in load]

def report(clean, title: str = "total"):
    return {title: sum(clean)}
'''
EDITED = SOURCE.replace(
    "    return [x * 2 for x in load]",
    "    if len(load) > 3:\n        raise ValueError('too many rows')\n    return [x * 3 for x in load]",
)


def define(manager: WorkflowManager, workflow: str, path: Path, source: str, title: str | None = None) -> None:
    """``workflow`` from the step functions in ``source``, kept in ``path`` as a notebook cell's are."""
    path.write_text(source)
    ns: dict[str, Any] = {}
    exec(compile(source, str(path), "exec"), ns)  # noqa: S102 - the test's own code
    for name in ("load", "clean", "report"):
        manager.register_action(workflow, name, ns[name])
    manager.create_workflow(workflow, [
        WorkflowStep("load", workflow, "load"),
        WorkflowStep("clean", workflow, "clean", dependencies=["load"]),
        WorkflowStep("report", workflow, "report", dependencies=["clean"],
                     parameters={"title": title} if title else {}),
    ])


def two_differing_runs(manager: WorkflowManager, workflow: str, folder: Path) -> dict[str, str]:
    """Record runs a and b (see the module docstring): their ids and the real Python version."""
    folder.mkdir(parents=True, exist_ok=True)
    define(manager, workflow, folder / f"{workflow}_1.py", SOURCE)
    a = manager.run_workflow(workflow, parameters={"n": 3}).execution_id
    define(manager, workflow, folder / f"{workflow}_2.py", EDITED, title="t")
    real = provenance.environment
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(provenance, "environment", lambda modules: {**real(modules), "python": "9.9.9"})
        b = manager.run_workflow(workflow, parameters={"n": 4}).execution_id
    return {"a": a, "b": b, "python": str(real([])["python"])}
