"""The task-level ResourceManager of the original ``task_orchestrator`` module.

Written from ../shared/compat/original-api.md ("The task-level ResourceManager").
"""

from __future__ import annotations

import threading

from codomyrmex_jupyter import ResourceType, Task, TaskResource
from codomyrmex_jupyter.task_orchestrator import ResourceManager


def _task(*resources: tuple[ResourceType, str, str]) -> Task:
    return Task(module="m", action="a", resources=[TaskResource(t, i, m) for t, i, m in resources])


def test_attributes() -> None:
    rm = ResourceManager()
    assert rm.resource_locks == {}
    assert rm.resource_users == {}
    assert rm.lock is not None


def test_keys_and_users() -> None:
    rm = ResourceManager()
    t = _task((ResourceType.CPU, "cpu_1", "exclusive"), (ResourceType.MEMORY, "mem_1", "read"))
    assert rm.acquire_resources(t) is True
    assert rm.resource_users == {"cpu:cpu_1": {t.id}, "memory:mem_1": {t.id}}
    assert set(rm.resource_locks) == {"cpu:cpu_1", "memory:mem_1"}
    assert all(isinstance(lock, type(threading.Lock())) for lock in rm.resource_locks.values())


def test_modes() -> None:
    rm = ResourceManager()
    reader = _task((ResourceType.FILE, "f", "read"))
    other_reader = _task((ResourceType.FILE, "f", "read"))
    writer = _task((ResourceType.FILE, "f", "write"))
    exclusive = _task((ResourceType.FILE, "f", "exclusive"))
    assert rm.acquire_resources(reader) is True
    assert rm.acquire_resources(other_reader) is True  # readers share
    assert rm.acquire_resources(writer) is False  # a writer needs the key alone
    assert rm.acquire_resources(exclusive) is False
    rm.release_resources(reader)
    rm.release_resources(other_reader)
    assert rm.acquire_resources(writer) is True
    assert rm.acquire_resources(exclusive) is False
    assert rm.acquire_resources(writer) is True  # the holder asking again
    assert rm.acquire_resources(_task((ResourceType.FILE, "f", "read"))) is True  # as the original


def test_all_or_nothing() -> None:
    rm = ResourceManager()
    holder = _task((ResourceType.GPU, "g", "exclusive"))
    assert rm.acquire_resources(holder)
    both = _task((ResourceType.CPU, "c", "exclusive"), (ResourceType.GPU, "g", "exclusive"))
    assert rm.acquire_resources(both) is False
    assert rm.resource_users.get("cpu:c", set()) == set()  # nothing half-taken


def test_release_some_keys_or_all() -> None:
    rm = ResourceManager()
    t = _task((ResourceType.CPU, "c", "read"), (ResourceType.DISK, "d", "write"))
    rm.acquire_resources(t)
    rm.release_resources(t, ["disk:d", "unknown:key"])
    assert rm.resource_users == {"cpu:c": {t.id}, "disk:d": set()}
    rm.release_resources(t)
    assert rm.holders("cpu:c") == set()
    assert rm.snapshot() == {}


def test_subscribers_hear_releases_and_survive_errors() -> None:
    rm = ResourceManager()
    heard: list[int] = []
    unsubscribe = rm.subscribe(lambda: heard.append(1))
    rm.subscribe(lambda: 1 / 0)  # logged, not raised
    t = _task((ResourceType.CPU, "c", "write"))
    rm.acquire_resources(t)
    rm.release_resources(t)
    unsubscribe()
    rm.release_resources(t)
    assert heard == [1]
