"""User tracebacks: engine frames dropped, cells labelled as IPython labels them."""

from __future__ import annotations

import asyncio

import pytest

from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.runner import Run
from codomyrmex_jupyter.engine.tracebacks import add_file_labeler, last_user_frame, user_traceback

CELL_FILE = "/tmp/ipykernel_42/2877813.py"
CELL_SOURCE = "def load():\n    return [1]\n\ndef validate(load):\n    raise ValueError('bad input')\n"


def _cell_function():
    namespace: dict = {}
    exec(compile(CELL_SOURCE, CELL_FILE, "exec"), namespace)  # noqa: S102 - a stand-in for a notebook cell
    return namespace["validate"]


def test_a_step_failure_keeps_only_user_frames_with_the_cell_label() -> None:
    remove = add_file_labeler(lambda f: "Cell In[7]" if f == CELL_FILE else None)
    try:
        registry = ActionRegistry(load_builtins=False, load_entry_points=False)
        registry.register("t", "validate", _cell_function())

        class S:
            name, module, action, parameters, dependencies = "validate", "t", "validate", {}, []
            timeout, max_retries, resources = None, 0, {}

        run = Run([S()], workflow="w", registry=registry, parameters={"load": 1})
        asyncio.run(run.execute())
    finally:
        remove()
    text = run.records[0].traceback
    assert text is not None
    assert "codomyrmex_jupyter" not in text and "asyncio" not in text and "threading" not in text
    assert "  Cell In[7], line 5, in validate\n" in text
    assert text.endswith("ValueError: bad input\n")
    frame = last_user_frame(text)
    assert frame is not None and frame.label == "Cell In[7], line 5"
    assert frame.to_dict()["file"] == "Cell In[7]" and frame.line == 5


def test_chained_exceptions_keep_their_chain() -> None:
    def inner() -> None:
        raise KeyError("missing")

    try:
        try:
            inner()
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
    except RuntimeError as exc:
        text = user_traceback(exc)
    assert "KeyError: 'missing'" in text
    assert "direct cause" in text
    assert text.rstrip().endswith("RuntimeError: lookup failed")
    frame = last_user_frame(text)
    assert frame is not None and frame.code == 'raise RuntimeError("lookup failed") from exc'


def test_a_broken_labeller_does_not_lose_the_traceback() -> None:
    def broken(_f: str) -> str:
        raise OSError("no")

    remove = add_file_labeler(broken)
    try:
        try:
            raise ValueError("x")
        except ValueError as exc:
            text = user_traceback(exc)
    finally:
        remove()
    assert 'File "' in text and "ValueError: x" in text


@pytest.mark.parametrize("text", [None, "", "ValueError: no frames"])
def test_no_frame_in_text(text: str | None) -> None:
    assert last_user_frame(text) is None
