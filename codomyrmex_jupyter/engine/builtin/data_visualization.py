"""``data_visualization.create_chart``: a matplotlib chart of a step's input.

The chart is returned as a :class:`ChartResult`, a ``dict`` holding the PNG and
the data that was drawn, so it stores as JSON with the run and still shows
inline in a notebook (``_repr_png_`` / ``_repr_html_``).

matplotlib is imported only while a chart is drawn, and only its object API
(``Figure`` on an Agg canvas) is used: importing this module stays cheap, and a
chart drawn in a worker thread never touches the user's pyplot figures or
backend.

Accepted data, and the chart ``kind="auto"`` picks for it:

============================================  =========================
``{"label": number, ...}``                     bar
``{"name": [numbers], ...}``                   one line per name
``[numbers]``                                  line
``[(x, y), ...]``                              line if x increases, else scatter
a ``static_analysis`` result (as an input)     histogram of function complexity
numbers from several dependencies              bar, one per step
============================================  =========================
"""

from __future__ import annotations

import base64
import html
import itertools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from io import BytesIO
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..actions import ActionRegistry

__all__ = ["KINDS", "ChartResult", "create_chart", "register"]

KINDS = ("auto", "bar", "barh", "line", "scatter", "hist")
_ACCEPTED = (
    "pass a mapping of label -> number, a mapping of name -> list of numbers, "
    "a list of numbers or a list of (x, y) pairs, or depend on a step that returns "
    "one of these, a number, or a static_analysis result"
)
_MAX_PIXELS = 10_000  # per side; a typo in dpi should not allocate gigabytes
_TOP_FILES = 15
_MAX_BINS = 50
# matplotlib is not thread-safe and steps run on a thread pool.
_render_lock = threading.Lock()

