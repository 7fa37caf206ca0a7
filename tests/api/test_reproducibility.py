"""The step cache, explanations, run diffs and reruns through WorkflowManager."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter import ReproducibilityError, WorkflowManager, WorkflowStep
from codomyrmex_jupyter.api.workflow_models import WorkflowStatus, step_from_dict
from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.errors import WorkflowValidationError

_cells = itertools.count()

SOURCE = '''
CALLS = []

def _scale(x):
    return x * 2

def load(n: int = 3):
    CALLS.append("load")
    return list(range(n))

def clean(load):
    CALLS.append("clean")
    return [_scale(x) for x in load]

def report(clean, title: str = "total"):
    CALLS.append("report")
    return {title: sum(clean)}
'''


class Notebook:
    """Defines the three step functions from source text, as a notebook cell would."""

    def __init__(self, tmp_path: Path, manager: WorkflowManager) -> None:
        self.tmp_path = tmp_path
        self.manager = manager
        self.ns: dict[str, Any] = {}

    def define(self, source: str = SOURCE, *, cache: bool = True, **extra: Any) -> None:
        path = self.tmp_path / f"cell_{next(_cells)}.py"
        path.write_text(source)
        self.ns = {}
        exec(compile(source, str(path), "exec"), self.ns)  # noqa: S102 - the test's own code
        for name in ("load", "clean", "report"):
            self.manager.register_action("nb", name, self.ns[name])
        steps = [
            WorkflowStep("load", "nb", "load", cache=cache, **extra.get("load", {})),
            WorkflowStep("clean", "nb", "clean", dependencies=["load"], cache=cache, **extra.get("clean", {})),
            WorkflowStep("report", "nb", "report", dependencies=["clean"], cache=cache, **extra.get("report", {})),
        ]
        assert self.manager.create_workflow("etl", steps)

    @property
    def calls(self) -> list[str]:
        return self.ns["CALLS"]

    def run(self, **kwargs: Any) -> Any:
        self.calls.clear()
        return self.manager.run_workflow("etl", **kwargs)


def caches(ex: Any) -> dict[str, str | None]:
    return {n: r.cache for n, r in ex.step_records.items()}


@pytest.fixture
def nb(tmp_path: Path) -> Any:
    manager = WorkflowManager(config_dir=tmp_path / "home",
                              registry=ActionRegistry(load_builtins=False, load_entry_points=False))
    book = Notebook(tmp_path, manager)
    book.define()
    yield book
    manager.close()


def test_a_hit_per_unchanged_step(nb: Notebook) -> None:
    first = nb.run()
    assert nb.calls == ["load", "clean", "report"] and set(caches(first).values()) == {"miss: no entry"}
    second = nb.run()
    assert nb.calls == []
    assert caches(second) == dict.fromkeys(["load", "clean", "report"], "hit")
    assert {r.status for r in second.step_records.values()} == {"cached"}
    assert second.results == first.results == {"load": [0, 1, 2], "clean": [0, 2, 4], "report": {"total": 6}}
    assert second.status is WorkflowStatus.COMPLETED


def test_a_comment_only_edit_is_still_a_hit(nb: Notebook) -> None:
    nb.run()
    nb.define(SOURCE.replace("    return x * 2", "    # doubles\n\n    return x * 2  # see notes"))
    nb.run()
    assert nb.calls == []


def test_a_code_edit_misses_there_and_downstream(nb: Notebook) -> None:
    nb.run()
    nb.define(SOURCE.replace("return x * 2", "return x * 3"))  # the helper of clean
    ex = nb.run()
    assert nb.calls == ["clean", "report"]
    assert caches(ex) == {"load": "hit", "clean": "miss: code changed", "report": "miss: upstream 'clean' changed"}


def test_a_parameter_misses_with_from_and_to(nb: Notebook) -> None:
    nb.run(parameters={"n": 5})
    ex = nb.run(parameters={"n": 6})
    assert caches(ex)["load"] == "miss: parameter 'n' 5 -> 6"
    assert nb.calls == ["load", "clean", "report"]
    nb.run(parameters={"n": 3})
    same = nb.run()  # the default and the same value passed explicitly give the same key
    assert nb.calls == [] and caches(same)["load"] == "hit"


def test_a_version_forces_a_new_key(nb: Notebook) -> None:
    nb.run()
    nb.define(report={"version": "2"})
    ex = nb.run()
    assert nb.calls == ["report"]
    assert caches(ex)["report"] == "miss: version None -> '2'"


def test_run_options_cache_and_force(nb: Notebook) -> None:
    nb.define(cache=False)
    ex = nb.run()
    assert set(caches(ex).values()) == {None}
    nb.run(cache=True)
    assert nb.calls == ["load", "clean", "report"]
    nb.run(cache=True)
    assert nb.calls == []
    nb.run(cache=False)
    assert nb.calls == ["load", "clean", "report"]
    forced = nb.run(cache=True, force=True)
    assert nb.calls == ["load", "clean", "report"] and set(caches(forced).values()) == {"miss: forced"}


def test_explain_says_what_changed(nb: Notebook) -> None:
    assert [s.outcome for s in nb.manager.explain("etl").steps] == ["miss: no entry"] * 3
    nb.run()
    assert nb.manager.explain("etl").hits == ["load", "clean", "report"]
    nb.define(SOURCE.replace("return x * 2", "return x * 3"))
    why = nb.manager.explain("etl", parameters={"title": "sum"})
    assert why["load"].hit
    assert why["clean"].outcome == "miss: code changed"
    assert "-    return x * 2" in (why["clean"].code_diff or "") and "+    return x * 3" in (why["clean"].code_diff or "")
    assert why["report"].outcome == "miss: parameter 'title' 'total' -> 'sum'"
    assert why["report"].upstream == ["clean"]
    assert "code changed" in str(why) and "miss:" in why._repr_html_()
    one = nb.manager.explain("etl", "clean")
    assert [s.step for s in one.steps] == ["clean"]
    with pytest.raises(WorkflowValidationError, match="no step 'nope'"):
        nb.manager.explain("etl", "nope")


def test_explain_steps_that_cannot_be_known(nb: Notebook) -> None:
    nb.define(cache=False)
    nb.run()
    why = nb.manager.explain("etl")
    assert {s.outcome for s in why.steps} == {"not cached"}
    steps = nb.manager.get_workflow("etl")
    assert steps is not None
    steps[2].cache = True
    nb.manager.create_workflow("etl", steps)
    assert nb.manager.explain("etl")["report"].outcome.startswith("unknown: depends on the result of 'clean'")


def test_diff_runs(nb: Notebook, monkeypatch: pytest.MonkeyPatch) -> None:
    a = nb.run()
    nb.define(SOURCE.replace("return x * 2", "return x * 3"), cache=False, report={"parameters": {"title": "t"}})
    from codomyrmex_jupyter.engine import provenance

    real = provenance.environment
    monkeypatch.setattr(provenance, "environment",
                        lambda modules: {**real(modules), "python": "9.9.9"})
    b = nb.run(parameters={"n": 4})
    diff = nb.manager.diff_runs(a.execution_id[:8], b.execution_id)
    assert diff.parameters == [("n", None, "4")]
    assert ("python", real([])["python"], "9.9.9") in diff.environment
    by = {s.step: s for s in diff.steps}
    assert by["clean"].code_changed and "+    return x * 3" in (by["clean"].code_diff or "")
    assert not by["load"].code_changed and by["load"].result == "list len 3 -> len 4"
    assert by["report"].parameters == [("title", None, "'t'")]
    assert by["report"].duration[0] is not None and by["report"].state == ("succeeded", "succeeded")
    assert "code changed" in diff.text() and "<table" in diff._repr_html_()
    same = nb.manager.diff_runs(b.execution_id, b.execution_id)
    assert same.identical and "no step changed" in str(same)


def test_diff_added_removed_rewired_and_failed(nb: Notebook) -> None:
    a = nb.run()
    m = nb.manager
    m.register_action("nb", "extra", lambda: 1)
    steps = [WorkflowStep("load", "nb", "load"), WorkflowStep("clean", "nb", "clean", dependencies=["load"]),
             WorkflowStep("extra", "nb", "extra"),
             WorkflowStep("report", "nb", "report", dependencies=["clean", "extra"])]
    m.create_workflow("etl", steps)
    b = nb.run()
    by = {s.step: s for s in m.diff_runs(a.execution_id, b.execution_id).steps}
    assert by["extra"].change == "added"
    assert by["report"].dependencies == (["clean"], ["clean", "extra"])
    m.create_workflow("etl", steps[:2])
    nb.ns["_scale"] = None  # clean now fails
    c = nb.run()
    by = {s.step: s for s in m.diff_runs(b.execution_id, c.execution_id).steps}
    assert by["report"].change == "removed" and by["clean"].state == ("succeeded", "failed")
    with pytest.raises(ReproducibilityError, match="no run with id 'zzzzzzzz'"):
        m.diff_runs("zzzzzzzz", c.execution_id)


def test_rerun_repeats_with_the_same_parameters(nb: Notebook) -> None:
    nb.define(cache=False)
    first = nb.run(parameters={"n": 4})
    nb.calls.clear()
    again = nb.manager.rerun(first.execution_id[:8])
    assert nb.calls == ["load", "clean", "report"]
    assert again.results == first.results and again.parameters == {"n": 4}
    assert again.version == first.version and again.execution_id != first.execution_id


def test_a_plain_rerun_refuses_code_that_changed(nb: Notebook) -> None:
    first = nb.run()
    nb.define(SOURCE.replace("return x * 2", "return x * 3"))
    with pytest.raises(ReproducibilityError, match="step 'clean' was edited since"):
        nb.manager.rerun(first.execution_id)
    nb.manager.registry.unregister("nb")
    with pytest.raises(ReproducibilityError, match="unknown action nb.load"):
        nb.manager.rerun(first.execution_id)


def test_rerun_from_failed_keeps_what_succeeded(nb: Notebook) -> None:
    nb.define(SOURCE.replace("return {title: sum(clean)}", "return {title: sum(clean) / 0}"), cache=False)
    failed = nb.run()
    assert failed.status is WorkflowStatus.FAILED
    nb.define(cache=False)  # the fix
    nb.calls.clear()
    fixed = nb.manager.rerun(failed.execution_id, from_failed=True)
    assert nb.calls == ["report"]
    assert fixed.status is WorkflowStatus.COMPLETED and fixed.results["report"] == {"total": 6}
    note = f"kept: run {failed.execution_id[:8]}"
    assert caches(fixed) == {"load": note, "clean": note, "report": None}
    assert fixed.step_records["load"].status == "cached"


def test_rerun_from_failed_in_a_new_kernel_uses_stored_or_cached_results(tmp_path: Path, nb: Notebook) -> None:
    nb.define(SOURCE.replace("return {title: sum(clean)}", "return {title: sum(clean) / 0}"), cache=False)
    failed = nb.run()
    later = WorkflowManager(config_dir=tmp_path / "home",
                            registry=ActionRegistry(load_builtins=False, load_entry_points=False))
    book = Notebook(tmp_path, later)
    book.define(cache=False)
    book.calls.clear()
    fixed = later.rerun(failed.execution_id, from_failed=True)  # the JSON results stored with the run
    assert book.calls == ["report"] and fixed.results["report"] == {"total": 6}
    later.close()


def test_rerun_errors_are_clear(nb: Notebook) -> None:
    with pytest.raises(ReproducibilityError, match="no run with id 'abcd1234'"):
        nb.manager.rerun("abcd1234")
    m = nb.manager
    m.create_workflow("tmp", [WorkflowStep("load", "nb", "load")], save=False)
    ex = m.run_workflow("tmp")
    again = m.rerun(ex.execution_id)  # unsaved: its definition is in the run's record
    assert again.results == {"load": [0, 1, 2]}


def test_steps_carry_cache_and_version_through_the_store() -> None:
    step = WorkflowStep("a", "m", "f", cache=True, version="3")
    assert step.to_dict() == {"name": "a", "module": "m", "action": "f", "cache": True, "version": "3"}
    assert step_from_dict(step.to_dict()) == step
    assert "cache" not in WorkflowStep("a", "m", "f").to_dict()
    with pytest.raises(TypeError, match="cache .yes. is a str; give True or False"):
        step_from_dict({"name": "a", "module": "m", "action": "f", "cache": "yes"})


def test_bad_cache_fields_and_bound(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    m = WorkflowManager(config_dir=tmp_path)
    with caplog.at_level(logging.WARNING):
        assert not m.create_workflow("w", [WorkflowStep("a", "m", "f", version=3)])  # type: ignore[arg-type]
    assert "version 3 is a int; give a string such as" in caplog.text
    with pytest.raises(ValueError, match="cache_max_bytes must be a whole number"):
        WorkflowManager(config_dir=tmp_path, cache_max_bytes=-1)
    m.cache_max_bytes = 1000
    assert m.cache_usage().max_bytes == 1000
    m.close()
    assert WorkflowManager(config_dir=tmp_path, cache_max_bytes=7).cache_max_bytes == 7


def test_history_and_show_carry_the_cache_outcomes(nb: Notebook, tmp_path: Path) -> None:
    nb.run()
    second = nb.run()
    later = WorkflowManager(config_dir=tmp_path / "home")
    stored = later.get_execution(second.execution_id)
    assert stored is not None
    assert caches(stored) == dict.fromkeys(["load", "clean", "report"], "hit")
    assert stored.results["report"] == {"total": 6}  # a cached step's result is stored like any other
    assert later.history("etl")[0].performance_metrics["counts"] == {"cached": 3}
    later.close()
