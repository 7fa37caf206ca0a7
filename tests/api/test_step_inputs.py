"""The inputs a step of a recorded run received: from memory, the cache, the stored results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter import ReproducibilityError, WorkflowManager, WorkflowStep
from codomyrmex_jupyter.api.step_inputs import step_call, step_exception
from codomyrmex_jupyter.engine.actions import ActionRegistry


class Unstorable:
    """Not JSON: kept only in memory or in the cache."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows


def load(n: int = 3) -> Any:
    return Unstorable(list(range(n)))


def plain(n: int = 3) -> list[int]:
    return list(range(n))


def fit(load: Any, alpha: float = 0.5, inputs: Any = None) -> float:
    raise ValueError(f"cannot fit {len(load.rows) if hasattr(load, 'rows') else load} rows")


def manager_at(home: Path) -> WorkflowManager:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    for fn in (load, plain, fit):
        reg.register("nb", fn.__name__, fn)
    return WorkflowManager(config_dir=home, registry=reg)


def define(m: WorkflowManager, source: str = "load", cache: bool = False) -> None:
    m.create_workflow("model", [
        WorkflowStep("load", "nb", source, cache=cache),
        WorkflowStep("fit", "nb", "fit", dependencies=["load"], parameters={"alpha": 0.1}),
    ])


def test_inputs_from_this_kernel(tmp_path: Path) -> None:
    m = manager_at(tmp_path)
    define(m)
    ex = m.run_workflow("model", {"n": 4})
    call = step_call(m, ex.execution_id[:6], "fit")
    assert set(call.kwargs) == {"load", "alpha", "inputs"}
    assert call.kwargs["load"].rows == [0, 1, 2, 3] and call.kwargs["alpha"] == 0.1
    assert call.kwargs["inputs"]["load"] is call.kwargs["load"]
    assert not call.code_changed
    exc = step_exception(m, ex.execution_id, "fit")
    assert isinstance(exc, ValueError) and exc.__traceback__ is not None


def test_inputs_in_a_new_kernel_from_the_cache_or_the_stored_results(tmp_path: Path) -> None:
    first = manager_at(tmp_path)
    define(first, cache=True)
    cached_run = first.run_workflow("model")
    define(first, source="plain")
    stored_run = first.run_workflow("model")
    first.close()
    later = manager_at(tmp_path)
    assert step_call(later, cached_run.execution_id, "fit").kwargs["load"].rows == [0, 1, 2]
    assert step_call(later, stored_run.execution_id, "fit").kwargs["load"] == [0, 1, 2]
    with pytest.raises(ReproducibilityError, match="did not run in this kernel"):
        step_exception(later, cached_run.execution_id, "fit")
    later.close()


def test_what_is_missing_is_named(tmp_path: Path) -> None:
    m = manager_at(tmp_path)
    define(m)  # load returns something JSON cannot hold and it is not cached
    ex = m.run_workflow("model")
    with pytest.raises(ReproducibilityError, match="did not fail"):
        step_exception(m, ex.execution_id, "load")
    m.close()
    later = manager_at(tmp_path)
    with pytest.raises(ReproducibilityError, match="neither cached nor stored .* cache=True"):
        step_call(later, ex.execution_id, "fit")
    with pytest.raises(ReproducibilityError, match="no step 'nope'.*its steps: load, fit"):
        step_call(later, ex.execution_id, "nope")
    later.close()


def test_a_step_that_never_ran_has_no_inputs(tmp_path: Path) -> None:
    m = manager_at(tmp_path)
    m.register_action("nb", "after", lambda fit: fit)
    m.create_workflow("model", [
        WorkflowStep("load", "nb", "plain"), WorkflowStep("fit", "nb", "fit", dependencies=["load"]),
        WorkflowStep("after", "nb", "after", dependencies=["fit"]),
    ])
    ex = m.run_workflow("model")
    with pytest.raises(ReproducibilityError, match="step 'fit' did not succeed .*failed"):
        step_call(m, ex.execution_id, "after")
