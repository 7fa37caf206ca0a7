"""The exceptions codomyrmex_jupyter raises.

One base, :class:`CodomyrmexError`; each subclass carries the data a caller
needs (``cycle``, ``step``, ``run_id``, ...) and its message says what to do.
Builtin bases are mixed in where they fit so existing ``except`` clauses keep
working (``CycleError`` is a ``ValueError``, ``StepTimeout`` a ``TimeoutError``).

This module imports nothing from the rest of the package, so every layer can
use it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AmbiguousRunError",
    "ArgumentError",
    "ArgumentTypeError",
    "CodomyrmexError",
    "ContainmentError",
    "CycleError",
    "NotStorableError",
    "ProjectError",
    "ReproducibilityError",
    "ResourceTypeError",
    "ResourceUnavailable",
    "RunCancelled",
    "SessionError",
    "StepFailed",
    "StepTimeout",
    "StepTypeError",
    "StoreError",
    "TaskError",
    "TaskTypeError",
    "UnknownActionError",
    "UnknownParameterError",
    "UnknownWorkflowError",
    "WorkflowValidationError",
]


class CodomyrmexError(Exception):
    """Base class of every error this package raises on purpose."""


class WorkflowValidationError(CodomyrmexError, ValueError):
    """A workflow definition is not valid (empty, duplicate or unknown names).

    Parameters
    ----------
    message:
        One line that names the problem and how to fix it.
    step:
        The step the problem is about, when there is one.
    """

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        self.step = step


class StepTypeError(WorkflowValidationError, TypeError):
    """A field of a step has the wrong type (a timeout given as text, a name as a number)."""


class ArgumentError(CodomyrmexError, ValueError):
    """A value passed to a public call is out of range; nothing was stored or started.

    Parameters
    ----------
    message:
        One line naming the value and what to pass instead.
    argument:
        The name of the argument, when there is one.
    """

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument


class ArgumentTypeError(ArgumentError, TypeError):
    """A value passed to a public call has the wrong type; nothing was stored or started."""


class AmbiguousRunError(CodomyrmexError, LookupError):
    """A run id prefix matches several runs; ``matches`` lists them (``total`` counts them)."""

    def __init__(self, prefix: str, matches: Sequence[str], *, total: int | None = None) -> None:
        self.prefix = prefix
        self.matches = list(matches)
        self.total = len(self.matches) if total is None else total  # matches may be the first few
        shown = ", ".join(self.matches[:5]) + (", ..." if self.total > 5 else "")
        self.message = (
            f"run id prefix {prefix!r} matches {self.total} runs ({shown}); "
            "give more characters of the run id"
        )
        super().__init__(self.message)


class CycleError(WorkflowValidationError):
    """The dependencies of a workflow form a cycle; ``cycle`` lists it.

    ``cycle`` starts and ends with the same step, e.g. ``["a", "b", "a"]``.
    """

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = list(cycle)
        path = " -> ".join(self.cycle)
        super().__init__(
            f"dependency cycle: {path}; remove one of these dependencies",
            step=self.cycle[0] if self.cycle else None,
        )


class UnknownWorkflowError(CodomyrmexError, KeyError, ValueError):
    """No workflow of that name is defined.

    A ``KeyError`` (a lookup by name failed) and a ``ValueError``, which is
    what code written for the original orchestration package catches; the
    message starts ``Workflow 'NAME' not found`` as it did there.
    """

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        self.name = name
        hint = f"; defined: {', '.join(sorted(known))}" if known else "; none is defined yet"
        self.message = f"Workflow {name!r} not found{hint}"
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


class UnknownParameterError(CodomyrmexError, TypeError):
    """A run parameter that no step of the workflow accepts (a typo, most likely)."""

    def __init__(self, workflow: str, unknown: Sequence[str], accepted: Sequence[str]) -> None:
        self.workflow = workflow
        self.unknown = list(unknown)
        self.accepted = sorted(accepted)
        names = ", ".join(repr(n) for n in self.unknown)
        takes = f"it accepts: {', '.join(self.accepted)}" if self.accepted else "it accepts none"
        noun = "parameter" if len(self.unknown) == 1 else "parameters"
        super().__init__(f"no step of workflow {workflow!r} takes the run {noun} {names}; {takes}")


class UnknownActionError(CodomyrmexError, LookupError):
    """A step names a ``module.action`` that no registry entry provides."""

    def __init__(
        self, module: str, action: str, close_matches: Sequence[str] = (), *, step: str | None = None
    ) -> None:
        self.module = module
        self.action = action
        self.close_matches = list(close_matches)
        self.step = step
        hint = (
            f"; did you mean {', '.join(self.close_matches)}?"
            if self.close_matches
            else "; register it with @action(module, name)"
        )
        super().__init__(f"unknown action {module}.{action}{hint}")


class StepFailed(CodomyrmexError):
    """A step raised; ``__cause__`` is the original exception."""

    def __init__(self, step: str, message: str, *, run_id: str | None = None) -> None:
        self.step = step
        self.run_id = run_id
        super().__init__(f"Step {step} failed: {message}")


class StepTimeout(CodomyrmexError, TimeoutError):
    """A step, or the whole run, went past its time limit and was cancelled."""

    def __init__(self, step: str, seconds: float, *, run_id: str | None = None) -> None:
        self.step = step
        self.seconds = seconds
        self.run_id = run_id
        super().__init__(
            f"step {step} timed out after {seconds:g}s; raise its timeout or make it faster"
        )


class RunCancelled(CodomyrmexError):
    """A run was cancelled before it finished."""

    def __init__(self, run_id: str, reason: str = "cancelled") -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"run {run_id} {reason}")


class ReproducibilityError(CodomyrmexError, ValueError):
    """A recorded run cannot be repeated, compared, loaded or debugged as asked.

    The message says what is missing (an unknown run or step, code that is not
    in this kernel, a result that was neither cached nor stored) and how to
    get it.
    """

    def __init__(self, message: str, *, run_id: str | None = None, step: str | None = None) -> None:
        self.run_id = run_id
        self.step = step
        super().__init__(message)


class ResourceUnavailable(CodomyrmexError):
    """A resource request cannot be met (unknown resource or not enough capacity)."""

    def __init__(self, message: str, *, resource_id: str | None = None) -> None:
        self.resource_id = resource_id
        super().__init__(message)


class ResourceTypeError(ResourceUnavailable, TypeError):
    """A resource amount or capacity has the wrong type (text, ``None``, ``bool``)."""


class StoreError(CodomyrmexError):
    """The database cannot be used (corrupt, foreign or locked); it is left untouched."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class NotStorableError(StoreError, TypeError):
    """A value cannot be written as JSON; it is kept in memory only."""


class ContainmentError(CodomyrmexError, ValueError):
    """A path would leave the directory it must stay in."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(message)


class SessionError(CodomyrmexError, KeyError):
    """No session with that id exists, or it is closed."""

    def __init__(self, message: str, *, session_id: str | None = None) -> None:
        self.session_id = session_id
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class TaskError(CodomyrmexError, ValueError):
    """A task cannot be added: unknown dependency, cycle, or duplicate id."""

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        self.task_id = task_id
        super().__init__(message)


class TaskTypeError(TaskError, TypeError):
    """A field of a task has the wrong type."""


class ProjectError(CodomyrmexError, ValueError):
    """A project or template cannot be created or changed (duplicate, unknown, unwritable)."""

    def __init__(self, message: str, *, project: str | None = None) -> None:
        self.project = project
        super().__init__(message)
