"""``static_analysis.analyze_code_quality`` and ``analyze_code``: measure Python code.

Both walk a file or a directory, parse every ``.py`` file with :mod:`ast` and
report files, lines (code, comment, blank), functions, classes, cyclomatic
complexity and syntax errors. ``analyze_code_quality`` returns the summary and
the worst offenders; ``analyze_code`` adds one entry per function.

Cyclomatic complexity follows McCabe as most Python tools count it: 1 for the
function, plus 1 for each ``if``/``elif``, ``for``, ``async for``, ``while``,
``except`` handler, conditional expression, comprehension ``if``, ``case`` and
``assert``, plus 1 for each operand of ``and``/``or`` beyond the first. A nested
function or class is measured on its own and adds nothing to its parent.

A file that cannot be read, decoded or parsed is reported and skipped; one bad
file never stops the analysis. Results hold only str, int, float, list, dict and
None, so they store as JSON.
"""

from __future__ import annotations

import ast
import io
import os
import tokenize
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..actions import ActionRegistry

__all__ = [
    "SKIPPED_DIRS",
    "analyze_code",
    "analyze_code_quality",
    "cyclomatic_complexity",
    "register",
]

# Directories that hold installed or generated code, never the project's own.
SKIPPED_DIRS = frozenset({"__pycache__", ".venv", "venv", "node_modules", "build", "dist"})
_PY_SUFFIXES = (".py", ".pyw")
_TOP = 10
_COMPLEX = 10  # the usual "refactor me" threshold (McCabe, flake8 C901)

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BRANCHES = (
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ExceptHandler,
    ast.IfExp,
    ast.Assert,
    ast.match_case,
)
# Letter grades of mean complexity, as radon ranks blocks.
_GRADES = ((5, "A"), (10, "B"), (20, "C"), (30, "D"), (40, "E"))


@dataclass(frozen=True, slots=True)
class _Function:
    name: str
    line: int
    end_line: int
    complexity: int
    is_async: bool


@dataclass(slots=True)
class _FileReport:
    file: str
    lines: dict[str, int]
    functions: list[_Function] = field(default_factory=list)
    classes: int = 0
    syntax_error: str | None = None
    read_error: str | None = None


def analyze_code_quality(
    path: str = ".",
    project_path: str | None = None,
    exclude: list[str] | None = None,
    max_files: int = 5000,
) -> dict[str, Any]:
    """Summarise the size, complexity and syntax errors of Python code.

    Parameters
    ----------
    path:
        A ``.py`` file or a directory to walk. A relative path is taken from
        ``project_path`` when given, else from the working directory.
    project_path:
        The project root (usually a global run parameter).
    exclude:
        Glob patterns matched against each file or directory's path relative to
        the root and against its name (``"tests"``, ``"*_pb2.py"``,
        ``"docs/*"``). Hidden directories, ``__pycache__``, ``.venv``, ``venv``,
        ``node_modules``, ``build`` and ``dist`` are always skipped.
    max_files:
        Stop after this many files; ``truncated`` says whether it did.

    Returns
    -------
    dict
        ``path``, ``files``, ``lines`` (total, code, comment, blank),
        ``functions``, ``classes``, ``complexity`` (mean, max, over_10,
        distribution), ``grade`` (A-F of the mean complexity), ``most_complex``
        (the ten most complex functions), ``syntax_errors`` (``"file:line:
        message"``), ``read_errors``, ``per_file`` and ``truncated``.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    ValueError
        ``path`` is a file that is not Python, or ``max_files`` is not positive.
    """
    reports, root, truncated = _analyze_tree(path, project_path, exclude, max_files)
    summary = _summary(reports, root, truncated)
    summary["grade"] = _grade(summary["complexity"]["mean"])
    return summary


def analyze_code(
    path: str = ".",
    project_path: str | None = None,
    exclude: list[str] | None = None,
    max_files: int = 5000,
) -> dict[str, Any]:
    """Analyse Python code like :func:`analyze_code_quality`, one entry per function.

    Parameters are those of :func:`analyze_code_quality`.

    Returns
    -------
    dict
        Everything :func:`analyze_code_quality` returns except ``grade``, plus
        ``function_details``: every function and method as ``{"name", "file",
        "line", "end_line", "complexity", "async"}`` in file order.
    """
    reports, root, truncated = _analyze_tree(path, project_path, exclude, max_files)
    summary = _summary(reports, root, truncated)
    summary["function_details"] = [_detail(r.file, f) for r in reports for f in r.functions]
    return summary


