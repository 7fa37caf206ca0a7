"""Query parameters of the runs list: every bad value is refused with a message naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex_jupyter.server.params import BadQuery, parse_runs_query

ROOT = Path("/srv/notebooks")


def q(**values: str | list[str]) -> dict[str, list[str]]:
    return {k: v if isinstance(v, list) else [v] for k, v in values.items()}


def test_defaults() -> None:
    query = parse_runs_query({}, ROOT)
    assert (query.limit, query.offset) == (50, 0)
    assert query.filters.statuses == () and query.filters.workflow is None


def test_every_filter() -> None:
    query = parse_runs_query(
        q(workflow="etl", status=["failed,running", "failed"], notebook="sub/a.ipynb", kernel="k1",
          since="2026-05-01T12:00:00Z", until="1800000000", limit="10", offset="20", token="t"),  # noqa: S106 - the server's own parameter
        ROOT,
    )
    f = query.filters
    assert (f.workflow, f.statuses, f.kernel) == ("etl", ("failed", "running"), "k1")
    assert f.notebooks == ("/srv/notebooks/sub/a.ipynb", "sub/a.ipynb")
    assert f.since == 1777636800.0 and f.until == 1800000000.0
    assert (query.limit, query.offset) == (10, 20)


def test_a_cache_buster_is_ignored() -> None:
    assert parse_runs_query({"1796012773852": [""]}, ROOT).limit == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (q(status="done"), "status='done' is not a run status: use pending, running, completed, failed, cancelled"),
        (q(limit="0"), "limit='0' is not valid: use a whole number from 1 to 500"),
        (q(limit="ten"), "limit='ten' is not valid"),
        (q(limit="600"), "limit='600' is not valid"),
        (q(offset="-1"), "offset='-1' is not valid: use a whole number 0 or more"),
        (q(since="yesterday"), "since='yesterday' is not a time: use ISO 8601"),
        (q(until="nan"), "until='nan' is not a time"),
        (q(since="200", until="100"), "since must be before until"),
        (q(workflow=""), "workflow is empty; leave it out to mean any"),
        (q(workflow=["a", "b"]), "workflow given 2 times; give it once"),
        (q(wrkflow="etl"), "unknown query parameter 'wrkflow': use workflow, status"),
    ],
)
def test_bad_values_are_named(args: dict[str, list[str]], message: str) -> None:
    with pytest.raises(BadQuery) as err:
        parse_runs_query(args, ROOT)
    assert message in str(err.value)
