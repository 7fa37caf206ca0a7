"""Run the benchmark suite and write the markdown report.

Usage::

    python -m bench.run [--quick] [--only NAME[,NAME...]] [--out docs/BENCHMARKS.md]

Exit status: 0 when every measured target holds (always 0 with ``--quick``,
which is a smoke run: fewer repeats, smaller sizes); 1 when a target is
missed; 2 when a section failed to run. Sections that cannot be measured
because a module is missing are reported as such and do not fail the run.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from . import (
    cache,
    cli_startup,
    dask_overhead,
    engine_overhead,
    load_time,
    memory,
    panels,
    rendering,
    runs_api,
    store,
    validation,
)
from .report import Row, Section, render

__all__ = ["SECTIONS", "main"]

log = logging.getLogger("bench")

SECTIONS: dict[str, Callable[[bool], Section]] = {
    "engine": engine_overhead.run_section,
    "panels": panels.run_section,
    "load": load_time.run_section,
    "validation": validation.run_section,
    "rendering": rendering.run_section,
    "store": store.run_section,
    "runs_api": runs_api.run_section,
    "memory": memory.run_section,
    "dask": dask_overhead.run_section,
    "cache": cache.run_section,
    "cli": cli_startup.run_section,
}
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "BENCHMARKS.md"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: fewer repeats, smaller sizes")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help=f"run only these sections (repeatable or comma-separated): "
                        f"{', '.join(SECTIONS)}")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report file (markdown)")
    args = p.parse_args(argv)
    names = [n.strip() for chunk in args.only for n in chunk.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        p.error(f"unknown section {unknown[0]!r}; choose from {', '.join(SECTIONS)}")
    args.names = names or list(SECTIONS)
    return args


def _run_one(name: str, quick: bool) -> tuple[Section, bool]:
    t0 = time.perf_counter()
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    try:
        sec = SECTIONS[name](quick)
        ok = True
    except Exception as exc:  # reported in the file and the exit status, with the traceback
        traceback.print_exc()
        sec = Section(name, f"{name} (failed)")
        sec.rows.append(Row(f"section {name}", None, status="ERROR",
                            note=f"{type(exc).__name__}: {exc}"))
        ok = False
    print(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    for row in sec.misses:
        print(f"[bench]   MISS {row.what}: {row.ratio or 0:.2f}x vs {row.target}", file=sys.stderr)
    return sec, ok


def _isolate() -> tempfile.TemporaryDirectory[str]:
    """Keep every figure away from the user's own database and display."""
    home = tempfile.TemporaryDirectory(prefix="codo-bench-home-")
    os.environ["CODOMYRMEX_HOME"] = home.name
    os.environ["MPLBACKEND"] = "Agg"
    return home


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, write the report, return the exit status."""
    args = _parse(argv)
    home = _isolate()
    t0 = time.perf_counter()
    results = [_run_one(name, args.quick) for name in args.names]
    sections = [sec for sec, _ in results]
    command = "python -m bench.run" + (" --quick" if args.quick else "")
    if args.names != list(SECTIONS):
        command += " --only " + ",".join(args.names)
    text = render(sections, quick=args.quick, seconds=time.perf_counter() - t0, command=command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    home.cleanup()
    misses = sum(len(sec.misses) for sec in sections)
    print(f"[bench] wrote {args.out}: {misses} target(s) missed", file=sys.stderr)
    if not all(ok for _, ok in results):
        return 2
    return 0 if args.quick or not misses else 1


if __name__ == "__main__":
    sys.exit(main())
