"""codomyrmex_jupyter.magics.cell_parsing: cell text to steps, without IPython."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.magics.cell_parsing import (
    STEP_ATTRIBUTE,
    CellParseError,
    parse_function_cell,
    parse_spec_cell,
    read_function_steps,
    step,
)


def _cell(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


ETL = _cell(
    """
    import math

    @step(timeout=5, retries=2, resources={"cpu": 1})
    def load(n: int = 10):
        return list(range(n))

    def clean(load, factor=2):
        return [x * factor for x in load]

    async def summarize(clean, *, label):
        return sum(clean)

    def _helper():
        return None
    """
)


def test_function_cell_steps_dependencies_and_options() -> None:
    parsed = parse_function_cell(ETL, "etl")
    assert parsed.steps == [
        WorkflowStep("load", "notebook.etl", "load", timeout=5, max_retries=2,
                     resources={"cpu": 1.0}),
        WorkflowStep("clean", "notebook.etl", "clean", dependencies=["load"], max_retries=0),
        WorkflowStep("summarize", "notebook.etl", "summarize", dependencies=["clean"],
                     max_retries=0),
    ]
    assert parsed.lines == {"load": 3, "clean": 7, "summarize": 10}


def test_function_steps_inputs_and_required() -> None:
    specs = {s.name: s for s in read_function_steps(ETL)}
    assert specs["load"].inputs == ("n",)
    assert specs["load"].required == ()
    assert specs["clean"].inputs == ("factor",)
    assert specs["summarize"].inputs == ("label",)
    assert specs["summarize"].required == ("label",)


@pytest.mark.parametrize(
    ("decorator", "expected"),
    [
        ("@step", (None, 0, {})),
        ("@step()", (None, 0, {})),
        ("@step(timeout=1.5)", (1.5, 0, {})),
        ("@cj.step(retries=3)", (None, 3, {})),
        ("@step(resources={'gpu': 2, 'mem': 0.5})", (None, 0, {"gpu": 2.0, "mem": 0.5})),
        ("@other\n@step(timeout=None)", (None, 0, {})),
    ],
)
def test_step_decorator_options(decorator: str, expected: tuple[Any, ...]) -> None:
    parsed = parse_function_cell(f"{decorator}\ndef a():\n    pass\n", "w")
    s = parsed.steps[0]
    assert (s.timeout, s.max_retries, s.resources) == expected
    assert parsed.lines == {"a": 1}


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("def a(:\n    pass\n", 1, "syntax error"),
        ("x = 1\n", 1, "defines no step function"),
        ("def a():\n    pass\ndef a():\n    pass\n", 3, "defined twice (first on line 1)"),
        ("def a(x, /):\n    pass\n", 1, "positional-only"),
        ("def a(*xs):\n    pass\n", 1, "*args"),
        ("def a(a):\n    pass\n", 1, "named after itself"),
        ("@step(5)\ndef a():\n    pass\n", 1, "keyword options only"),
        ("@step(timeout=-1)\ndef a():\n    pass\n", 1, "positive number of seconds"),
        ("@step(timeout=True)\ndef a():\n    pass\n", 1, "positive number of seconds"),
        ("@step(retries=1.5)\ndef a():\n    pass\n", 1, "an integer >= 0"),
        ("@step(resources=['gpu'])\ndef a():\n    pass\n", 1, "dict of resource id"),
        ("@step(\n    timeout=compute())\ndef a():\n    pass\n", 2, "must be a literal"),
        ("@step(retry=2)\ndef a():\n    pass\n", 1, "unknown @step option 'retry'"),
    ],
)
def test_function_cell_errors(source: str, line: int, fragment: str) -> None:
    with pytest.raises(CellParseError) as info:
        parse_function_cell(source, "w")
    assert info.value.line == line
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_literal_eval_never_calls_user_code() -> None:
    called = []
    source = "@step(timeout=__import__('os').getpid())\ndef a():\n    pass\n"
    with pytest.raises(CellParseError, match="must be a literal"):
        parse_function_cell(source, "w")
    assert called == []


def test_step_decorator_is_a_marker() -> None:
    def f() -> int:
        return 1

    assert step(f) is f
    assert getattr(f, STEP_ATTRIBUTE) == {"timeout": None, "retries": None, "resources": {},
                                          "cache": False, "version": None, "priority": 0}
    g = step(timeout=3, retries=1, resources={"cpu": 1}, cache=True, version="2", priority=5)(f)
    assert g is f
    assert getattr(f, STEP_ATTRIBUTE) == {"timeout": 3, "retries": 1, "resources": {"cpu": 1},
                                          "cache": True, "version": "2", "priority": 5}
    assert f() == 1


def test_cache_options_are_read_from_the_cell() -> None:
    parsed = parse_function_cell(
        "@step(cache=True, version=3)\ndef a():\n    pass\n\n@step(cache=False)\ndef b(a):\n    pass\n", "w")
    a, b = parsed.steps
    assert (a.cache, a.version, b.cache, b.version) == (True, "3", False, None)
    with pytest.raises(CellParseError, match=r"@step\(cache=...\) must be True or False"):
        parse_function_cell("@step(cache='yes')\ndef a():\n    pass\n", "w")


def test_priority_is_read_from_the_cell_and_orders_ready_steps() -> None:
    parsed = parse_function_cell(
        "@step(priority=5)\ndef urgent():\n    pass\n\n@step(priority=-1)\ndef later():\n    pass\n"
        "\ndef plain(urgent):\n    pass\n", "w")
    assert [s.priority for s in parsed.steps] == [5, -1, 0]
    assert parsed.steps[0].to_dict()["priority"] == 5  # stored with the definition
    for bad in ("'high'", "True", "1.5"):
        with pytest.raises(CellParseError, match=r"@step\(priority=...\) must be an integer"):
            parse_function_cell(f"@step(priority={bad})\ndef a():\n    pass\n", "w")


SPEC_YAML = _cell(
    """
    steps:
      - name: analyze
        module: static_analysis
        action: analyze_code_quality
        parameters: {path: .}
      - name: visualize
        module: data_visualization
        action: create_chart
        dependencies: [analyze]
        timeout: 30
        max_retries: 1
    """
)
SPEC_JSON = (
    '[{"name": "analyze", "module": "static_analysis", "action": "analyze_code_quality",'
    ' "parameters": {"path": "."}},\n'
    ' {"name": "visualize", "module": "data_visualization", "action": "create_chart",'
    ' "dependencies": ["analyze"], "timeout": 30, "max_retries": 1}]'
)


@pytest.mark.parametrize(("source", "lines"), [
    (SPEC_YAML, {"analyze": 2, "visualize": 6}),
    (SPEC_JSON, {"analyze": 1, "visualize": 2}),
])
def test_spec_cell_yaml_and_json(source: str, lines: dict[str, int]) -> None:
    parsed = parse_spec_cell(source)
    assert parsed.steps == [
        WorkflowStep("analyze", "static_analysis", "analyze_code_quality",
                     parameters={"path": "."}),
        WorkflowStep("visualize", "data_visualization", "create_chart",
                     dependencies=["analyze"], timeout=30, max_retries=1),
    ]
    assert parsed.lines == lines


@pytest.mark.parametrize(
    ("source", "line", "fragment"),
    [
        ("steps:\n  - {name: a, module: m, action: x\n", 3, "invalid YAML"),
        ("steps:\n  - name: a\n   module: m\n", 3, "invalid YAML"),
        ("", 1, "the spec has no steps"),
        ("steps: []\n", 1, "the spec has no steps"),
        ("steps: [1]\nother: 2\n", 1, "only a 'steps' key"),
        ("- name: a\n  module: m\n  action: x\n- 5\n", 4, "must be a mapping"),
        ("- name: a\n  module: m\n", 1, "missing action"),
        ("- {name: a, module: m, action: x, colour: red}\n", 1, "unknown key(s) colour"),
        ("- {name: a, module: m, action: x}\n- {name: a, module: m, action: y}\n", 2,
         "defined twice (first on line 1)"),
        ("- {name: a, module: m, action: x, max_retries: many}\n", 1, "step 'a'"),
        ("- {name: a, module: m, action: x, timeout: soon}\n", 1, "timeout 'soon' is a str, not a number"),
        ("- {name: a, module: m, action: x, parameters: [1]}\n", 1, "step 'a'"),
        ("!!python/object:os.system {}\n", 1, "invalid YAML"),
    ],
)
def test_spec_cell_errors(source: str, line: int, fragment: str) -> None:
    with pytest.raises(CellParseError) as info:
        parse_spec_cell(source)
    assert info.value.line == line
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


# -- typos ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def load():\n    return 1\n\ndef clean(laod):\n    return laod\n",
         "parameter 'laod' of step 'clean': did you mean step 'load'?"),
        ("def features():\n    return 1\n\ndef train(featurs, lr: float):\n    return 1\n",
         "parameter 'featurs' of step 'train': did you mean step 'features'?"),
        ("def clean_data():\n    return 1\n\ndef fit(cleen_dat):\n    return 1\n",
         "parameter 'cleen_dat' of step 'fit': did you mean step 'clean_data'?"),
    ],
)
def test_a_parameter_close_to_a_step_name_is_a_typo(source: str, message: str) -> None:
    with pytest.raises(CellParseError) as info:
        parse_function_cell(source, "w")
    assert str(info.value).startswith(message)
    assert info.value.line == 4 and "needs a default" in str(info.value)


@pytest.mark.parametrize(
    "source",
    [
        "def load():\n    return 1\n\ndef clean(laod=None):\n    return laod\n",  # a default: on purpose
        "def data():\n    return 1\n\ndef f(n, x):\n    return 1\n",  # short names are never typos
        "def plot():\n    return 1\n\ndef f(path):\n    return 1\n",  # three edits away
    ],
)
def test_run_parameters_that_are_not_typos_pass(source: str) -> None:
    assert parse_function_cell(source, "w").steps
