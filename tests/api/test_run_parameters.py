"""Run parameters that no step takes are an error naming the accepted ones."""

from __future__ import annotations

import pytest

from codomyrmex_jupyter.api.run_parameters import accepted_parameters
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.errors import CodomyrmexError, UnknownParameterError


def _define(manager: WorkflowManager) -> None:
    def load(n: int = 10, path: str = "data.csv") -> list[int]:
        return list(range(n))

    def clean(load: list[int], threshold: float = 0.5, inputs: dict | None = None) -> list[int]:
        return load

    steps = [
        WorkflowStep("load", "notebook.p", "load", parameters={"path": "fixed.csv"}),
        WorkflowStep("clean", "notebook.p", "clean", dependencies=["load"]),
    ]
    assert manager.create_workflow("p", steps, callables={"load": load, "clean": clean})


def test_accepted_names_leave_out_fixed_parameters_dependencies_and_inputs(manager: WorkflowManager) -> None:
    _define(manager)
    assert accepted_parameters(manager.get_workflow("p"), manager.registry) == {"n", "threshold"}


def test_an_unknown_run_parameter_is_an_error_before_anything_is_stored(manager: WorkflowManager) -> None:
    _define(manager)
    with pytest.raises(UnknownParameterError) as info:
        manager.run_workflow("p", {"m": 4, "n": 3})
    err = info.value
    assert isinstance(err, CodomyrmexError) and isinstance(err, TypeError)
    assert (err.unknown, err.accepted) == (["m"], ["n", "threshold"])
    assert str(err) == "no step of workflow 'p' takes the run parameter 'm'; it accepts: n, threshold"
    assert manager.history("p") == []
    assert manager.run_workflow("p", {"n": 3, "threshold": 1.0}).status.value == "completed"


def test_kwargs_or_unknown_actions_accept_anything(manager: WorkflowManager) -> None:
    def anything(**kwargs: object) -> int:
        return len(kwargs)

    assert manager.create_workflow("kw", [WorkflowStep("a", "notebook.kw", "a")], callables={"a": anything})
    assert manager.run_workflow("kw", {"whatever": 1}).results["a"] == 1
    later = [WorkflowStep("a", "later", "thing")]
    assert accepted_parameters(later, manager.registry) is None


def test_a_workflow_without_parameters_says_so(manager: WorkflowManager) -> None:
    def a() -> int:
        return 1

    assert manager.create_workflow("none", [WorkflowStep("a", "notebook.none", "a")], callables={"a": a})
    with pytest.raises(UnknownParameterError, match="takes the run parameters 'x', 'y'; it accepts none"):
        manager.run_workflow("none", {"x": 1, "y": 2})
