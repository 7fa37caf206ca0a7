"""Turn the text of a ``%%workflow`` cell into workflow steps, without IPython.

Two cell formats:

* **Function mode** (default): every top-level ``def`` (or ``async def``) is a
  step, named after the function. A parameter named after another step of the
  cell is a dependency and receives that step's result; any other parameter
  is filled from the run's parameters or its own default. Options come from an
  optional ``@step(timeout=..., retries=..., resources={...}, cache=True,
  version="...", priority=...)`` decorator,
  read from the syntax tree with :func:`ast.literal_eval`. Nothing in the cell
  is evaluated here; running the cell is the caller's business. Functions
  whose name starts with ``_`` are helpers, not steps.
* **Spec mode** (``--yaml``): a YAML (or JSON) list of steps, or a mapping with
  a ``steps`` list, each with ``name``, ``module``, ``action``, ``parameters``,
  ``dependencies``, ``timeout``, ``max_retries``, ``resources``, ``cache``,
  ``version`` and ``priority``. Loaded
  with ``yaml.safe_load``.

Errors are :class:`CellParseError` whose ``line`` is the 1-based line of the
cell body the problem is on.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..api.workflow_models import WorkflowStep, step_from_dict
from ..engine.actions import NOTEBOOK_MODULE_PREFIX
from ..errors import WorkflowValidationError
from ..params import parse_param, parse_params  # re-exported: the magics read -p with them

__all__ = [
    "STEP_ATTRIBUTE",
    "CellParseError",
    "FunctionStep",
    "ParsedCell",
    "close_step_name",
    "parse_function_cell",
    "parse_param",
    "parse_params",
    "parse_spec_cell",
    "read_function_steps",
    "step",
]

STEP_ATTRIBUTE = "__codomyrmex_step__"
_STEP_OPTIONS = ("timeout", "retries", "resources", "cache", "version", "priority")
F = TypeVar("F", bound=Callable[..., Any])


class CellParseError(WorkflowValidationError):
    """A ``%%workflow`` cell cannot be turned into steps.

    Parameters
    ----------
    message:
        What is wrong and how to fix it (one line).
    line:
        1-based line of the cell body, or ``None`` when it concerns the whole cell.
    step:
        The step concerned, when there is one.
    """

    def __init__(self, message: str, *, line: int | None = None, step: str | None = None) -> None:
        super().__init__(message, step=step)
        self.line = line


@dataclass(frozen=True)
class FunctionStep:
    """One function of a function-mode cell, as read from its syntax tree.

    Attributes
    ----------
    name:
        Function (and step) name.
    dependencies:
        Parameters named after other steps of the cell, in signature order.
    inputs:
        The other parameters (filled from run parameters or defaults).
    required:
        Those of ``inputs`` without a default.
    timeout, retries, resources, cache, version, priority:
        ``@step(...)`` options (``None``/empty/``False``/0 when not given).
    line:
        Line of the ``def`` (or of its first decorator).
    """

    name: str
    dependencies: tuple[str, ...]
    inputs: tuple[str, ...]
    required: tuple[str, ...]
    timeout: float | None = None
    retries: int | None = None
    resources: dict[str, float] = field(default_factory=dict)
    line: int = 1
    cache: bool = False
    version: str | None = None
    priority: int = 0

    def to_step(self, workflow: str) -> WorkflowStep:
        """The :class:`WorkflowStep` calling ``notebook.<workflow>.<name>``.

        Steps defined in a cell are not retried unless ``@step(retries=n)``
        says so: a bug in notebook code should fail at once.
        """
        return WorkflowStep(
            name=self.name,
            module=NOTEBOOK_MODULE_PREFIX + workflow,
            action=self.name,
            dependencies=list(self.dependencies),
            timeout=self.timeout,  # type: ignore[arg-type]  # seconds may be fractional
            max_retries=self.retries or 0,
            resources=dict(self.resources),
            cache=self.cache,
            version=self.version,
            priority=self.priority,
        )


@dataclass(frozen=True)
class ParsedCell:
    """Steps read from a cell and the body line each one starts on."""

    steps: list[WorkflowStep]
    lines: dict[str, int]

    def line_of(self, step_name: str | None) -> int | None:
        """Line where ``step_name`` is defined, if known."""
        return None if step_name is None else self.lines.get(step_name)


# -- the @step decorator -------------------------------------------------------------
def step(
    fn: F | None = None,
    *,
    timeout: float | None = None,
    retries: int | None = None,
    resources: Mapping[str, float] | None = None,
    cache: bool = False,
    version: str | None = None,
    priority: int = 0,
) -> Any:
    """Mark a function of a ``%%workflow`` cell with step options.

    At run time it only stores the options on the function as
    ``__codomyrmex_step__``; ``%%workflow`` reads them from the cell's text.
    Use it bare (``@step``) or with options (``@step(timeout=30, retries=2)``).

    Parameters
    ----------
    timeout:
        Seconds one attempt of the step may take.
    retries:
        Extra attempts after a failure (default 0 for cell steps).
    resources:
        Resource id to amount held while the step runs, e.g. ``{"gpu": 1}``.
    cache:
        Keep the step's result in the step cache and reuse it while nothing
        it depends on changed (see docs/cache.md).
    version:
        Change it to force a new cache entry without changing the code.
    priority:
        Higher starts sooner among ready steps (an int, as in Dask; on a Dask
        executor it is the step's Dask priority).
    """
    options = {
        "timeout": timeout, "retries": retries, "resources": dict(resources or {}),
        "cache": cache, "version": version, "priority": priority,
    }

    def mark(func: F) -> F:
        setattr(func, STEP_ATTRIBUTE, options)
        return func

    return mark(fn) if fn is not None else mark


# -- function mode ---------------------------------------------------------------------
def parse_function_cell(source: str, workflow: str) -> ParsedCell:
    """Read the steps of a function-mode cell from its syntax tree.

    Raises
    ------
    CellParseError
        Syntax error, no step function, duplicate function, unsupported
        parameter kind, or a bad ``@step`` option.
    """
    functions = _top_level_functions(_parse_python(source))
    if not functions:
        raise CellParseError(
            "the cell defines no step function; write one top-level def per step "
            "(or use --yaml for a declarative spec)",
            line=1,
        )
    names = {f.name for f in functions}
    specs = [_read_function(f, names) for f in functions]
    return ParsedCell([s.to_step(workflow) for s in specs], {s.name: s.line for s in specs})


def read_function_steps(source: str) -> list[FunctionStep]:
    """The :class:`FunctionStep` of each step function of a cell (for inspection)."""
    functions = _top_level_functions(_parse_python(source))
    names = {f.name for f in functions}
    return [_read_function(f, names) for f in functions]


_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _parse_python(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as exc:
        raise CellParseError(f"syntax error: {exc.msg}", line=exc.lineno) from None


def _top_level_functions(tree: ast.Module) -> list[_FunctionNode]:
    seen: dict[str, int] = {}
    out: list[_FunctionNode] = []
    for node in tree.body:
        if not isinstance(node, _FunctionNode) or node.name.startswith("_"):
            continue
        if node.name in seen:
            raise CellParseError(
                f"function {node.name!r} is defined twice (first on line {seen[node.name]}); "
                "step names must be unique",
                line=node.lineno,
                step=node.name,
            )
        seen[node.name] = node.lineno
        out.append(node)
    return out


def _read_function(node: _FunctionNode, step_names: set[str]) -> FunctionStep:
    params, required = _parameters(node)
    for name in required:
        _check_typo(node, name, step_names)
    options = _step_options(node)
    line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return FunctionStep(
        name=node.name,
        dependencies=tuple(p for p in params if p in step_names and p != node.name),
        inputs=tuple(p for p in params if p not in step_names),
        required=tuple(p for p in required if p not in step_names),
        timeout=options.get("timeout"),
        retries=options.get("retries"),
        resources=options.get("resources") or {},
        line=line,
        cache=bool(options.get("cache")),
        version=options.get("version"),
        priority=options.get("priority") or 0,
    )


def _check_typo(node: _FunctionNode, param: str, step_names: set[str]) -> None:
    """A parameter without a default, close to a step's name, is taken for a typo of it."""
    if param in step_names:
        return
    match = close_step_name(param, step_names - {node.name})
    if match is not None:
        raise CellParseError(
            f"parameter {param!r} of step {node.name!r}: did you mean step {match!r}? "
            f"(a run parameter this close to a step's name needs a default: {param}=...)",
            line=node.lineno,
            step=node.name,
        )


def close_step_name(name: str, step_names: set[str]) -> str | None:
    """The step name ``name`` is most likely a typo of, or ``None``.

    Close means one edit away (a swapped pair counts as one) for names up to
    four characters, two edits for longer ones; names under three characters
    are never typos.
    """
    if len(name) < 3:
        return None
    limit = 1 if len(name) <= 4 else 2
    scored = sorted((_edits(name, s), s) for s in step_names if abs(len(s) - len(name)) <= limit)
    if scored and scored[0][0] <= limit:
        return scored[0][1]
    close = difflib.get_close_matches(name, sorted(step_names), n=1, cutoff=0.85)
    return close[0] if close else None


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[len(b)]


def _parameters(node: _FunctionNode) -> tuple[list[str], list[str]]:
    args = node.args
    if args.posonlyargs or args.vararg is not None:
        raise CellParseError(
            f"step {node.name!r}: positional-only and *args parameters cannot be bound by name; "
            "use ordinary parameters",
            line=node.lineno,
            step=node.name,
        )
    if node.name in {a.arg for a in args.args + args.kwonlyargs}:
        raise CellParseError(
            f"step {node.name!r} has a parameter named after itself; rename it",
            line=node.lineno,
            step=node.name,
        )
    positional = [a.arg for a in args.args]
    n_required = len(positional) - len(args.defaults)
    required = positional[:n_required]
    required += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    return positional + [a.arg for a in args.kwonlyargs], required


def _is_step_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id == "step"
    return isinstance(target, ast.Attribute) and target.attr == "step"


def _step_options(node: _FunctionNode) -> dict[str, Any]:
    decorators = [d for d in node.decorator_list if _is_step_decorator(d)]
    if not decorators or not isinstance(decorators[0], ast.Call):
        return {}
    call = decorators[0]
    if call.args:
        raise CellParseError(
            f"step {node.name!r}: @step takes keyword options only "
            f"({', '.join(_STEP_OPTIONS)})",
            line=call.lineno,
            step=node.name,
        )
    return {kw.arg: _option(node.name, kw) for kw in call.keywords if kw.arg is not None}


def _option(step_name: str, kw: ast.keyword) -> Any:
    if kw.arg not in _STEP_OPTIONS:
        raise CellParseError(
            f"step {step_name!r}: unknown @step option {kw.arg!r}; "
            f"use {', '.join(_STEP_OPTIONS)}",
            line=kw.value.lineno,
            step=step_name,
        )
    try:
        value = ast.literal_eval(kw.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise CellParseError(
            f"step {step_name!r}: @step({kw.arg}=...) must be a literal value "
            "(a number, True/False, a string, or a dict of numbers for resources)",
            line=kw.value.lineno,
            step=step_name,
        ) from None
    return _check_option(step_name, kw.arg, value, kw.value.lineno)


_NUMBER_OPTIONS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "timeout": (lambda v: isinstance(v, int | float) and v > 0, "a positive number of seconds"),
    "retries": (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0"),
    "priority": (lambda v: isinstance(v, int), "an integer (higher starts sooner)"),
}


def _check_option(step_name: str, name: str, value: Any, line: int) -> Any:
    def bad(expected: str) -> CellParseError:
        return CellParseError(
            f"step {step_name!r}: @step({name}=...) must be {expected}, got {value!r}",
            line=line,
            step=step_name,
        )

    if value is None:
        return {} if name == "resources" else None
    if name == "cache":
        if not isinstance(value, bool):
            raise bad("True or False")
        return value
    if name == "version":
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise bad("a string such as '2'")
        return str(value)
    number = _NUMBER_OPTIONS.get(name)
    if number is not None:
        fits, expected = number
        if isinstance(value, bool) or not fits(value):
            raise bad(expected)
        return value
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and not isinstance(v, bool) and v > 0
        for k, v in value.items()
    ):
        raise bad("a dict of resource id to positive amount")
    return {k: float(v) for k, v in value.items()}


# -- spec mode ---------------------------------------------------------------------------
def parse_spec_cell(source: str) -> ParsedCell:
    """Read a YAML/JSON list of steps (or ``{steps: [...]}``).

    Raises
    ------
    CellParseError
        Invalid YAML, a document of the wrong shape, or a step with an
        unknown/missing key or a value of the wrong type.
    """
    import yaml

    try:
        data = yaml.safe_load(source)
        root = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    items, item_nodes = _step_items(data, root)
    steps: list[WorkflowStep] = []
    lines: dict[str, int] = {}
    for item, node in zip(items, item_nodes, strict=True):
        line = node.start_mark.line + 1
        built = _step_from_item(item, line)
        if built.name in lines:
            raise CellParseError(
                f"step {built.name!r} is defined twice (first on line {lines[built.name]})",
                line=line,
                step=built.name,
            )
        steps.append(built)
        lines[built.name] = line
    return ParsedCell(steps, lines)


def _yaml_error(exc: Exception) -> CellParseError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    line = mark.line + 1 if mark is not None else None
    return CellParseError(f"invalid YAML: {problem}", line=line)


def _step_items(data: Any, root: Any) -> tuple[list[Any], list[Any]]:
    import yaml

    if isinstance(data, dict) and isinstance(root, yaml.MappingNode):
        if set(data) != {"steps"}:
            raise CellParseError(
                "a spec is a list of steps or a mapping with only a 'steps' key", line=1
            )
        root = next(v for k, v in root.value if k.value == "steps")
        data = data["steps"]
    if not isinstance(data, list) or not data or not isinstance(root, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise CellParseError(
            "the spec has no steps; write a list of {name, module, action, ...} mappings",
            line=line,
        )
    return data, list(root.value)


def _step_from_item(item: Any, line: int) -> WorkflowStep:
    if not isinstance(item, dict):
        raise CellParseError(
            f"a step must be a mapping with name, module and action, got {type(item).__name__}",
            line=line,
        )
    name = item.get("name")
    try:
        built = step_from_dict(item)
        _check_types(built)
    except WorkflowValidationError as exc:
        raise CellParseError(str(exc), line=line, step=exc.step) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise CellParseError(f"step {name!r}: {exc}", line=line, step=name) from None
    return built


def _check_types(s: WorkflowStep) -> None:
    if not isinstance(s.parameters, dict):
        raise TypeError("parameters must be a mapping")
    if s.timeout is not None and (isinstance(s.timeout, bool) or not isinstance(s.timeout, int | float)):
        raise TypeError(f"timeout must be a number of seconds, got {s.timeout!r}")
