"""Signed cache entries: pickled results that are only unpickled when their signature holds.

Pickle runs code while it loads, so a pickle file is as trusted as whoever
could write it. Every entry is therefore signed, as Jupyter signs notebooks:
HMAC-SHA256 with a per-user secret (``<config dir>/cache.key``, 32 random
bytes created once with mode 0600) over the entry's key and its bytes. An
entry whose signature is missing or wrong is a miss, and its bytes never
reach the unpickler; so is one renamed to another key.

An entry is ``MAGIC + signature (32 bytes) + pickle (protocol 5)``, written to
a temporary file and renamed into place (readers never see half an entry), at
``<cache dir>/<key[:2]>/<key>.entry``. Without a directory (an in-memory
store) the same bytes live in a dict.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import pickle
import re
import secrets
import stat
import threading
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ENTRY_SUFFIX", "KEY_FILENAME", "STATUS_REASONS", "EntryStatus", "NotCacheable", "SignedEntries",
    "load_secret",
]

log = logging.getLogger(__name__)

MAGIC = b"CDMC\x01"
KEY_FILENAME = "cache.key"
ENTRY_SUFFIX = ".entry"
_SIGNATURE_SIZE = hashlib.sha256().digest_size
_HEADER = len(MAGIC) + _SIGNATURE_SIZE
_KEY_PATTERN = re.compile(r"[0-9a-f]{32}")
_ONE_SHOT = 1 << 16

EntryStatus = Literal["found", "absent", "unsigned", "bad signature", "unreadable"]
# What a step's ``cache`` says when its entry exists but cannot be used.
STATUS_REASONS: dict[str, str] = {
    "unsigned": "miss: entry is not signed (ignored)",
    "bad signature": "miss: entry signature does not match (ignored)",
    "unreadable": "miss: entry could not be read",
}


class NotCacheable(TypeError):
    """A result that pickle cannot serialise (the message says why)."""


def load_secret(path: Path) -> bytes:
    """The signing key in ``path``, created (mode 0600) if there is none yet.

    Two kernels creating it at once agree: the key is written whole to a
    private temporary file, then hard-linked into place, which fails for all
    but the first; the others read the first one's key.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return _read_secret(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink()
    return _read_secret(path)


def _read_secret(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o); chmod 600 it", path, mode)
    text = path.read_text().strip()
    if len(text) < 32:  # being written by another kernel right now, or emptied by hand
        raise OSError(f"{path} holds no signing key; delete it and a new one is made")
    return text.encode()


def _private_folder(directory: Path) -> None:
    """Make the cache folder readable by its owner only (results may be private data)."""
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def _unpickle(data: bytes | memoryview) -> Any:
    """The one place cache bytes are unpickled: only after the signature check."""
    return pickle.loads(data)  # noqa: S301 - signed with the user's own key (see module docstring)


class SignedEntries:
    """Entries by key, signed with ``secret``.

    Parameters
    ----------
    directory:
        Where entry files live, or ``None`` to keep entries in memory.
    secret:
        The signing key.
    """

    def __init__(self, directory: Path | None, secret: bytes) -> None:
        self.directory = directory
        self._root = None if directory is None else os.fspath(directory)
        self._secret = secret
        self._memory: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._made: set[str] = set()  # sub-folders known to exist (one mkdir each, not per entry)

    def path(self, key: str) -> Path:
        """The file of entry ``key``."""
        if self.directory is None or not _KEY_PATTERN.fullmatch(key):
            raise ValueError(f"no file for cache key {key!r}")
        return self.directory / key[:2] / f"{key}{ENTRY_SUFFIX}"

    def _sign(self, key: str, payload: bytes | memoryview) -> bytes:
        if len(payload) <= _ONE_SHOT:  # one C call; copying a small payload costs less than three
            return hmac.digest(self._secret, key.encode() + b"\0" + payload, "sha256")
        mac = hmac.new(self._secret, key.encode(), hashlib.sha256)
        mac.update(b"\0")
        mac.update(payload)
        return mac.digest()

    def put(self, key: str, value: Any) -> int:
        """Sign and store ``value``; return the entry's size in bytes.

        Raises
        ------
        NotCacheable
            Pickle cannot serialise the value.
        """
        try:
            payload = pickle.dumps(value, protocol=5)
        except Exception as exc:  # noqa: BLE001 - pickle raises many types for one meaning
            raise NotCacheable(f"{type(value).__name__} cannot be pickled ({exc})") from None
        blob = MAGIC + self._sign(key, payload) + payload
        if self.directory is None:
            with self._lock:
                self._memory[key] = blob
            return len(blob)
        target = self.path(key)
        if key[:2] not in self._made:
            _private_folder(target.parent.parent)
            target.parent.mkdir(exist_ok=True)
            self._made.add(key[:2])
        tmp = target.with_name(f".{key}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            try:
                tmp.write_bytes(blob)
            except FileNotFoundError:  # the folder was deleted by hand since
                _private_folder(target.parent.parent)
                target.parent.mkdir(exist_ok=True)
                tmp.write_bytes(blob)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return len(blob)

    def _blob(self, key: str) -> bytes | None:
        if self._root is None:
            return self._memory.get(key)
        if not _KEY_PATTERN.fullmatch(key):
            raise ValueError(f"no file for cache key {key!r}")
        try:  # plain strings and open(): a Path per read costs more than the read
            with open(f"{self._root}/{key[:2]}/{key}{ENTRY_SUFFIX}", "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def _verify(self, key: str) -> tuple[EntryStatus, memoryview | None]:
        try:
            blob = self._blob(key)
        except (OSError, ValueError):
            return "unreadable", None
        if blob is None:
            return "absent", None
        if len(blob) < _HEADER or not blob.startswith(MAGIC):
            return "unsigned", None
        payload = memoryview(blob)[_HEADER:]
        if not hmac.compare_digest(blob[len(MAGIC):_HEADER], self._sign(key, payload)):
            return "bad signature", None
        return "found", payload

    def check(self, key: str) -> EntryStatus:
        """The entry's status after its signature check, without unpickling it."""
        return self._verify(key)[0]

    def get(self, key: str) -> tuple[EntryStatus, Any]:
        """``("found", value)``, or a miss status and ``None``; never raises for a bad entry."""
        status, payload = self._verify(key)
        if payload is None:
            return status, None
        try:
            return "found", _unpickle(payload)
        except Exception as exc:  # noqa: BLE001 - a signed entry whose classes are gone
            log.warning("cache entry %s could not be loaded: %s", key[:12], exc)
            return "unreadable", None

    def delete(self, key: str) -> int:
        """Remove entry ``key``; return the bytes freed (0 when it was not there)."""
        if self.directory is None:
            with self._lock:
                blob = self._memory.pop(key, None)
            return len(blob) if blob is not None else 0
        path = self.path(key)
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return 0
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty
            self._made.discard(key[:2])
        return size

    def clear(self) -> tuple[int, int]:
        """Remove every entry file (ours by name only); return ``(count, bytes)``."""
        if self.directory is None:
            with self._lock:
                count, size = len(self._memory), sum(map(len, self._memory.values()))
                self._memory.clear()
            return count, size
        count = size = 0
        if not self.directory.is_dir():
            return 0, 0
        for path in self.directory.glob(f"??/*{ENTRY_SUFFIX}"):
            if _KEY_PATTERN.fullmatch(path.name.removesuffix(ENTRY_SUFFIX)):
                size += self.delete(path.name.removesuffix(ENTRY_SUFFIX))
                count += 1
        return count, size