Number = int | float
Series = dict[str, Any]  # {"name": str, "x": [str | number], "y": [number]}


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to draw: resolved kind, series and default labels.

    A ``hist`` series holds the values in ``x`` and how often each occurs in
    ``y``, so a stored complexity distribution needs no expanding.
    """

    kind: str
    series: list[Series]
    title: str | None = None
    xlabel: str | None = None
    ylabel: str | None = None


class ChartResult(dict[str, Any]):
    """A chart as stored data: ``png`` bytes, ``kind``, ``title``, ``summary``.

    It also keeps ``xlabel``, ``ylabel``, ``series`` (the drawn data) and
    ``size``, so :meth:`figure` can draw it again. Being a plain ``dict`` it is
    stored as JSON; wrap a stored copy in ``ChartResult`` to display it again.
    """

    __slots__ = ()

    @property
    def png(self) -> bytes:
        """The PNG image (decoded if it was stored as base64 text)."""
        data = self["png"]
        return base64.b64decode(data) if isinstance(data, str) else bytes(data)

    def caption(self) -> str:
        """One line: title, kind and the summary numbers."""
        s = self.get("summary") or {}
        head = f"{self['title']}: " if self.get("title") else ""
        stats = ", ".join(f"{k} {_fmt(s.get(k))}" for k in ("min", "max", "mean"))
        return f"{head}{self.get('kind')} chart of {s.get('points', 0)} points; {stats}"

    def figure(self) -> Figure:
        """Draw the chart again on a new matplotlib ``Figure`` (Agg canvas)."""
        plan = _Plan(
            self["kind"], self["series"], self.get("title"), self.get("xlabel"), self.get("ylabel")
        )
        size = self.get("size") or {}
        with _render_lock:
            return _figure(
                plan, size.get("width", 6.0), size.get("height", 4.0), size.get("dpi", 100)
            )

    def _repr_png_(self) -> bytes:
        return self.png

    def _repr_html_(self) -> str:
        src = base64.b64encode(self.png).decode("ascii")
        alt = html.escape(self.get("title") or f"{self.get('kind')} chart", quote=True)
        return (
            f'<figure style="margin:0"><img src="data:image/png;base64,{src}" alt="{alt}"/>'
            f"<figcaption>{html.escape(self.caption())}</figcaption></figure>"
        )

    def __repr__(self) -> str:
        # The default dict repr would print kilobytes of PNG bytes.
        return f"<ChartResult {self.caption()} ({len(self.png)} byte PNG)>"


def create_chart(
    data: Any = None,
    *,
    inputs: dict[str, Any] | None = None,
    kind: str = "auto",
    title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    width: float = 6.0,
    height: float = 4.0,
    dpi: int = 100,
) -> ChartResult:
    """Draw ``data`` (or the results of the step's dependencies) as a PNG chart.

    Parameters
    ----------
    data:
        A mapping of label -> number, a mapping of name -> list of numbers, a
        list of numbers or a list of ``(x, y)`` pairs. NumPy arrays and pandas
        objects are converted. When ``None``, the chart is made from ``inputs``.
    inputs:
        Results of the dependencies, step name -> result (filled in by the
        engine). A ``static_analysis`` result gives a histogram of function
        complexity (or, without one, the largest files); several numbers give
        a bar per step; a single chartable result is drawn as ``data`` would be.
    kind:
        One of ``auto``, ``bar``, ``barh``, ``line``, ``scatter``, ``hist``.
    title, xlabel, ylabel:
        Labels; sensible defaults are chosen from the data.
    width, height, dpi:
        Figure size in inches and resolution.

    Returns
    -------
    ChartResult
        ``png`` (bytes), ``kind``, ``title``, ``xlabel``, ``ylabel``,
        ``series``, ``size`` and ``summary`` (``points``, ``min``, ``max``,
        ``mean``, ``series``: the series names).

    Raises
    ------
    ValueError
        The data has a shape listed above, holds NaN or infinity, or a size or
        kind is out of range.

    Examples
    --------
    >>> chart = create_chart({"a": 3, "b": 5}, title="Counts")
    >>> chart["kind"], chart["summary"]["max"], chart.png[:4]
    ('bar', 5, b'\\x89PNG')
    """
    _check_size(width, height, dpi)
    _check_kind(kind)
    plan = _plan_from_data(data, kind, "data") if data is not None else _plan_from_inputs(inputs, kind)
    plan = replace(
        plan, title=title or plan.title, xlabel=xlabel or plan.xlabel, ylabel=ylabel or plan.ylabel
    )
    return _result(plan, float(width), float(height), int(dpi))


# -- checks ------------------------------------------------------------------------


def _check_size(width: float, height: float, dpi: int) -> None:
    for name, value in (("width", width), ("height", height)):
        if not _is_number(value) or not 0 < value < math.inf:
            raise ValueError(f"{name} must be a positive number of inches; got {value!r}")
    if not isinstance(dpi, Integral) or isinstance(dpi, bool) or dpi < 1:
        raise ValueError(f"dpi must be a positive integer; got {dpi!r}")
    if max(width, height) * int(dpi) > _MAX_PIXELS:
        raise ValueError(
            f"a {width}x{height} inch chart at {dpi} dpi exceeds {_MAX_PIXELS} pixels a side; "
            "lower width, height or dpi"
        )


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _native(value: Any, where: str) -> Number:
    """A finite built-in int or float (NumPy scalars included), else ValueError."""
    number: Number = int(value) if isinstance(value, Integral) else float(value)
    if not math.isfinite(number):
        raise ValueError(f"{where} is {number}; drop or fill non-finite values before charting")
    return number


# -- shapes of data -------------------------------------------------------------------


def _coerce(data: Any) -> Any:
    """Plain Python containers from pandas and NumPy objects."""
    if hasattr(data, "columns") and hasattr(data, "to_dict"):  # pandas DataFrame
        return data.to_dict(orient="list")
    if hasattr(data, "index") and hasattr(data, "to_dict"):  # pandas Series
        return data.to_dict()
    if hasattr(data, "tolist"):  # NumPy array or scalar
        return data.tolist()
    return data


def _is_sequence(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _numbers(value: Any) -> list[Any] | None:
    """``value`` as a non-empty list of numbers, or ``None`` if it is not one."""
    value = _coerce(value)
    if _is_sequence(value) and value and all(_is_number(v) for v in value):
        return list(value)
    return None


def _is_pair(item: Any) -> bool:
    item = _coerce(item)
    if not _is_sequence(item) or len(item) != 2:
        return False
    return (_is_number(item[0]) or isinstance(item[0], str)) and _is_number(item[1])


def _plan_from_data(data: Any, kind: str, name: str) -> _Plan:
    data = _coerce(data)
    if isinstance(data, Mapping):
        return _from_mapping(data, kind, name)
    if _is_sequence(data):
        return _from_sequence(list(data), kind, name)
    raise ValueError(f"cannot chart {type(data).__name__!r} data; {_ACCEPTED}")


def _from_mapping(data: Mapping[Any, Any], kind: str, name: str) -> _Plan:
    if not data:
        raise ValueError(f"{name} is an empty mapping; {_ACCEPTED}")
    if all(_is_number(_coerce(v)) for v in data.values()):
        series = _series(name, [str(k) for k in data], [_coerce(v) for v in data.values()])
        return _with_kind(_Plan("bar", [series], ylabel="value"), kind)
    columns = {str(k): _numbers(v) for k, v in data.items()}
    if all(v is not None for v in columns.values()):
        lines = [_series(k, list(range(len(v or []))), v or []) for k, v in columns.items()]
        return _with_kind(_Plan("line", lines), kind)
    raise ValueError(
        f"cannot chart {name}: its values are neither all numbers nor all lists "
        f"of numbers; {_ACCEPTED}"
    )


def _from_sequence(items: list[Any], kind: str, name: str) -> _Plan:
    if not items:
        raise ValueError(f"{name} is an empty list; {_ACCEPTED}")
    numbers = _numbers(items)
    if numbers is not None:
        return _with_kind(_Plan("line", [_series(name, list(range(len(numbers))), numbers)]), kind)
    if all(_is_pair(item) for item in items):
        pairs = [_coerce(item) for item in items]
        series = _series(name, [p[0] for p in pairs], [p[1] for p in pairs])
        return _with_kind(_Plan(_line_or_scatter(series["x"]), [series]), kind)
    raise ValueError(
        f"cannot chart {name}: a list must hold only numbers or only (x, y) pairs; {_ACCEPTED}"
    )


def _series(name: str, x: list[Any], y: list[Any]) -> Series:
    xs = [v if isinstance(v, str) else _native(v, f"{name} x value {v!r}") for v in x]
    ys = [_native(v, f"{name} value at {label!r}") for label, v in zip(x, y, strict=True)]
    return {"name": name, "x": xs, "y": ys}


def _line_or_scatter(x: list[Any]) -> str:
    numeric = all(isinstance(v, (int, float)) for v in x)
    increasing = numeric and all(a < b for a, b in itertools.pairwise(x))
    return "line" if increasing else "scatter"


def _with_kind(plan: _Plan, kind: str) -> _Plan:
    """Apply an explicit ``kind``; a histogram counts the series' values."""
    if kind == "auto":
        return plan
    if kind == "hist":
        samples = [_as_samples(s) for s in plan.series]
        return replace(plan, kind="hist", series=samples, xlabel=plan.ylabel, ylabel="count")
    return replace(plan, kind=kind)


def _as_samples(series: Series) -> Series:
    return {"name": series["name"], "x": list(series["y"]), "y": [1] * len(series["y"])}


# -- dependency results ----------------------------------------------------------------


def _plan_from_inputs(inputs: Mapping[str, Any] | None, kind: str) -> _Plan:
    results = {str(k): v for k, v in (inputs or {}).items() if v is not None}
    if not results:
        raise ValueError(f"create_chart got no data; {_ACCEPTED}")
    analysis = next(((k, v) for k, v in results.items() if _is_analysis(v)), None)
    if analysis is not None:
        return _from_analysis(analysis[0], analysis[1], kind)
    if all(_is_number(_coerce(v)) for v in results.values()):
        plan = _from_mapping(results, kind, "results")
        return replace(plan, title="Step results", xlabel=plan.xlabel or "step")
    if len(results) == 1:
        return _from_single_input(*next(iter(results.items())), kind)
    raise ValueError(f"cannot chart the results of steps {sorted(results)} together; {_ACCEPTED}")


def _from_single_input(name: str, value: Any, kind: str) -> _Plan:
    try:
        plan = _plan_from_data(value, kind, name)
    except ValueError as exc:
        raise ValueError(f"cannot chart the result of step {name!r}: {exc}") from exc
    return replace(plan, title=plan.title or name)


def _is_analysis(value: Any) -> bool:
    return isinstance(value, Mapping) and "per_file" in value and "complexity" in value


def _from_analysis(name: str, result: Mapping[str, Any], kind: str) -> _Plan:
    rows = [r for r in result.get("per_file") or [] if isinstance(r, Mapping)]
    if not rows:
        raise ValueError(
            f"the analysis of step {name!r} found no Python files; point it at a directory "
            "that holds .py files"
        )
    distribution = _distribution(result)
    if distribution and kind in ("auto", "hist"):
        return _complexity_histogram(distribution)
    return _largest_files(rows, kind)


def _distribution(result: Mapping[str, Any]) -> dict[int, int]:
    """Complexity -> number of functions, from the summary or the per-function list."""
    stored = (result.get("complexity") or {}).get("distribution")
    if isinstance(stored, Mapping) and stored:
        return {int(k): int(v) for k, v in stored.items()}
    counts: dict[int, int] = {}
    for fn in result.get("function_details") or []:
        value = int(fn["complexity"])
        counts[value] = counts.get(value, 0) + 1
    return counts


def _complexity_histogram(distribution: Mapping[int, int]) -> _Plan:
    values = sorted(distribution)
    series = _series("functions", values, [distribution[v] for v in values])
    total = sum(distribution.values())
    return _Plan(
        "hist",
        [series],
        title=f"Cyclomatic complexity of {total} functions",
        xlabel="cyclomatic complexity",
        ylabel="functions",
    )


def _largest_files(rows: list[Mapping[str, Any]], kind: str) -> _Plan:
    top = sorted(rows, key=lambda r: (-int(r.get("lines", 0)), str(r.get("file"))))[:_TOP_FILES]
    series = _series("lines", [str(r.get("file")) for r in top], [r.get("lines", 0) for r in top])
    title = f"Lines per file ({len(top)} largest of {len(rows)})"
    if kind in ("auto", "barh"):
        return _Plan("barh", [series], title=title, xlabel="lines", ylabel="file")
    return _with_kind(_Plan("bar", [series], title=title, xlabel="file", ylabel="lines"), kind)


# -- result and summary ------------------------------------------------------------------


def _result(plan: _Plan, width: float, height: float, dpi: int) -> ChartResult:
    with _render_lock:
        png = _png(_figure(plan, width, height, dpi))
    return ChartResult(
        png=png,
        kind=plan.kind,
        title=plan.title,
        xlabel=plan.xlabel,
        ylabel=plan.ylabel,
        series=plan.series,
        size={"width": width, "height": height, "dpi": dpi},
        summary=_summary(plan),
    )


def _summary(plan: _Plan) -> dict[str, Any]:
    if plan.kind == "hist":  # x holds the values, y how often each occurs
        values = [v for s in plan.series for v in s["x"]]
        weights = [w for s in plan.series for w in s["y"]]
    else:
        values = [v for s in plan.series for v in s["y"]]
        weights = [1] * len(values)
    total = sum(weights)
    return {
        "points": total,
        "min": min(values, default=None),
        "max": max(values, default=None),
        "mean": sum(v * w for v, w in zip(values, weights, strict=True)) / total if total else None,
        "series": [s["name"] for s in plan.series],
    }


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# -- drawing ------------------------------------------------------------------------------


def _figure(plan: _Plan, width: float, height: float, dpi: int) -> Figure:
    """A new Figure on its own Agg canvas: no pyplot, no global backend change."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    _DRAWERS[plan.kind](ax, plan.series)
    ax.set_title(plan.title or "")
    ax.set_xlabel(plan.xlabel or "")
    ax.set_ylabel(plan.ylabel or "")
    if len(plan.series) > 1:
        ax.legend()
    return fig


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _draw_bar(ax: Axes, series: list[Series]) -> None:
    _draw_bars(ax, series, horizontal=False)


def _draw_barh(ax: Axes, series: list[Series]) -> None:
    _draw_bars(ax, series, horizontal=True)
    ax.invert_yaxis()  # first item on top, as it reads in a table


def _draw_bars(ax: Axes, series: list[Series], *, horizontal: bool) -> None:
    # Several series share each category slot side by side.
    labels = [str(x) for x in series[0]["x"]]
    step = 0.8 / len(series)
    for i, s in enumerate(series):
        pos = [j - 0.4 + step * (i + 0.5) for j in range(len(s["y"]))]
        draw = ax.barh if horizontal else ax.bar
        draw(pos, s["y"], step, label=s["name"])
    ticks = list(range(len(labels)))
    if horizontal:
        ax.set_yticks(ticks, labels)
    else:
        ax.set_xticks(ticks, labels, rotation=45 if len(labels) > 8 else 0, ha="right")


def _draw_line(ax: Axes, series: list[Series]) -> None:
    for s in series:
        ax.plot(s["x"], s["y"], marker="o" if len(s["y"]) <= 50 else "", label=s["name"])


def _draw_scatter(ax: Axes, series: list[Series]) -> None:
    for s in series:
        ax.scatter(s["x"], s["y"], label=s["name"])


def _draw_hist(ax: Axes, series: list[Series]) -> None:
    alpha = 1.0 if len(series) == 1 else 0.6
    for s in series:
        ax.hist(
            s["x"],
            bins=_bins(s["x"]),
            weights=s["y"],
            alpha=alpha,
            label=s["name"],
            edgecolor="white",
        )


def _bins(values: list[Any]) -> int | list[float]:
    """One bin per integer for small integer ranges (complexities), else up to 50."""
    lo, hi = min(values), max(values)
    if all(isinstance(v, int) for v in values) and hi - lo < _MAX_BINS:
        return [v - 0.5 for v in range(lo, hi + 2)]
    return max(1, min(_MAX_BINS, len(set(values))))


_DRAWERS: dict[str, Callable[[Axes, list[Series]], None]] = {
    "bar": _draw_bar,
    "barh": _draw_barh,
    "line": _draw_line,
    "scatter": _draw_scatter,
    "hist": _draw_hist,
}


def register(registry: ActionRegistry) -> None:
    """Register ``data_visualization.create_chart`` with ``registry``."""
    registry.register("data_visualization", "create_chart", create_chart)
