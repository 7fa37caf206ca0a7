"""Which recorded runs are really running: a run whose process is gone is ended, with the reason.

A run row says ``running`` from its start until its end is written. If the
process dies in between (a kernel killed, a machine lost), nothing would
ever write that end. So every run row carries the ``host`` and ``pid`` of its
process and a ``heartbeat``: the process that runs it rewrites the heartbeat
every :data:`HEARTBEAT_INTERVAL` seconds while any of its runs goes on.

Whoever opens the store next looks at the runs still marked ``running``:

* on the same host, the run's process is gone when its pid is not alive, or
  when the pid now belongs to a process started after the run (pid reuse,
  read from ``/proc`` on Linux);
* on another host, the process cannot be asked: it is taken as gone when
  its heartbeat is older than the lease (:data:`LEASE` seconds).

Such a run is marked ``failed`` with one error naming the process, the host
and who found it. If the process was only frozen and comes back, its own
end of the run overwrites that record (the truth wins).

On Windows, where ``os.kill(pid, 0)`` would terminate the process, pids are
not probed: the lease decides on every host.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "HEARTBEAT_INTERVAL",
    "LEASE",
    "dead_run_reason",
    "pid_alive",
    "process_start_time",
]

HEARTBEAT_INTERVAL = 15.0
LEASE = 120.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def pid_alive(pid: int) -> bool | None:
    """Whether a process with this pid exists here; ``None`` when it cannot be told (Windows)."""
    if sys.platform == "win32" or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it belongs to another user
        return True
    except OSError:
        return None
    return True


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", encoding="ascii") as f:
            for line in f:
                if line.startswith("btime "):
                    return float(line.split()[1])
    except OSError:
        return None
    return None


_BOOT = _boot_time()


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started (epoch seconds), from ``/proc``; ``None`` where unknown."""
    if _BOOT is None:
        return None
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ')'
    fields = stat[stat.rfind(")") + 2 :].split()
    try:
        return _BOOT + int(fields[19]) / _CLOCK_TICKS
    except (IndexError, ValueError):
        return None


def _stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def dead_run_reason(
    row: Mapping[str, Any], *, host: str, now: float, lease: float = LEASE
) -> str | None:
    """Why the run in ``row`` (``host``, ``pid``, ``start``, ``heartbeat``) can no longer be
    running, or ``None`` when its process may still be at work.

    ``host`` is the host of the caller.
    """
    pid, run_host = row.get("pid"), row.get("host")
    start = row.get("start") or 0.0
    beat = row.get("heartbeat") or start
    who = f"process {pid} on {run_host}"
    if run_host == host and isinstance(pid, int):
        alive = pid_alive(pid)
        if alive is False:
            return f"{who} ended before the run did (last heartbeat {_stamp(beat)})"
        if alive:
            started = process_start_time(pid)
            # 1 s of slack: /proc start times are rounded to clock ticks
            if started is not None and started > start + 1.0:
                return f"{who} ended before the run did (its pid now belongs to a newer process)"
            if started is not None:
                return None
            # alive, but whether it is the same process cannot be told here: the lease decides
    if now - beat > lease:
        return f"{who} sent no heartbeat for {now - beat:.0f}s (lease {lease:g}s)"
    return None
