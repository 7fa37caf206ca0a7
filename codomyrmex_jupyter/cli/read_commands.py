"""Read commands: ``list``, ``show``, ``history``, ``dag``.

Each prints a human table, or JSON with ``--json`` (timestamps in ISO 8601
UTC, durations in seconds). They read the store alone: none of them creates
a store or imports the engine's runner, a plotting or a widget library
(``dag -o FILE.png`` imports matplotlib to draw).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import UnknownWorkflowError
from .common import CliError, echo_json, iso, state

if TYPE_CHECKING:
    from ..engine.graph import Graph
    from ..engine.store import Store

__all__ = ["dag", "diff", "history", "list_workflows", "run_document", "show"]

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")


# -- list -----------------------------------------------------------------------------------
@click.command("list")
@json_option
@click.pass_context
def list_workflows(ctx: click.Context, as_json: bool) -> None:
    """List the stored workflows."""
    from ..api.workflow_listing import stored_workflows

    st = state(ctx)
    store = st.store()
    workflows = dict(sorted(stored_workflows(store).items()))
    counts = store.runs_per_workflow()
    if as_json:
        echo_json([_workflow_json(name, info, counts.get(name, 0)) for name, info in workflows.items()])
        return
    from ..display.tables import RecordTable

    rows = [
        {"name": name, "steps": info["steps"], "version": info["version"], "origin": info["origin"],
         "runs": counts.get(name, 0), "last run": info["last_status"], "updated": iso(info["updated"])}
        for name, info in workflows.items()
    ]
    columns = ["name", "steps", "version", "origin", "runs", "last run", "updated"]
    click.echo(RecordTable(rows, columns, f"{len(rows)} workflow(s) in {st.database}").to_text())


def _workflow_json(name: str, info: dict[str, Any], runs: int) -> dict[str, Any]:
    return {
        "name": name, "steps": info["steps"], "step_names": info["step_names"],
        "modules": info["modules"], "version": info["version"], "origin": info["origin"],
        "created": iso(info["created"]), "updated": iso(info["updated"]), "runs": runs,
        "last_status": info["last_status"], "estimated_duration": info["estimated_duration"],
    }


# -- history --------------------------------------------------------------------------------
@click.command()
@click.argument("name", required=False)
@click.option("-n", "limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="How many runs, newest first.")
@json_option
@click.pass_context
def history(ctx: click.Context, name: str | None, limit: int, as_json: bool) -> None:
    """Recorded runs, newest first (of workflow NAME, or of all)."""
    store = state(ctx).store()
    if name is not None and store.load_workflow(name) is None and not store.count_runs(name):
        raise UnknownWorkflowError(name, [w["name"] for w in store.list_workflows()])
    runs = [_run_json(row) for row in store.list_runs(name, limit=limit)]
    if as_json:
        echo_json(runs)
        return
    from ..display.tables import HISTORY_COLUMNS, RecordTable, history_row

    rows = [
        history_row(r["run_id"], r["workflow"], r["status"],
                    started=(r["start"] or "")[:19].replace("T", " "), duration=r["duration"],
                    counts=r["counts"], errors=len(r["errors"]))
        for r in runs
    ]
    title = f"runs of {name!r}" if name else "runs"
    click.echo(RecordTable(rows, HISTORY_COLUMNS, f"{title}, newest first").to_text())


def _run_json(row: dict[str, Any]) -> dict[str, Any]:
    metrics = row.get("metrics") or {}
    duration = None if row["end"] is None or row["start"] is None else row["end"] - row["start"]
    return {
        "run_id": row["run_id"], "workflow": row["workflow"], "version": row["version"],
        "status": row["status"], "start": iso(row["start"]), "end": iso(row["end"]),
        "duration": duration, "parameters": row["parameters"] or {}, "errors": row["errors"] or [],
        "counts": metrics.get("counts", {}), "host": row["host"], "pid": row["pid"],
    }


# -- show -------------------------------------------------------------------------------------
@click.command()
@click.argument("run_id", metavar="RUN")
@json_option
@click.pass_context
def show(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """One run: status, parameters, every step, errors (RUN is an id or a unique prefix)."""
    row = _find_run(state(ctx).store(), run_id)
    if as_json:
        echo_json(run_document(row))
        return
    click.echo(_run_text(row))


def _find_run(store: Store, run_id: str) -> dict[str, Any]:
    """The run ``run_id`` names (an id, or a prefix of 4+ characters matching one run)."""
    from ..engine.run_query import resolve_run_id

    full = resolve_run_id(store, run_id)
    row = None if full is None else store.get_run(full, exact=True)
    if row is None:
        raise CliError(f"no run with id {run_id!r}; see `codomyrmex-jupyter history` for run ids")
    return row


def run_document(row: dict[str, Any]) -> dict[str, Any]:
    """A stored run (``Store.get_run``) as the JSON ``show --json`` prints."""
    data = _run_json(row)
    data["metrics"] = row["metrics"] or {}
    data["steps"] = [_step_json(s) for s in row["steps"]]
    return data


def _step_json(s: dict[str, Any]) -> dict[str, Any]:
    duration = None if s["start"] is None or s["end"] is None else s["end"] - s["start"]
    return {
        "name": s["name"], "status": s["status"], "start": iso(s["start"]), "end": iso(s["end"]),
        "duration": duration, "attempts": s["attempts"], "error": s.get("error"),
        "traceback": s.get("traceback"), "reason": s.get("reason"), "result": s.get("result"),
    }


def _run_text(row: dict[str, Any]) -> str:
    from ..display.svg import format_duration
    from ..display.tables import RecordTable

    run = _run_json(row)
    params = ", ".join(f"{k}={v!r}" for k, v in run["parameters"].items()) or "(none)"
    head = [
        f"run {run['run_id']}",
        f"  workflow    {run['workflow']} (version {run['version']})",
        f"  status      {run['status']}",
        f"  started     {run['start']}",
        f"  duration    {format_duration(run['duration']) or '-'}",
        f"  parameters  {params}",
        f"  host        {run['host']} (pid {run['pid']})",
        "",
    ]
    steps = [_step_json(s) for s in row["steps"]]
    rows = [
        {"step": s["name"], "status": s["status"], "attempts": s["attempts"],
         "duration": format_duration(s["duration"]), "note": _note(s)}
        for s in steps
    ]
    table = RecordTable(rows, ["step", "status", "attempts", "duration", "note"], "").to_text()
    tail = [f"\ntraceback of {s['name']}:\n{s['traceback'].rstrip()}" for s in steps if s["traceback"]]
    return "\n".join(head) + table + "".join(tail)


def _note(step: dict[str, Any]) -> str:
    from .terminal_progress import one_line

    return one_line(step["error"] or step["reason"] or "", 80)


# -- diff -------------------------------------------------------------------------------------
@click.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@json_option
@click.pass_context
def diff(ctx: click.Context, run_a: str, run_b: str, as_json: bool) -> None:
    """What differs between two runs: steps, code, parameters, states, results, environment."""
    import dataclasses

    result = state(ctx).manager().diff_runs(run_a, run_b)
    if as_json:
        data = {**dataclasses.asdict(result), "identical": result.identical}
        for side in ("a", "b"):
            data[side]["start"] = iso(data[side]["start"])
        echo_json(data)
        return
    click.echo(result.text())


# -- dag ----------------------------------------------------------------------------------------
@click.command()
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="Write the drawing to FILE (.svg, or .png with matplotlib).")
@json_option
@click.pass_context
def dag(ctx: click.Context, name: str, output: Path | None, as_json: bool) -> None:
    """The DAG of workflow NAME: layers and dependencies, or a drawing with -o."""
    from ..api.workflow_models import step_from_dict
    from ..engine.graph import compile_graph

    store = state(ctx).store()
    row = store.load_workflow(name)
    if row is None:
        raise UnknownWorkflowError(name, [w["name"] for w in store.list_workflows()])
    steps = [step_from_dict(d, i) for i, d in enumerate(row["definition"])]
    graph = compile_graph(steps)
    if output is not None:
        _draw(name, graph, steps, output)
        click.echo(f"wrote {output}")
        return
    if as_json:
        from ..display.dag_json import dag_document

        echo_json(dag_document(graph, workflow=name, steps=steps))
        return
    click.echo(_dag_text(name, graph))


def _dag_text(name: str, graph: Graph) -> str:
    layers = graph.generations()
    lines = [f"{name}: {len(graph)} step(s) in {len(layers)} layer(s)"]
    width = max((len(n) for n in graph.names), default=0)
    for depth, layer in enumerate(layers, start=1):
        for step_name in layer:
            parents = [graph.names[p] for p in graph.parents[graph.index[step_name]]]
            after = f"  <- {', '.join(parents)}" if parents else ""
            lines.append(f"  {depth:>3}  {step_name.ljust(width)}{after}".rstrip())
    return "\n".join(lines)


def _draw(name: str, graph: Graph, steps: Any, output: Path) -> None:
    from ..display.dag_json import dag_document

    doc = dag_document(graph, workflow=name, steps=steps)
    suffix = output.suffix.lower()
    if suffix == ".svg":
        from ..display.svg import dag_svg

        output.write_text(dag_svg(doc), encoding="utf-8")
    elif suffix == ".png":
        from ..display.plots import plot_dag

        plot_dag(doc).savefig(output, dpi=120, bbox_inches="tight")
    else:
        raise CliError(f"-o {output}: write a .svg or a .png file")