def cyclomatic_complexity(node: ast.AST) -> int:
    """The McCabe complexity of a function node (or any node's body).

    Nested functions and classes are skipped: they are measured on their own.

    Examples
    --------
    >>> import ast
    >>> fn = ast.parse("def f(a, b):\\n    if a and b:\\n        return 1\\n").body[0]
    >>> cyclomatic_complexity(fn)
    3
    """
    body = getattr(node, "body", [])
    stack: list[ast.AST] = list(body) if isinstance(body, list) else [body]
    score = 1
    while stack:
        child = stack.pop()
        if isinstance(child, _SCOPES):
            continue
        score += _branch_score(child)
        stack.extend(ast.iter_child_nodes(child))
    return score


def _branch_score(node: ast.AST) -> int:
    if isinstance(node, _BRANCHES):
        return 1
    if isinstance(node, ast.BoolOp):
        return len(node.values) - 1
    if isinstance(node, ast.comprehension):
        return len(node.ifs)
    return 0


# -- walking -------------------------------------------------------------------


def _analyze_tree(
    path: str, project_path: str | None, exclude: Sequence[str] | None, max_files: int
) -> tuple[list[_FileReport], Path, bool]:
    """Resolve the root, list its files and analyse each one."""
    if isinstance(max_files, bool) or not isinstance(max_files, int) or max_files < 1:
        raise ValueError(f"max_files must be a positive integer; got {max_files!r}")
    root = _resolve_root(path, project_path)
    patterns = _patterns(exclude)
    files = _files(root, patterns, max_files + 1)
    truncated = len(files) > max_files
    return [_analyze_file(f, _display_name(root, f)) for f in files[:max_files]], root, truncated


def _resolve_root(path: str, project_path: str | None) -> Path:
    """``path`` under ``project_path`` (an absolute ``path`` wins), checked to exist."""
    base = Path(project_path).expanduser() if project_path else Path.cwd()
    root = Path(os.path.abspath(base / Path(str(path)).expanduser()))
    if not root.exists():
        raise FileNotFoundError(
            f"path {str(root)!r} does not exist; pass an existing file or directory"
        )
    if root.is_file() and root.suffix not in _PY_SUFFIXES:
        raise ValueError(f"path {str(root)!r} is not a Python file; pass a .py file or a directory")
    return root


def _patterns(exclude: Sequence[str] | str | None) -> list[str]:
    if exclude is None:
        return []
    items = [exclude] if isinstance(exclude, str) else list(exclude)
    if not all(isinstance(p, str) for p in items):
        raise ValueError("exclude must be a list of glob patterns such as ['tests', '*_pb2.py']")
    return [p.rstrip("/") for p in items if p.strip()]


