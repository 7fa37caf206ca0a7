"""Code fingerprints: what runs counts, comments and docstrings do not; helpers of the same file do."""

from __future__ import annotations

import functools
import itertools
import math
from pathlib import Path
from typing import Any

import pytest

from codomyrmex_jupyter.engine.cache.fingerprint import code_identity, normalise_source

_counter = itertools.count()


def define(tmp_path: Path, source: str, name: str = "f") -> Any:
    """Define functions from ``source`` in a file of their own (as a notebook cell is)."""
    path = tmp_path / f"cell_{next(_counter)}.py"
    path.write_text(source)
    namespace: dict[str, Any] = {"step": lambda **options: (lambda fn: fn)}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - test code
    return namespace[name]


BASE = '''
def f(x, n=2):
    """Scale."""
    return x * n
'''


@pytest.mark.parametrize("edited", [
    BASE.replace('"""Scale."""', '"""Scale it: a longer docstring."""'),
    BASE.replace("    return x * n", "    # a comment\n\n    return x * n  # inline"),
    BASE.replace("x * n", "x*n"),
    "@step(cache=True, timeout=5)\n" + BASE.strip() + "\n",
])
def test_comments_blank_lines_docstrings_and_step_options_do_not_count(tmp_path: Path, edited: str) -> None:
    assert code_identity(define(tmp_path, edited)).fingerprint == code_identity(define(tmp_path, BASE)).fingerprint


@pytest.mark.parametrize("edited", [
    BASE.replace("x * n", "x + n"),
    BASE.replace("n=2", "n=3"),
    BASE.replace("def f(x, n=2)", "def f(x, n=2, m=0)"),
])
def test_code_changes_count(tmp_path: Path, edited: str) -> None:
    assert code_identity(define(tmp_path, edited)).fingerprint != code_identity(define(tmp_path, BASE)).fingerprint


HELPED = '''
import math

def _helper(x):
    return _inner(x) + 1

def _inner(x):
    return x * 2

def unrelated():
    return 0

def f(x):
    return math.floor(_helper(x))
'''


def test_helpers_of_the_same_file_count_transitively(tmp_path: Path) -> None:
    base = code_identity(define(tmp_path, HELPED))
    assert "def _helper" in base.source and "def _inner" in base.source
    assert "def unrelated" not in base.source
    assert "math" in base.modules
    inner_edit = code_identity(define(tmp_path, HELPED.replace("x * 2", "x * 3")))
    assert inner_edit.fingerprint != base.fingerprint
    unrelated_edit = code_identity(define(tmp_path, HELPED.replace("return 0", "return 1")))
    assert unrelated_edit.fingerprint == base.fingerprint


def test_a_helper_redefined_later_is_seen(tmp_path: Path) -> None:
    f = define(tmp_path, HELPED)
    before = code_identity(f).fingerprint
    path = Path(f.__code__.co_filename)
    edited = HELPED.replace("x * 2", "x * 5")
    path.write_text(edited)
    import linecache

    linecache.checkcache(str(path))
    exec(compile(edited, str(path), "exec"), f.__globals__)  # the cell's _inner is redefined  # noqa: S102
    assert code_identity(f).fingerprint != before


def test_callables_without_source_fall_back_to_module_and_version() -> None:
    ident = code_identity(math.floor)
    assert not ident.exact
    assert "math.floor" in ident.source
    assert code_identity(math.floor).fingerprint == ident.fingerprint != code_identity(math.ceil).fingerprint


def test_partials_and_callable_objects(tmp_path: Path) -> None:
    f = define(tmp_path, BASE)
    assert code_identity(functools.partial(f, n=3)).fingerprint != code_identity(functools.partial(f, n=4)).fingerprint

    class Scaler:
        def __call__(self, x: int) -> int:
            return x * 2

    ident = code_identity(Scaler())
    assert ident.exact and "return x * 2" in ident.source


def test_normalise_source_of_text_that_does_not_parse() -> None:
    assert normalise_source("  lambda x: (x +\n  # c\n\n") == "lambda x: (x +"
