"""Repeated, interleaved timing.

Each case is a callable that does its own set-up and returns the seconds its
measured part took, so set-up never counts. Cases are run in turn (A B A B
...) rather than all repeats of one then the other, so that drift on a
shared machine hits every contender alike; ``gc.collect()`` runs between
repeats so one case's garbage is not collected on another's clock.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Sample", "interleave", "stopwatch", "timed"]


@dataclass
class Sample:
    """Repeated measurements of one quantity (seconds unless said otherwise)."""

    values: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        """Median of the values."""
        return statistics.median(self.values)

    @property
    def min(self) -> float:
        """Smallest value."""
        return min(self.values)

    @property
    def max(self) -> float:
        """Largest value."""
        return max(self.values)

    def scaled(self, factor: float) -> Sample:
        """Every value multiplied by ``factor`` (e.g. seconds to us per step)."""
        return Sample([v * factor for v in self.values])


def interleave(cases: dict[str, Callable[[], float]], repeats: int) -> dict[str, Sample]:
    """Run every case ``repeats`` times, round-robin; return a sample per case."""
    out = {name: Sample() for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            gc.collect()
            out[name].values.append(case())
    return out


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn()`` takes."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class _Clock:
    seconds: float = 0.0


@contextmanager
def stopwatch() -> Iterator[_Clock]:
    """``with stopwatch() as clock: ...`` then read ``clock.seconds``."""
    clock = _Clock()
    t0 = time.perf_counter()
    try:
        yield clock
    finally:
        clock.seconds = time.perf_counter() - t0
