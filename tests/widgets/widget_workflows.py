"""A four-step workflow with one failure, shared by the widget tests."""

from __future__ import annotations

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep


def define_four_steps(manager: WorkflowManager, name: str, *, max_retries: int) -> None:
    """``load -> clean``, ``load -> bad (raises) -> after`` as workflow ``name``."""

    def load() -> list[int]:
        return [1, 2, 3]

    def clean(load: list[int]) -> list[int]:
        return [x * 2 for x in load]

    def bad(load: list[int]) -> None:
        raise ValueError("bad input")

    def after(bad: None) -> None:
        return None

    steps = [
        WorkflowStep(n, f"notebook.{name}", n, dependencies=d, max_retries=max_retries)
        for n, d in [("load", []), ("clean", ["load"]), ("bad", ["load"]), ("after", ["bad"])]
    ]
    fns = {"load": load, "clean": clean, "bad": bad, "after": after}
    assert manager.create_workflow(name, steps, callables=fns)
