"""The get_* accessors: one instance per process, shared store, reset."""

from __future__ import annotations

import threading

from codomyrmex_jupyter import (
    get_orchestration_engine,
    get_project_manager,
    get_resource_manager,
    get_task_orchestrator,
    get_workflow_manager,
    reset_singletons,
)


def test_concurrent_first_calls_build_one_instance() -> None:
    barrier = threading.Barrier(8)
    seen: list[object] = []

    def grab() -> None:
        barrier.wait()
        seen.append(get_workflow_manager())

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in seen}) == 1


def test_engine_is_built_from_the_other_singletons() -> None:
    engine = get_orchestration_engine()
    assert engine.workflow_manager is get_workflow_manager()
    assert engine.resource_manager is get_resource_manager()
    assert engine.task_orchestrator is get_task_orchestrator()
    assert engine.project_manager is get_project_manager()


def test_reset_builds_new_instances() -> None:
    first = get_workflow_manager()
    reset_singletons()
    assert get_workflow_manager() is not first
