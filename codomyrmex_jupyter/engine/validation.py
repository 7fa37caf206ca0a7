"""Checks of the values users hand to the engine, made before anything is stored or started.

Every check either returns the value or raises one error whose message is a
single line: which value was given, and what to give instead. A value of the
wrong type raises the ``TypeError`` twin of the error class (``StepTypeError``,
``ArgumentTypeError``, ``TaskTypeError``), a value out of range its
``ValueError`` side, so both kinds of ``except`` clause a Python user writes
catch them.

Numbers of seconds must be real numbers (not ``bool``), finite and positive:
a NaN deadline handed to an event loop's timer heap breaks the ordering of
every other timer of that loop, so it must never get that far.

The step check runs once per step when a workflow is defined; its common
case (well-typed fields) is a handful of type comparisons.
"""

from __future__ import annotations

import math
import numbers
import re
import reprlib
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Protocol

from ..errors import (
    ArgumentError,
    ArgumentTypeError,
    CodomyrmexError,
    StepTypeError,
    WorkflowValidationError,
)

__all__ = [
    "MIN_RUN_ID_PREFIX",
    "ErrorFactory",
    "argument_error",
    "check_amount",
    "check_count",
    "check_delay",
    "check_mapping",
    "check_name",
    "check_run_id",
    "check_run_prefix",
    "check_seconds",
    "check_step",
    "check_step_fully",
    "check_steps",
    "error_pair",
    "show",
]

MIN_RUN_ID_PREFIX = 4
_PLAIN_NUMBERS = (int, float)
_PLAIN_SEQUENCES = (list, tuple)
_INF = math.inf
_RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_shown = reprlib.Repr()
_shown.maxstring = 40
_shown.maxother = 40


class ErrorFactory(Protocol):
    """Builds the error to raise: ``factory(message, wrong_type=...)``."""

    def __call__(self, message: str, *, wrong_type: bool) -> CodomyrmexError: ...


def show(value: Any) -> str:
    """A short ``repr`` of a user's value for an error message (at most about 40 characters)."""
    try:
        return _shown.repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real problem
        return f"<{type(value).__name__}>"


def error_pair(value_cls: type[Any], type_cls: type[Any], **data: Any) -> ErrorFactory:
    """Errors of ``value_cls`` (a value out of range) or ``type_cls`` (a wrong type), with ``data``."""

    def make(message: str, *, wrong_type: bool) -> CodomyrmexError:
        return (type_cls if wrong_type else value_cls)(message, **data)  # type: ignore[no-any-return]

    return make


def check_amount(value: Any, what: str, error: ErrorFactory | None = None, unit: str = "units") -> float:
    """A quantity (of a resource): a finite real number > 0 (not ``bool``, not text)."""
    amount = check_seconds(value, what, error, optional=False, unit=unit)
    assert amount is not None
    return amount


def argument_error(argument: str) -> ErrorFactory:
    """Errors about the argument ``argument`` of a public call."""
    return error_pair(ArgumentError, ArgumentTypeError, argument=argument)


def _step_error(step: str | None) -> ErrorFactory:
    return error_pair(WorkflowValidationError, StepTypeError, step=step)


def _fail(error: ErrorFactory, message: str, *, wrong_type: bool) -> NoReturn:
    raise error(message, wrong_type=wrong_type)


def _type_name(value: Any) -> str:
    return type(value).__name__


# -- single values ---------------------------------------------------------------------------
def check_seconds(
    value: Any,
    what: str,
    error: ErrorFactory | None = None,
    *,
    optional: bool = True,
    unit: str = "seconds",
) -> float | None:
    """``value`` as a finite real number > 0 (or ``None`` when ``optional``).

    ``what`` names the value in the message (``"timeout"``, ``"step 'load': timeout"``);
    ``unit`` says what the number counts.
    """
    if value.__class__ in _PLAIN_NUMBERS and 0 < value < _INF:  # the common case, first
        return float(value)
    error = error or argument_error(what)
    if value is None:
        if optional:
            return None
        _fail(error, f"{what} is None; give a positive number of {unit}", wrong_type=True)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = " or None" if optional else ""
        _fail(
            error,
            f"{what} {show(value)} is a {_type_name(value)}, not a number; "
            f"give a positive number of {unit}{hint}",
            wrong_type=True,
        )
    number = float(value)
    if not 0 < number < math.inf:
        problem = "not a finite number" if not math.isfinite(number) else "not positive"
        hint = " or None for no limit" if optional else ""
        _fail(error, f"{what} {show(value)} is {problem}; give {unit} > 0{hint}", wrong_type=False)
    return number


