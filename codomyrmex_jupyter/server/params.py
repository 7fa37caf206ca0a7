"""Query parameters of the runs list, checked: a bad value is a 400 naming it.

``workflow``  exact name
``status``    one or more of pending, running, completed, failed, cancelled
              (comma-separated or repeated)
``notebook``  the notebook that started the runs, relative to the server root
              (or absolute)
``kernel``    a kernel id
``since``, ``until``  start time bounds: ISO 8601 (``2026-05-01T12:00:00Z``;
              no zone means the server's local time) or epoch seconds
``limit``     1 to 500 (default 50); ``offset`` 0 or more (default 0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

from ..engine.run_query import MAX_LIMIT, RUN_STATUSES, RunFilter

__all__ = ["KNOWN", "BadQuery", "RunsQuery", "parse_runs_query"]

KNOWN = ("workflow", "status", "notebook", "kernel", "since", "until", "limit", "offset")
_IGNORED = ("token", "_")  # the server's own token parameter; cache busters
DEFAULT_LIMIT = 50


class BadQuery(ValueError):
    """A query parameter that cannot be used; the message names it and says what fits."""


class RunsQuery:
    """A checked runs query: the filter and the page."""

    def __init__(self, filters: RunFilter, limit: int, offset: int) -> None:
        self.filters = filters
        self.limit = limit
        self.offset = offset


def _single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name) or []
    if len(values) > 1:
        raise BadQuery(f"{name} given {len(values)} times; give it once")
    if values and not values[0].strip():
        raise BadQuery(f"{name} is empty; leave it out to mean any")
    return values[0].strip() if values else None


def _whole(args: Mapping[str, Sequence[str]], name: str, default: int, low: int, high: int | None) -> int:
    text = _single(args, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"{low} or more"
        raise BadQuery(f"{name}={text!r} is not valid: use a whole number {span}")
    return value


def _time(args: Mapping[str, Sequence[str]], name: str) -> float | None:
    text = _single(args, name)
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        try:
            value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text).timestamp()
        except ValueError:
            value = math.nan
    if not math.isfinite(value):
        raise BadQuery(f"{name}={text!r} is not a time: use ISO 8601 (2026-05-01T12:00:00Z) or epoch seconds")
    return value


def _statuses(args: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    values = [v.strip() for raw in args.get("status") or [] for v in raw.split(",")]
    for value in values:
        if value not in RUN_STATUSES:
            raise BadQuery(f"status={value!r} is not a run status: use {', '.join(RUN_STATUSES)}")
    return tuple(dict.fromkeys(values))


def _notebooks(text: str | None, root: Path) -> tuple[str, ...]:
    if text is None:
        return ()
    path = Path(text)
    full = path if path.is_absolute() else root / path
    # Kernels record the path the server gave them: absolute or root-relative.
    candidates = [str(full)]
    if not path.is_absolute():
        candidates.append(text)
    return tuple(dict.fromkeys(candidates))


def parse_runs_query(args: Mapping[str, Sequence[str]], root: Path) -> RunsQuery:
    """Check the query ``args`` (name -> values) and build the query.

    Raises
    ------
    BadQuery
        An unknown parameter or a bad value (the message names it).
    """
    for name in args:
        # Jupyter's ServerConnection appends a bare timestamp to GETs as a cache buster.
        if name not in KNOWN and name not in _IGNORED and not name.isdigit():
            raise BadQuery(f"unknown query parameter {name!r}: use {', '.join(KNOWN)}")
    since, until = _time(args, "since"), _time(args, "until")
    if since is not None and until is not None and since >= until:
        raise BadQuery("since must be before until")
    filters = RunFilter(
        workflow=_single(args, "workflow"), statuses=_statuses(args),
        notebooks=_notebooks(_single(args, "notebook"), root), kernel=_single(args, "kernel"),
        since=since, until=until,
    )
    return RunsQuery(
        filters,
        _whole(args, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        _whole(args, "offset", 0, 0, None),
    )
