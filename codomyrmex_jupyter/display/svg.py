"""Static inline SVG of a DAG document, for HTML outputs that need no kernel.

It draws what the JupyterLab renderer draws (``labextension/src/svg.ts``),
with the same numbers: 150 x 40 boxes in the state's colour, the step name
and, under it, its duration (or its state while it has none), ``xN`` for a
retried step, a ``!`` marker on a failed one, curved edges with arrows. So a
saved notebook looks the same in JupyterLab, in nbconvert HTML and on GitHub.

Built by string concatenation (no XML library): a 2,000-node graph renders in
milliseconds. Every piece of user text goes through :func:`html.escape`.

Two drawing modes:

* ``full`` (up to :data:`LABEL_LIMIT` nodes): the boxes above;
* ``compact`` (more nodes): dots with a tooltip, straight edges, no labels.

``frame=True`` adds a title line and a legend (the states present only)
inside the SVG, for an SVG shown on its own; the HTML twin puts them around
it instead (:mod:`.twin`). :class:`SvgRenderer` keeps the parts that do not
depend on states (geometry, edges) so a redraw builds only the nodes.
:func:`summary_svg` draws a run too big to show node by node: one stacked bar
of state counts per layer (adjacent layers share a bar past
:data:`~.dag_json.MAX_COLUMNS` layers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ..engine.state import STATE_COLORS
from .dag_json import MAX_COLUMNS

__all__ = [
    "LABEL_LIMIT", "NODE_HEIGHT", "NODE_WIDTH", "STEP_X", "STEP_Y", "SvgRenderer", "dag_svg",
    "format_bytes", "format_duration", "legend_states", "node_detail", "state_colour", "summary_svg",
    "text_color",
]

LABEL_LIMIT = 300
# The renderer's geometry (labextension/src/svg.ts GEOMETRY_LR): keep them equal.
NODE_WIDTH, NODE_HEIGHT = 150.0, 40.0
STEP_X, STEP_Y = 190.0, 52.0
PADDING = 12.0
MAX_LABEL = 20
_HEADER = 44  # title line + legend row, when framed
_FONT = 'font-family="-apple-system,Segoe UI,Helvetica,Arial,sans-serif"'
_EDGE = "#8c959f"


def format_duration(seconds: float | None) -> str:  # noqa: PLR0911 - one branch per unit
    """Seconds for people, as the JupyterLab renderer writes them.

    ``0.0002`` -> ``"0.2 ms"``, ``0.012`` -> ``"12 ms"``, ``3.2`` -> ``"3.20 s"``,
    ``42.25`` -> ``"42.3 s"``, ``125`` -> ``"2 min 05 s"``, ``3720`` -> ``"1 h 02 min"``;
    ``None`` -> ``""``.
    """
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return ""
    if seconds < 0.00995:
        return f"{_fixed(seconds * 1000, 1)} ms"
    if seconds < 0.9995:
        return f"{_fixed(seconds * 1000, 0)} ms"
    if seconds < 9.995:
        return f"{_fixed(seconds, 2)} s"
    if seconds < 59.95:
        return f"{_fixed(seconds, 1)} s"
    total = math.floor(seconds + 0.5)
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min {total % 60:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def format_bytes(n: int) -> str:
    """A size in bytes for people: ``1536`` -> ``"1.5 KiB"``, ``900`` -> ``"900 B"``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover - the loop always returns


def _fixed(value: float, digits: int) -> str:
    """Round half up, as JavaScript's ``Math.round`` does (Python rounds half to even)."""
    scale = 10**digits
    return f"{math.floor(value * scale + 0.5) / scale:.{digits}f}"


def text_color(fill: str) -> str:
    """Dark or light text, whichever reads better on ``fill`` (the renderer's rule)."""
    text = fill.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(c * 2 for c in text)
    try:
        rgb = [int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    except ValueError:
        return "#ffffff"
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return "#1f2328" if 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] > 0.4 else "#ffffff"


