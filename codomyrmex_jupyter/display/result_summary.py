"""Short, JSON-ready summaries of step results, for the run document.

A run document travels to the browser and is saved in the notebook, so it
carries a preview of each result rather than the result: a DataFrame's first
rows, an array's shape and dtype, a figure's thumbnail, a short ``repr``.
Types are recognised by duck typing (``shape``/``dtype``, ``head``,
``savefig``), so neither pandas, numpy nor matplotlib is imported here.

Every summary has ``type`` (the qualified type name) and ``text`` (one short
line); some add ``shape``, ``dtype``, ``length``, ``columns`` + ``rows`` (a
table head, every cell as text) or ``image`` (a PNG thumbnail, base64).
"""

from __future__ import annotations

import base64
import io
import logging
import math
import reprlib
from typing import Any

from ..engine.remote import RemoteResult

__all__ = ["HEAD_ROWS", "TEXT_LIMIT", "parameter_value", "preview", "summarize", "summarize_stored"]

log = logging.getLogger(__name__)

TEXT_LIMIT = 120
HEAD_ROWS = 5
HEAD_COLUMNS = 8
CELL_LIMIT = 24
THUMBNAIL_DPI = 24  # a 6.4 in wide figure becomes ~150 px wide

_repr = reprlib.Repr()
_repr.maxstring = 80
_repr.maxother = 80
_repr.maxlist = 8
_repr.maxdict = 6


def preview(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A short ``repr`` of ``value`` (never more than ``limit`` characters, never raises)."""
    try:
        text = _repr.repr(value)
    except Exception as exc:  # noqa: BLE001 - a broken __repr__ in user code is shown, not raised
        text = f"<unrepresentable {type(value).__name__}: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _type_name(value: Any) -> str:
    cls = type(value)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module.split('.')[0]}.{cls.__qualname__}"


def _shape(value: Any) -> list[int] | None:
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return list(shape)
    return None


def _cell(value: Any) -> str:
    return preview(value, CELL_LIMIT)


def _table_head(value: Any) -> dict[str, Any] | None:
    """``columns`` and ``rows`` of a DataFrame-like value (``head()``, ``columns``, ``itertuples``)."""
    head = getattr(value, "head", None)
    columns = getattr(value, "columns", None)
    if not callable(head) or columns is None:
        return None
    try:
        top = head(HEAD_ROWS)
        names = [str(c) for c in list(columns)[:HEAD_COLUMNS]]
        rows = [
            [_cell(index), *(_cell(v) for v in list(row)[:HEAD_COLUMNS])]
            for index, *row in top.itertuples(index=True, name=None)
        ]
    except Exception:
        log.debug("could not read the head of a %s", type(value).__name__, exc_info=True)
        return None
    return {"columns": ["", *names], "rows": rows}


def _thumbnail(value: Any) -> str | None:
    savefig = getattr(value, "savefig", None)
    if not callable(savefig):
        return None
    buf = io.BytesIO()
    try:
        savefig(buf, format="png", dpi=THUMBNAIL_DPI)
    except Exception:
        log.debug("could not draw a thumbnail of a %s", type(value).__name__, exc_info=True)
        return None
    return base64.b64encode(buf.getvalue()).decode("ascii")


def summarize(value: Any) -> dict[str, Any] | None:
    """The summary of a step result (``None`` for ``None``)."""
    if isinstance(value, RemoteResult):  # a result left on a cluster: described, never fetched here
        return _remote_summary(value)
    if value is None:
        return None
    out: dict[str, Any] = {"type": _type_name(value)}
    shape = _shape(value)
    table = _table_head(value) if shape is not None and len(shape) == 2 else None
    if table is not None and shape is not None:
        name = out["type"].split(".")[-1]
        out.update(table, shape=shape, text=f"{name} {shape[0]} rows × {shape[1]} columns")
        return out
    if shape is not None:
        out["shape"] = shape
        dtype = getattr(value, "dtype", None)
        if dtype is not None:
            out["dtype"] = str(dtype)
        dims = " × ".join(str(n) for n in shape) or "scalar"
        out["text"] = f"{out['type'].split('.')[-1]} {dims}" + (f" {dtype}" if dtype is not None else "")
        return out
    image = _thumbnail(value)
    if image is not None:
        out.update(image=image, text=f"{out['type'].split('.')[-1]} (thumbnail)")
        return out
    if isinstance(value, (list, tuple, dict, set, frozenset, str, bytes)):
        out["length"] = len(value)
    out["text"] = preview(value)
    return out


def _remote_summary(value: RemoteResult) -> dict[str, Any] | None:
    if value.fetched:
        return summarize(value.value)
    return {"type": value.type_name or "remote", "text": value.describe(), "remote": True}


def summarize_stored(result: Any, note: str | None = None) -> dict[str, Any] | None:
    """The summary of a result as the store returns it (JSON), or of its note when it was not storable."""
    if result is None:
        return {"type": "unstored", "text": note} if note else None
    return summarize(result)


def parameter_value(value: Any) -> Any:
    """A run parameter as the document shows it: JSON scalars as they are, anything else as a short repr."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, str) and len(value) <= TEXT_LIMIT:
        return value
    return preview(value)
