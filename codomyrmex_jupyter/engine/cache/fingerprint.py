"""Code fingerprints: what a step's callable does, as a digest of its normalised source.

The source of a function is parsed with :mod:`ast`, docstrings and
``@step(...)`` decorators are removed, and the tree is printed back with
:func:`ast.unparse`. Comments, blank lines, quoting and spacing therefore do not
count; anything that changes what runs does.

A function also depends on the functions it calls by global name that are
defined in the same file (for a notebook, the same cell: ``_helper``
functions), found through the names its code object uses and looked up in its
globals, transitively. Their normalised sources are part of the fingerprint
and their text is part of the displayed source.

When no source is available (a C function, a callable object without Python
source), the fingerprint is its module, qualified name and the version of the
distribution it comes from.

Each function's own part is computed once per code object (``inspect.getsource``
costs milliseconds); helpers are looked up in globals on every call because a
notebook may redefine ``_helper`` without redefining the step.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import inspect
import textwrap
import threading
import types
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .hashing import UnhashableValue, digest

__all__ = ["CodeIdentity", "code_identity", "normalise_source"]

_MEMO_SIZE = 4096


@dataclass(frozen=True, slots=True)
class CodeIdentity:
    """The code a step runs.

    Attributes
    ----------
    fingerprint:
        32 hex digits over the normalised source of the callable and its helpers.
    source:
        The text shown in code diffs: the callable's source, then each helper's.
    modules:
        Top-level names of the modules the code comes from or uses (for the
        package versions of a run's environment).
    exact:
        ``True`` when the fingerprint comes from source text, ``False`` when
        only the module, name and distribution version were available.
    """

    fingerprint: str
    source: str
    modules: tuple[str, ...]
    exact: bool = True


@dataclass(frozen=True, slots=True)
class _Own:
    normalised: str
    source: str
    globals_used: tuple[str, ...]


_memo: OrderedDict[tuple[str, types.CodeType], _Own] = OrderedDict()
_memo_lock = threading.Lock()


def normalise_source(source: str) -> str:
    """The source with comments, blank lines, docstrings and ``@step`` decorators removed.

    Text that does not parse (a lambda cut out of a longer line) keeps its
    non-blank lines, with trailing comments of whole-line comments dropped.
    """
    text = textwrap.dedent(source)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        lines = (line.strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line and not line.startswith("#"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                node.decorator_list = [d for d in node.decorator_list if not _is_step(d)]
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def _is_step(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id == "step"
    return isinstance(target, ast.Attribute) and target.attr == "step"


def _names_used(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):  # nested functions, lambdas, comprehensions
            yield from _names_used(const)


def _own(fn: types.FunctionType) -> _Own:
    code = fn.__code__
    key = (code.co_filename, code)
    with _memo_lock:
        hit = _memo.get(key)
        if hit is not None:
            _memo.move_to_end(key)
            return hit
    source = inspect.getsource(fn)  # OSError/TypeError when there is none: the caller falls back
    own = _Own(normalise_source(source), textwrap.dedent(source).rstrip() + "\n",
               tuple(sorted(set(_names_used(code)))))
    with _memo_lock:
        _memo[key] = own
        while len(_memo) > _MEMO_SIZE:
            _memo.popitem(last=False)
    return own


def _target(fn: Any) -> Any:
    fn = inspect.unwrap(fn) if callable(fn) else fn
    if isinstance(fn, types.MethodType):
        return fn.__func__
    if isinstance(fn, types.FunctionType | functools.partial):
        return fn
    call = inspect.getattr_static(type(fn), "__call__", None)  # a callable object: its class's
    return call if isinstance(call, types.FunctionType) else fn


def code_identity(fn: Callable[..., Any]) -> CodeIdentity:
    """The :class:`CodeIdentity` of a step's callable."""
    target = _target(fn)
    if isinstance(target, functools.partial):
        inner = code_identity(target.func)
        try:
            bound = digest([list(target.args), dict(target.keywords)])
        except UnhashableValue:
            bound = "unhashable"
        text = f"{inner.fingerprint}|partial|{bound}"
        return CodeIdentity(_hex(text), inner.source, inner.modules, inner.exact)
    if not isinstance(target, types.FunctionType):
        return _by_name(fn)
    try:
        return _from_source(target)
    except (OSError, TypeError):
        return _by_name(target)


def _from_source(fn: types.FunctionType) -> CodeIdentity:
    own = _own(fn)
    parts = [own.normalised]
    sources = [own.source]
    modules = {_top(fn.__module__)}
    seen = {fn}
    todo = [(fn, own)]
    while todo:
        func, info = todo.pop()
        for name in info.globals_used:
            value = func.__globals__.get(name)
            if isinstance(value, types.ModuleType):
                modules.add(_top(value.__name__))
            elif (isinstance(value, types.FunctionType) and value not in seen
                  and value.__code__.co_filename == fn.__code__.co_filename):
                seen.add(value)
                try:
                    helper = _own(value)
                except (OSError, TypeError):
                    continue
                parts.append(f"# helper {name}\n{helper.normalised}")
                sources.append(helper.source)
                todo.append((value, helper))
    ordered = [parts[0], *sorted(parts[1:])]
    shown = [sources[0], *sorted(sources[1:])]
    return CodeIdentity(_hex("\n".join(ordered)), "\n".join(shown), tuple(sorted(m for m in modules if m)))


def _by_name(fn: Any) -> CodeIdentity:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    name = getattr(fn, "__qualname__", None) or type(fn).__qualname__
    from ..environment import package_version

    version = package_version(_top(module)) or "unknown version"
    text = f"{module}.{name} ({version})"
    return CodeIdentity(_hex(text), f"# source not available: {text}\n", (_top(module),), exact=False)


def _top(module: str | None) -> str:
    return (module or "").partition(".")[0]


def _hex(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
