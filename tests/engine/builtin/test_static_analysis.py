"""Tests for ``static_analysis.analyze_code_quality`` and ``analyze_code``."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.builtin import static_analysis
from codomyrmex_jupyter.engine.builtin.static_analysis import (
    _count_lines,
    analyze_code,
    analyze_code_quality,
    cyclomatic_complexity,
)

MODULE_A = '''\
"""Module a."""

# a comment line
import os


class Shape:
    """A shape."""

    def area(self, x):
        if x > 0:
            return x
        return 0

    async def load(self, xs):
        async for x in xs:
            if x and self or not x:
                yield x


def outer(values):
    def inner(v):
        return v if v else 0

    return [inner(v) for v in values if v]
'''

MODULE_B = """\
class Empty:
    pass


class Outer:
    class Inner:
        pass


def solo():
    while True:
        break
"""

BAD = """\
def ok():
    return 1
def broken(:
    pass
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small project, plus directories that must be skipped."""
    write(tmp_path, "pkg/a.py", MODULE_A)
    write(tmp_path, "pkg/sub/b.py", MODULE_B)
    write(tmp_path, "pkg/notes.txt", "not python\n")
    for skipped in (".hidden", "__pycache__", ".venv", "venv", "node_modules", "build", "dist"):
        write(tmp_path, f"{skipped}/skip.py", "def skipped():\n    pass\n")
    write(tmp_path, "pkg/gen/big_pb2.py", "def generated():\n    pass\n")
    return tmp_path


def test_counts_files_functions_and_classes(tree: Path) -> None:
    result = analyze_code_quality(str(tree))
    assert result["path"] == str(tree)
    assert result["files"] == 3  # a.py, b.py and big_pb2.py
    # Shape.area, Shape.load, outer, outer.inner, solo, generated
    assert result["functions"] == 6
    assert result["classes"] == 4  # Shape, Empty, Outer, Outer.Inner
    assert result["syntax_errors"] == []
    assert result["truncated"] is False


def test_line_counts_are_exact(tmp_path: Path) -> None:
    write(tmp_path, "a.py", MODULE_A)
    lines = analyze_code_quality(str(tmp_path))["lines"]
    assert lines == {"total": 25, "code": 16, "comment": 1, "blank": 8}


def test_per_file_rows(tree: Path) -> None:
    rows = {r["file"]: r for r in analyze_code_quality(str(tree))["per_file"]}
    assert sorted(rows) == ["pkg/a.py", "pkg/gen/big_pb2.py", "pkg/sub/b.py"]
    assert rows["pkg/a.py"] == {
        "file": "pkg/a.py",
        "lines": 25,
        "functions": 4,
        "classes": 1,
        "max_complexity": 5,
    }
    assert rows["pkg/sub/b.py"]["classes"] == 3


def test_complexity_summary_and_most_complex(tree: Path) -> None:
    result = analyze_code_quality(str(tree))
    # area 2, load 5, outer 2, inner 2, solo 2, generated 1
    assert result["complexity"] == {
        "mean": 2.33,
        "max": 5,
        "over_10": 0,
        "distribution": {"1": 1, "2": 4, "5": 1},
    }
    first = result["most_complex"][0]
    assert first == {"name": "Shape.load", "file": "pkg/a.py", "line": 15, "complexity": 5}
    names = [f["name"] for f in result["most_complex"]]
    assert names == ["Shape.load", "Shape.area", "outer", "outer.inner", "solo", "generated"]
    assert result["grade"] == "A"


def test_most_complex_keeps_the_top_ten(tmp_path: Path) -> None:
    ifs = "    if x:\n        pass\n"
    body = "".join(f"def f{i}(x):\n{ifs * i}    return x\n" for i in range(15))
    write(tmp_path, "many.py", body)
    result = analyze_code_quality(str(tmp_path))
    assert [f["complexity"] for f in result["most_complex"]] == list(range(15, 5, -1))
    assert result["complexity"]["over_10"] == 5


def fn(source: str) -> str:
    return textwrap.dedent(source).strip("\n") + "\n"


COMPLEXITY_CASES = [
    (
        "plain",
        fn("""
        def f():
            return 1
    """),
        1,
    ),
    (
        "if elif else",
        fn("""
        def f(x):
            if x:
                pass
            elif x > 1:
                pass
            else:
                pass
    """),
        3,
    ),
    (
        "for and while",
        fn("""
        def f(x):
            for i in x:
                pass
            while x:
                break
    """),
        3,
    ),
    (
        "async for; with adds nothing",
        fn("""
        async def f(x):
            async for i in x:
                pass
            async with x:
                pass
            with x:
                pass
    """),
        2,
    ),
    (
        "two handlers; else and finally add nothing",
        fn("""
        def f():
            try:
                pass
            except ValueError:
                pass
            except Exception:
                pass
            else:
                pass
            finally:
                pass
    """),
        3,
    ),
    (
        "and/or operands",
        fn("""
        def f(a, b, c):
            return a and b or c
    """),
        3,
    ),
    (
        "three operands of one and",
        fn("""
        def f(a, b, c):
            return a and b and c
    """),
        3,
    ),
    (
        "comprehension ifs",
        fn("""
        def f(y):
            return [x for x in y if x if x > 1]
    """),
        3,
    ),
    (
        "ternary",
        fn("""
        def f(x):
            return 1 if x else 2
    """),
        2,
    ),
    (
        "match cases",
        fn("""
        def f(x):
            match x:
                case 1:
                    pass
                case 2:
                    pass
                case _:
                    pass
    """),
        4,
    ),
    (
        "assert",
        fn("""
        def f(x):
            assert x
    """),
        2,
    ),
    (
        "nested function and class excluded",
        fn("""
        def f(x):
            if x:
                pass
            def g(y):
                if y:
                    pass
                if y:
                    pass
            class C:
                z = 1 if x else 2
    """),
        2,
    ),
    (
        "lambda body counts",
        fn("""
        def f(x):
            return lambda y: y if x else 0
    """),
        2,
    ),
]


@pytest.mark.parametrize(
    ("source", "expected"),
    [(src, n) for _, src, n in COMPLEXITY_CASES],
    ids=[case[0] for case in COMPLEXITY_CASES],
)
def test_cyclomatic_complexity(source: str, expected: int) -> None:
    fn = ast.parse(source).body[0]
    assert cyclomatic_complexity(fn) == expected


@given(st.integers(min_value=0, max_value=30))
def test_each_if_adds_one(n: int) -> None:
    fn = ast.parse("def f(x):\n" + "    if x:\n        pass\n" * n + "    return x\n").body[0]
    assert cyclomatic_complexity(fn) == n + 1


def test_syntax_error_is_reported_with_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "good.py", "def ok():\n    pass\n")
    write(tmp_path, "pkg/bad.py", BAD)
    result = analyze_code_quality(str(tmp_path))
    assert len(result["syntax_errors"]) == 1
    assert result["syntax_errors"][0].startswith("pkg/bad.py:3: ")
    assert result["files"] == 2
    assert result["functions"] == 1  # nothing is counted from the broken file
    assert result["lines"]["total"] == 6


def test_undecodable_file_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "latin.py").write_bytes(b"x = 1\n# caf\xe9\n")
    write(tmp_path, "ok.py", "def f():\n    pass\n")
    result = analyze_code_quality(str(tmp_path))
    assert result["syntax_errors"] == ["latin.py:2: cannot decode byte 0xe9 as utf-8"]
    assert result["files"] == 2
    assert result["functions"] == 1


def test_coding_cookie_is_honoured(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\ndef caf\xe9():\n    pass\n"
    (tmp_path / "latin.py").write_bytes(source.encode("latin-1"))
    result = analyze_code(str(tmp_path))
    assert result["syntax_errors"] == []
    assert result["function_details"][0]["name"] == "caf\xe9"


def test_null_byte_is_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")
    result = analyze_code_quality(str(tmp_path))
    assert len(result["syntax_errors"]) == 1
    assert result["syntax_errors"][0].startswith("nul.py:")


@pytest.mark.parametrize(
    ("exclude", "files"),
    [
        (None, ["pkg/a.py", "pkg/gen/big_pb2.py", "pkg/sub/b.py"]),
        (["*_pb2.py"], ["pkg/a.py", "pkg/sub/b.py"]),
        (["gen"], ["pkg/a.py", "pkg/sub/b.py"]),
        (["pkg/sub/"], ["pkg/a.py", "pkg/gen/big_pb2.py"]),
        (["pkg/*"], []),
        ("*_pb2.py", ["pkg/a.py", "pkg/sub/b.py"]),
    ],
)
def test_excluded_and_skipped_directories(
    tree: Path, exclude: list[str] | None, files: list[str]
) -> None:
    result = analyze_code_quality(str(tree), exclude=exclude)
    assert [r["file"] for r in result["per_file"]] == files


def test_a_file_given_directly(tree: Path) -> None:
    result = analyze_code_quality(str(tree / "pkg" / "sub" / "b.py"))
    assert result["files"] == 1
    assert result["classes"] == 3
    assert result["functions"] == 1
    assert result["per_file"][0]["file"] == "b.py"


def test_a_hidden_root_is_still_analysed(tmp_path: Path) -> None:
    write(tmp_path, ".config/tool.py", "def f():\n    pass\n")
    assert analyze_code_quality(str(tmp_path / ".config"))["functions"] == 1


def test_project_path_is_the_root_for_the_default_path(
    tree: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    assert analyze_code_quality(project_path=str(tree))["files"] == 3
    sub = analyze_code_quality("pkg/sub", project_path=str(tree))
    assert sub["path"] == str(tree / "pkg" / "sub")
    assert sub["files"] == 1


def test_relative_path_uses_working_directory(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "pkg")
    assert analyze_code_quality()["files"] == 3
    assert analyze_code_quality("sub")["files"] == 1


def test_missing_path_says_what_to_pass(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match="pass an existing file or directory") as info:
        analyze_code_quality(str(missing))
    assert str(missing) in str(info.value)


def test_non_python_file_is_rejected(tree: Path) -> None:
    with pytest.raises(ValueError, match="not a Python file"):
        analyze_code_quality(str(tree / "pkg" / "notes.txt"))


@pytest.mark.parametrize("bad", [0, -1, True, "10"])
def test_max_files_must_be_positive(tree: Path, bad: object) -> None:
    with pytest.raises(ValueError, match="max_files must be a positive integer"):
        analyze_code_quality(str(tree), max_files=bad)  # type: ignore[arg-type]


def test_max_files_truncates(tree: Path) -> None:
    result = analyze_code_quality(str(tree), max_files=2)
    assert result["files"] == 2
    assert result["truncated"] is True
    assert analyze_code_quality(str(tree), max_files=3)["truncated"] is False


def test_exclude_must_hold_patterns(tree: Path) -> None:
    with pytest.raises(ValueError, match="exclude must be a list of glob patterns"):
        analyze_code_quality(str(tree), exclude=[1])  # type: ignore[list-item]


def test_analyze_code_lists_every_function(tree: Path) -> None:
    result = analyze_code(str(tree / "pkg" / "a.py"))
    assert result["function_details"] == [
        {
            "name": "Shape.area",
            "file": "a.py",
            "line": 10,
            "end_line": 13,
            "complexity": 2,
            "async": False,
        },
        {
            "name": "Shape.load",
            "file": "a.py",
            "line": 15,
            "end_line": 18,
            "complexity": 5,
            "async": True,
        },
        {
            "name": "outer",
            "file": "a.py",
            "line": 21,
            "end_line": 25,
            "complexity": 2,
            "async": False,
        },
        {
            "name": "outer.inner",
            "file": "a.py",
            "line": 22,
            "end_line": 23,
            "complexity": 2,
            "async": False,
        },
    ]
    assert "grade" not in result


def test_both_actions_share_the_summary(tree: Path) -> None:
    quality = analyze_code_quality(str(tree))
    code = analyze_code(str(tree))
    quality.pop("grade")
    code.pop("function_details")
    assert quality == code


def test_empty_directory(tmp_path: Path) -> None:
    result = analyze_code_quality(str(tmp_path))
    assert result["files"] == 0
    assert result["complexity"] == {"mean": 0.0, "max": 0, "over_10": 0, "distribution": {}}
    assert result["most_complex"] == []


def test_result_is_json_serialisable(tree: Path) -> None:
    write(tree, "pkg/bad.py", BAD)
    result = analyze_code(str(tree))
    assert json.loads(json.dumps(result)) == result


def test_count_lines_of_crlf_and_form_feed() -> None:
    assert _count_lines("a = 1\r\n\r\n# c\r\n\x0cb = 2\n") == {
        "total": 4,
        "code": 2,
        "comment": 1,
        "blank": 1,
    }
    assert _count_lines("") == {"total": 0, "code": 0, "comment": 0, "blank": 0}
    assert _count_lines("x = 1") == {"total": 1, "code": 1, "comment": 0, "blank": 0}


@given(st.text(alphabet=" \t\n#xa=1", max_size=60))
def test_line_kinds_add_up(text: str) -> None:
    counts = _count_lines(text)
    assert counts["code"] + counts["comment"] + counts["blank"] == counts["total"]
    assert counts["total"] == len(text.splitlines())


def test_register_adds_both_actions() -> None:
    registry = ActionRegistry(load_builtins=False, load_entry_points=False)
    static_analysis.register(registry)
    assert registry.known() == [
        "static_analysis.analyze_code",
        "static_analysis.analyze_code_quality",
    ]
    spec = registry.resolve("static_analysis", "analyze_code_quality")
    assert spec.required == frozenset()
    assert {"path", "project_path", "exclude", "max_files"} <= spec.params


def test_analysis_of_the_package_itself_is_clean() -> None:
    package = Path(static_analysis.__file__).parent
    result = analyze_code_quality(str(package))
    assert result["syntax_errors"] == []
    assert result["files"] >= 4
    assert result["functions"] > 20
