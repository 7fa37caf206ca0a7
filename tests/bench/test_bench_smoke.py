"""Smoke test of the benchmark suite: the quick run produces a complete report."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADINGS = (
    "# Benchmarks",
    "## Machine",
    "## Versions",
    "## Summary",
    "Engine overhead per step",
    "Watched runs and nest_asyncio",
    "Load cost of the extension",
    "Validation",
    "DAG rendering",
    "Store throughput",
    "Runs API",
    "Peak memory",
    "Dask executor overhead",
    "Step cache",
    "Command line start-up",
)


@pytest.mark.slow
def test_quick_run_writes_every_section(tmp_path: Path) -> None:
    out = tmp_path / "BENCHMARKS.md"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    lines = text.splitlines()
    numbered = [line.split(" ", 2) for line in lines if re.match(r"## \d+\. ", line)]
    # sections are numbered in order, 1, 2, 3, ...
    assert [int(n.rstrip(".")) for _, n, _ in numbered] == list(range(1, len(numbered) + 1))
    titles = [title for _, _, title in numbered]
    for heading in HEADINGS:
        if heading.startswith("#"):
            assert heading in lines, heading
        else:
            assert any(t.startswith(heading) for t in titles), heading
    assert "## Before and after (kept by hand in `bench/comparisons.md`)" in lines
    assert "(failed)" not in text
    assert "| ERROR |" not in text
    assert "quick mode" in text


def test_unknown_section_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--only", "nope", "--out", str(tmp_path / "x.md")],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "unknown section 'nope'" in proc.stderr
    assert not (tmp_path / "x.md").exists()
