"""The kernel side of the lab extension's custom widgets (widget module ``codomyrmex-jupyter``).

A :class:`FrontendWidget` holds one JSON document in its ``doc`` trait; the
browser draws it with the component that draws saved outputs
(``labextension/src/widget.ts``). Live updates go as custom messages
(:meth:`FrontendWidget.send_patch`), so a refresh sends what changed, not
the document. The browser asks for the whole document (``{"event":
"sync"}``) when its model is created (a page reloaded mid-run), and sends
user actions (``cancel``, ``select_run``...) to :meth:`on_event`.

Displayed, the widget's output is never the widget-view MIME type: it is the
document's own MIME type (with ``"live": {"model_id": ...}``), plus the
static twin in ``text/html`` and ``text/plain``. The lab extension follows
the widget from there while it lives; without a kernel (a saved notebook,
nbconvert, GitHub) the output is the document as last sent, never "Error
displaying widget".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Dict, Unicode

from .closing import close_tree, held_widgets
from .coalesce import TwinDisplay

__all__ = ["DISPLAY_INTERVAL", "MODULE_NAME", "MODULE_VERSION", "FrontendWidget"]

log = logging.getLogger(__name__)

DISPLAY_INTERVAL = 2.0  # seconds between re-sent outputs of a changing view
MODULE_NAME = "codomyrmex-jupyter"
MODULE_VERSION = "^0.1.0"
_DOCUMENT_HOOKS = ("current_document", "twin")


class FrontendWidget(TwinDisplay, widgets.DOMWidget):  # type: ignore[misc]
    """A custom widget whose state is one document; subclasses say which and how to show it."""

    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    doc = Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._on_frontend_msg)
        self._display_throttle: Any = None

    def update_displays_soon(self) -> None:
        """Re-send the outputs at most every :data:`DISPLAY_INTERVAL` seconds, the last change always.

        While a view changes (a run going on, resources moving), its outputs
        follow at a low rate: enough for a saved notebook (and front-ends
        without the lab extension) to show the latest state.
        """
        if self._display_throttle is None:
            from ..display.status_comm import Throttle

            self._display_throttle = Throttle(self.update_displays, DISPLAY_INTERVAL)
        self._display_throttle.request()

    def close(self) -> None:
        """Close the widget and the widgets it holds (its layout): no more output updates.

        ``Widget.close`` alone would leave the layout open, one widget per
        view for the kernel's and the browser's lifetime.
        """
        if self._display_throttle is not None:
            self._display_throttle.cancel()
        held = held_widgets(self)
        super().close()
        close_tree(*held)

    # -- messages ---------------------------------------------------------------------------
    def _on_frontend_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, Mapping):
            return
        event = content.get("event")
        try:
            if event == "sync":
                self.send({"doc": self.current_document(live=True)})
            elif isinstance(event, str):
                self.on_event(event, content)
        except Exception:  # a click must never raise into the kernel's message loop
            log.exception("%s could not handle %r", type(self).__name__, event)

    def on_event(self, event: str, content: Mapping[str, Any]) -> None:
        """A user action in the browser (override)."""
        log.debug("%s ignores the event %r", type(self).__name__, event)

    def send_patch(self, patch: Mapping[str, Any]) -> None:
        """Send a partial update (see ``labextension/src/patch.ts``)."""
        if self.comm is not None:
            self.send({"patch": dict(patch)})

    # -- documents --------------------------------------------------------------------------
    # Every subclass defines both (checked when the subclass is created):
    #   current_document(*, live) -> the document now; ``live`` adds the reference the
    #       browser follows (:meth:`live_reference`);
    #   twin(doc) -> the MIME bundle of ``doc`` without the widget.
    if TYPE_CHECKING:

        def current_document(self, *, live: bool) -> dict[str, Any]: ...

        def twin(self, doc: Mapping[str, Any]) -> dict[str, Any]: ...

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        missing = [name for name in _DOCUMENT_HOOKS if not callable(getattr(cls, name, None))]
        if missing:
            raise TypeError(f"{cls.__qualname__} must define {' and '.join(missing)}")

    def live_reference(self, **extra: Any) -> dict[str, Any]:
        """``{"model_id": ..., **extra}``, or ``{}`` when there is no comm (no kernel)."""
        if self.comm is None or not self.model_id:
            return {}
        return {"model_id": self.model_id, **extra}

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self.twin(self.current_document(live=True))

    def static_bundle(self) -> dict[str, Any]:
        """The bundle without the live reference: what a finished view leaves."""
        return self.twin(self.current_document(live=False))
