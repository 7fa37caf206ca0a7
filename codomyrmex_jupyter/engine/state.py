"""Step and run states, their allowed transitions, and per-step records.

Step states
-----------
``pending``    waiting for dependencies
``ready``      dependencies done, waiting for a concurrency slot
``running``    its callable is executing (attempt ``attempts``)
``retrying``   the last attempt failed; waiting for the backoff to end
``succeeded``  returned a value
``failed``     raised (after all retries), timed out, or could not be resolved
``skipped``    not run because a dependency failed or the run timed out
``cancelled``  the run was cancelled before or while it ran
``cached``     its result was taken from an earlier run (no execution)

The last five are terminal. :data:`TRANSITIONS` is the whole state machine;
:func:`check_transition` checks one move. ``Run(check_transitions=True)``
(the runner's debug mode, which the property tests use) checks every move a
run makes. A step waiting to retry when the run times out has run and failed:
it ends ``failed``, never ``skipped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final, Literal

__all__ = [
    "RUN_STATUSES",
    "STATE_COLORS",
    "STEP_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "RunStatusName",
    "StepRecord",
    "StepState",
    "check_transition",
    "epoch_to_datetime",
]

StepState = Literal[
    "pending", "ready", "running", "retrying", "succeeded", "failed", "skipped", "cancelled", "cached"
]
RunStatusName = Literal["pending", "running", "completed", "failed", "cancelled"]

STEP_STATES: Final[tuple[StepState, ...]] = (
    "pending", "ready", "running", "retrying", "succeeded", "failed", "skipped", "cancelled", "cached",
)
RUN_STATUSES: Final[tuple[RunStatusName, ...]] = (
    "pending", "running", "completed", "failed", "cancelled",
)
TERMINAL_STATES: Final[frozenset[str]] = frozenset(
    {"succeeded", "failed", "skipped", "cancelled", "cached"}
)

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"ready", "skipped", "cancelled", "cached", "failed"}),
    "ready": frozenset({"running", "cancelled", "skipped", "failed", "cached"}),
    "running": frozenset({"succeeded", "failed", "retrying", "cancelled"}),
    "retrying": frozenset({"running", "cancelled", "failed"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "skipped": frozenset(),
    "cancelled": frozenset(),
    "cached": frozenset(),
}

# Fill colours shared by every view (SVG, widgets, the lab extension fallback).
STATE_COLORS: Final[dict[str, str]] = {
    "pending": "#d0d7de",
    "ready": "#9ecbff",
    "running": "#0969da",
    "retrying": "#bf8700",
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "skipped": "#8c959f",
    "cancelled": "#6e7781",
    "cached": "#8250df",
}


def check_transition(old: str, new: str) -> None:
    """Raise ``ValueError`` if ``old -> new`` is not an allowed transition."""
    if new not in TRANSITIONS.get(old, frozenset()):
        raise ValueError(f"illegal step transition {old} -> {new}")


def epoch_to_datetime(ts: float | None) -> datetime | None:
    """Turn a ``time.time()`` stamp into an aware UTC datetime (``None`` stays)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


@dataclass(slots=True, eq=False)
class StepRecord:
    """What happened to one step in one run.

    Times are ``time.time()`` stamps (floats) while the run is hot; the
    ``started_at``/``ended_at`` properties give datetimes.
    """

    name: str
    status: str = "pending"
    start: float | None = None
    end: float | None = None
    attempts: int = 0
    error: str | None = None
    traceback: str | None = None
    result: Any = None
    reason: str | None = None
    cache: str | None = None
    """``"hit"``, the miss reason (``"miss: code changed"``), or ``None`` when the step is not cached."""

    @property
    def duration(self) -> float | None:
        """Seconds between start and end, ``None`` until both are known."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def started_at(self) -> datetime | None:
        """Start as an aware UTC datetime."""
        return epoch_to_datetime(self.start)

    @property
    def ended_at(self) -> datetime | None:
        """End as an aware UTC datetime."""
        return epoch_to_datetime(self.end)

    @property
    def retries(self) -> int:
        """Attempts beyond the first."""
        return self.attempts - 1 if self.attempts > 1 else 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary (the result is left out)."""
        return {
            "name": self.name,
            "status": self.status,
            "start": self.start,
            "end": self.end,
            "duration": self.duration,
            "attempts": self.attempts,
            "error": self.error,
            "reason": self.reason,
            "cache": self.cache,
        }