def _short(label: str, limit: int = MAX_LABEL) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def legend_states(doc: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """``(state, colour, count)`` of the states present, in the colour table's order."""
    counts = dict(doc.get("counts") or {})
    for node in doc.get("nodes", ()):
        counts.setdefault(node["state"], 0)
    colours = {**STATE_COLORS, **(doc.get("states") or {})}
    known = [s for s in colours if s in counts]
    unknown = sorted(s for s in counts if s not in colours)
    present = {n["state"] for n in doc.get("nodes", ())}
    return [
        (s, colours.get(s, STATE_COLORS["pending"]), counts[s])
        for s in (*known, *unknown)
        if counts[s] > 0 or s in present
    ]


class _Geometry:
    """Pixel placement of layout units for one mode."""

    def __init__(self, nodes: Sequence[Mapping[str, Any]], full: bool, top: float) -> None:
        self.full = full
        self.node_w, self.node_h = (NODE_WIDTH, NODE_HEIGHT) if full else (8.0, 8.0)
        self.col, self.row = (STEP_X, STEP_Y) if full else (44.0, 12.0)
        ys = [n["y"] for n in nodes] or [0.0]
        xs = [n["x"] for n in nodes] or [0.0]
        self.min_x, self.min_y = min(xs), min(ys)
        self.top = top
        self.width = PADDING * 2 + (max(xs) - self.min_x) * self.col + self.node_w
        self.height = top + PADDING * 2 + (max(ys) - self.min_y) * self.row + self.node_h

    def box(self, node: Mapping[str, Any]) -> tuple[float, float]:
        """Top-left corner of ``node``'s box."""
        return (
            PADDING + (node["x"] - self.min_x) * self.col,
            self.top + PADDING + (node["y"] - self.min_y) * self.row,
        )


class SvgRenderer:
    """Draws documents sharing one graph; edges are built once.

    Parameters
    ----------
    doc:
        A DAG document (see :mod:`.dag_json`); only nodes and edges are read here.
    frame:
        Put a title line and a legend inside the SVG.
    """

    def __init__(self, doc: Mapping[str, Any], *, frame: bool = True) -> None:
        nodes = doc["nodes"]
        self.frame = frame
        self.geometry = _Geometry(nodes, full=len(nodes) <= LABEL_LIMIT, top=_HEADER if frame else 0)
        self._edges = _edges_svg(doc, self.geometry)

    def render(self, doc: Mapping[str, Any], width: int | None = None) -> str:
        """The whole SVG of ``doc`` (states, counts and title as they are now)."""
        g = self.geometry
        nodes = doc["nodes"]
        if not nodes:
            return _empty_svg(doc)
        body = _nodes_full(nodes, g, doc) if g.full else _nodes_compact(nodes, g, doc)
        head, natural = "", g.width
        if self.frame:
            legend, legend_w = _legend(doc)
            head = _title(doc) + legend
            natural = max(g.width, legend_w + 2 * PADDING, 360.0)
        return "".join((_open(natural, g.height, width, doc), head, self._edges, body, "</svg>"))


def dag_svg(doc: Mapping[str, Any], *, width: int | None = None, frame: bool = True) -> str:
    """Static inline SVG of a DAG document.

    Parameters
    ----------
    doc:
        A version-1 DAG document.
    width:
        Display width in pixels; the drawing keeps its aspect ratio. By
        default it is drawn at natural size, shrunk to fit its container.
    frame:
        Add a title line and a legend of the states present.
    """
    return SvgRenderer(doc, frame=frame).render(doc, width)


def _open(natural_w: float, natural_h: float, width: int | None, doc: Mapping[str, Any]) -> str:
    if width is not None:
        scale = width / natural_w
        size = f'width="{width}" height="{natural_h * scale:.0f}"'
    else:
        size = f'width="{natural_w:.0f}" height="{natural_h:.0f}"'
    label = escape(f"DAG of workflow {doc.get('workflow', '')}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="codomyrmex-dag" {size} '
        f'viewBox="0 0 {natural_w:.0f} {natural_h:.0f}" role="img" aria-label="{label}" '
        f'style="max-width:100%;height:auto;display:block" {_FONT} font-size="12">'
        '<defs><marker id="cdm-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
        'markerHeight="8" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0L10,5L0,10z" fill="{_EDGE}"/></marker></defs>'
    )


def _title(doc: Mapping[str, Any]) -> str:
    parts = [str(doc.get("workflow") or "")]
    if doc.get("status"):
        parts.append(str(doc["status"]))
    if doc.get("run_id"):
        parts.append(str(doc["run_id"])[:8])
    total, shown = doc.get("total_nodes", 0), len(doc.get("nodes", ()))
    parts.append(f"{total} steps" + (f" (first {shown} shown)" if doc.get("truncated") else ""))
    return f'<text x="{PADDING}" y="16" font-weight="600">{escape(" · ".join(parts))}</text>'


def _legend(doc: Mapping[str, Any]) -> tuple[str, float]:
    out: list[str] = []
    x = PADDING
    for state, colour, n in legend_states(doc):
        text = f"{state} {n}"
        out.append(
            f'<rect x="{x:.0f}" y="26" width="11" height="11" rx="2" fill="{escape(colour)}"/>'
            f'<text x="{x + 16:.0f}" y="36" fill="#57606a">{escape(text)}</text>'
        )
        x += 30 + 6.6 * len(text)
    return '<g class="legend">' + "".join(out) + "</g>", x


def _edges_svg(doc: Mapping[str, Any], g: _Geometry) -> str:
    where = {n["id"]: g.box(n) for n in doc["nodes"]}
    w, h = g.node_w, g.node_h
    lines: list[str] = []
    for src, dst in doc["edges"]:
        a, b = where.get(src), where.get(dst)
        if a is None or b is None:
            continue
        if g.full:
            x1, y1, x2, y2 = a[0] + w, a[1] + h / 2, b[0] - 2, b[1] + h / 2
            d = max(abs(x2 - x1) / 2, 24.0)
            lines.append(f"M{x1:.1f},{y1:.1f}C{x1 + d:.1f},{y1:.1f} {x2 - d:.1f},{y2:.1f} {x2:.1f},{y2:.1f}")
        else:
            lines.append(f"M{a[0] + w / 2:.1f},{a[1] + h / 2:.1f}L{b[0] + w / 2:.1f},{b[1] + h / 2:.1f}")
    if not lines:
        return ""
    if g.full:  # one path per edge: each needs its own arrow marker
        paths = "".join(f'<path d="{d}" marker-end="url(#cdm-arrow)"/>' for d in lines)
        return f'<g class="edges" fill="none" stroke="{_EDGE}" stroke-width="1.2">{paths}</g>'
    return f'<path class="edges" d="{"".join(lines)}" fill="none" stroke="{_EDGE}" stroke-width="0.6"/>'


def node_detail(state: str, duration: float | None) -> str:
    """The second line of a node box: its duration, else its state (a cached step's is "cached")."""
    if state == "cached":
        return state  # it took no time: the time it took to look it up says nothing
    if duration is not None:
        return format_duration(duration)
    return "" if state == "pending" else state


def _tooltip(node: Mapping[str, Any]) -> str:
    parts = [f"{node['id']}: {node['state']}"]
    if node.get("module"):
        parts.append(f"{node['module']}.{node.get('action') or ''}")
    if node.get("duration") is not None:
        parts.append(format_duration(node["duration"]))
    if (node.get("attempts") or 0) > 1:
        parts.append(f"{node['attempts']} attempts")
    if node.get("error"):
        parts.append(str(node["error"]))
    if node.get("cache"):
        parts.append(f"cache: {node['cache']}")
    return f"<title>{escape(' | '.join(parts))}</title>"


def state_colour(doc: Mapping[str, Any], state: str) -> str:
    """The colour of ``state`` in ``doc`` (its own palette first, then the standard one)."""
    return str((doc.get("states") or {}).get(state) or STATE_COLORS.get(state, STATE_COLORS["pending"]))


def _nodes_full(nodes: Sequence[Mapping[str, Any]], g: _Geometry, doc: Mapping[str, Any]) -> str:
    out: list[str] = []
    w, h = g.node_w, g.node_h
    for node in nodes:
        x, y = g.box(node)
        state = str(node["state"])
        fill = state_colour(doc, state)
        ink = text_color(fill)
        duration = node.get("duration")
        detail = node_detail(state, duration)
        out.append(
            f'<g class="node" data-id="{escape(node["id"])}" data-state="{escape(state)}">{_tooltip(node)}'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.0f}" height="{h:.0f}" rx="5" '
            f'fill="{escape(fill)}" stroke="#57606a" stroke-width="0.6"/>'
            f'<text x="{x + 10:.1f}" y="{y + 17:.1f}" fill="{ink}" font-weight="600">'
            f"{escape(_short(node['label']))}</text>"
            f'<text x="{x + 10:.1f}" y="{y + 31:.1f}" font-size="11" fill="{ink}">{escape(detail)}</text>'
        )
        if (node.get("attempts") or 0) > 1:
            out.append(
                f'<text x="{x + w - 8:.1f}" y="{y + 31:.1f}" font-size="11" text-anchor="end" '
                f'fill="{ink}">×{node["attempts"]}</text>'
            )
        if state == "failed":
            out.append(_error_marker(x + w - 2, y + 2, fill))
        out.append("</g>")
    return "".join(out)


