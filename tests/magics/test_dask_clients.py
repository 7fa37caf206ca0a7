"""The magic's Dask clients close quietly when their scheduler goes away."""

from __future__ import annotations

import logging

import pytest
from waiting import wait_until

from codomyrmex_jupyter.magics import dask_clients
from codomyrmex_jupyter.magics.commands import make_executor

pytestmark = [pytest.mark.dask, pytest.mark.slow]


def test_a_closed_cluster_closes_the_client_without_an_error(caplog: pytest.LogCaptureFixture) -> None:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    )
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    try:
        executor = make_executor(address)
        assert make_executor(address) is executor  # one client per address
        client = executor.client
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3
    finally:
        caplog.set_level(logging.INFO, logger=dask_clients.__name__)
        with caplog.at_level(logging.INFO, logger="distributed"):
            cluster.close()
            wait_until(lambda: client.status == "closed", timeout=20)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert any("went away" in r.getMessage() for r in caplog.records)
    dask_clients.close_clients()


def test_a_new_cluster_at_the_same_address_gets_a_new_client() -> None:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1", dashboard_address=None
    )
    try:
        first = make_executor(cluster.scheduler_address.replace("tcp://", "dask://"))
        first.client.close()
        second = make_executor(cluster.scheduler_address.replace("tcp://", "dask://"))
        assert second is not first and second.client.status == "running"
    finally:
        dask_clients.close_clients()
        cluster.close()
