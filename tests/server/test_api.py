"""The Runs API in a real ``jupyter server``: authentication, XSRF, bad queries, stores of every kind.

Three servers run side by side: one on a store of 10,004 runs (10,000
written straight into the file plus four recorded by the engine: two runs
of ``diffs`` to compare, a failed run and one still running, from a
"notebook" with a kernel id), one on a store that does not exist yet, one
on a corrupt file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from edited_runs import two_differing_runs
from serverproc import Server, start_server, stop_server, wait_ready

from codomyrmex_jupyter.api.workflow_manager import WorkflowManager
from codomyrmex_jupyter.api.workflow_models import WorkflowStep
from codomyrmex_jupyter.engine.actions import ActionRegistry
from codomyrmex_jupyter.engine.store import DB_FILENAME, Store

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

API = "/codomyrmex/api"
BULK = 10_000
CORRUPT = b"this is not a database\n" * 200


def _bulk_runs(path: Path, count: int) -> None:
    """``count`` finished runs written straight into the store file, one transaction."""
    rows = [
        (f"bulk{i:06d}", f"wf{i % 7}", 1, "failed" if i % 5 == 0 else "completed", 1_000_000.0 + i,
         1_000_000.5 + i, "{}", '["Step x failed: E"]' if i % 5 == 0 else "[]", '{"counts": {"succeeded": 3}}')
        for i in range(count)
    ]
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO runs(run_id, workflow, version, status, start, end, parameters, errors, metrics) "
            "VALUES(?,?,?,?,?,?,?,?,?)", rows)
    conn.close()


def _populate(home: Path, root: Path) -> dict[str, str]:
    registry = ActionRegistry(load_builtins=False, load_entry_points=False)
    registry.register("t", "ok", lambda: 1)

    def bad() -> None:
        raise ValueError("row 5 is malformed")

    registry.register("t", "bad", bad)
    manager = WorkflowManager(config_dir=home, registry=registry)
    diffs = two_differing_runs(manager, "diffs", root.parent / "cells")
    diffs = {"diff_a": diffs["a"], "diff_b": diffs["b"], "python": diffs["python"]}
    manager.create_workflow("etl", [WorkflowStep(name="load", module="t", action="ok")])
    manager.create_workflow("etl", [
        WorkflowStep(name="load", module="t", action="ok"),
        WorkflowStep(name="clean", module="t", action="bad", dependencies=["load"]),
    ])
    failed = manager.run_workflow("etl").execution_id
    manager.store.save_workflow("slow", [{"name": "wait"}])
    manager.store.start_run("running0001", "slow", version=1, start=time.time(), parameters={},
                            notebook=str(root / "sub" / "b.ipynb"), kernel="kernel-b")
    manager.close()  # closes the store: the "running" run stays running in the file, its heartbeat stops
    _bulk_runs(home / DB_FILENAME, BULK)
    return {"failed": failed, "running": "running0001", **diffs}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("runs-api")
    homes = {"full": work / "full-home", "empty": work / "empty-home", "corrupt": work / "corrupt-home"}
    ids = _populate(homes["full"], work / "full" / "root")
    homes["corrupt"].mkdir()
    (homes["corrupt"] / DB_FILENAME).write_bytes(CORRUPT)
    running = {name: start_server(work / name, home) for name, home in homes.items()}
    try:
        for server in running.values():
            wait_ready(server)
        yield {**running, "ids": ids}
    finally:
        for server in running.values():
            stop_server(server)


def _endpoints(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("GET", f"{API}/runs"),
        ("GET", f"{API}/runs/{ids['failed']}"),
        ("GET", f"{API}/runs/{ids['diff_a']}/diff/{ids['diff_b']}"),
        ("GET", f"{API}/workflows"),
        ("GET", f"{API}/workflows/etl"),
        ("POST", f"{API}/runs/{ids['failed']}/cancel"),
    ]


def test_no_endpoint_answers_without_the_token(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    for method, path in _endpoints(servers["ids"]):
        for token in (None, "wrong-token"):
            reply = server.call(method, path, token=token, anonymous=token is None)
            assert reply.status in (401, 403), (method, path, token, reply.status)
            assert "runs" not in (reply.body or {}) if isinstance(reply.body, dict) else True
        ok = server.call(method, path)
        assert ok.status in (200, 202, 409), (method, path, ok.status, ok.body)


def test_a_cookie_login_needs_the_xsrf_header_to_cancel(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    cookies = {}
    # The token in a URL logs the browser in (a cookie); a page sets the _xsrf cookie.
    for path in (f"/api/status?token={server.token}", "/login"):
        for header in server.call("GET", path, anonymous=True).headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    assert "_xsrf" in cookies and any(n.startswith("username-") for n in cookies), cookies
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    path = f"{API}/runs/{servers['ids']['failed']}/cancel"
    assert server.call("GET", f"{API}/runs?limit=1", anonymous=True, headers={"Cookie": cookie}).status == 200
    refused = server.call("POST", path, anonymous=True, headers={"Cookie": cookie})
    assert refused.status == 403 and "_xsrf" in str(refused.body), refused.body
    allowed = server.call("POST", path, anonymous=True, headers={"Cookie": cookie, "X-XSRFToken": cookies["_xsrf"]})
    assert allowed.status == 409, allowed.body  # through the checks; the run is finished


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("status=done", "status='done'"),
        ("limit=0", "limit='0'"),
        ("limit=abc", "limit='abc'"),
        ("offset=-3", "offset='-3'"),
        ("since=tomorrow", "since='tomorrow'"),
        ("wrkflow=etl", "'wrkflow'"),
    ],
)
def test_bad_query_values_are_a_400_naming_them(servers: dict[str, Any], query: str, named: str) -> None:
    reply = servers["full"].call("GET", f"{API}/runs?{query}")
    assert reply.status == 400
    assert named in reply.body["message"], reply.body


def test_runs_newest_first_paged_and_filtered(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    page = server.call("GET", f"{API}/runs").body
    assert page["total"] == BULK + 4 and page["active"] == 1 and page["limit"] == 50
    assert len(page["runs"]) == 50
    starts = [r["start"] for r in page["runs"]]
    assert starts == sorted(starts, reverse=True)
    assert {page["runs"][0]["run_id"], page["runs"][1]["run_id"]} == {servers["ids"]["running"], servers["ids"]["failed"]}
    running = next(r for r in page["runs"] if r["status"] == "running")
    assert running["notebook"] == "sub/b.ipynb" and running["kernel"] == "kernel-b"  # relative to the root
    assert running["started"].endswith("+00:00") and running["ended"] is None
    second = server.call("GET", f"{API}/runs?limit=50&offset=50").body["runs"]
    assert second[0]["start"] < page["runs"][-1]["start"]
    failed = server.call("GET", f"{API}/runs?status=failed&workflow=wf0&limit=500").body
    assert failed["total"] == len([i for i in range(BULK) if i % 5 == 0 and i % 7 == 0])
    assert all(r["status"] == "failed" and r["workflow"] == "wf0" for r in failed["runs"])
    by_notebook = server.call("GET", f"{API}/runs?notebook=sub/b.ipynb").body
    assert [r["run_id"] for r in by_notebook["runs"]] == [servers["ids"]["running"]]
    by_kernel = server.call("GET", f"{API}/runs?kernel=kernel-b").body
    assert by_kernel["total"] == 1
    window = server.call("GET", f"{API}/runs?since=1000010&until=1000020").body
    assert window["total"] == 10


def test_one_run_is_its_run_document(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    failed = servers["ids"]["failed"]
    body = server.call("GET", f"{API}/runs/{failed[:8]}").body  # a unique prefix works
    assert body["run"]["run_id"] == failed and body["run"]["status"] == "failed"
    doc = body["document"]
    assert doc["kind"] == "run" and doc["run_id"] == failed and doc["workflow"] == "etl"
    assert {n["id"]: n["state"] for n in doc["nodes"]} == {"load": "succeeded", "clean": "failed"}
    assert doc["edges"], doc["edges"]
    clean = next(n for n in doc["nodes"] if n["id"] == "clean")
    assert "row 5 is malformed" in clean["error"]
    assert server.call("GET", f"{API}/runs/nosuchrun").status == 404
    ambiguous = server.call("GET", f"{API}/runs/bulk0000")
    assert ambiguous.status == 400 and len(ambiguous.body["matches"]) == 10, ambiguous.body


def test_the_diff_of_two_runs(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    ids = servers["ids"]
    files = sorted(server.home.glob(f"{DB_FILENAME}*"))
    before = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in files}
    reply = server.call("GET", f"{API}/runs/{ids['diff_a'][:8]}/diff/{ids['diff_b']}")  # a prefix works
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["a"]["run_id"], body["b"]["run_id"]) == (ids["diff_a"], ids["diff_b"])
    assert (body["a"]["status"], body["b"]["status"], body["identical"]) == ("completed", "failed", False)
    assert body["parameters"] == [{"name": "n", "a": "3", "b": "4"}]
    assert {"name": "python", "a": ids["python"], "b": "9.9.9"} in body["environment"]
    steps = {s["step"]: s for s in body["steps"]}
    assert [s["change"] for s in body["steps"]] == ["changed"] * 3
    clean = steps["clean"]
    assert clean["code_changed"] and clean["state"] == {"a": "succeeded", "b": "failed"}
    assert "-    return [x * 2 for x in load]\n" in clean["code_diff"]
    assert "+        raise ValueError('too many rows')\n" in clean["code_diff"]
    assert clean["code_diff"].startswith(f"--- clean ({ids['diff_a'][:8]})\n+++ clean ({ids['diff_b'][:8]})")
    assert steps["report"]["parameters"] == [{"name": "title", "a": None, "b": "'t'"}]
    assert steps["report"]["state_changed"] and steps["load"]["result"] == "list len 3 -> len 4"
    same = server.call("GET", f"{API}/runs/{ids['diff_b']}/diff/{ids['diff_b']}").body
    assert same["identical"] and {s["change"] for s in same["steps"]} == {"same"}
    after = {p.name: hashlib.sha256(p.read_bytes()).digest() for p in sorted(server.home.glob(f"{DB_FILENAME}*"))}
    assert after == before  # the diff only reads


@pytest.mark.parametrize(
    ("a", "b", "status", "named"),
    [
        ("bulk", "{b}", 400, "run id prefix 'bulk' matches 10000 runs (bulk000000, bulk000001"),
        ("{a}", "bulk00001", 400, "run id prefix 'bulk00001' matches 10 runs"),
        ("abc", "{b}", 400, "run id 'abc' is too short: give at least 4 characters"),
        ("{a}", "nosuchrun", 404, "no run 'nosuchrun'"),
    ],
)
def test_bad_or_unknown_ids_of_a_diff(servers: dict[str, Any], a: str, b: str, status: int, named: str) -> None:
    ids = {"a": servers["ids"]["diff_a"], "b": servers["ids"]["diff_b"]}
    reply = servers["full"].call("GET", f"{API}/runs/{a.format(**ids)}/diff/{b.format(**ids)}")
    assert reply.status == status and named in reply.body["message"], reply.body
    if "matches" in named:
        assert reply.body["reason"] == "Ambiguous run id" and len(reply.body["matches"]) == 10
        assert all(m.startswith("bulk") for m in reply.body["matches"])


def test_workflows_and_their_versions(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    body = server.call("GET", f"{API}/workflows").body
    etl = next(w for w in body["workflows"] if w["name"] == "etl")
    assert etl["version"] == 2 and etl["steps"] == ["load", "clean"] and etl["runs"] == 1
    assert [v["version"] for v in etl["versions"]] == [1, 2]
    one = server.call("GET", f"{API}/workflows/etl").body
    assert [len(v["definition"]) for v in one["versions"]] == [1, 2]
    assert server.call("GET", f"{API}/workflows/nope").status == 404


def test_cancel_records_a_request_only_for_running_runs(servers: dict[str, Any]) -> None:
    server: Server = servers["full"]
    accepted = server.call("POST", f"{API}/runs/{servers['ids']['running']}/cancel")
    assert accepted.status == 202
    assert accepted.body["run_id"] == servers["ids"]["running"] and accepted.body["kernel"] == "kernel-b"
    listed = server.call("GET", f"{API}/runs?status=running").body["runs"]
    assert listed[0]["cancel_requested"] is True
    finished = server.call("POST", f"{API}/runs/{servers['ids']['failed']}/cancel")
    assert finished.status == 409 and "not running" in finished.body["message"]
    assert server.call("POST", f"{API}/runs/nosuchrun/cancel").status == 404
    assert server.call("GET", f"{API}/runs/{servers['ids']['running']}/cancel").status == 405


def test_an_empty_store_is_an_empty_history_and_is_not_created(servers: dict[str, Any]) -> None:
    server: Server = servers["empty"]
    body = server.call("GET", f"{API}/runs").body
    assert (body["runs"], body["total"], body["active"]) == ([], 0, 0)
    assert body["store"]["exists"] is False
    assert server.call("GET", f"{API}/workflows").body["workflows"] == []
    assert server.call("GET", f"{API}/runs/abcd1234").status == 404
    assert server.call("GET", f"{API}/runs/abcd1234/diff/abcd5678").status == 404
    assert server.call("GET", f"{API}/runs/abc/diff/abcd5678").status == 400  # checked before the store
    assert server.call("POST", f"{API}/runs/abcd1234/cancel").status == 404
    assert not server.home.exists()


def test_a_corrupt_store_is_a_clear_error_and_left_untouched(servers: dict[str, Any]) -> None:
    server: Server = servers["corrupt"]
    before = sorted(p.name for p in server.home.iterdir())
    for method, path in (("GET", f"{API}/runs"), ("GET", f"{API}/workflows"), ("POST", f"{API}/runs/x1234/cancel"),
                         ("GET", f"{API}/runs/x1234/diff/y1234")):
        reply = server.call(method, path)
        assert reply.status == 500, reply
        assert "is not a readable codomyrmex database" in reply.body["message"], reply.body
        assert "left untouched" in reply.body["message"]
    data = (server.home / DB_FILENAME).read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(CORRUPT).digest()
    assert sorted(p.name for p in server.home.iterdir()) == before


def test_the_first_page_of_ten_thousand_runs_is_quick(servers: dict[str, Any]) -> None:
    """Measured here for the record (bench/ holds the target); the index makes it independent of size."""
    server: Server = servers["full"]
    server.call("GET", f"{API}/runs")  # warm
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        assert server.call("GET", f"{API}/runs").status == 200
        samples.append(time.perf_counter() - t0)
    store = Store(server.home)
    from codomyrmex_jupyter.engine.run_query import query_plan

    assert "TEMP B-TREE" not in " ".join(query_plan(store))
    print(f"first page of {BULK + 2} runs over HTTP: median {sorted(samples)[2] * 1000:.1f} ms")
