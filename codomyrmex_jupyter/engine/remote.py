"""Results that stay where they were computed until someone reads them.

A step run on a cluster finishes with a :class:`RemoteResult`: a handle on
the value held by a worker (a Dask future), not the value. The next step
gets the handle as its argument, so the value moves from worker to worker
and never through the kernel. :class:`RemoteResults` is the run's
``results`` mapping for such runs: reading an entry (``results[name]``,
``.get``, ``.values()``, ``.items()``, ``dict(results)``, ``==``) fetches
the value once and keeps it; :meth:`RemoteResults.fetch` fetches several in
one round trip (what a run does at its end for ``fetch="leaves"`` or
``"all"``). Code that only describes a result (the run view's summaries,
the store) asks :func:`local_value` and so never fetches by accident.

Nothing here imports Dask: a handle needs only ``result()`` on its future
and a ``gather`` function for many at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from ..errors import ArgumentError

__all__ = [
    "FETCH_MODES",
    "NOT_FETCHED",
    "REMOTE_NOTE",
    "RemoteResult",
    "RemoteResults",
    "check_fetch",
    "local_value",
    "remote_note",
]

FETCH_MODES: Final = ("leaves", "all", "none")
NOT_FETCHED: Final = object()
REMOTE_NOTE: Final = "not fetched: "


def check_fetch(value: Any) -> str:
    """Check the ``fetch`` run option: ``"leaves"``, ``"all"`` or ``"none"``."""
    if not isinstance(value, str) or value not in FETCH_MODES:
        raise ArgumentError(f"fetch must be 'leaves', 'all' or 'none', not {value!r}", argument="fetch")
    return str(value)


def _size(nbytes: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{nbytes} B"


class RemoteResult:
    """A step's result held on a worker.

    Parameters
    ----------
    future:
        The handle the cluster gave (``result()`` returns the value).
    type_name:
        The value's type as the cluster reported it, if known.
    """

    __slots__ = ("future", "nbytes", "type_name", "value")

    def __init__(self, future: Any, type_name: str | None = None) -> None:
        self.future = future
        self.type_name = type_name
        self.nbytes: int | None = None
        self.value: Any = NOT_FETCHED

    @property
    def fetched(self) -> bool:
        """The value is in this process."""
        return self.value is not NOT_FETCHED

    def fetch(self) -> Any:
        """The value (fetched on first call, kept after)."""
        if self.value is NOT_FETCHED:
            self.value = self.future.result()
        return self.value

    def describe(self) -> str:
        """One line saying where the value is (for summaries that must not fetch it)."""
        size = f", {_size(self.nbytes)}" if self.nbytes is not None else ""
        kind = self.type_name or "value"
        return f"{kind} on the Dask cluster{size}; read execution.results[...] to fetch it"

    def __repr__(self) -> str:
        if self.fetched:
            return f"<RemoteResult fetched {type(self.value).__name__}>"
        return f"<RemoteResult {self.describe()}>"


def local_value(value: Any) -> Any:
    """``value`` itself, the fetched value of a handle, or the handle when not fetched."""
    if isinstance(value, RemoteResult) and value.fetched:
        return value.value
    return value


def remote_note(value: Any) -> str | None:
    """Why a result is not stored: it was left on the cluster (``None`` otherwise)."""
    if isinstance(value, RemoteResult) and not value.fetched:
        return f"{REMOTE_NOTE}{value.describe()}"
    return None


class RemoteResults(dict[str, Any]):
    """A run's results where some are :class:`RemoteResult` handles, fetched on access.

    It is a ``dict`` (code that checks ``isinstance(results, dict)`` keeps
    working) whose reads return values: a handle is fetched on first read
    and its value kept.

    Parameters
    ----------
    gather:
        ``gather(futures)`` returns their values in one round trip.
    """

    def __init__(self, gather: Callable[[list[Any]], Sequence[Any]]) -> None:
        super().__init__()
        self._gather = gather
        self._lock = threading.Lock()

    # -- fetching ------------------------------------------------------------------------------
    def _resolve(self, name: str, value: Any) -> Any:
        if not isinstance(value, RemoteResult):
            return value
        if not value.fetched:
            self.fetch([name])
        return value.value

    def fetch(self, names: Sequence[str] | None = None) -> int:
        """Fetch the named entries (all when ``None``) not fetched yet, in one round trip.

        Returns how many were fetched.
        """
        with self._lock:
            keys = list(self) if names is None else list(names)
            todo = [
                (k, v) for k in keys
                if isinstance(v := dict.get(self, k), RemoteResult) and not v.fetched
            ]
            if not todo:
                return 0
            values = self._gather([v.future for _, v in todo])
            for (_, handle), value in zip(todo, values, strict=True):
                handle.value = value
        return len(todo)

    def on_cluster(self) -> list[str]:
        """Names whose value has not been fetched."""
        return [k for k, v in dict.items(self) if isinstance(v, RemoteResult) and not v.fetched]

    def handle(self, name: str) -> Any:
        """The stored entry as is: a :class:`RemoteResult` is not fetched."""
        return dict.__getitem__(self, name)

    # -- reads return values -----------------------------------------------------------------
    def __getitem__(self, name: str) -> Any:
        return self._resolve(name, dict.__getitem__(self, name))

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name`` (fetched if needed), or ``default``."""
        if name not in self:
            return default
        return self[name]

    def __iter__(self) -> Iterator[str]:
        # Overriding __iter__ also makes dict(results) and {**results} read
        # through __getitem__ instead of copying the handles.
        return iter(list(dict.keys(self)))

    def values(self) -> list[Any]:  # type: ignore[override]
        """Every value (fetching those not fetched, in one round trip)."""
        self.fetch()
        return [self[k] for k in dict.keys(self)]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        """``(name, value)`` pairs (fetching those not fetched, in one round trip)."""
        self.fetch()
        return [(k, self[k]) for k in dict.keys(self)]

    def copy(self) -> dict[str, Any]:
        """A plain dict of values."""
        return dict(self.items())

    def pop(self, name: str, *default: Any) -> Any:
        """Remove ``name`` and return its value (fetched if needed)."""
        if name not in self:
            if default:
                return default[0]
            raise KeyError(name)
        value = self[name]
        dict.__delitem__(self, name)
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Mapping):
            return NotImplemented
        return dict(self.items()) == dict(other.items())

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __repr__(self) -> str:
        parts = []
        for name, value in dict.items(self):
            shown = value.value if isinstance(value, RemoteResult) and value.fetched else value
            parts.append(f"{name!r}: {shown!r}")
        return "{" + ", ".join(parts) + "}"
