"""A recorded run as rerun, load, debug and diff need it: row, record, definition, results.

A run is looked up by id or unique prefix, in this kernel first (a live run
has every result in memory and the exceptions of its failed steps) and in
the store otherwise; :func:`stored_run` reads the store alone (the Jupyter
server, which has no kernel). Its definition is the saved version it ran, else the
copy kept in its record (unsaved workflows). A step's result comes from, in
order: this kernel's memory, the step cache (the key the run recorded), the
JSON result stored with the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.provenance import code_of_step, load_record
from ..errors import ReproducibilityError
from .workflow_models import WorkflowExecution, WorkflowStep, step_from_dict

if TYPE_CHECKING:
    from ..engine.cache.step_cache import StepCache
    from ..engine.store import Store
    from .workflow_manager import WorkflowManager

__all__ = ["RecordedRun", "recorded_run", "stored_run"]

_HAS_RESULT = frozenset({"succeeded", "cached"})


@dataclass
class RecordedRun:
    """Everything known about one run (see the module docstring)."""

    row: dict[str, Any]
    record: dict[str, Any] | None
    steps: list[WorkflowStep] | None
    live: WorkflowExecution | None

    @property
    def run_id(self) -> str:
        """The full run id."""
        return str(self.row["run_id"])

    @property
    def short(self) -> str:
        """The first 8 characters of the id (how runs are shown)."""
        return self.run_id[:8]

    @property
    def workflow(self) -> str:
        """The workflow's name."""
        return str(self.row["workflow"])

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameters."""
        if self.live is not None:
            return dict(self.live.parameters)
        return dict(self.row.get("parameters") or {})

    def step_rows(self) -> dict[str, dict[str, Any]]:
        """The stored step rows by name."""
        return {s["name"]: s for s in self.row.get("steps") or []}

    def step(self, name: str) -> tuple[int, WorkflowStep]:
        """Index and definition of step ``name``; a clear error when there is none."""
        if self.steps is None:
            raise ReproducibilityError(
                f"run {self.short} of {self.workflow!r} has no stored definition (the workflow was "
                "not saved and the run predates run records)", run_id=self.run_id,
            )
        for i, s in enumerate(self.steps):
            if s.name == name:
                return i, s
        names = ", ".join(s.name for s in self.steps)
        raise ReproducibilityError(
            f"run {self.short} of {self.workflow!r} has no step {name!r}; its steps: {names}",
            run_id=self.run_id, step=name,
        )

    def fingerprint(self, index: int) -> str | None:
        """The code fingerprint step ``index`` ran with (``None`` without a record)."""
        return code_of_step(self.record, index) if self.record is not None else None

    def cache_key(self, name: str) -> str | None:
        """The cache key step ``name`` used in the run, if it was cached."""
        entry = ((self.record or {}).get("cache") or {}).get(name) or {}
        key = entry.get("key")
        return str(key) if key else None

    def status_of(self, name: str) -> str | None:
        """The step's final state in the run."""
        if self.live is not None and name in self.live.step_records:
            return self.live.step_records[name].status
        row = self.step_rows().get(name)
        return None if row is None else str(row["status"])

    def result_of(self, name: str, cache: StepCache | None) -> tuple[bool, Any, str]:
        """``(True, value, where)`` or ``(False, None, why not)`` for step ``name``'s result."""
        status = self.status_of(name)
        if status not in _HAS_RESULT:
            return False, None, f"step {name!r} did not succeed in run {self.short} ({status or 'not run'})"
        if self.live is not None and name in self.live.results:
            return True, self.live.results[name], "this kernel"
        key = self.cache_key(name)
        if key is not None and cache is not None:
            found, value = cache.get(key)
            if found == "found":
                return True, value, "the cache"
        row = self.step_rows().get(name) or {}
        if row.get("result_note") is None:  # stored as JSON, or None (which has no row)
            return True, row.get("result"), "the run's stored results"
        return False, None, (
            f"the result of {name!r} in run {self.short} was neither cached nor stored "
            f"({row['result_note'].split(';')[0]}); give that step cache=True to keep such results"
        )


def recorded_run(manager: WorkflowManager, run_id: str) -> RecordedRun:
    """The run ``run_id`` (id or unique prefix); :class:`ReproducibilityError` when unknown."""
    if not isinstance(run_id, str) or not run_id.strip():
        raise ReproducibilityError("a run id is needed; see %orchestrate history for run ids")
    live = manager.get_execution(run_id)
    if live is not None and live._run is None:
        live = None
    return _recorded(manager.store, live.execution_id if live is not None else run_id, live)


def stored_run(store: Store, run_id: str) -> RecordedRun:
    """The run ``run_id`` (an exact id) as ``store`` holds it: no kernel, no manager, no write.

    What a process without the run's kernel can know (the Jupyter server):
    the row, the record and the definition, but no live results.
    """
    return _recorded(store, run_id, None, exact=True)


def _recorded(
    store: Store, run_id: str, live: WorkflowExecution | None, *, exact: bool = False
) -> RecordedRun:
    row = store.get_run(run_id, exact=exact)
    if row is None:
        raise ReproducibilityError(
            f"no run with id {run_id!r}; see %orchestrate history for run ids", run_id=run_id
        )
    record = load_record(store, row["run_id"])
    return RecordedRun(row, record, _definition(store, row, record, live), live)


def _definition(
    store: Store, row: dict[str, Any], record: dict[str, Any] | None, live: WorkflowExecution | None,
) -> list[WorkflowStep] | None:
    if live is not None and live._run is not None:
        return [s for s in live._run.steps if isinstance(s, WorkflowStep)] or None
    if row.get("version") is not None:
        stored = store.load_workflow(row["workflow"], row["version"])
        if stored is not None:
            return [step_from_dict(d) for d in stored["definition"]]
    if record is not None and record.get("definition"):
        return [step_from_dict(d) for d in record["definition"]]
    return None