def check_delay(value: Any, what: str, error: ErrorFactory | None = None) -> float:
    """Seconds to wait: a finite real number >= 0 (0: do not wait)."""
    if value.__class__ in _PLAIN_NUMBERS and 0 <= value < _INF:
        return float(value)
    seconds = check_seconds(value, what, error, optional=False)
    assert seconds is not None
    return seconds


def check_count(value: Any, what: str, error: ErrorFactory | None = None, *, minimum: int = 0) -> int:
    """``value`` as an ``int`` >= ``minimum`` (``bool`` is refused)."""
    if value.__class__ is int and value >= minimum:
        return int(value)
    error = error or argument_error(what)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        _fail(
            error,
            f"{what} {show(value)} is a {_type_name(value)}, not a whole number; give an int >= {minimum}",
            wrong_type=True,
        )
    if value < minimum:
        _fail(error, f"{what} {show(value)} is below {minimum}; give an int >= {minimum}", wrong_type=False)
    return int(value)


def check_name(value: Any, what: str, error: ErrorFactory | None = None) -> str:
    """``value`` as a non-empty, non-blank ``str``."""
    if value.__class__ is str and value and not value.isspace():
        return value
    error = error or argument_error(what)
    if not isinstance(value, str):
        _fail(
            error, f"{what} {show(value)} is a {_type_name(value)}, not a string; give a name",
            wrong_type=True,
        )
    if not value.strip():
        _fail(error, f"{what} {show(value)} is empty; give a non-empty name", wrong_type=False)
    return value


def check_mapping(value: Any, what: str, error: ErrorFactory | None = None) -> dict[str, Any]:
    """``value`` (``None`` or a mapping with string keys) as a new ``dict``."""
    if value is None:
        return {}
    if value.__class__ is dict and all(k.__class__ is str for k in value):
        return dict(value)
    error = error or argument_error(what)
    if not isinstance(value, Mapping):
        _fail(
            error,
            f"{what} {show(value)} is a {_type_name(value)}, not a mapping; give a dict of name to value",
            wrong_type=True,
        )
    bad = next((k for k in value if not isinstance(k, str)), None)
    if bad is not None:
        _fail(
            error,
            f"{what} key {show(bad)} is a {_type_name(bad)}, not a string; keys name parameters",
            wrong_type=True,
        )
    return dict(value)


def check_run_id(value: Any) -> str:
    """A run id chosen by the caller: 1-128 letters, digits, ``-`` or ``_``."""
    error = argument_error("run_id")
    if not isinstance(value, str):
        _fail(error, f"run_id {show(value)} is a {_type_name(value)}, not a string", wrong_type=True)
    if _RUN_ID.fullmatch(value) is None:
        _fail(
            error,
            f"run_id {show(value)} may only hold 1-128 letters, digits, '-' and '_'",
            wrong_type=False,
        )
    return value


def check_run_prefix(value: Any) -> str:
    """A run id or a prefix of one, long enough to mean one run (at least 4 characters)."""
    error = argument_error("run_id")
    if not isinstance(value, str):
        _fail(error, f"run id {show(value)} is a {_type_name(value)}, not a string", wrong_type=True)
    if len(value) < MIN_RUN_ID_PREFIX:
        _fail(
            error,
            f"run id {show(value)} is too short: give at least {MIN_RUN_ID_PREFIX} characters "
            "of the run id (see the run history)",
            wrong_type=False,
        )
    return value


# -- steps -----------------------------------------------------------------------------------
def _label(step: Any, position: int) -> str:
    name = getattr(step, "name", None)
    return f"step {name!r}" if isinstance(name, str) and name.strip() else f"step #{position + 1}"


def _plain_fields(step: Any) -> bool:
    """Every plain field of ``step`` is of its exact type and in range (the common case).

    The fast path of :func:`check_step` and :func:`check_steps`: exact class
    checks, no messages built. A step it does not accept is checked slowly,
    which names the problem.
    """
    timeout, retries = step.timeout, step.max_retries
    module, action = step.module, step.action
    return bool(
        module.__class__ is str and module and action.__class__ is str and action
        and (timeout is None or (timeout.__class__ in _PLAIN_NUMBERS and 0 < timeout < _INF))
        and retries.__class__ is int and retries >= 0
        and step.parameters.__class__ is dict and step.dependencies.__class__ in _PLAIN_SEQUENCES
        and getattr(step, "priority", 0).__class__ is int
    )


