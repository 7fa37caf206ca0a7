"""The SQLite store: round trips, identity checks, concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codomyrmex_jupyter.engine.store import Store, decode_json, encode_json
from codomyrmex_jupyter.errors import NotStorableError, StoreError


def test_json_round_trip_with_bytes_and_friends() -> None:
    value = {"png": b"\x89PNG", "t": (1, 2), "s": {3}, "p": Path("/x")}
    assert decode_json(encode_json(value)) == {"png": b"\x89PNG", "t": [1, 2], "s": [3], "p": "/x"}


def test_not_storable_value_says_what_to_do() -> None:
    with pytest.raises(NotStorableError, match="cannot be stored as JSON .* return plain data"):
        encode_json({"f": object()})


def test_workflow_versions(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.save_workflow("w", [{"name": "a"}], source="src1") == 1
    assert store.save_workflow("w", [{"name": "b"}], origin="cell") == 2
    assert store.load_workflow("w")["definition"] == [{"name": "b"}]
    assert store.load_workflow("w", version=1)["source"] == "src1"
    assert [r["name"] for r in store.list_workflows()] == ["w"]
    assert store.delete_workflow("w")
    assert store.load_workflow("w") is None
    assert store.load_workflow("w", version=2)["origin"] == "cell"


def test_runs_and_steps(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    store.start_run("r1", "w", version=1, start=10.0, parameters={"n": 1})
    assert store.get_run("r1")["status"] == "running"
    rows = [(0, "a", "succeeded", 10.0, 11.0, 1, None, None, None, encode_json([1]), None)]
    store.finish_run("r1", status="completed", end=12.0, errors=[], metrics={"x": 1}, steps=rows)
    run = store.get_run("r1")
    assert (run["status"], run["parameters"], run["metrics"]) == ("completed", {"n": 1}, {"x": 1})
    assert run["steps"][0]["result"] == [1]
    assert store.get_run("r") is None  # prefixes shorter than 4 are not guessed
    assert [r["run_id"] for r in store.list_runs("w")] == ["r1"]
    assert store.count_runs() == 1


def test_documents(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put_doc("project", "p", {"a": 1})
    assert store.get_doc("project", "p") == {"a": 1}
    assert store.list_docs("project") == {"p": {"a": 1}}
    assert store.delete_doc("project", "p")
    assert store.get_doc("project", "p") is None


def test_corrupt_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "codomyrmex.sqlite3"
    content = b"this is not a database at all" * 100
    path.write_bytes(content)
    with pytest.raises(StoreError, match=f"{path} is not a readable codomyrmex database"):
        Store(path)
    assert path.read_bytes() == content


def test_foreign_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices(id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="database of another program"):
        Store(path)
    assert path.read_bytes() == before


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store._conn.execute("PRAGMA user_version=99")
    store.close()
    with pytest.raises(StoreError, match="newer codomyrmex_jupyter"):
        Store(tmp_path)


WRITER = textwrap.dedent(
    """
    import sys
    from codomyrmex_jupyter.engine.store import Store
    store = Store(sys.argv[1])
    tag = sys.argv[2]
    for i in range(150):
        rid = f"{tag}_{i}"
        store.start_run(rid, "w", version=1, start=float(i), parameters=None)
        rows = [(k, f"s{k}", "succeeded", 0.0, 1.0, 1, None, None, None, None, None) for k in range(5)]
        store.finish_run(rid, status="completed", end=float(i) + 1, errors=[], metrics=None, steps=rows)
    """
)


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    Store(tmp_path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), tag]) for tag in ("p1", "p2")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    store = Store(tmp_path)
    assert store.count_runs() == 300
    assert sum(len(store.get_run(r["run_id"])["steps"]) for r in store.list_runs(limit=None)) == 1500
    assert store._read("SELECT COUNT(*) AS n FROM steps")[0]["n"] == 0  # no details: all packed
    assert {r["status"] for r in store.list_runs(limit=None)} == {"completed"}


def test_packed_steps_keep_details_and_order(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.start_run("r2", "w", version=1, start=1.0, parameters=None)
    rows = [
        (0, "a", "succeeded", 1.0, 2.0, 1, None, None, None, None, None),
        (1, "b", "failed", 2.0, 3.0, 3, "ValueError: x", "Traceback...", None, None, None),
        (2, "c", "skipped", None, None, 0, None, None, "dependency 'b' failed", None, None),
        (3, "d", "succeeded", 1.5, 2.5, 1, None, None, None, encode_json({"k": b"\x00"}), None),
    ]
    store.finish_run("r2", status="failed", end=3.0, errors=["Step b failed"], metrics=None, steps=rows)
    steps = store.get_run("r2")["steps"]
    assert [(s["name"], s["status"], s["attempts"]) for s in steps] == [
        ("a", "succeeded", 1), ("b", "failed", 3), ("c", "skipped", 0), ("d", "succeeded", 1)]
    assert steps[1]["traceback"] == "Traceback..." and steps[2]["reason"] == "dependency 'b' failed"
    assert (steps[2]["start"], steps[0]["end"]) == (None, 2.0)
    assert steps[3]["result"] == {"k": b"\x00"}
    assert [d["duration"] for d in store.step_durations("w")] == [1.0, 1.0, None, 1.0]


def test_schema_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE workflows(name TEXT PRIMARY KEY, version INTEGER NOT NULL, definition TEXT NOT NULL,"
        " source TEXT, origin TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL);"
        "CREATE TABLE workflow_versions(name TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,"
        " source TEXT, origin TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY(name, version));"
        "CREATE TABLE runs(run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER, status TEXT NOT NULL,"
        " start REAL, end REAL, parameters TEXT, errors TEXT, metrics TEXT, session_id TEXT, host TEXT, pid INTEGER);"
        "INSERT INTO workflow_versions VALUES('w', 1, '[{\"name\":\"a\"}]', NULL, 'api', 1.0);"
        "INSERT INTO workflows VALUES('w', 1, '[{\"name\":\"a\"}]', NULL, 'api', 1.0, 1.0);"
        f"PRAGMA application_id={0x434F444F}; PRAGMA user_version=1;"
    )
    conn.close()
    store = Store(path)
    assert store.load_workflow("w")["definition"] == [{"name": "a"}]
    assert store.save_workflow("w", [{"name": "b"}]) == 2


def test_schema_2_file_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    from codomyrmex_jupyter.engine.store import SCHEMA_VERSION

    path = tmp_path / "v2.sqlite3"
    store = Store(path)
    store.save_workflow("w", [{"name": "a"}])
    store.start_run("r1", "w", version=1, start=1.0, parameters={"n": 1})
    store.finish_run("r1", status="completed", end=2.0, errors=[], metrics={})
    store.close()
    conn = sqlite3.connect(path)  # back to a schema-2 file, as written before run records
    for table in ("run_records", "code_sources", "cache_entries", "cache_stats"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version=2")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.get_run("r1")["parameters"] == {"n": 1}
    tables = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"run_records", "code_sources", "cache_entries", "cache_stats"} <= tables
    assert store.query("PRAGMA user_version")[0]["user_version"] == SCHEMA_VERSION == 3


def test_every_migration_is_idempotent(tmp_path: Path) -> None:
    from codomyrmex_jupyter.engine.store import MIGRATIONS

    store = Store(tmp_path)
    with store.transaction() as conn:
        for _, step in MIGRATIONS:  # on a file that has every change already
            step(conn)
    assert [v for v, _ in MIGRATIONS] == sorted(v for v, _ in MIGRATIONS)
