"""closing.py: a settled view closes every widget it is made of, and nothing keeps it alive."""

from __future__ import annotations

import gc
import weakref

import ipywidgets as widgets
from ipywidgets.widgets.widget import _instances
from widget_workflows import define_four_steps

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.widgets.closing import close_tree
from codomyrmex_jupyter.widgets.run_view import RunView


def test_close_tree_closes_children_layouts_and_styles() -> None:
    before = set(_instances)
    box = widgets.VBox([widgets.HBox([widgets.Button(description="x"), widgets.HTML("y")])])
    made = set(_instances) - before
    assert len(made) > 5  # boxes, their layouts, the button and its style, ...
    assert close_tree(box) == len(made)
    assert set(_instances) == before
    assert close_tree(box) == 0  # closing twice is harmless


class _Handle:
    def __init__(self) -> None:
        self.bundles: list[dict] = []

    def update(self, bundle: dict, raw: bool = False) -> None:
        self.bundles.append(bundle)


def test_a_settled_run_view_shows_its_twin_then_closes_every_widget(manager: WorkflowManager) -> None:
    define_four_steps(manager, "cl", max_retries=0)
    before = set(_instances)
    view = RunView.for_workflow(manager, "cl")
    view.settle = True
    handle = _Handle()
    view._display_handles.append(handle)  # as if displayed with a display id
    made = set(_instances) - before
    assert len(made) == 2  # the view and its layout
    execution = manager.run_workflow("cl", listeners=[view.listener])
    assert set(_instances) == before  # both closed, kernel side: Widget.close() alone left the layout
    final = handle.bundles[-1]  # the output became the static document before the widgets closed
    assert "application/vnd.jupyter.widget-view+json" not in final
    assert final["application/vnd.codomyrmex.dag+json"]["status"] == "failed"
    # the finished run (kept in the manager's recent executions) keeps no view alive
    assert execution._run is not None and execution._run.listeners == []
    ref = weakref.ref(view)
    del view
    gc.collect()
    assert ref() is None


def test_a_view_that_does_not_settle_stays_live(manager: WorkflowManager) -> None:
    define_four_steps(manager, "live", max_retries=0)
    view = RunView.for_workflow(manager, "live")
    manager.run_workflow("live", listeners=[view.listener])
    assert view.comm is not None and view.model_id in _instances
    close_tree(view)
