"""Comparing two recorded runs: steps, code, parameters, states, results, environment.

:func:`diff_runs` reads both runs (definition, record, step rows) and returns
a :class:`RunDiff`: per step whether it was added, removed or changed (its
dependencies, its code with a unified diff, its parameters, its state, its
result summary) and its durations; the run parameters and the environment
that changed. It prints as text, shows as an HTML table in a notebook and
turns into JSON (:meth:`RunDiff.to_dict`, served by the Runs API).
:func:`diff_stored_runs` needs only the store (no kernel, no manager) and
only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..engine.cache.explain import code_diff
from ..engine.cache.hashing import short_repr
from ..engine.provenance import load_sources
from ..engine.run_query import resolve_run_id
from ..engine.summary import describe_change
from ..errors import ReproducibilityError
from .recorded_runs import RecordedRun, recorded_run, stored_run

if TYPE_CHECKING:
    from ..engine.store import Store
    from .workflow_manager import WorkflowManager

__all__ = ["RunDiff", "RunSide", "StepDiff", "diff_runs", "diff_stored_runs"]

Change = Literal["added", "removed", "changed", "same"]
Pair = tuple[Any, Any]


def _outcome(state: str | None) -> str | None:
    return "succeeded" if state == "cached" else state


def _shown(value: str | None) -> str:
    return "(unset)" if value is None else value


def _pair_dict(pair: Pair) -> dict[str, Any]:
    return {"a": pair[0], "b": pair[1]}


def _changes_dicts(changes: list[tuple[str, str | None, str | None]]) -> list[dict[str, Any]]:
    return [{"name": n, "a": a, "b": b} for n, a, b in changes]


@dataclass(frozen=True)
class RunSide:
    """One of the two runs compared."""

    run_id: str
    workflow: str
    version: int | None
    status: str
    start: float | None
    duration: float | None

    @property
    def label(self) -> str:
        """``workflow [1a2b3c4d] v3``."""
        version = f" v{self.version}" if self.version is not None else ""
        return f"{self.workflow} [{self.run_id[:8]}]{version}"

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON (see :meth:`RunDiff.to_dict`)."""
        return {"run_id": self.run_id, "workflow": self.workflow, "version": self.version,
                "status": self.status, "start": self.start, "duration": self.duration}


@dataclass(frozen=True)
class StepDiff:
    """How one step differs between the runs (``a`` then ``b`` in every pair)."""

    step: str
    change: Change
    state: Pair = (None, None)
    duration: Pair = (None, None)
    dependencies: Pair | None = None
    code_changed: bool = False
    code_diff: str | None = None
    parameters: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    result: str | None = None
    cache: Pair = (None, None)

    @property
    def state_changed(self) -> bool:
        """The step ended differently (taking a result from the cache counts as succeeding)."""
        return _outcome(self.state[0]) != _outcome(self.state[1])

    def to_dict(self) -> dict[str, Any]:
        """The step's differences as JSON (see :meth:`RunDiff.to_dict`)."""
        deps = self.dependencies
        return {
            "step": self.step, "change": self.change,
            "state": _pair_dict(self.state), "state_changed": self.state_changed,
            "duration": _pair_dict(self.duration),
            "dependencies": None if deps is None else _pair_dict(deps),
            "code_changed": self.code_changed, "code_diff": self.code_diff,
            "parameters": _changes_dicts(self.parameters),
            "result": self.result, "cache": _pair_dict(self.cache),
        }

    def lines(self) -> list[str]:
        """Text lines: the step's change, then what differs."""
        out = [f"{self.step}: {self.change}"]
        if self.state_changed:
            out.append(f"    state {self.state[0]} -> {self.state[1]}")
        if self.dependencies is not None:
            out.append(f"    dependencies {self.dependencies[0]} -> {self.dependencies[1]}")
        out += [f"    parameter {n!r}: {_shown(a)} -> {_shown(b)}" for n, a, b in self.parameters]
        if self.result:
            out.append(f"    result {self.result}")
        if self.code_changed:
            out.append("    code changed" + ("" if self.code_diff else " (source not stored)"))
        if self.code_diff:
            out += ["      " + line for line in self.code_diff.rstrip("\n").splitlines()]
        return out


