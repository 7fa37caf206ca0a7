"""What a run document carries beyond the graph: the run and each step's outcome.

The DAG document (:mod:`.dag_json`) describes the graph and each step's
state. For a run, this module adds what a user keeps of it (schema in
``docs/dag-mime-schema.md``, minor version :data:`MINOR_VERSION`):

* run level: ``parameters``, ``started``/``ended`` (ISO 8601), ``duration``
  (seconds), ``errors`` (one line each);
* step level: ``offset`` (seconds from the run's start, for the timeline),
  ``reason`` (why a step was skipped or cancelled), ``traceback`` (the user's
  frames only, cells named ``Cell In[n]``), ``location`` (the innermost of
  those frames: ``{"label": "Cell In[3], line 17", "code": ...}``) and
  ``result`` (a short summary, see :mod:`.result_summary`);
* minor version 2, step level: ``cache``, the step cache's answer (``"hit"``,
  the miss reason, ``"kept: run <id>"``) or ``None`` when it was not asked.

The same document is built from a live run (:class:`.dag_json.LiveDocument`
calls :func:`fill_step` and :func:`fill_run`) and from a run as the store
returns it (:func:`stored_run_document`), so a saved notebook, the Runs panel
and the command line all show one thing. Nothing here needs IPython.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ..engine.graph import compile_graph
from ..engine.state import TERMINAL_STATES, StepRecord
from ..engine.tracebacks import last_user_frame
from .result_summary import parameter_value, summarize, summarize_stored

if TYPE_CHECKING:
    from ..api.workflow_models import WorkflowExecution
    from ..engine.runner import Run
    from ..engine.store import Store

__all__ = [
    "MINOR_VERSION",
    "RUN_DEFAULTS",
    "STEP_DEFAULTS",
    "TRACEBACK_LIMIT",
    "fill_run",
    "fill_step",
    "first_error",
    "store_document",
    "stored_row_document",
    "stored_run_document",
]

MINOR_VERSION = 2
TRACEBACK_LIMIT = 6000  # characters of a trimmed traceback kept in the document

STEP_DEFAULTS: Mapping[str, Any] = {
    "offset": None, "reason": None, "traceback": None, "location": None, "result": None,
    "cache": None,
}
RUN_DEFAULTS: Mapping[str, Any] = {
    "parameters": {}, "started": None, "ended": None, "duration": None, "errors": [],
}


def iso_utc(ts: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 time in UTC (``None`` stays ``None``)."""
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc).isoformat()


def _trimmed(text: str | None) -> str | None:
    if not text or len(text) <= TRACEBACK_LIMIT:
        return text or None
    # The end of a traceback says where and why: keep that.
    return "…\n" + text[-(TRACEBACK_LIMIT - 2):]


def fill_step(node: dict[str, Any], rec: StepRecord, run_start: float | None, *, result: bool = True) -> None:
    """Fill a node's run details from its record.

    ``result=False`` leaves the result summary out (a stored run whose
    results are summarised separately).
    """
    node["offset"] = None if rec.start is None or run_start is None else rec.start - run_start
    node["reason"] = rec.reason
    node["cache"] = rec.cache
    if rec.status not in TERMINAL_STATES:
        return
    if rec.status == "failed":
        node["traceback"] = _trimmed(rec.traceback)
        frame = last_user_frame(rec.traceback)
        node["location"] = None if frame is None else frame.to_dict()
    elif result and rec.status in ("succeeded", "cached"):
        node["result"] = summarize(rec.result)


def fill_run(doc: dict[str, Any], run: Run | None, execution: WorkflowExecution | None) -> float | None:
    """Fill the run-level fields of ``doc``; returns the run's start (epoch seconds) or ``None``."""
    if run is None and execution is not None:
        run = execution._run  # its float times, not the execution's rounded datetimes
    if run is not None:
        start, end, errors, params = run.start, run.end, run.errors, run.parameters
    elif execution is not None:
        start = execution.start_time.timestamp() if execution.start_time else None
        end = execution.end_time.timestamp() if execution.end_time else None
        errors, params = execution.errors, execution.parameters
    else:
        return None
    link = getattr(run.executor, "dashboard_link", None) if run is not None else None
    if link is None and execution is not None:
        link = execution.performance_metrics.get("dashboard")
    _fill_run_fields(doc, start=start, end=end, params=params, errors=errors, link=link)
    return start


