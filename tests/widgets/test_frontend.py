"""The base of the custom widgets: its subclasses must say which document they show and how."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from codomyrmex_jupyter.widgets.frontend import FrontendWidget


def test_a_subclass_without_its_document_hooks_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="Half must define twin"):

        class Half(FrontendWidget):
            def current_document(self, *, live: bool) -> dict[str, Any]:
                return {}

    with pytest.raises(TypeError, match="Bare must define current_document and twin"):

        class Bare(FrontendWidget):
            pass


def test_a_partial_base_may_leave_them_to_its_subclasses() -> None:
    class Base(FrontendWidget):
        _partial = True

    with pytest.raises(TypeError, match="Leaf must define current_document and twin"):

        class Leaf(Base):
            pass


def test_a_complete_subclass_shows_its_document() -> None:
    class Note(FrontendWidget):
        def current_document(self, *, live: bool) -> dict[str, Any]:
            return {"text": "hello", **(self.live_reference() if live else {})}

        def twin(self, doc: Mapping[str, Any]) -> dict[str, Any]:
            return {"text/plain": doc["text"]}

    note = Note()
    try:
        assert note.static_bundle() == {"text/plain": "hello"}
        assert note._repr_mimebundle_() == {"text/plain": "hello"}
    finally:
        note.close()