def _error_marker(cx: float, cy: float, colour: str) -> str:
    return (
        f'<circle class="error-marker" cx="{cx:.1f}" cy="{cy:.1f}" r="7" fill="#ffffff" '
        f'stroke="{escape(colour)}" stroke-width="2"/>'
        f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="11" font-weight="700" '
        f'fill="{escape(colour)}">!</text>'
    )


def _nodes_compact(nodes: Sequence[Mapping[str, Any]], g: _Geometry, doc: Mapping[str, Any]) -> str:
    out: list[str] = []
    r = g.node_w / 2
    for node in nodes:
        x, y = g.box(node)
        state = str(node["state"])
        ring = ' stroke="#1f2328" stroke-width="1.5"' if state == "failed" else ""
        out.append(
            f'<circle class="node" data-state="{escape(state)}" cx="{x + r:.1f}" cy="{y + r:.1f}" '
            f'r="{r:.0f}" fill="{escape(state_colour(doc, state))}"{ring}>'
            f"{_tooltip(node)}</circle>"
        )
    return "".join(out)


def _empty_svg(doc: Mapping[str, Any]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="codomyrmex-dag" width="360" height="60" '
        f'{_FONT} font-size="12">{_title(doc)}'
        f'<text x="{PADDING}" y="42" fill="#57606a">no steps</text></svg>'
    )


