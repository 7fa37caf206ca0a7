"""Repeating a recorded run: the same definition version and parameters, again.

A plain rerun runs every step with the code the run used. That code must be
in this kernel: each step's action must be registered and its fingerprint
must match the one recorded, otherwise the rerun would not repeat the run
and it is refused, naming the step and what to do.

From the failed steps, the steps that succeeded keep their results (from
this kernel, the cache or the stored results; one whose result is in none of
them runs again) and end ``cached``; the failed, skipped and cancelled steps
run, with the code registered now (that is where a fix goes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..engine.cache.fingerprint import code_identity
from ..engine.graph import Graph, compile_graph
from ..engine.validation import show
from ..errors import ArgumentTypeError, ReproducibilityError
from .recorded_runs import RecordedRun, recorded_run
from .workflow_models import WorkflowStep

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager

__all__ = ["RerunPlan", "plan_rerun"]

log = logging.getLogger(__name__)


@dataclass
class RerunPlan:
    """What a rerun runs: the definition, parameters and the results it keeps."""

    source: RecordedRun
    steps: list[WorkflowStep]
    graph: Graph
    parameters: dict[str, Any]
    from_failed: bool
    kept: dict[str, Any] = field(default_factory=dict)

    @property
    def workflow(self) -> str:
        """The workflow's name."""
        return self.source.workflow

    @property
    def version(self) -> int | None:
        """The definition version the run used."""
        version = self.source.row.get("version")
        return None if version is None else int(version)

    @property
    def cache_option(self) -> bool | None:
        """The ``cache`` run option of the original run."""
        option = (self.source.record or {}).get("cache_option")
        return option if isinstance(option, bool) else None

    @property
    def note(self) -> str:
        """The ``cache`` text of kept steps."""
        return f"kept: run {self.source.short}"


def plan_rerun(manager: WorkflowManager, run_id: str, *, from_failed: bool = False) -> RerunPlan:
    """Check that run ``run_id`` can be repeated here and say how.

    Raises
    ------
    ReproducibilityError
        Unknown run, a run still going on, no stored definition or
        parameters, or code that is not in this kernel.
    """
    if not isinstance(from_failed, bool):
        raise ArgumentTypeError(f"from_failed {show(from_failed)} is a {type(from_failed).__name__}; "
                                "give True or False", argument="from_failed")
    source = recorded_run(manager, run_id)
    if source.row["status"] == "running" and source.live is not None:
        raise ReproducibilityError(f"run {source.short} is still running; wait for it to end",
                                   run_id=source.run_id)
    if source.steps is None:
        source.step("")  # raises: no stored definition
    assert source.steps is not None
    unstored = (source.record or {}).get("parameters_not_stored")
    if unstored:
        raise ReproducibilityError(
            f"the parameters of run {source.short} were not stored ({unstored}); "
            "run the workflow again with them instead", run_id=source.run_id,
        )
    plan = RerunPlan(source, source.steps, compile_graph(source.steps), source.parameters, from_failed)
    if from_failed:
        plan.kept = _kept_results(manager, source)
    _check_code(manager, plan)
    return plan


def _kept_results(manager: WorkflowManager, source: RecordedRun) -> dict[str, Any]:
    assert source.steps is not None
    kept: dict[str, Any] = {}
    for step in source.steps:
        found, value, why = source.result_of(step.name, manager.cache)
        if found:
            kept[step.name] = value
        elif source.status_of(step.name) in ("succeeded", "cached"):
            log.warning("rerun of %s: step %r runs again: %s", source.short, step.name, why)
    return kept


def _check_code(manager: WorkflowManager, plan: RerunPlan) -> None:
    """Every step that will run must be in this kernel; for a plain rerun, with the same code."""
    for i, step in enumerate(plan.steps):
        if step.name in plan.kept:
            continue
        spec = manager.registry.find(step.module, step.action)
        if spec is None:
            missing = manager.registry.unknown(step.module, step.action, step=step.name)
            raise ReproducibilityError(
                f"cannot rerun {plan.source.short}: {missing}", run_id=plan.source.run_id, step=step.name
            )
        if plan.from_failed:
            continue
        recorded = plan.source.fingerprint(i)
        if recorded is not None and code_identity(spec.fn).fingerprint != recorded:
            version = f" (version {plan.version})" if plan.version is not None else ""
            raise ReproducibilityError(
                f"cannot rerun {plan.source.short}: step {step.name!r} was edited since; the code of "
                f"that run{version} is not in this kernel. Define it again to repeat the run, or "
                "use rerun --from-failed / %orchestrate run to run the current code",
                run_id=plan.source.run_id, step=step.name,
            )
