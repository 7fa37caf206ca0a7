"""Attribute aliases: a second name for a field, as the original package spelled it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Alias"]


class Alias:
    """A read/write attribute that is another attribute under a second name.

    Parameters
    ----------
    target:
        The attribute that holds the value.
    convert:
        Applied to values assigned through the alias (e.g. an enum coercion).
    """

    def __init__(self, target: str, convert: Callable[[Any], Any] | None = None) -> None:
        self.target = target
        self.convert = convert
        self.__doc__ = f"Alias of ``{target}`` (the original package's name)."

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj, self.target)

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(obj, self.target, self.convert(value) if self.convert is not None else value)
