"""The SQLite store: round trips, identity checks, concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codomyrmex_jupyter.engine.store import SCHEMA_VERSION, Store, decode_json, encode_json
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


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


@pytest.mark.parametrize(
    "script",
    [
        "CREATE TABLE documents(kind TEXT, key TEXT, value TEXT, updated_at REAL)",  # our table names
        "CREATE TABLE runs(x); CREATE TABLE workflows(y)",
        "PRAGMA user_version=7",  # an empty database another program has begun
        f"PRAGMA application_id={0x12345678}",
    ],
)
def test_foreign_database_named_like_ours_is_never_converted(tmp_path: Path, script: str) -> None:
    path = tmp_path / "codomyrmex.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(script)
    conn.close()
    before = _files(tmp_path)
    with pytest.raises(StoreError, match=f"{path} is a database of another program") as info:
        Store(tmp_path)
    assert info.value.path == str(path) and "\n" not in str(info.value)
    assert _files(tmp_path) == before  # byte for byte, and no -wal/-shm/-journal beside it
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    conn.close()


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "codomyrmex.sqlite3"
    path.touch()
    store = Store(tmp_path)
    assert store.save_workflow("w", [{"name": "a"}]) == 1
    assert store._read("PRAGMA journal_mode")[0]["journal_mode"] == "wal"


OPENER = textwrap.dedent(
    """
    import os, sys, time
    from codomyrmex_jupyter.engine.store import Store
    from codomyrmex_jupyter.errors import StoreError
    root, tag, start, rounds = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    failures = 0
    for k in range(rounds):
        time.sleep(max(0.0, start + 0.25 * k - time.time()))  # every process opens round k at once
        try:
            store = Store(os.path.join(root, f"round{k}"))
            store.put_doc("opened", tag, {"round": k})
            store.close()
        except StoreError as exc:
            failures += 1
            print(exc, file=sys.stderr)
    print(failures)
    """
)


@pytest.mark.slow
def test_eight_processes_opening_a_new_store_at_once(tmp_path: Path) -> None:
    import time

    rounds, procs = 10, 8
    start = time.time() + 3.0  # after every interpreter has imported the package
    children = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, str(tmp_path), f"p{i}", str(start), str(rounds)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(procs)
    ]
    outputs = [c.communicate(timeout=180) for c in children]
    assert [c.returncode for c in children] == [0] * procs, outputs
    assert [int(out.strip()) for out, _ in outputs] == [0] * procs, [err for _, err in outputs]
    for k in range(rounds):
        store = Store(tmp_path / f"round{k}")
        assert sorted(store.list_docs("opened")) == sorted(f"p{i}" for i in range(procs))
        store.close()


def test_uncreatable_home_is_a_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    home = blocker / "home"
    with pytest.raises(StoreError, match=f"cannot create the directory {home}: .*; set CODOMYRMEX_HOME") as info:
        Store(home)
    assert info.value.path == str(home)
    assert blocker.read_text() == "not a directory"


READ_ONLY = textwrap.dedent(
    """
    import sys
    from codomyrmex_jupyter.engine.store import Store
    from codomyrmex_jupyter.errors import StoreError
    try:
        Store(sys.argv[1])
    except StoreError as exc:
        print(type(exc).__name__, exc)
    else:
        print("opened")
    """
)


def _read_only_run(home: Path, prepare: str) -> str:
    """Run READ_ONLY against ``home`` on a file system mounted read-only (a private mount)."""
    import os
    import shlex
    import shutil

    if os.geteuid() != 0:
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sh", "-c", prepare], check=True, cwd=home)
        home.chmod(0o555)
        try:
            return subprocess.run([sys.executable, "-c", READ_ONLY, str(home)], capture_output=True,
                                  text=True, check=True).stdout
        finally:
            home.chmod(0o755)
    if shutil.which("unshare") is None:
        pytest.skip("root without unshare: no way to make a read-only file system here")
    home.mkdir(parents=True, exist_ok=True)
    script = (
        f"mount -t tmpfs tmpfs {shlex.quote(str(home))} && cd {shlex.quote(str(home))} && {prepare} && "
        f"mount -o remount,ro {shlex.quote(str(home))} && "
        f"{shlex.quote(sys.executable)} -c {shlex.quote(READ_ONLY)} {shlex.quote(str(home))}"
    )
    done = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                          check=False, capture_output=True, text=True)
    if done.returncode and "mount" in done.stderr:
        pytest.skip(f"cannot mount a read-only file system here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_read_only_home_is_a_store_error_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "ro-home"
    out = _read_only_run(home, "true")
    assert out.startswith(f"StoreError cannot open or write {home / 'codomyrmex.sqlite3'}"), out
    assert "set CODOMYRMEX_HOME or pass config_dir= a writable directory" in out


def test_read_only_home_holding_a_store_is_a_store_error(tmp_path: Path) -> None:
    home = tmp_path / "ro-home"
    make = f"{sys.executable} -c 'from codomyrmex_jupyter.engine.store import Store; Store(\".\").close()'"
    out = _read_only_run(home, make)
    assert out.startswith(f"StoreError cannot open or write {home / 'codomyrmex.sqlite3'}"), out


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
    assert store._read("PRAGMA user_version")[0]["user_version"] == SCHEMA_VERSION
    assert "heartbeat" in {r["name"] for r in store._read("PRAGMA table_info(runs)")}


def test_a_schema_3_file_gets_the_run_origin_columns_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE runs RENAME TO runs_new")
    conn.execute(
        "CREATE TABLE runs(run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER, "
        "status TEXT NOT NULL, start REAL, end REAL, parameters TEXT, errors TEXT, metrics TEXT, "
        "session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB, heartbeat REAL)"
    )
    conn.execute("DROP TABLE runs_new")
    conn.execute("INSERT INTO runs(run_id, workflow, status, start) VALUES('old', 'w', 'completed', 1.0)")
    conn.execute("PRAGMA user_version=3")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.get_run("old")["notebook"] is None
    store.start_run("new", "w", version=1, start=2.0, parameters={}, notebook="/n.ipynb", kernel="k")
    assert (store.get_run("new")["notebook"], store.get_run("new")["kernel"]) == ("/n.ipynb", "k")
    assert store._read("PRAGMA user_version")[0]["user_version"] == SCHEMA_VERSION == 5
    store.close()


# The runs table as each schema wrote it (the other tables did not change after 2).
_OLD_RUNS = {
    1: "session_id TEXT, host TEXT, pid INTEGER",
    2: "session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB",
    3: "session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB, heartbeat REAL",
    4: "session_id TEXT, host TEXT, pid INTEGER, steps_packed BLOB, heartbeat REAL, notebook TEXT, kernel TEXT",
}


def _old_store(path: Path, version: int) -> None:
    """A file exactly as schema ``version`` wrote it, with a workflow, a run and a document."""
    definition = ", definition TEXT NOT NULL, source TEXT, origin TEXT NOT NULL" if version == 1 else ""
    conn = sqlite3.connect(path)
    conn.executescript(
        f"CREATE TABLE workflows(name TEXT PRIMARY KEY, version INTEGER NOT NULL{definition},"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL);"
        "CREATE TABLE workflow_versions(name TEXT NOT NULL, version INTEGER NOT NULL, definition TEXT NOT NULL,"
        " source TEXT, origin TEXT NOT NULL, created_at REAL NOT NULL, PRIMARY KEY(name, version));"
        "CREATE TABLE runs(run_id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version INTEGER, status TEXT NOT NULL,"
        f" start REAL, end REAL, parameters TEXT, errors TEXT, metrics TEXT, {_OLD_RUNS[version]});"
        "CREATE TABLE documents(kind TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
        " updated_at REAL NOT NULL, PRIMARY KEY(kind, key));"
        "INSERT INTO workflow_versions VALUES('w', 1, '[{\"name\":\"a\"}]', 'src', 'api', 1.0);"
        "INSERT INTO runs(run_id, workflow, version, status, start, end, parameters)"
        " VALUES('r1', 'w', 1, 'completed', 1.0, 2.0, '{\"n\":1}');"
        "INSERT INTO documents VALUES('project', 'p', '{\"k\":1}', 1.0);"
        f"PRAGMA application_id={0x434F444F}; PRAGMA user_version={version};"
    )
    if version == 1:
        conn.execute("INSERT INTO workflows VALUES('w', 1, '[{\"name\":\"a\"}]', 'src', 'api', 1.0, 1.0)")
    else:
        conn.execute("INSERT INTO workflows VALUES('w', 1, 1.0, 1.0)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_every_older_schema_migrates_to_5_keeping_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / f"v{version}.sqlite3"
    _old_store(path, version)
    store = Store(path)
    assert store._read("PRAGMA user_version")[0]["user_version"] == SCHEMA_VERSION == 5
    assert store.load_workflow("w")["definition"] == [{"name": "a"}]
    assert store.load_workflow("w")["source"] == "src"
    run = store.get_run("r1")
    assert (run["status"], run["parameters"], run["start"], run["notebook"]) == ("completed", {"n": 1}, 1.0, None)
    assert store.get_doc("project", "p") == {"k": 1}
    columns = {r["name"] for r in store._read("PRAGMA table_info(runs)")}
    assert {"steps_packed", "heartbeat", "notebook", "kernel"} <= columns
    tables = {r["name"] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"run_records", "code_sources", "cache_entries", "cache_stats"} <= tables
    # the new tables work
    with store.transaction() as conn:
        conn.execute("INSERT INTO run_records VALUES('r1', '{}')")
    assert store.query("SELECT record FROM run_records WHERE run_id='r1'") == [{"record": "{}"}]
    assert store.save_workflow("w", [{"name": "b"}]) == 2
    store.close()
    assert Store(path).get_run("r1")["parameters"] == {"n": 1}  # opened again: nothing to migrate
