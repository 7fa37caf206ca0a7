"""The packed step table: round trips, missing times, details."""

from __future__ import annotations

import pytest

from codomyrmex_jupyter.engine.state import StepRecord
from codomyrmex_jupyter.engine.step_table import is_detailed, pack_records, pack_steps, unpack_steps


def test_round_trip_keeps_every_column() -> None:
    rows = [
        (0, "load", "succeeded", 10.0, 10.5, 1, None, None, None, None, None),
        (1, "naïve ✓", "retrying", 10.5, None, 2, None, None, None, None, None),
        (2, "late", "pending", None, None, 0, None, None, None, None, None),
    ]
    packed, details = pack_steps(rows)
    assert details == []
    back = unpack_steps(packed)
    assert [(r["idx"], r["name"], r["status"], r["start"], r["end"], r["attempts"]) for r in back] == [
        (0, "load", "succeeded", 10.0, 10.5, 1),
        (1, "naïve ✓", "retrying", 10.5, None, 2),
        (2, "late", "pending", None, None, 0),
    ]


@pytest.mark.parametrize(
    ("extra", "detailed"),
    [
        ((None, None, None, None, None), False),
        (("ValueError: x", None, None, None, None), True),
        ((None, "Traceback", None, None, None), True),
        ((None, None, "dependency 'a' failed", None, None), True),
        ((None, None, None, "[1]", None), True),
        ((None, None, None, None, "not storable"), True),
    ],
)
def test_which_rows_need_details(extra: tuple[object, ...], detailed: bool) -> None:
    row = (0, "a", "failed", 1.0, 2.0, 1, *extra)
    assert is_detailed(row) is detailed
    assert pack_steps([row])[1] == ([row] if detailed else [])


def test_pack_records_encodes_results_of_succeeded_steps_only() -> None:
    records = [
        StepRecord("a", "succeeded", 1.0, 2.0, 1, result={"k": 1}),
        StepRecord("b", "failed", 1.0, 2.0, 3, error="ValueError: x", traceback="tb"),
        StepRecord("c", "succeeded", 1.0, 2.0, 1),
    ]
    seen: list[object] = []

    def encode(value: object) -> tuple[str, None]:
        seen.append(value)
        return "json", None

    packed, details = pack_records(records, encode)
    assert seen == [{"k": 1}]
    assert [(d[1], d[9]) for d in details] == [("a", "json"), ("b", None)]
    assert [r["status"] for r in unpack_steps(packed)] == ["succeeded", "failed", "succeeded"]


def test_foreign_bytes_are_refused() -> None:
    with pytest.raises(ValueError, match="not a packed step table"):
        unpack_steps(b"nope")
