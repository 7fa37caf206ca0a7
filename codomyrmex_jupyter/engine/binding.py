"""Binding a step's arguments: parameters, run parameters and upstream results.

A step's callable is called with keyword arguments only, chosen per parameter
name in this order (Hamilton-style data flow):

1. the step's own ``parameters``;
2. the result of a direct dependency whose step name is the parameter name;
3. ``inputs``: a dict of every direct dependency's result;
4. a global (run) parameter of that name.

A callable taking ``**kwargs`` also receives the dependency results and global
parameters that no named parameter took. A step parameter the callable does
not accept, or a required parameter nobody supplies, is a ``TypeError`` whose
message says which name and where to set it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .actions import ActionSpec

__all__ = ["bind_arguments"]

_EMPTY: dict[str, Any] = {}


def bind_arguments(
    spec: ActionSpec,
    step: str,
    parameters: Mapping[str, Any],
    upstream: Mapping[str, Any],
    run_parameters: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the keyword arguments for one call of ``spec.fn``.

    Parameters
    ----------
    spec:
        The resolved action.
    step:
        The step's name (for error messages).
    parameters:
        The step's own parameters.
    upstream:
        Results of the step's direct dependencies, by step name.
    run_parameters:
        The run's global parameters.
    """
    accepted = spec.params
    if not accepted and not spec.var_kw:
        if parameters:
            _reject(spec, step, next(iter(parameters)))
        return _EMPTY
    kwargs = dict(parameters)
    if not spec.var_kw:
        for key in kwargs:
            if key not in accepted:
                _reject(spec, step, key)
    for name in accepted:
        if name not in kwargs:
            _fill(kwargs, name, upstream, run_parameters)
    if spec.var_kw:
        for source in (upstream, run_parameters):
            for key, value in source.items():
                kwargs.setdefault(key, value)
    missing = spec.required.difference(kwargs)
    if missing:
        name = sorted(missing)[0]
        raise TypeError(
            f"step {step!r}: no value for parameter {name!r} of {spec.qualname}; "
            f"set it in the step's parameters or pass it as a run parameter ({name}=...)"
        )
    return kwargs


def _fill(
    kwargs: dict[str, Any], name: str, upstream: Mapping[str, Any], run_parameters: Mapping[str, Any]
) -> None:
    if name in upstream:
        kwargs[name] = upstream[name]
    elif name == "inputs":
        kwargs[name] = dict(upstream)
    elif name in run_parameters:
        kwargs[name] = run_parameters[name]


def _reject(spec: ActionSpec, step: str, key: str) -> None:
    takes = ", ".join(sorted(spec.params)) or "no parameters"
    raise TypeError(
        f"step {step!r}: {spec.qualname} has no parameter {key!r} (it takes: {takes}); "
        "remove it from the step's parameters"
    )
