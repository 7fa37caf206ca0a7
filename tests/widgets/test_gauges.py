"""ResourceGauges: one bar per resource, styled by utilisation, following allocations."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from waiting import wait_until

from codomyrmex_jupyter.widgets.gauges import ResourceGauges, bar_style, holders_text


@pytest.mark.parametrize(
    ("util", "style"), [(0.0, "success"), (0.69, "success"), (0.7, "warning"), (0.89, "warning"),
                        (0.9, "danger"), (1.0, "danger")],
)
def test_bar_style(util: float, style: str) -> None:
    assert bar_style(util) == style


def test_holders_text() -> None:
    holders = [(f"t{i}", 1.0, "shared") for i in range(7)]
    assert holders_text(holders[:2]) == "t0 1, t1 1"
    assert holders_text(holders) == "t0 1, t1 1, t2 1, t3 1, t4 1 (+2 more)"
    assert holders_text([("t", 2.5, "exclusive")]) == "t 2.5 exclusive"


class FakeResources:
    def __init__(self) -> None:
        self.stats = {"gpu": SimpleNamespace(capacity=4.0, allocated=1.0, utilisation=0.25, unit="cards",
                                              holders=(("run:a", 1.0, "shared"),), waiting=0)}
        self.callbacks: list = []

    def snapshot(self) -> dict:
        return dict(self.stats)

    def subscribe(self, cb):
        self.callbacks.append(cb)
        return lambda: self.callbacks.remove(cb)


def _row(gauges: ResourceGauges, rid: str) -> dict:
    return next(r for r in gauges.doc["resources"] if r["id"] == rid)


def test_gauges_show_allocation_capacity_and_holders() -> None:
    res = FakeResources()
    gauges = ResourceGauges(res)
    state = gauges.get_state()
    assert (state["_model_name"], state["_view_name"]) == ("DashboardModel", "DashboardWidgetView")
    assert gauges.doc["kind"] == "resources"
    row = _row(gauges, "gpu")
    assert (row["allocated"], row["capacity"], row["unit"], row["holders"]) == (1.0, 4.0, "cards", "run:a 1")
    res.stats["gpu"] = SimpleNamespace(capacity=4.0, allocated=3.8, utilisation=0.95, unit="cards",
                                       holders=(("run:a", 3.8, "shared"),), waiting=2)
    for cb in list(res.callbacks):
        for _ in range(100):
            cb("change")
    wait_until(lambda: _row(gauges, "gpu")["allocated"] == 3.8)
    assert _row(gauges, "gpu")["waiting"] == 2
    assert gauges._coalescer.calls <= 3
    gauges.close()
    assert res.callbacks == []


def test_gauges_output_is_the_document_and_its_twin() -> None:
    res = FakeResources()
    gauges = ResourceGauges(res, live=False)
    bundle = gauges._repr_mimebundle_()
    assert set(bundle) == {"application/vnd.codomyrmex.dashboard+json", "text/html", "text/plain"}
    assert "gpu" in bundle["text/plain"] and "codomyrmex-gauge" in bundle["text/html"]
    assert "1/4 cards (25%) · held by run:a 1" in bundle["text/html"]
    res.stats.clear()
    gauges.refresh()
    assert gauges.doc["resources"] == []
    assert "No resource is defined" in gauges.static_bundle()["text/html"]


def test_gauges_follow_a_real_resource_manager() -> None:
    resources = pytest.importorskip("codomyrmex_jupyter.api.resources")
    manager = resources.ResourceManager()
    manager.add_resource(resources.Resource("cpu", "CPU", resources.ResourceType.CPU, 10.0, "cores"))
    gauges = ResourceGauges(manager)
    assert (_row(gauges, "cpu")["allocated"], _row(gauges, "cpu")["capacity"]) == (0.0, 10.0)
    assert manager.allocate_resource("cpu", "task-1", 8.0) is not None
    wait_until(lambda: _row(gauges, "cpu")["allocated"] == 8.0)
    assert bar_style(_row(gauges, "cpu")["utilisation"]) == "warning"
    assert "task-1 8" in _row(gauges, "cpu")["holders"]
    manager.release_resource("task-1", "cpu")
    wait_until(lambda: _row(gauges, "cpu")["allocated"] == 0.0)
    gauges.close()


def test_holder_labels_are_readable() -> None:
    from codomyrmex_jupyter.widgets.gauges import holder_label, holders_text

    run_id = "7383cbcefad04b9c995ed66264065b43"
    assert holder_label(f"{run_id}:train") == "train (run 7383cbce)"
    assert holder_label("task:42") == "task:42"
    assert holders_text([(f"{run_id}:train", 1.0, "shared"), ("session:s1", 2.0, "exclusive")]) == (
        "train (run 7383cbce) 1, session:s1 2 exclusive"
    )


def test_rows_are_labelled_with_the_resource_name() -> None:
    from codomyrmex_jupyter import Resource, ResourceManager, ResourceType
    from codomyrmex_jupyter.widgets.gauges import ResourceGauges

    rm = ResourceManager()
    rm.add_resource(Resource(id="gpu", name="GPU", resource_type=ResourceType.GPU, capacity=2.0))
    rm.add_resource(Resource(id="disk", name="disk", resource_type=ResourceType.DISK, capacity=1.0))
    view = ResourceGauges(rm, live=False)
    assert [(r["id"], r["name"]) for r in view.doc["resources"]] == [("gpu", "GPU"), ("disk", "disk")]
    assert "GPU (gpu)" in view.static_bundle()["text/html"]
    view.close()