@dataclass
class RunDiff:
    """The differences between run ``a`` and run ``b``."""

    a: RunSide
    b: RunSide
    parameters: list[tuple[str, str | None, str | None]]
    environment: list[tuple[str, str | None, str | None]]
    steps: list[StepDiff]

    @property
    def changed(self) -> list[StepDiff]:
        """Steps added, removed or changed."""
        return [s for s in self.steps if s.change != "same"]

    @property
    def identical(self) -> bool:
        """Nothing differs but times."""
        return not (self.parameters or self.environment or self.changed or self.a.status != self.b.status)

    def to_dict(self) -> dict[str, Any]:
        """The diff as JSON-ready data (what the Runs API serves).

        ``a``, ``b``
            The runs: ``run_id, workflow, version, status, start`` (epoch
            seconds), ``duration`` (seconds, ``None`` while unfinished).
        ``identical``
            Nothing differs but times.
        ``parameters``, ``environment``
            What differs, as ``{name, a, b}``: run parameters as short Python
            reprs (``"4"``, ``"'t'"``), environment entries (``python``,
            ``platform``, ``package <name>``, ...) as text; ``None`` where a
            run has none.
        ``steps``
            Every step of either run, in order (``a``'s, then those only ``b``
            has): ``step``, ``change`` (``added``, ``removed``, ``changed``,
            ``same``), ``state`` and ``duration`` as ``{a, b}``,
            ``state_changed`` (taking a result from the cache counts as
            succeeding), ``dependencies`` (``{a, b}`` sorted names when they
            differ, else ``None``), ``code_changed`` and ``code_diff`` (a
            unified diff, ``None`` when the sources are not stored),
            ``parameters`` (the step's own, ``{name, a, b}``), ``result`` (how
            the result summary changed, one line, or ``None``), ``cache``
            (``{a, b}``: ``hit``, the miss reason, or ``None``).
        """
        return {
            "a": self.a.to_dict(), "b": self.b.to_dict(), "identical": self.identical,
            "parameters": _changes_dicts(self.parameters),
            "environment": _changes_dicts(self.environment),
            "steps": [s.to_dict() for s in self.steps],
        }

    def text(self) -> str:
        """The diff as plain text."""
        lines = [f"diff {self.a.label} {self.a.status} -> {self.b.label} {self.b.status}"]
        lines += [f"  run parameter {n!r}: {_shown(a)} -> {_shown(b)}" for n, a, b in self.parameters]
        lines += [f"  environment {k}: {_shown(a)} -> {_shown(b)}" for k, a, b in self.environment]
        for s in self.changed:
            lines += ["  " + line for line in s.lines()]
        same = len(self.steps) - len(self.changed)
        lines.append(f"  {same} step(s) unchanged" if self.changed else "  no step changed")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_html_(self) -> str:
        from ..display.run_reports import run_diff_html

        return run_diff_html(self)


def _side(run: RecordedRun) -> RunSide:
    row = run.row
    start, end = row.get("start"), row.get("end")
    status = run.live.status.value if run.live is not None else str(row["status"])
    return RunSide(run.run_id, run.workflow, row.get("version"), status, start,
                   end - start if start is not None and end is not None else None)


def _timings(run: RecordedRun) -> dict[str, float | None]:
    if run.live is not None:
        return {n: r.duration for n, r in run.live.step_records.items()}
    out = {}
    for name, s in run.step_rows().items():
        out[name] = s["end"] - s["start"] if s.get("start") is not None and s.get("end") is not None else None
    return out


