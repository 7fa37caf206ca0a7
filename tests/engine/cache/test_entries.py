"""Signed entries: a result comes back only when its signature holds; nothing else is unpickled."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter.engine.cache import entries as entries_module
from codomyrmex_jupyter.engine.cache.entries import NotCacheable, SignedEntries, load_secret

KEY = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def store(tmp_path: Path) -> SignedEntries:
    return SignedEntries(tmp_path / "cache", load_secret(tmp_path / "cache.key"))


@pytest.fixture
def unpickled(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every payload that reaches the unpickler (which is still called for real)."""
    seen: list[bytes] = []
    real = entries_module._unpickle

    def spy(data: Any) -> Any:
        seen.append(bytes(data))
        return real(data)

    monkeypatch.setattr(entries_module, "_unpickle", spy)
    return seen


def test_round_trip(store: SignedEntries, unpickled: list[bytes]) -> None:
    size = store.put(KEY, {"rows": [1, 2, 3]})
    assert store.path(KEY).stat().st_size == size
    assert store.get(KEY) == ("found", {"rows": [1, 2, 3]})
    assert store.check(KEY) == "found"
    assert len(unpickled) == 1
    assert store.get(OTHER) == ("absent", None)


def test_a_tampered_entry_is_a_miss_and_never_unpickled(store: SignedEntries, unpickled: list[bytes]) -> None:
    store.put(KEY, [1, 2, 3])
    path = store.path(KEY)
    blob = bytearray(path.read_bytes())
    blob[-3] ^= 0x01  # one bit of the pickle
    path.write_bytes(bytes(blob))
    assert store.get(KEY) == ("bad signature", None)
    assert unpickled == []


def test_an_unsigned_entry_is_a_miss_and_never_unpickled(store: SignedEntries, unpickled: list[bytes]) -> None:
    path = store.path(KEY)
    path.parent.mkdir(parents=True)

    class Boom:
        def __reduce__(self) -> Any:
            return (os.system, ("echo pwned",))

    path.write_bytes(pickle.dumps(Boom()))
    assert store.get(KEY) == ("unsigned", None)
    assert store.check(KEY) == "unsigned"
    assert unpickled == []


def test_an_entry_under_another_key_or_another_users_key_is_a_miss(
    tmp_path: Path, store: SignedEntries, unpickled: list[bytes]
) -> None:
    store.put(KEY, "secret result")
    moved = store.path(OTHER)
    moved.parent.mkdir(parents=True, exist_ok=True)
    moved.write_bytes(store.path(KEY).read_bytes())
    assert store.get(OTHER) == ("bad signature", None)
    stranger = SignedEntries(store.directory, load_secret(tmp_path / "other.key"))
    assert stranger.get(KEY) == ("bad signature", None)
    assert unpickled == []


def test_the_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "home" / "cache.key"
    first = load_secret(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path) == first and len(first) >= 32


def test_a_key_file_others_can_read_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "cache.key"
    load_secret(path)
    path.chmod(0o644)
    load_secret(path)
    assert "readable by other users" in caplog.text


def test_what_pickle_cannot_serialise_is_not_cacheable(store: SignedEntries) -> None:
    with pytest.raises(NotCacheable, match="cannot be pickled"):
        store.put(KEY, lambda: 1)
    assert not store.path(KEY).exists()


def test_delete_and_clear_touch_only_entry_files(store: SignedEntries) -> None:
    store.put(KEY, 1)
    store.put(OTHER, 2)
    assert store.directory is not None
    foreign = store.directory / "01" / "notes.txt"
    foreign.write_text("mine")
    assert store.delete(KEY) > 0 and store.delete(KEY) == 0
    count, size = store.clear()
    assert count == 1 and size > 0
    assert foreign.exists()
    assert store.get(OTHER) == ("absent", None)


def test_in_memory_entries_are_signed_too(unpickled: list[bytes]) -> None:
    memory = SignedEntries(None, b"k" * 32)
    memory.put(KEY, [1])
    assert memory.get(KEY) == ("found", [1])
    memory._memory[KEY] = memory._memory[KEY][:-2] + b"\x07."
    assert memory.get(KEY) == ("bad signature", None)
    assert len(unpickled) == 1
    assert memory.clear()[0] == 1


def test_many_kernels_making_the_key_at_once_agree(tmp_path: Path) -> None:
    import concurrent.futures

    path = tmp_path / "race" / "cache.key"
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_secret(path), range(16)))
    assert len(keys) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["cache.key"]  # no temporary file left


def test_the_cache_folder_is_private(store: SignedEntries) -> None:
    store.put(KEY, 1)
    assert store.directory is not None
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