def _fill_run_fields(
    doc: dict[str, Any], *, start: float | None, end: float | None,
    params: Mapping[str, Any], errors: Sequence[Any], link: Any,
) -> None:
    """The run-level fields of a live run's and a stored run's document alike."""
    doc["parameters"] = {str(k): parameter_value(v) for k, v in params.items()}
    doc["started"], doc["ended"] = iso_utc(start), iso_utc(end)
    doc["duration"] = None if start is None or end is None else end - start
    doc["errors"] = [str(e) for e in errors]
    if link:
        doc["dashboard"] = str(link)


def first_error(doc: Mapping[str, Any]) -> str | None:
    """The first error line of a run document: a failed step's, else the run's own."""
    for node in doc.get("nodes", ()):
        if node.get("state") == "failed" and node.get("error"):
            return f"{node['id']}: {node['error']}"
    errors = doc.get("errors") or []
    return str(errors[0]) if errors else None


# -- from the store ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Step:
    name: str
    dependencies: tuple[str, ...]
    module: str | None = None
    action: str | None = None


def _definition_steps(names: Sequence[str], definition: Sequence[Mapping[str, Any]] | None) -> list[_Step]:
    by_name = {str(d.get("name")): d for d in definition or ()}
    known = set(names)
    steps = []
    for name in names:
        d = by_name.get(name, {})
        deps = tuple(str(x) for x in d.get("dependencies") or () if str(x) in known)
        steps.append(_Step(name, deps, d.get("module"), d.get("action")))
    return steps


def _record(row: Mapping[str, Any], cache: str | None) -> StepRecord:
    return StepRecord(
        str(row["name"]), str(row.get("status") or "pending"), row.get("start"), row.get("end"),
        int(row.get("attempts") or 0), row.get("error"), row.get("traceback"), None, row.get("reason"),
        cache=cache,
    )


def stored_run_document(
    run: Mapping[str, Any],
    definition: Sequence[Mapping[str, Any]] | None = None,
    cache: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The run document of a run as :meth:`Store.get_run` returns it.

    Parameters
    ----------
    run:
        The stored run, with its ``steps`` rows.
    definition:
        The workflow definition the run used (``Store.load_workflow(name,
        version)["definition"]``): it gives the edges, modules and actions.
        Without it the steps are drawn unconnected.
    cache:
        Each step's cache answer by step name, from the run's record
        (:func:`store_document` reads it); steps not in it get ``None``.

    A step row may carry a ready-made ``summary`` of its result; otherwise
    the stored (JSON) result, or the note saying why it was not stored, is
    summarised.
    """
    from .dag_json import dag_document

    rows = list(run.get("steps") or [])
    names = [str(r["name"]) for r in rows]
    steps = _definition_steps(names, definition)
    graph = compile_graph(steps) if steps else None
    answers = cache or {}
    records = {r["name"]: _record(r, answers.get(str(r["name"]))) for r in rows}
    doc = dag_document(
        graph, workflow=str(run["workflow"]), steps=steps, records=records,
        run_id=str(run["run_id"]), status=str(run["status"]),
    )
    start, end = run.get("start"), run.get("end")
    by_name = {str(r["name"]): r for r in rows}
    for node in doc["nodes"]:
        row = by_name[node["id"]]
        fill_step(node, records[node["id"]], start, result=False)
        if node["state"] in ("succeeded", "cached"):
            node["result"] = row.get("summary") or summarize_stored(row.get("result"), row.get("result_note"))
    metrics = run.get("metrics")
    link = metrics.get("dashboard") if isinstance(metrics, Mapping) else None
    params, errors = run.get("parameters") or {}, run.get("errors") or []
    _fill_run_fields(doc, start=start, end=end, params=params, errors=errors, link=link)
    return doc


def store_document(store: Store, run_id: str) -> dict[str, Any] | None:
    """The run document of run ``run_id`` (or a unique prefix) in ``store``, or ``None``."""
    run = store.get_run(run_id)
    return None if run is None else stored_row_document(store, run)


def stored_row_document(store: Store, run: Mapping[str, Any]) -> dict[str, Any]:
    """The run document of ``run``, a row ``store.get_run`` returned (with its steps)."""
    from ..engine.provenance import load_record

    record = load_record(store, str(run["run_id"])) or {}
    definition = record.get("definition")  # a run of an unsaved workflow keeps its steps here
    if run.get("version") is not None:
        stored = store.load_workflow(run["workflow"], run["version"])
        definition = stored["definition"] if stored else definition
    cache = {str(k): str(v.get("outcome")) for k, v in (record.get("cache") or {}).items()
             if isinstance(v, Mapping) and v.get("outcome")}
    return stored_run_document(run, definition, cache)
