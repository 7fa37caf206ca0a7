"""Help texts: complete, plain text, with an example each."""

from __future__ import annotations

from typing import Any

import pytest

from codomyrmex_jupyter.magics.arguments import help_of
from codomyrmex_jupyter.magics.extension import workflow_help_cell
from codomyrmex_jupyter.magics.help import EXAMPLES
from codomyrmex_jupyter.magics.orchestrate_magic import SUBCOMMANDS, overview
from codomyrmex_jupyter.magics.workflow_magic import WorkflowMagics, _workflow_parser


def _plain(text: str) -> None:
    assert "::" not in text and "``" not in text, text
    assert text.strip(), text


@pytest.mark.parametrize("name", list(SUBCOMMANDS))
def test_every_subcommand_help_is_plain_with_an_example(name: str) -> None:
    text = help_of(SUBCOMMANDS[name])
    _plain(text)
    assert text.startswith(f"Usage: %orchestrate {name}")
    assert f"Example:\n  %orchestrate {name}" in text or f"= %orchestrate {name}" in text, text
    assert f"orchestrate {name}" in EXAMPLES


def test_the_workflow_help_explains_both_modes_with_examples() -> None:
    text = help_of(_workflow_parser)
    _plain(text)
    assert text.startswith("Usage: %%workflow ")
    for part in ("Function mode", "--yaml", "-p NAME=VALUE", "Example:", "%%workflow etl --run -p n=100",
                 "def clean(load):", "%%workflow checks --yaml"):
        assert part in text, part
    assert WorkflowMagics.workflow.__doc__ == text


def test_the_orchestrate_overview_lists_every_subcommand_with_an_example() -> None:
    text = overview()
    _plain(text)
    for name in SUBCOMMANDS:
        assert f"%orchestrate {name}" in text, name
    assert text.count("e.g. ") == len(SUBCOMMANDS)
    assert WorkflowMagics.orchestrate.__doc__ == text


def test_help_in_the_shell(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ip.run_line_magic("orchestrate", "run --help")
    assert capsys.readouterr().out.startswith("Usage: %orchestrate run")
    ip.run_line_magic("workflow", "--help")
    assert capsys.readouterr().out.startswith("Usage: %%workflow")
    ip.run_cell("%%workflow --help\n")  # an empty cell body: runs as %workflow --help
    assert capsys.readouterr().out.startswith("Usage: %%workflow")
    ip.run_line_magic("orchestrate", "")
    assert capsys.readouterr().out.startswith("%orchestrate SUBCOMMAND")


def test_only_an_empty_workflow_cell_is_rewritten() -> None:
    assert workflow_help_cell(["%%workflow --help\n"]) == ["%workflow --help\n"]
    assert workflow_help_cell(["%%workflow -h\n", "\n"]) == ["%workflow -h\n"]
    body = ["%%workflow etl\n", "def a():\n", "    pass\n"]
    assert workflow_help_cell(body) == body
    assert workflow_help_cell(["print(1)\n"]) == ["print(1)\n"]