def _files(root: Path, patterns: list[str], limit: int) -> list[Path]:
    """The Python files under ``root`` (or ``root`` itself), sorted, at most ``limit``."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for path in _walk(root, patterns):
        found.append(path)
        if len(found) >= limit:
            break
    return found


def _walk(root: Path, patterns: list[str]) -> Iterator[Path]:
    # Sorted walk so two runs over the same tree report in the same order.
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skip_dir(root, here / d, patterns))
        for name in sorted(filenames):
            path = here / name
            if name.endswith(_PY_SUFFIXES) and not _excluded(root, path, patterns):
                yield path


def _skip_dir(root: Path, path: Path, patterns: list[str]) -> bool:
    name = path.name
    return name.startswith(".") or name in SKIPPED_DIRS or _excluded(root, path, patterns)


def _excluded(root: Path, path: Path, patterns: list[str]) -> bool:
    rel = path.relative_to(root).as_posix()
    return any(fnmatchcase(rel, p) or fnmatchcase(path.name, p) for p in patterns)


def _display_name(root: Path, path: Path) -> str:
    """Paths relative to the analysed directory read better than absolute ones."""
    return path.name if root.is_file() else path.relative_to(root).as_posix()


# -- one file ---------------------------------------------------------------------


def _analyze_file(path: Path, name: str) -> _FileReport:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _FileReport(name, _count_lines(""), read_error=f"{name}: {exc.strerror or exc}")
    text, decode_error = _decode(data, name)
    report = _FileReport(name, _count_lines(text))
    if decode_error is not None:
        report.syntax_error = decode_error
        return report
    _parse_into(report, text)
    return report


def _decode(data: bytes, name: str) -> tuple[str, str | None]:
    """Decode like the interpreter does: a PEP 263 cookie, else UTF-8.

    Returns the text (undecodable bytes replaced, so lines still count) and the
    error to report, if any.
    """
    encoding, cookie_error = _encoding(data, name)
    try:
        return data.decode(encoding), cookie_error
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"{name}:{line}: cannot decode byte {data[exc.start]:#04x} as {exc.encoding}"
        return data.decode(encoding, "replace"), message


def _encoding(data: bytes, name: str) -> tuple[str, str | None]:
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0], None
    except SyntaxError as exc:  # an unknown coding cookie, or bytes that are not UTF-8
        return "utf-8", f"{name}:{exc.lineno or 1}: {exc.msg}"


def _count_lines(text: str) -> dict[str, int]:
    """Total, blank, comment (first non-blank character ``#``) and code lines."""
    lines = _split_lines(text)
    blank = sum(1 for line in lines if not line.strip())
    comment = sum(1 for line in lines if line.lstrip().startswith("#"))
    code = len(lines) - blank - comment
    return {"total": len(lines), "code": code, "comment": comment, "blank": blank}


def _split_lines(text: str) -> list[str]:
    # Split on the newlines the parser knows, so counts agree with ast line numbers
    # (str.splitlines also splits on form feeds and other separators).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _parse_into(report: _FileReport, text: str) -> None:
    try:
        tree = ast.parse(text, filename=report.file)
    except (SyntaxError, ValueError) as exc:  # ValueError: source holds a NUL byte
        report.syntax_error = _syntax_message(report.file, exc)
        return
    for node, qualname in _scopes(tree, ""):
        if isinstance(node, ast.ClassDef):
            report.classes += 1
        else:
            report.functions.append(_measure(node, qualname))


def _syntax_message(name: str, exc: SyntaxError | ValueError) -> str:
    if isinstance(exc, SyntaxError):
        return f"{name}:{exc.lineno or 1}: {exc.msg}"
    return f"{name}:1: {exc}"


def _scopes(node: ast.AST, prefix: str) -> Iterator[tuple[ast.AST, str]]:
    """Every class and function under ``node`` with its dotted qualified name."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _SCOPES):
            qualname = f"{prefix}{child.name}"
            yield child, qualname
            yield from _scopes(child, qualname + ".")
        else:
            yield from _scopes(child, prefix)


def _measure(node: ast.AST, qualname: str) -> _Function:
    assert isinstance(node, _FUNCTIONS)
    return _Function(
        name=qualname,
        line=node.lineno,
        end_line=node.end_lineno or node.lineno,
        complexity=cyclomatic_complexity(node),
        is_async=isinstance(node, ast.AsyncFunctionDef),
    )


# -- summary ----------------------------------------------------------------------


def _summary(reports: list[_FileReport], root: Path, truncated: bool) -> dict[str, Any]:
    readable = [r for r in reports if r.read_error is None]
    functions = [(r.file, f) for r in readable for f in r.functions]
    return {
        "path": str(root),
        "files": len(readable),
        "lines": _total_lines(readable),
        "functions": len(functions),
        "classes": sum(r.classes for r in readable),
        "complexity": _complexity_stats([f.complexity for _, f in functions]),
        "most_complex": _most_complex(functions),
        "syntax_errors": [r.syntax_error for r in readable if r.syntax_error],
        "read_errors": [r.read_error for r in reports if r.read_error],
        "per_file": [_file_row(r) for r in readable],
        "truncated": truncated,
    }


def _total_lines(reports: list[_FileReport]) -> dict[str, int]:
    totals: Counter[str] = Counter({"total": 0, "code": 0, "comment": 0, "blank": 0})
    for report in reports:
        totals.update(report.lines)
    return dict(totals)


def _complexity_stats(values: list[int]) -> dict[str, Any]:
    counts = Counter(values)
    return {
        "mean": round(sum(values) / len(values), 2) if values else 0.0,
        "max": max(values, default=0),
        "over_10": sum(1 for v in values if v > _COMPLEX),
        # Complexity -> number of functions; string keys so it survives JSON.
        "distribution": {str(k): counts[k] for k in sorted(counts)},
    }


def _most_complex(functions: list[tuple[str, _Function]]) -> list[dict[str, Any]]:
    ranked = sorted(functions, key=lambda item: (-item[1].complexity, item[0], item[1].line))
    return [
        {"name": f.name, "file": file, "line": f.line, "complexity": f.complexity}
        for file, f in ranked[:_TOP]
    ]


def _file_row(report: _FileReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "lines": report.lines["total"],
        "functions": len(report.functions),
        "classes": report.classes,
        "max_complexity": max((f.complexity for f in report.functions), default=0),
    }


def _detail(file: str, fn: _Function) -> dict[str, Any]:
    return {
        "name": fn.name,
        "file": file,
        "line": fn.line,
        "end_line": fn.end_line,
        "complexity": fn.complexity,
        "async": fn.is_async,
    }


def _grade(mean: float) -> str:
    return next((letter for bound, letter in _GRADES if mean <= bound), "F")


def register(registry: ActionRegistry) -> None:
    """Register ``static_analysis.analyze_code_quality`` and ``analyze_code``."""
    registry.register("static_analysis", "analyze_code_quality", analyze_code_quality)
    registry.register("static_analysis", "analyze_code", analyze_code)
