"""A compact, columnar encoding of a run's step records.

Writing one SQLite row per step costs about 3 us, more than scheduling the
step. So a run stores every step's name, state, times and attempts in one
packed value on its ``runs`` row, and only the steps with something to say
(an error, a traceback, a skip reason, a result) get a row in ``steps``.

Layout: ``MAGIC``, then little-endian ``uint32 n``; ``n`` state codes (one
byte each, index into :data:`~.state.STEP_STATES`); ``2n`` doubles (start, end;
NaN for "unknown"); ``n`` ``uint32`` attempts; the names as a JSON list.
"""

from __future__ import annotations

import json
import math
import struct
import sys
from array import array
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .state import STEP_STATES, StepRecord

__all__ = ["StepRow", "is_detailed", "pack_records", "pack_steps", "unpack_steps"]

MAGIC = b"CST1"
_CODES: dict[str, int] = {state: i for i, state in enumerate(STEP_STATES)}
_UNKNOWN = 255
_NAN = math.nan
_SWAP = sys.byteorder != "little"
_HAS_RESULT = frozenset({"succeeded", "cached"})

# (idx, name, status, start, end, attempts, error, traceback, reason, result_json, result_note)
StepRow = tuple[Any, ...]


def is_detailed(row: StepRow) -> bool:
    """True when ``row`` carries more than the packed columns keep."""
    return not (row[6] is None and row[7] is None and row[8] is None and row[9] is None
                and row[10] is None)


class _Columns:
    """The packed columns being filled, one step at a time."""

    __slots__ = ("attempts", "codes", "names", "times")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.codes = bytearray()
        self.times = array("d")
        self.attempts = array("I")

    def add(self, name: str, status: str, start: float | None, end: float | None, tries: int) -> None:
        self.names.append(name)
        self.codes.append(_CODES.get(status, _UNKNOWN))
        self.times.append(_NAN if start is None else start)
        self.times.append(_NAN if end is None else end)
        self.attempts.append(tries)

    def to_bytes(self) -> bytes:
        times, attempts = self.times, self.attempts
        if _SWAP:
            times.byteswap()
            attempts.byteswap()
        head = struct.pack("<I", len(self.names))
        names = json.dumps(self.names, separators=(",", ":")).encode()
        return b"".join([MAGIC, head, bytes(self.codes), times.tobytes(), attempts.tobytes(), names])


def pack_steps(rows: Iterable[StepRow]) -> tuple[bytes, list[StepRow]]:
    """Pack ``rows``; return the packed bytes and the rows that need a ``steps`` row."""
    columns = _Columns()
    details: list[StepRow] = []
    for row in rows:
        columns.add(row[1], row[2], row[3], row[4], row[5])
        if is_detailed(row):
            details.append(row)
    return columns.to_bytes(), details


def pack_records(
    records: Sequence[StepRecord], result_json: Callable[[Any], tuple[str | None, str | None]]
) -> tuple[bytes, list[StepRow]]:
    """Like :func:`pack_steps`, straight from a run's records (no row per step).

    ``result_json(value)`` gives ``(json, note)`` for the result of a succeeded
    or cached step.
    """
    columns = _Columns()
    details: list[StepRow] = []
    for i, rec in enumerate(records):
        columns.add(rec.name, rec.status, rec.start, rec.end, rec.attempts)
        if rec.error is None and rec.traceback is None and rec.reason is None and rec.result is None:
            continue
        result, note = result_json(rec.result) if rec.status in _HAS_RESULT else (None, None)
        details.append((i, rec.name, rec.status, rec.start, rec.end, rec.attempts, rec.error,
                        rec.traceback, rec.reason, result, note))
    return columns.to_bytes(), details


def unpack_steps(blob: bytes) -> list[dict[str, Any]]:
    """Rows as dicts (the ``steps`` table's columns, details left ``None``)."""
    if blob[:4] != MAGIC:
        raise ValueError("not a packed step table")
    (n,) = struct.unpack_from("<I", blob, 4)
    pos = 8
    codes = blob[pos : pos + n]
    pos += n
    times = array("d", blob[pos : pos + 16 * n])
    pos += 16 * n
    attempts = array("I", blob[pos : pos + 4 * n])
    pos += 4 * n
    if _SWAP:
        times.byteswap()
        attempts.byteswap()
    names: Sequence[str] = json.loads(blob[pos:])
    return [_row(i, names[i], codes[i], (times[2 * i], times[2 * i + 1]), attempts[i]) for i in range(n)]


def _row(i: int, name: str, code: int, span: tuple[float, float], attempts: int) -> dict[str, Any]:
    start, end = span
    return {
        "idx": i,
        "name": name,
        "status": STEP_STATES[code] if code < len(STEP_STATES) else "unknown",
        "start": None if math.isnan(start) else start,
        "end": None if math.isnan(end) else end,
        "attempts": attempts,
        "error": None,
        "traceback": None,
        "reason": None,
        "result": None,
        "result_note": None,
    }
