"""Results and the markdown report.

A :class:`Row` is one figure: a sample, optionally a baseline measured in the
same run, and a target. Targets are either a ceiling on the ratio to the
baseline (``limit`` with ``on="ratio"``) or a ceiling on the value itself
(``on="value"``). Ratios are what the targets use, because absolute times on
a shared machine drift while ratios measured side by side hold.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Literal

from .measure import Sample

__all__ = ["COMPARISONS", "Row", "Section", "machine", "render", "versions"]

# Kept by hand and appended to every report: the before/after figures of past changes.
COMPARISONS = Path(__file__).resolve().parent / "comparisons.md"

VERSIONED = (
    "codomyrmex_jupyter",
    "dask",
    "networkx",
    "matplotlib",
    "ipywidgets",
    "ipykernel",
    "ipython",
    "nest-asyncio2",
)


@dataclass
class Row:
    """One reported figure.

    ``scale`` converts the sample's seconds into ``unit`` (1e6 for us).
    ``status`` is computed from the target unless set (``"not measured"``).
    """

    what: str
    sample: Sample | None
    unit: str = "s"
    scale: float = 1.0
    baseline: str | None = None
    baseline_sample: Sample | None = None
    limit: float | None = None
    on: Literal["ratio", "value"] = "ratio"
    status: str | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Median over baseline median, or ``None`` without a baseline."""
        if self.sample is None or self.baseline_sample is None:
            return None
        base = self.baseline_sample.median
        return self.sample.median / base if base else None

    @property
    def verdict(self) -> str:
        """``PASS``, ``MISS``, ``info`` (no target) or the preset status."""
        if self.status is not None:
            return self.status
        if self.limit is None or self.sample is None:
            return "info"
        value = self.ratio if self.on == "ratio" else self.sample.median * self.scale
        if value is None:
            return "info"
        return "PASS" if value <= self.limit else "MISS"

    @property
    def target(self) -> str:
        """The target as text."""
        if self.limit is None:
            return "-"
        if self.on == "ratio":
            return f"<= {self.limit:g}x"
        return f"<= {_num(self.limit)} {self.unit}"


@dataclass
class Section:
    """A titled table of rows and the notes that explain it."""

    key: str
    title: str
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def misses(self) -> list[Row]:
        """Rows whose target was missed."""
        return [r for r in self.rows if r.verdict == "MISS"]


def _num(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _cells(row: Row) -> list[str]:
    if row.sample is None:
        what = row.what + (f" ({row.note})" if row.note else "")
        return [what, "-", "-", "-", "-", row.target, row.verdict]
    s = row.scale
    sample = row.sample
    base = "-"
    if row.baseline_sample is not None:
        base = f"{_num(row.baseline_sample.median * s)} {row.unit} ({row.baseline})"
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}x"
    return [
        row.what + (f" ({row.note})" if row.note else ""),
        f"{_num(sample.median * s)} {row.unit}",
        f"{_num(sample.min * s)}-{_num(sample.max * s)}",
        base,
        ratio,
        row.target,
        row.verdict,
    ]


def _table(rows: list[Row]) -> list[str]:
    head = ["what", "median", "min-max", "baseline median", "ratio", "target", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return lines


def machine() -> dict[str, str]:
    """Platform, CPU model and count."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": model,
        "cpu count": str(os.cpu_count()),
        "python": sys.version.split()[0] + f" ({platform.python_implementation()})",
    }


def versions() -> dict[str, str]:
    """Installed versions of the packages the figures depend on."""
    out = {}
    for name in VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def render(sections: list[Section], *, quick: bool, seconds: float, command: str) -> str:
    """The whole markdown report."""
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `{command}` in {seconds:.0f} s"
        + (" (quick mode: fewer repeats, smaller sizes; not for comparison)." if quick else "."),
        "Medians over repeated runs with min-max; each ratio is against a baseline measured",
        "in the same run, interleaved with ours, because absolute times drift on shared",
        "machines while ratios hold. Lower ratios are better.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in machine().items()]
    lines += ["", "## Versions", ""]
    lines += [f"- {k}: {v}" for k, v in versions().items()]
    lines += ["", "## Summary", ""]
    lines += _summary(sections)
    for number, sec in enumerate(sections, 1):  # numbered here: a section's place is the run's order
        lines += ["", f"## {number}. {sec.title}", ""]
        if sec.intro:
            lines += [sec.intro, ""]
        lines += _table(sec.rows)
        if sec.notes:
            lines += [""] + [f"- {n}" for n in sec.notes]
    if COMPARISONS.exists():  # before/after figures of past changes: code that is gone cannot be re-run
        lines += ["", COMPARISONS.read_text(encoding="utf-8").rstrip()]
    return "\n".join(lines) + "\n"


def _summary(sections: list[Section]) -> list[str]:
    rows = [r for s in sections for r in s.rows]
    counts = {v: sum(r.verdict == v for r in rows) for v in ("PASS", "MISS")}
    unmeasured = [r.what for r in rows if r.verdict.startswith("not measured")]
    out = [f"- targets met: {counts['PASS']}, missed: {counts['MISS']}"]
    for sec in sections:
        out += [
            f"- MISS in {sec.title}: {r.what}: {r.ratio or 0:.2f}x against {r.target}"
            if r.on == "ratio"
            else f"- MISS in {sec.title}: {r.what}: "
            f"{_num((r.sample.median if r.sample else 0) * r.scale)} {r.unit} against {r.target}"
            for r in sec.misses
        ]
    if unmeasured:
        out.append(f"- not measured: {', '.join(unmeasured)}")
    return out
