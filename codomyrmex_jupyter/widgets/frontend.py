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

import contextvars
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from traitlets import Dict, Unicode

from ..display.dashboard_doc import dashboard_bundle
from .closing import close_tree, held_widgets

__all__ = ["DISPLAY_INTERVAL", "MODULE_NAME", "MODULE_VERSION", "DashboardDocWidget", "FrontendWidget"]

log = logging.getLogger(__name__)

DISPLAY_INTERVAL = 2.0  # seconds between re-sent outputs of a changing view
MODULE_NAME = "codomyrmex-jupyter"
MODULE_VERSION = "^0.1.0"
_DOCUMENT_HOOKS = ("current_document", "twin")


class FrontendWidget(widgets.DOMWidget):  # type: ignore[misc]
    """A custom widget whose state is one document; subclasses say which and how to show it."""

    _model_module = Unicode(MODULE_NAME).tag(sync=True)
    _model_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    _view_module = Unicode(MODULE_NAME).tag(sync=True)
    _view_module_version = Unicode(MODULE_VERSION).tag(sync=True)
    doc = Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        self._display_handles: list[Any] = []  # the outputs showing this view (display ids)
        self._display_throttle: Any = None
        super().__init__(**kwargs)
        self.on_msg(self._on_frontend_msg)

    # -- outputs ------------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)  # type: ignore[no-untyped-call]
        if handle is not None:
            self._display_handles.append(handle)

    def update_displays(self, *, static: bool = False) -> None:
        """Re-send every output of this view with its current bundle.

        ``static=True`` sends the bundle without the live reference: the
        output then renders the same in a live session, a saved notebook
        reopened without a kernel, and nbconvert.
        """
        handles = self._display_handles
        if not handles:
            return
        bundle = self.static_bundle() if static else self._repr_mimebundle_()

        def send() -> None:
            for handle in handles:
                handle.update(bundle, raw=True)

        send()
        if _older_parent():
            # A background run's update carries the parent of the cell that
            # started it, which JupyterLab routes to that cell's outputs;
            # nbclient (nbconvert --execute) only reads the messages of the
            # cell running now. Sent again with that cell's parent, the
            # update reaches both (the other one ignores a display id it
            # does not know).
            contextvars.Context().run(send)

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

    def _stop_display_updates(self) -> None:
        """Drop a throttled output update still to come (the caller sends the last one, or none)."""
        if self._display_throttle is not None:
            self._display_throttle.cancel()
            self._display_throttle = None

    def close(self) -> None:
        """Close the widget and the widgets it holds (its layout): no more output updates.

        ``Widget.close`` alone would leave the layout open, one widget per
        view for the kernel's and the browser's lifetime.
        """
        self._stop_display_updates()
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
        if cls.__dict__.get("_partial", False):  # a base of other widgets, not a widget itself
            return
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



class DashboardDocWidget(FrontendWidget):
    """A widget drawn by the dashboard component (the dashboard, the resource gauges)."""

    _model_name = Unicode("DashboardModel").tag(sync=True)
    _view_name = Unicode("DashboardWidgetView").tag(sync=True)

    _partial = True  # its subclasses say which document

    def with_live(self, doc: dict[str, Any], *, live: bool) -> dict[str, Any]:
        """``doc`` with the live reference when ``live`` and a comm exist."""
        ref = self.live_reference() if live else {}
        if ref:
            doc["live"] = ref
        return doc

    def twin(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The output bundle: the document, its HTML twin and a text summary."""
        return dashboard_bundle(doc)


def _older_parent() -> bool:
    """True when this thread's display parent is not the kernel's current one (a background run)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    pub = getattr(get_ipython(), "display_pub", None)
    if pub is None or not hasattr(pub, "parent_header"):
        return False
    here = getattr(pub, "parent_header", None) or {}
    current = contextvars.Context().run(getattr, pub, "parent_header", None) or {}
    return bool(here.get("msg_id")) and here.get("msg_id") != current.get("msg_id")
