"""The step cache in runs: hits end steps cached uncalled, misses store, the bound evicts LRU."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.cache.step_cache import RunCache, StepCache
from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.engine.state import check_transition
from codomyrmex_jupyter.engine.store import Store


@dataclass
class S:
    name: str
    module: str = "t"
    action: str = "load"
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: list[str] = field(default_factory=list)
    timeout: float | None = None
    max_retries: int = 0
    version: str | None = None


@pytest.fixture
def cache(tmp_path: Path) -> StepCache:
    return StepCache(Store(tmp_path), tmp_path / "cache", key_file=tmp_path / "cache.key")


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def registry(calls: list[str]) -> ActionRegistry:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)

    def load(n: int = 3) -> list[int]:
        calls.append("load")
        return list(range(n))

    def double(load: list[int]) -> list[int]:
        calls.append("double")
        return [2 * x for x in load]

    def opaque() -> Any:
        calls.append("opaque")
        return lambda: 1  # pickle cannot serialise it

    reg.register("t", "load", load)
    reg.register("t", "double", double)
    reg.register("t", "opaque", opaque)
    return reg


def pipeline(n: int | None = None) -> list[S]:
    return [S("load", parameters={} if n is None else {"n": n}), S("double", action="double", dependencies=["load"])]


def go(cache: StepCache, registry: ActionRegistry, steps: list[S], **options: Any) -> Run:
    source = cache.for_run(workflow="w", enabled=[True] * len(steps), **options)
    run = Run(steps, workflow="w", registry=registry, listeners=[source], results_from=source,
              retry_backoff=0.001)
    asyncio.run(run.execute())
    run.test_keys = source.keys  # type: ignore[attr-defined]
    return run


def outcomes(run: Run) -> dict[str, tuple[str, str | None]]:
    return {r.name: (r.status, r.cache) for r in run.records}


def test_a_hit_ends_the_step_cached_without_calling_it(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    first = go(cache, registry, pipeline())
    assert outcomes(first) == {"load": ("succeeded", "miss: no entry"), "double": ("succeeded", "miss: no entry")}
    calls.clear()
    second = go(cache, registry, pipeline())
    assert calls == []
    assert outcomes(second) == {"load": ("cached", "hit"), "double": ("cached", "hit")}
    assert second.results == {"load": [0, 1, 2], "double": [0, 2, 4]}
    assert second.status == "completed" and second.records[0].attempts == 0
    check_transition("ready", "cached")


def test_a_changed_parameter_misses_and_invalidates_downstream(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    go(cache, registry, pipeline(3))
    calls.clear()
    run = go(cache, registry, pipeline(4))
    assert calls == ["load", "double"]
    assert outcomes(run) == {"load": ("succeeded", "miss: parameter 'n' 3 -> 4"),
                             "double": ("succeeded", "miss: upstream 'load' changed")}
    calls.clear()
    assert outcomes(go(cache, registry, pipeline(3)))["double"] == ("cached", "hit")  # both entries kept


def test_version_and_force(cache: StepCache, registry: ActionRegistry, calls: list[str]) -> None:
    go(cache, registry, pipeline())
    steps = pipeline()
    steps[1].version = "2"
    calls.clear()
    assert outcomes(go(cache, registry, steps))["double"] == ("succeeded", "miss: version None -> '2'")
    assert calls == ["double"]
    calls.clear()
    forced = go(cache, registry, pipeline(), force=True)
    assert calls == ["load", "double"]
    assert {r.cache for r in forced.records} == {"miss: forced"}


def test_an_uncached_dependency_counts_by_its_result(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    def run_with(n: int) -> Run:
        source = cache.for_run(workflow="w", enabled=[False, True])
        run = Run(pipeline(n), workflow="w", registry=registry, listeners=[source], results_from=source)
        asyncio.run(run.execute())
        return run

    run_with(3)
    assert outcomes(run_with(3))["double"] == ("cached", "hit")
    assert outcomes(run_with(5)) == {"load": ("succeeded", None), "double": ("succeeded", "miss: upstream 'load' changed")}


def test_the_source_is_asked_once_per_step_even_with_retries(tmp_path: Path, cache: StepCache) -> None:
    reg = ActionRegistry(load_builtins=False, load_entry_points=False)
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("not yet")
        return 7

    reg.register("t", "load", flaky)
    steps = [S("load", max_retries=3)]
    source = cache.for_run(workflow="w", enabled=[True])
    asked: list[int] = []
    real = source.lookup

    def counting(run: Run, index: int, spec: Any) -> Any:
        asked.append(index)
        return real(run, index, spec)

    source.lookup = counting  # type: ignore[method-assign]
    run = Run(steps, workflow="w", registry=reg, listeners=[source], results_from=source, retry_backoff=0.001)
    asyncio.run(run.execute())
    assert (run.status, len(attempts), asked) == ("completed", 3, [0])
    assert (source.hits, source.misses) == (0, 1)


def test_a_result_pickle_cannot_serialise_is_not_cached_and_the_run_goes_on(
    cache: StepCache, registry: ActionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run = go(cache, registry, [S("opaque", action="opaque")])
    assert run.status == "completed"
    assert "result not cached" in caplog.text and "cannot be pickled" in caplog.text
    assert cache.usage().entries == 0


def test_kept_results_end_cached_without_a_lookup(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    source = cache.for_run(workflow="w", enabled=[False, False], kept={"load": [5]}, kept_note="kept: run abc")
    run = Run(pipeline(), workflow="w", registry=registry, listeners=[source], results_from=source)
    asyncio.run(run.execute())
    assert calls == ["double"]
    assert outcomes(run) == {"load": ("cached", "kept: run abc"), "double": ("succeeded", None)}
    assert run.results["double"] == [10]


def entry_sizes(cache: StepCache) -> dict[str, int]:
    return {r["key"]: r["size"] for r in cache.store.query("SELECT key, size FROM cache_entries")}


def test_eviction_is_least_recently_used_within_the_byte_bound(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    runs = [go(cache, registry, [S("load", parameters={"n": n})]) for n in (100, 101, 102)]
    keys = [r.test_keys[0] for r in runs]  # type: ignore[attr-defined]
    sizes = entry_sizes(cache)
    assert set(keys) == set(sizes)
    time.sleep(0.01)
    go(cache, registry, [S("load", parameters={"n": 100})])  # a hit: the first entry is now the newest used
    total = sum(sizes.values())
    cache.set_max_bytes(total - 1)  # one must go: the least recently used is the second
    assert set(entry_sizes(cache)) == {keys[0], keys[2]}
    assert not cache.entries.path(keys[1]).exists()
    go(cache, registry, [S("load", parameters={"n": 103})])  # a new entry pushes out the next oldest
    left = entry_sizes(cache)
    assert keys[2] not in left and keys[0] in left
    assert sum(left.values()) <= cache.max_bytes


def test_a_result_bigger_than_the_bound_is_not_cached(
    cache: StepCache, registry: ActionRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    cache.set_max_bytes(50)
    with caplog.at_level(logging.WARNING):
        run = go(cache, registry, [S("load", parameters={"n": 1000})])
    assert run.status == "completed" and "more than cache_max_bytes" in caplog.text
    assert cache.usage().entries == 0 and not list((cache.directory or Path()).glob("*/*.entry"))


def test_usage_clear_and_a_folder_deleted_by_hand(
    cache: StepCache, registry: ActionRegistry, calls: list[str]
) -> None:
    go(cache, registry, pipeline())
    go(cache, registry, pipeline())
    usage = cache.usage()
    assert (usage.entries, usage.hits, usage.misses) == (2, 2, 2)
    assert usage.hit_rate == 0.5 and usage.bytes > 0
    import shutil

    assert cache.directory is not None
    shutil.rmtree(cache.directory)  # deleting the folder by hand is safe: every entry is a miss
    calls.clear()
    run = go(cache, registry, pipeline())
    assert calls == ["load", "double"] and {r.cache for r in run.records} == {"miss: no entry"}
    assert cache.clear("other") == (0, 0)
    count, freed = cache.clear("w")
    assert count == 2 and freed > 0
    assert cache.usage().entries == 0 and cache.usage().hits == 0


def test_clear_all_removes_entries_the_index_lost(cache: StepCache, registry: ActionRegistry) -> None:
    go(cache, registry, pipeline())
    with cache.store.transaction() as conn:
        conn.execute("DELETE FROM cache_entries")  # as if a kernel died before writing its index
    count, freed = cache.clear()
    assert count == 2 and freed > 0
    assert cache.directory is not None and not list(cache.directory.glob("*/*.entry"))


def test_the_outcomes_for_the_run_record(cache: StepCache, registry: ActionRegistry) -> None:
    steps = pipeline()
    source = cache.for_run(workflow="w", enabled=[True, False])
    run = Run(steps, workflow="w", registry=registry, listeners=[source], results_from=source)
    asyncio.run(run.execute())
    out = RunCache.outcomes(source, run)
    assert list(out) == ["load"] and out["load"]["outcome"] == "miss: no entry" and len(out["load"]["key"]) == 32


def test_a_tampered_entry_in_a_run_is_a_miss_and_never_unpickled(
    cache: StepCache, registry: ActionRegistry, calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from codomyrmex_jupyter.engine.cache import entries as entries_module

    first = go(cache, registry, pipeline())
    key = first.test_keys[0]  # type: ignore[attr-defined]
    path = cache.entries.path(key)
    blob = bytearray(path.read_bytes())
    blob[-4] ^= 0xFF
    path.write_bytes(bytes(blob))
    unpickled: list[object] = []
    real = entries_module._unpickle
    monkeypatch.setattr(entries_module, "_unpickle", lambda data: unpickled.append(1) or real(data))
    calls.clear()
    run = go(cache, registry, pipeline())
    assert outcomes(run)["load"] == ("succeeded", "miss: entry signature does not match (ignored)")
    assert calls == ["load"]  # recomputed; double's entry (same key as before) still hits
    assert len(unpickled) == 1  # only double's entry, whose signature holds
    assert cache.get(key)[0] == "found"  # the bad entry was replaced by a good one
