"""``key=value`` run parameters, read the same way by the magics and the command line.

A value is a Python literal if it parses as one (``n=5``, ``xs=[1, 2]``,
``flag=True``), else the text itself (``name=etl``). Nothing is evaluated:
literals go through :func:`ast.literal_eval`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from .errors import CodomyrmexError

__all__ = ["ParameterError", "parse_param", "parse_params"]


class ParameterError(CodomyrmexError, ValueError):
    """A ``-p`` option that is not ``name=value``."""


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``key=value``: the value is a Python literal if it is one, else a string.

    Raises
    ------
    ParameterError
        No ``=``, or the key is not a Python identifier.

    Examples
    --------
    >>> parse_param("n=5"), parse_param("name=etl"), parse_param("xs=[1, 2]")
    (('n', 5), ('name', 'etl'), ('xs', [1, 2]))
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ParameterError(f"parameter {text!r} must look like name=value (e.g. -p n=5)")
    try:
        return key, ast.literal_eval(raw.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return key, raw


def parse_params(items: Iterable[str] | None) -> dict[str, Any]:
    """Parse repeated ``-p key=value`` options; later ones win."""
    return dict(parse_param(item) for item in items or [])
