"""The action registry: decorators, entry points, allowed imports, close matches."""

from __future__ import annotations

import types

import pytest

from codomyrmex_jupyter.engine import actions as actions_mod
from codomyrmex_jupyter.engine.actions import ActionRegistry, ActionSpec
from codomyrmex_jupyter.errors import UnknownActionError


def test_decorator_registers_sync_and_async(registry: ActionRegistry) -> None:
    @registry.action("m")
    def f(a, b=1, **kw):
        return a

    @registry.action("m", "g")
    async def g():
        return 1

    spec = registry.resolve("m", "f")
    assert (spec.is_async, spec.params, spec.required, spec.var_kw) == (False, {"a", "b"}, {"a"}, True)
    assert registry.resolve("m", "g").is_async
    assert registry.known() == ["m.f", "m.g"]
    assert ("m", "g") in registry


def test_unknown_action_close_matches(registry: ActionRegistry) -> None:
    registry.register("static_analysis", "analyze_code_quality", lambda: 1)
    with pytest.raises(UnknownActionError) as info:
        registry.resolve("static_analysis", "analyze_code_qualty")
    assert info.value.close_matches == ["static_analysis.analyze_code_quality"]
    assert str(info.value) == (
        "unknown action static_analysis.analyze_code_qualty; "
        "did you mean static_analysis.analyze_code_quality?"
    )


def test_notebook_step_missing_in_this_kernel(registry: ActionRegistry) -> None:
    err = registry.unknown("notebook.etl", "load")
    assert str(err) == (
        "step 'load' of workflow 'etl' was defined in a notebook cell; "
        "run that %%workflow cell again in this kernel before running it"
    )


def test_imports_only_for_allowed_prefixes(registry: ActionRegistry) -> None:
    assert registry.find("json", "dumps") is None  # not allowed: never imported
    registry.allow("json")
    spec = registry.find("json", "dumps")
    assert spec is not None and spec.fn.__name__ == "dumps"
    assert registry.resolve_reference("json:loads").fn.__name__ == "loads"
    registry.allow("os.")
    assert registry.find("os.path", "join") is not None
    assert registry.find("osx.path", "join") is None


def test_a_scoped_registry_keeps_its_imports_to_itself(registry: ActionRegistry) -> None:
    registry.register("t", "shared", lambda: 1)
    scoped = registry.scoped(["json"])
    assert scoped.find("t", "shared") is registry.find("t", "shared")  # it sees the parent's
    assert scoped.find("json", "dumps") is not None
    assert registry.find("json", "dumps") is None  # the parent never learns the import
    assert "json.dumps" in scoped.known() and "json.dumps" not in registry.known()
    scoped.register("t", "via_scope", lambda: 2)  # registrations are shared, as before
    assert registry.find("t", "via_scope") is not None
    assert registry.scoped([]).find("json", "dumps") is None  # another scope has its own view


def test_entry_points_are_loaded_on_first_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    def provide(reg: ActionRegistry) -> None:
        reg.register("pack", "hello", lambda: "hi")

    ep = types.SimpleNamespace(name="pack", load=lambda: provide)
    broken = types.SimpleNamespace(name="broken", load=lambda: (_ for _ in ()).throw(ImportError("x")))
    monkeypatch.setattr(actions_mod, "entry_points", lambda group: [broken, ep])
    reg = ActionRegistry(load_builtins=False)
    assert reg.resolve("pack", "hello").fn() == "hi"


def test_builtins_register_themselves() -> None:
    reg = ActionRegistry(load_entry_points=False)
    known = reg.known()
    for name in (
        "environment_setup.check_environment",
        "static_analysis.analyze_code_quality",
        "static_analysis.analyze_code",
        "data_visualization.create_chart",
    ):
        assert name in known


def test_spec_rejects_non_callables() -> None:
    with pytest.raises(TypeError, match="must be callable"):
        ActionSpec.describe("m", "x", 3)  # type: ignore[arg-type]
