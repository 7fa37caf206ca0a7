"""Run parameters are checked against the steps that could take them.

A run parameter reaches every step whose callable has a parameter of that
name (see ``engine/binding.py``). One that no step takes would be ignored
silently, which is how a typo (``-p m=4`` for ``n``) goes unnoticed, so it is
an error that lists the names the workflow accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..engine.actions import ActionRegistry
from ..errors import UnknownParameterError, UnknownWorkflowError
from .workflow_models import WorkflowStep

if TYPE_CHECKING:
    from .workflow_manager import WorkflowManager

__all__ = ["accepted_parameters", "check_run_parameters", "unresolved_steps"]


def accepted_parameters(steps: Sequence[WorkflowStep], registry: ActionRegistry) -> set[str] | None:
    """Names a run parameter of these steps may have; ``None`` when any name may be taken.

    Any name may be taken when a step's callable accepts ``**kwargs``, or its
    action is not registered (yet), so that what it takes is unknown.
    """
    accepted: set[str] = set()
    for step in steps:
        spec = registry.find(step.module, step.action)
        if spec is None or spec.var_kw:
            return None
        own = set(step.parameters) | set(step.dependencies) | {"inputs"}
        accepted.update(p for p in spec.params if p not in own)
    return accepted


def check_run_parameters(
    workflow: str,
    steps: Sequence[WorkflowStep],
    registry: ActionRegistry,
    parameters: Mapping[str, Any] | None,
) -> None:
    """Raise :class:`UnknownParameterError` for a run parameter no step takes."""
    if not parameters:
        return
    accepted = accepted_parameters(steps, registry)
    if accepted is None:
        return
    unknown = [name for name in parameters if name not in accepted]
    if unknown:
        raise UnknownParameterError(workflow, unknown, sorted(accepted))


def unresolved_steps(
    manager: WorkflowManager, name: str, parameters: Mapping[str, Any] | None = None
) -> list[WorkflowStep]:
    """The steps of workflow ``name`` whose action nothing in this process registers.

    What must hold before a run of ``name`` starts here, with the wording of
    a missing action left to the caller (a kernel and a terminal say what to
    do differently). When every step resolves, ``parameters`` are checked
    with :func:`check_run_parameters`.

    Raises
    ------
    UnknownWorkflowError
        No workflow ``name``.
    UnknownParameterError
        Every step resolves and a run parameter is taken by none of them.
    """
    steps = manager.get_workflow(name)
    if steps is None:
        raise UnknownWorkflowError(name, list(manager.list_workflows()))
    missing = [s for s in steps if manager.registry.find(s.module, s.action) is None]
    if not missing:
        check_run_parameters(name, steps, manager.registry, parameters)
    return missing
