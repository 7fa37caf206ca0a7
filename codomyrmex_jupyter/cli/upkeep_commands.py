"""Store upkeep: ``prune`` old runs and ``gc`` orphans, then give the space back.

See :mod:`codomyrmex_jupyter.engine.retention` for what is removed. Both
report the file's size before and after (``--dry-run`` only reports what would
go). ``VACUUM`` needs the file to itself for a moment: when a kernel is
writing at that instant the rows are still removed and the command says to
try again for the space.
"""

from __future__ import annotations

from typing import Any

import click

from ..display.svg import format_bytes
from ..engine import retention
from ..errors import StoreError
from .common import echo_json, state

__all__ = ["gc", "prune"]


def _size(n: int | None) -> str:
    return "-" if n is None else format_bytes(n)


def _space_line(data: dict[str, Any]) -> str:
    if data["dry_run"]:
        return f"file: {_size(data['bytes_before'])} (dry run: nothing removed)"
    if data["bytes_after"] is None:
        return f"file: {_size(data['bytes_before'])} (space not reclaimed)"
    return (
        f"file: {_size(data['bytes_before'])} -> {_size(data['bytes_after'])} "
        f"({_size(data['reclaimed'])} reclaimed)"
    )


def _step_cache(store: Any) -> Any:
    from ..api.reproducibility import make_cache

    return make_cache(store, None)


def _finish(store: Any, report: retention.SpaceReport, summary: str, *, as_json: bool) -> None:
    """Reclaim the space (unless a dry run), then print the report."""
    if not report.dry_run:
        try:
            report.bytes_after = retention.reclaim(store)
        except StoreError as exc:
            click.echo(f"note: {exc}", err=True)
    data = report.to_dict()
    if as_json:
        echo_json(data)
        return
    click.echo(("would remove " if report.dry_run else "removed ") + summary)
    click.echo(_space_line(data))


@click.command()
@click.option("--keep", type=click.IntRange(min=0), default=None, metavar="N",
              help="Keep the newest N runs of each workflow.")
@click.option("--older-than", "older_than", type=click.FloatRange(min=0), default=None, metavar="DAYS",
              help="Only remove runs started more than DAYS days ago.")
@click.option("--workflow", default=None, metavar="NAME", help="Only prune this workflow's runs.")
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def prune(
    ctx: click.Context,
    *,
    keep: int | None,
    older_than: float | None,
    workflow: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Remove old runs and their step records, then reclaim the space.

    With both --keep and --older-than a run goes only when it is outside the
    newest N of its workflow and older than DAYS. Running runs are never removed.
    """
    if keep is None and older_than is None:
        raise click.UsageError("say which runs to remove: --keep N and/or --older-than DAYS")
    store = state(ctx).store()
    report = retention.prune_runs(
        store, keep=keep, older_than=None if older_than is None else retention.days(older_than),
        workflow=workflow, dry_run=dry_run, vacuum=False, cache=lambda: _step_cache(store),
    )
    per = ", ".join(f"{n} of {name!r}" for name, n in sorted(report.by_workflow.items()))
    summary = f"{report.runs} run(s) and {report.step_rows} step record(s)"
    if report.cache_entries:
        summary += f", {report.cache_entries} cache entr{'y' if report.cache_entries == 1 else 'ies'} " \
                   f"({_size(report.cache_bytes)})"
    summary += f": {per}" if per else ""
    _finish(store, report, summary, as_json=as_json)


@click.command()
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def gc(ctx: click.Context, dry_run: bool, as_json: bool) -> None:
    """Remove orphans (step records of removed runs, unused definition versions); reclaim the space."""
    store = state(ctx).store()
    report = retention.collect_garbage(store, dry_run=dry_run, vacuum=False)
    summary = (f"{report.orphan_step_rows} orphan step record(s) and "
               f"{report.unused_versions} unused definition version(s)")
    _finish(store, report, summary, as_json=as_json)
