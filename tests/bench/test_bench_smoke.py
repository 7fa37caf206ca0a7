"""Smoke test of the benchmark suite: the quick run produces a complete report."""

from __future__ import annotations

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
    "## 1. Engine overhead per step",
    "## 2. Watched runs and nest_asyncio",
    "## 3. Load cost of the extension",
    "## 4. Validation",
    "## 5. DAG rendering",
    "## 6. Store throughput",
    "## 7. Peak memory",
    "## 8. Step cache",
    "## 10. Command line start-up",
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
    for heading in HEADINGS:
        assert any(line.startswith(heading) for line in lines), heading
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