def summary_svg(
    layer_counts: Sequence[Mapping[str, int]],
    doc: Mapping[str, Any],
    *,
    height: int = 160,
    layers: int | None = None,
) -> str:
    """One stacked bar of state counts per layer: a run too big to draw node by node.

    Above :data:`~.dag_json.MAX_COLUMNS` layers, adjacent layers share a bar,
    so a redraw costs the same for a long chain as for a wide graph.

    Parameters
    ----------
    layer_counts:
        For each layer (left to right), the number of steps per state.
    doc:
        The run's document: title, status and total counts come from it.
    height:
        Height of the bar area in pixels.
    layers:
        The number of layers when ``layer_counts`` already groups them into
        columns (the caption says so); by default one entry is one layer.
    """
    if layers is None:
        layers = len(layer_counts)
    if len(layer_counts) > MAX_COLUMNS:
        layer_counts = _grouped(layer_counts, MAX_COLUMNS)
    n = max(len(layer_counts), 1)
    bar_w = max(2.0, min(24.0, 900.0 / n))
    tallest = max((sum(c.values()) for c in layer_counts), default=1) or 1
    legend, legend_w = _legend(doc)
    width = max(PADDING * 2 + n * bar_w, legend_w + 2 * PADDING, 360.0)
    base = _HEADER + PADDING + height
    out = [_open(width, base + PADDING + 14, None, doc), _title(doc), legend]
    for k, counts in enumerate(layer_counts):
        out.append(_bar(counts, PADDING + k * bar_w, base, bar_w * 0.85, height / tallest))
    what = f"{layers} layers" if layers == len(layer_counts) else f"{layers} layers in {n} bars"
    per = "layer" if layers == len(layer_counts) else "bar"
    out.append(
        f'<text x="{PADDING}" y="{base + 14 + PADDING / 2:.0f}" font-size="11" fill="#57606a">'
        f"{what} (left to right), bar height = steps per {per}</text></svg>"
    )
    return "".join(out)


def _bar(counts: Mapping[str, int], x: float, base: float, width: float, unit: float) -> str:
    """One stacked bar: a segment per state, in legend order, from the bottom up."""
    out: list[str] = []
    y = base
    for state, colour in STATE_COLORS.items():
        c = counts.get(state, 0)
        if c:
            seg = unit * c
            y -= seg
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{seg:.1f}" '
                f'fill="{colour}" data-state="{state}"/>'
            )
    return "".join(out)


def _grouped(layer_counts: Sequence[Mapping[str, int]], columns: int) -> list[dict[str, int]]:
    """Adjacent layers summed into ``columns`` bars (layer ``k`` goes to ``k * columns // n``)."""
    n = len(layer_counts)
    out: list[dict[str, int]] = [{} for _ in range(columns)]
    for k, counts in enumerate(layer_counts):
        bucket = out[k * columns // n]
        for state, c in counts.items():
            bucket[state] = bucket.get(state, 0) + c
    return out
