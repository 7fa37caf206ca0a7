"""codomyrmex_jupyter.params: ``-p key=value`` as the magics and the command line read it."""

from __future__ import annotations

from typing import Any

import pytest

from codomyrmex_jupyter.magics import cell_parsing
from codomyrmex_jupyter.params import ParameterError, parse_param, parse_params


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=5", ("n", 5)),
        ("x=1.5", ("x", 1.5)),
        ("name=etl", ("name", "etl")),
        ("s='quoted'", ("s", "quoted")),
        ("xs=[1, 2]", ("xs", [1, 2])),
        ("d={'a': 1}", ("d", {"a": 1})),
        ("flag=True", ("flag", True)),
        ("none=None", ("none", None)),
        ("empty=", ("empty", "")),
        ("expr=__import__('os')", ("expr", "__import__('os')")),
        ("eq=a=b", ("eq", "a=b")),
        (" k = 3 ", ("k", 3)),
    ],
)
def test_parse_param(text: str, expected: tuple[str, Any]) -> None:
    assert parse_param(text) == expected


@pytest.mark.parametrize("text", ["n", "=5", "1x=2", "a-b=1"])
def test_parse_param_errors(text: str) -> None:
    with pytest.raises(ParameterError, match="must look like name=value"):
        parse_param(text)


def test_parse_params_later_wins() -> None:
    assert parse_params(["n=1", "m=x", "n=2"]) == {"n": 2, "m": "x"}
    assert parse_params(None) == {}


def test_the_magics_use_the_same_functions() -> None:
    assert cell_parsing.parse_param is parse_param
    assert cell_parsing.parse_params is parse_params
