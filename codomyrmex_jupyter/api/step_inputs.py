"""The keyword arguments a step of a recorded run received, and its failure.

The arguments are bound again exactly as the runner bound them
(:func:`~codomyrmex_jupyter.engine.binding.bind_arguments`): the step's
parameters, its dependencies' results (from this kernel, the cache or the
stored results), the run's parameters. What cannot be found is named, with
what would have kept it.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.actions import ActionSpec
from ..engine.binding import bind_arguments
from ..engine.cache.fingerprint import code_identity
from ..errors import ReproducibilityError
from .recorded_runs import RecordedRun, recorded_run

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager

__all__ = ["StepCall", "step_call", "step_exception"]


@dataclass
class StepCall:
    """A step's callable and the arguments it received in a run.

    Attributes
    ----------
    run:
        The recorded run.
    step:
        The step's name.
    spec:
        The action as registered in this kernel.
    kwargs:
        The keyword arguments.
    code_changed:
        The callable's code differs from the one the run used.
    """

    run: RecordedRun
    step: str
    spec: ActionSpec
    kwargs: dict[str, Any]
    code_changed: bool


def step_call(manager: WorkflowManager, run_id: str, step: str) -> StepCall:
    """Rebuild the call of ``step`` in run ``run_id``.

    Raises
    ------
    ReproducibilityError
        Unknown run or step, an action not in this kernel, a dependency that
        did not succeed or whose result was neither cached nor stored.
    """
    source = recorded_run(manager, run_id)
    index, definition = source.step(step)
    spec = manager.registry.find(definition.module, definition.action)
    if spec is None:
        raise ReproducibilityError(
            f"{manager.registry.unknown(definition.module, definition.action, step=step)}",
            run_id=source.run_id, step=step,
        )
    upstream: dict[str, Any] = {}
    for dep in definition.dependencies:
        found, value, why = source.result_of(dep, manager.cache)
        if not found:
            raise ReproducibilityError(
                f"cannot rebuild the inputs of {step!r}: {why}", run_id=source.run_id, step=step
            )
        upstream[dep] = value
    try:
        kwargs = bind_arguments(spec, step, definition.parameters, upstream, source.parameters)
    except TypeError as exc:
        raise ReproducibilityError(str(exc), run_id=source.run_id, step=step) from None
    recorded = source.fingerprint(index)
    changed = recorded is not None and code_identity(spec.fn).fingerprint != recorded
    return StepCall(source, step, spec, _in_signature_order(spec, kwargs), changed)


def _in_signature_order(spec: ActionSpec, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments in the order the callable declares them (then any extra, sorted)."""
    try:
        order = list(inspect.signature(spec.fn).parameters)
    except (TypeError, ValueError):
        order = []
    known = [name for name in order if name in kwargs]
    return {name: kwargs[name] for name in [*known, *sorted(set(kwargs) - set(known))]}


def step_exception(manager: WorkflowManager, run_id: str, step: str) -> BaseException:
    """The exception step ``step`` failed with, kept by this kernel.

    Raises
    ------
    ReproducibilityError
        The run did not happen in this kernel, or the step did not fail.
    """
    source = recorded_run(manager, run_id)
    source.step(step)
    run = source.live._run if source.live is not None else None
    if run is None:
        raise ReproducibilityError(
            f"run {source.short} did not run in this kernel, so its traceback objects are gone; "
            f"use --rerun to call {step!r} with its inputs under the debugger",
            run_id=source.run_id, step=step,
        )
    exc = run.exceptions.get(step)
    if exc is None:
        raise ReproducibilityError(
            f"step {step!r} did not fail in run {source.short} ({source.status_of(step)}); "
            "use --rerun to step through it with its inputs",
            run_id=source.run_id, step=step,
        )
    return exc
