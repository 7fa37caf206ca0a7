"""codomyrmex_jupyter.api.module_workflows: workflows registered by importing a module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from codomyrmex_jupyter.api import module_workflows
from codomyrmex_jupyter.api.module_workflows import module_workflow, register_workflow
from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.errors import CycleError, WorkflowValidationError


@pytest.fixture(autouse=True)
def _forget() -> Iterator[None]:
    yield
    module_workflows._registered.clear()


def steps(module: str = "mw") -> list[WorkflowStep]:
    return [WorkflowStep("a", module, "one", max_retries=0),
            WorkflowStep("b", module, "one", dependencies=["a"], max_retries=0)]


def test_register_and_run_by_name(manager: WorkflowManager) -> None:
    manager.register_action("mw", "one", lambda: 1)
    register_workflow("coded", steps())
    entry = module_workflow("coded")
    assert entry is not None and entry.module == __name__ and "def test_register_and_run_by_name" in (
        entry.source or "")
    ex = manager.run_workflow("coded")
    assert (ex.status.value, ex.version) == ("completed", 1)
    stored = manager.store.load_workflow("coded")
    assert stored is not None and stored["origin"] == "module"


def test_the_store_gets_a_new_version_only_when_the_definition_changed(tmp_path: Path) -> None:
    register_workflow("coded", steps())
    first = WorkflowManager(config_dir=tmp_path / "h")
    assert first.get_graph("coded").names == ("a", "b")
    second = WorkflowManager(config_dir=tmp_path / "h")
    second.get_workflow("coded")
    assert second.store.load_workflow("coded")["version"] == 1  # type: ignore[index]
    register_workflow("coded", steps("other"))
    third = WorkflowManager(config_dir=tmp_path / "h")
    assert third.get_workflow("coded")[0].module == "other"  # type: ignore[index]
    assert third.store.load_workflow("coded")["version"] == 2  # type: ignore[index]
    for m in (first, second, third):
        m.close()


def test_a_definition_made_in_this_process_wins(manager: WorkflowManager) -> None:
    manager.create_workflow("coded", [WorkflowStep("only", "mw", "one")])
    register_workflow("coded", steps())
    assert [s.name for s in manager.get_workflow("coded") or []] == ["only"]


@pytest.mark.parametrize(
    ("name", "bad", "error"),
    [
        ("", steps(), WorkflowValidationError),
        ("x", [{"name": "a"}], WorkflowValidationError),
        ("x", [WorkflowStep("a", "m", "a", dependencies=["a2"]),
               WorkflowStep("a2", "m", "a", dependencies=["a"])], CycleError),
    ],
)
def test_invalid_definitions_are_refused(name: str, bad: list, error: type[Exception]) -> None:
    with pytest.raises(error):
        register_workflow(name, bad)
    assert module_workflow(name) is None