def _pairs(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in b or key not in a or a[key] != b[key]:
            out.append((key, short_repr(a[key]) if key in a else None,
                        short_repr(b[key]) if key in b else None))
    return out


def _environment(a: RecordedRun, b: RecordedRun) -> list[tuple[str, str | None, str | None]]:
    env_a = dict((a.record or {}).get("environment") or {})
    env_b = dict((b.record or {}).get("environment") or {})
    if not env_a or not env_b:
        return []
    flat_a = {k: v for k, v in env_a.items() if k != "packages"}
    flat_b = {k: v for k, v in env_b.items() if k != "packages"}
    flat_a.update({f"package {k}": v for k, v in (env_a.get("packages") or {}).items()})
    flat_b.update({f"package {k}": v for k, v in (env_b.get("packages") or {}).items()})
    return [(k, str(x) if x is not None else None, str(y) if y is not None else None)
            for k, x, y in ((k, flat_a.get(k), flat_b.get(k)) for k in sorted(set(flat_a) | set(flat_b)))
            if x != y]


class _Side:
    """Per-step lookups of one run."""

    def __init__(self, run: RecordedRun) -> None:
        self.run = run
        self.defs = {s.name: (i, s) for i, s in enumerate(run.steps or [])}
        self.times = _timings(run)
        self.summaries = dict((run.record or {}).get("summaries") or {})
        self.cache = dict((run.record or {}).get("cache") or {})

    def names(self) -> list[str]:
        return list(self.defs) if self.defs else list(self.times)

    def code(self, name: str) -> str | None:
        entry = self.defs.get(name)
        return None if entry is None else self.run.fingerprint(entry[0])

    def outcome(self, name: str) -> str | None:
        return (self.cache.get(name) or {}).get("outcome")


def _step(name: str, a: _Side, b: _Side, sources: dict[str, str]) -> StepDiff:
    in_a, in_b = name in a.defs or name in a.times, name in b.defs or name in b.times
    state = (a.run.status_of(name), b.run.status_of(name))
    timing = (a.times.get(name), b.times.get(name))
    cache = (a.outcome(name), b.outcome(name))
    if not (in_a and in_b):
        return StepDiff(name, "removed" if in_a else "added", state, timing, cache=cache)
    def_a, def_b = a.defs.get(name, (0, None))[1], b.defs.get(name, (0, None))[1]
    deps = None
    params: list[tuple[str, str | None, str | None]] = []
    if def_a is not None and def_b is not None:
        if sorted(def_a.dependencies) != sorted(def_b.dependencies):
            deps = (sorted(def_a.dependencies), sorted(def_b.dependencies))
        params = _pairs(def_a.parameters, def_b.parameters)
    code_a, code_b = a.code(name), b.code(name)
    code_changed = code_a is not None and code_b is not None and code_a != code_b
    diff = code_diff(sources.get(code_a or ""), sources.get(code_b or ""), name,
                     (a.run.short, b.run.short)) if code_changed else None
    result = describe_change(a.summaries.get(name), b.summaries.get(name))
    changed = bool(deps or params or code_changed or result or _outcome(state[0]) != _outcome(state[1]))
    return StepDiff(name, "changed" if changed else "same", state, timing, deps, code_changed,
                    diff or None, params, result, cache)


def diff_runs(manager: WorkflowManager, a: str, b: str) -> RunDiff:
    """Compare runs ``a`` and ``b`` (ids or unique prefixes), live runs of this kernel included."""
    return _diff(manager.store, recorded_run(manager, a), recorded_run(manager, b))


def diff_stored_runs(store: Store, a: str, b: str, *, resolved: bool = False) -> RunDiff:
    """Compare runs ``a`` and ``b`` (ids or unique prefixes) from ``store`` alone.

    For a process with no kernel and no manager (the Jupyter server): it
    only reads the store. ``resolved``: ``a`` and ``b`` are run ids the
    caller has resolved already (with
    :func:`~codomyrmex_jupyter.engine.run_query.resolve_run_id`), used as they are.

    Raises
    ------
    ArgumentError
        An id shorter than 4 characters.
    AmbiguousRunError
        A prefix that matches several runs.
    ReproducibilityError
        An id that matches no run.
    """
    runs = []
    for given in (a, b):
        full = given if resolved else resolve_run_id(store, given)
        if full is None:
            raise ReproducibilityError(f"no run with id {given!r}", run_id=given)
        runs.append(stored_run(store, full))
    return _diff(store, runs[0], runs[1])


def _diff(store: Store, run_a: RecordedRun, run_b: RecordedRun) -> RunDiff:
    side_a, side_b = _Side(run_a), _Side(run_b)
    names = list(dict.fromkeys([*side_a.names(), *side_b.names()]))
    fingerprints = [fp for n in names for fp in (side_a.code(n), side_b.code(n)) if fp]
    sources = load_sources(store, fingerprints)
    return RunDiff(
        _side(run_a), _side(run_b), _pairs(run_a.parameters, run_b.parameters),
        _environment(run_a, run_b), [_step(n, side_a, side_b, sources) for n in names],
    )
