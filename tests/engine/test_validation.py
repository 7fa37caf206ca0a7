"""engine/validation.py: every check, its error class and its one-line message."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pytest

from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.engine.validation import (
    check_count,
    check_delay,
    check_mapping,
    check_name,
    check_run_id,
    check_run_prefix,
    check_seconds,
    check_step,
    check_step_fully,
    check_steps,
    show,
)
from codomyrmex_jupyter.errors import (
    ArgumentError,
    ArgumentTypeError,
    StepTypeError,
    WorkflowValidationError,
)


@dataclass
class Step:
    name: Any = "a"
    module: Any = "m"
    action: Any = "x"
    parameters: Any = field(default_factory=dict)
    dependencies: Any = field(default_factory=list)
    timeout: Any = None
    max_retries: Any = 0
    resources: Any = field(default_factory=dict)


@pytest.mark.parametrize("value", [1, 0.5, 10**6, None])
def test_seconds_accepts(value: Any) -> None:
    assert check_seconds(value, "timeout") == (None if value is None else float(value))


@pytest.mark.parametrize(
    ("value", "cls", "message"),
    [
        (0, ArgumentError, "timeout 0 is not positive; give seconds > 0 or None for no limit"),
        (-1.5, ArgumentError, "timeout -1.5 is not positive"),
        (math.nan, ArgumentError, "timeout nan is not a finite number"),
        (math.inf, ArgumentError, "timeout inf is not a finite number"),
        ("5", ArgumentTypeError, "timeout '5' is a str, not a number"),
        (True, ArgumentTypeError, "timeout True is a bool, not a number"),
        ([1], ArgumentTypeError, "timeout [1] is a list, not a number"),
    ],
)
def test_seconds_refuses(value: Any, cls: type, message: str) -> None:
    with pytest.raises(cls) as info:
        check_seconds(value, "timeout")
    assert type(info.value) is cls
    assert message in str(info.value) and "\n" not in str(info.value)
    assert info.value.argument == "timeout"
    assert isinstance(info.value, TypeError if cls is ArgumentTypeError else ValueError)


def test_other_single_values() -> None:
    assert check_delay(0, "d") == 0.0 and check_delay(0.5, "d") == 0.5
    with pytest.raises(ArgumentError, match="d -1 is not positive"):
        check_delay(-1, "d")
    assert check_count(3, "n") == 3
    with pytest.raises(ArgumentTypeError, match="n 2.5 is a float, not a whole number"):
        check_count(2.5, "n")
    with pytest.raises(ArgumentError, match="n 0 is below 1"):
        check_count(0, "n", minimum=1)
    assert check_name("x", "name") == "x"
    with pytest.raises(ArgumentError, match="name '  ' is empty"):
        check_name("  ", "name")
    assert check_mapping(None, "p") == {} and check_mapping({"a": 1}, "p") == {"a": 1}
    with pytest.raises(ArgumentTypeError, match="p key 1 is a int"):
        check_mapping({1: 2}, "p")
    assert check_run_id("abc-DEF_1") == "abc-DEF_1"
    with pytest.raises(ArgumentError, match="may only hold"):
        check_run_id("a/b")
    assert check_run_prefix("abcd") == "abcd"
    with pytest.raises(ArgumentError, match="too short"):
        check_run_prefix("abc")
    assert len(show("x" * 1000)) < 50


@pytest.mark.parametrize(
    ("fields", "cls", "message"),
    [
        ({"name": 42}, StepTypeError, "step #3 name 42 is a int, not a string"),
        ({"name": ""}, WorkflowValidationError, "step #3 name '' is empty"),
        ({"module": None}, StepTypeError, "step 'a': module None is a NoneType"),
        ({"action": ""}, WorkflowValidationError, "step 'a': action '' is empty"),
        ({"timeout": math.nan}, WorkflowValidationError, "step 'a': timeout nan is not a finite number"),
        ({"timeout": "5"}, StepTypeError, "step 'a': timeout '5' is a str, not a number"),
        ({"max_retries": -1}, WorkflowValidationError, "step 'a': max_retries -1 is below 0"),
        ({"max_retries": "3"}, StepTypeError, "step 'a': max_retries '3' is a str"),
        ({"parameters": [1]}, StepTypeError, "step 'a': parameters [1] is a list, not a mapping"),
        ({"parameters": {2: 1}}, StepTypeError, "step 'a': parameters key 2 is a int"),
        ({"dependencies": "b"}, StepTypeError, "step 'a': dependencies 'b' is a str; give a list"),
        ({"dependencies": [3]}, StepTypeError, "step 'a': dependency 3 is a int, not a step name"),
        ({"resources": {"gpu": -1}}, WorkflowValidationError, "resource 'gpu' amount -1 is not a positive"),
        ({"resources": {"gpu": "1"}}, StepTypeError, "resource 'gpu' amount '1' is a str"),
        ({"resources": ["gpu"]}, StepTypeError, "resources ['gpu'] is a list, not a mapping"),
    ],
)
def test_step_refuses(fields: dict[str, Any], cls: type, message: str) -> None:
    with pytest.raises(WorkflowValidationError) as info:
        check_step_fully(Step(**fields), 2)
    assert type(info.value) is cls
    assert message in str(info.value) and "\n" not in str(info.value)


def test_step_accepts_and_steps_must_be_a_list() -> None:
    check_step(Step(timeout=1, max_retries=2, parameters={"k": 1}, resources={"gpu": 1}), 0)
    check_steps((Step(), Step(name="b")))
    for bad in ("ab", {"a": Step()}, Step()):
        with pytest.raises(StepTypeError, match="give a list of WorkflowStep"):
            check_steps(bad)


def test_steps_refuse_a_priority_that_is_not_an_int_on_the_fast_path_too() -> None:
    @dataclass
    class Prioritised(Step):
        priority: Any = 0

    check_steps([Prioritised(priority=3)])
    for steps in ([Prioritised(priority="high")], [Prioritised(priority="high", parameters={"k": 1})]):
        with pytest.raises(StepTypeError, match="step 'a': priority 'high' is a str; give an int"):
            check_steps(steps)


@pytest.mark.parametrize(
    ("kwargs", "cls", "message"),
    [
        ({"timeout": math.nan}, ArgumentError, "run timeout nan is not a finite number"),
        ({"timeout": "5"}, ArgumentTypeError, "run timeout '5' is a str"),
        ({"max_concurrency": 0}, ArgumentError, "max_concurrency 0 is below 1"),
        ({"parameters": [1]}, ArgumentTypeError, "run parameters [1] is a list"),
        ({"retry_backoff": math.nan}, ArgumentError, "retry_backoff nan is not a finite number"),
    ],
)
def test_run_refuses_bad_options(kwargs: dict[str, Any], cls: type, message: str) -> None:
    with pytest.raises(cls, match=message.replace("[", r"\[").replace("]", r"\]")):
        Run([Step()], workflow="w", **kwargs)


def test_run_checks_steps_it_compiles_itself() -> None:
    with pytest.raises(StepTypeError, match="step 'a': timeout '5'"):
        Run([Step(timeout="5")], workflow="w")


@pytest.mark.parametrize(
    ("deps", "message"),
    [
        ("b", "step 'a': dependency 'b' is a str; give a list of step names"),
        ([3], "step 'a': dependency 3 is a int"),
        ([["b"]], "step 'a': dependency ['b'] is a list"),
    ],
)
def test_compile_graph_names_dependencies_of_the_wrong_type(deps: Any, message: str) -> None:
    from codomyrmex_jupyter.engine.graph import compile_graph

    with pytest.raises(StepTypeError) as info:
        compile_graph([Step(dependencies=deps), Step(name="b")])
    assert message in str(info.value)