def check_step(step: Any, position: int) -> None:
    """Check every field of one step definition (``position`` counts from 0).

    The name and the dependencies are checked by
    :func:`~.graph.compile_graph` too, which reads them anyway; this function
    checks them fully only when another field is wrong, or when it is used
    alone (see :func:`check_steps`).

    Raises
    ------
    WorkflowValidationError
        A value out of range (an empty name, a negative or NaN timeout, ...).
    StepTypeError
        A field of the wrong type (a timeout given as text, a name as a number).
    """
    if _plain_fields(step):
        params, resources = step.parameters, getattr(step, "resources", None)
        if params and not all(k.__class__ is str for k in params):
            _check_step_slowly(step, position)
        if resources:
            _check_resources(resources, _label(step, position), _step_error(step.name))
        if not _plain_cache_options(step):
            _check_cache_options(step, _label(step, position), _step_error(step.name))
        return
    _check_step_slowly(step, position)


def check_step_fully(step: Any, position: int) -> None:
    """:func:`check_step` including the name and every dependency (for steps not compiled)."""
    check_step(step, position)
    _check_step_slowly(step, position)


def _check_step_slowly(step: Any, position: int) -> None:
    label = _label(step, position)
    error = _step_error(step.name if isinstance(step.name, str) else None)
    check_name(step.name, f"step #{position + 1} name", error)
    for field in ("module", "action"):
        check_name(getattr(step, field), f"{label}: {field}", error)
    check_seconds(step.timeout, f"{label}: timeout", error)
    check_count(step.max_retries, f"{label}: max_retries", error)
    check_mapping(step.parameters, f"{label}: parameters", error)
    _check_priority(getattr(step, "priority", 0), label, error)
    deps = step.dependencies
    if isinstance(deps, str) or not isinstance(deps, Sequence):
        _fail(
            error,
            f"{label}: dependencies {show(deps)} is a {_type_name(deps)}; give a list of step names",
            wrong_type=True,
        )
    for dep in deps:
        if not isinstance(dep, str):
            _fail(
                error,
                f"{label}: dependency {show(dep)} is a {_type_name(dep)}, not a step name",
                wrong_type=True,
            )
    _check_resources(getattr(step, "resources", None), label, error)
    _check_cache_options(step, label, error)


def _plain_cache_options(step: Any) -> bool:
    """The fast check of the cache options: ``cache`` a bool, ``version`` ``None`` or a string."""
    version = getattr(step, "version", None)
    return getattr(step, "cache", False).__class__ is bool and (version is None or version.__class__ is str)


def _check_cache_options(step: Any, label: str, error: ErrorFactory) -> None:
    """``cache`` a bool, ``version`` a string or ``None`` (the step cache's options)."""
    cache = getattr(step, "cache", False)
    if not isinstance(cache, bool):
        _fail(error, f"{label}: cache {show(cache)} is a {_type_name(cache)}; give True or False",
              wrong_type=True)
    version = getattr(step, "version", None)
    if version is not None and not isinstance(version, str):
        _fail(error, f"{label}: version {show(version)} is a {_type_name(version)}; give a string "
              "such as '2'", wrong_type=True)


def _check_priority(priority: Any, label: str, error: ErrorFactory) -> None:
    # An int, as in Dask (higher runs sooner); a TaskPriority member is an int too.
    if isinstance(priority, bool) or not isinstance(priority, int):
        _fail(
            error,
            f"{label}: priority {show(priority)} is a {_type_name(priority)}; give an int "
            "(higher runs sooner) or a TaskPriority",
            wrong_type=True,
        )


def _check_resources(resources: Any, label: str, error: ErrorFactory) -> None:
    if not resources:
        return
    request = check_mapping(resources, f"{label}: resources", error)
    for resource_id, amount in request.items():
        what = f"{label}: resource {resource_id!r} amount"
        if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
            _fail(error, f"{what} {show(amount)} is a {_type_name(amount)}, not a number", wrong_type=True)
        if not 0 < float(amount) < math.inf:
            _fail(error, f"{what} {show(amount)} is not a positive finite number", wrong_type=False)


def check_steps(steps: Any, step_type: type[Any] | None = None) -> None:
    """Check a workflow's step list: a list (or tuple) of step definitions, each well formed.

    With ``step_type``, each item must be an instance of it. A well-typed
    step costs a handful of comparisons, made here in the loop (a function
    call per step would cost as much again); anything else goes through
    :func:`check_step`, which names the problem.
    """
    if isinstance(steps, str | bytes | Mapping) or not isinstance(steps, Sequence):
        raise StepTypeError(
            f"steps {show(steps)} is a {_type_name(steps)}; give a list of WorkflowStep(...)"
        )
    for i, step in enumerate(steps):
        if step_type is not None and not isinstance(step, step_type):
            raise StepTypeError(
                f"step #{i + 1} is a {_type_name(step)}; use {step_type.__name__}(...)"
            )
        if (
            _plain_fields(step) and not step.parameters and not getattr(step, "resources", None)
            and _plain_cache_options(step)
        ):
            continue
        check_step(step, i)
