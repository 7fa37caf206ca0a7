"""Live views: dict- and set-shaped attributes computed from a manager's own state.

Code written for the original orchestration package reads (and sometimes
writes) attributes such as ``manager.workflows`` or ``orchestrator.task_results``
that were plain dicts there. Here the state lives elsewhere (the store, the
resource pool, the task table), so these attributes are views: every read asks
the owner, every write goes through the owner's own method. There is no second
copy that could drift from the first.

A view is as cheap as the functions it is given; nothing is computed until it
is read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping, Set
from typing import Any, Generic, TypeVar

__all__ = ["MISSING", "LiveDict", "LiveSet"]

K = TypeVar("K")
V = TypeVar("V")


class _Missing:
    """Sentinel returned by a view's getter for an absent key."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class LiveDict(MutableMapping[K, V], Generic[K, V]):
    """A mapping whose content is read from, and written to, its owner.

    Parameters
    ----------
    name:
        What the view is (``"WorkflowManager.workflows"``), for messages.
    keys:
        Returns the current keys, in order.
    get:
        Returns the value of a key, or :data:`MISSING`.
    set, delete:
        Store or remove one entry through the owner; a view without them is
        read-only and says which method to use instead (``hint``).
    """

    __slots__ = ("_delete", "_get", "_hint", "_keys", "_name", "_set")

    def __init__(
        self,
        name: str,
        keys: Callable[[], Iterable[K]],
        get: Callable[[K], V],
        *,
        set: Callable[[K, V], None] | None = None,
        delete: Callable[[K], bool] | None = None,
        hint: str = "",
    ) -> None:
        self._name = name
        self._keys = keys
        self._get = get
        self._set = set
        self._delete = delete
        self._hint = hint

    def __getitem__(self, key: K) -> V:
        value = self._get(key)
        if value is MISSING:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        try:
            return self._get(key) is not MISSING  # type: ignore[arg-type]
        except TypeError:  # an unhashable or foreign key is simply not there
            return False

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._keys()))

    def __len__(self) -> int:
        return len(list(self._keys()))

    def __setitem__(self, key: K, value: V) -> None:
        if self._set is None:
            raise TypeError(f"{self._name} is read-only{self._hint_text()}")
        self._set(key, value)

    def __delitem__(self, key: K) -> None:
        if self._delete is None:
            raise TypeError(f"{self._name} is read-only{self._hint_text()}")
        if not self._delete(key):
            raise KeyError(key)

    def _hint_text(self) -> str:
        return f"; {self._hint}" if self._hint else ""

    def copy(self) -> dict[K, V]:
        """A plain dict snapshot of the view."""
        return dict(self.items())

    def __repr__(self) -> str:
        return repr(self.copy())


class LiveSet(Set[K], Generic[K]):
    """A read-only set whose members are computed by its owner.

    Parameters
    ----------
    contains:
        Membership test (cheap: a lookup, not a scan).
    members:
        Returns the current members.
    """

    __slots__ = ("_contains", "_members")

    def __init__(self, contains: Callable[[Any], bool], members: Callable[[], Iterable[K]]) -> None:
        self._contains = contains
        self._members = members

    def __contains__(self, item: object) -> bool:
        try:
            return self._contains(item)
        except TypeError:
            return False

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._members()))

    def __len__(self) -> int:
        return len(list(self._members()))

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> set[Any]:
        # Set operations (``view - other``) give plain sets, not views.
        return set(it)

    def __repr__(self) -> str:
        return repr(set(self))
