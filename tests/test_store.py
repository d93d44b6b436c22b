"""The results store: WAL SQLite, refusing foreign or corrupt files untouched, one driver at a time."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys

import pytest

from noprune.sweep.store import Store, StoreError


def result(key: str, status: str = "done", value: float = 1.0) -> dict:
    return {
        "key": key,
        "experiment": "accuracy",
        "config": "{}",
        "status": status,
        "metrics": {"test_accuracy": value} if status == "done" else None,
        "error": None if status == "done" else "RuntimeError: boom",
        "started": 1.0,
        "finished": 2.0,
        "provenance": {
            "host": "h",
            "version": "0.1.0",
            "git_commit": "abc",
            "git_dirty": False,
            "torch": "2.x",
            "device": "cpu",
        },
    }


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_records_are_stored_with_provenance_and_counted(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as store:
        store.add("quick", [("a", "accuracy", "{}"), ("b", "accuracy", "{}"), ("c", "accuracy", "{}")])
        assert store.record(result("a"))
        assert store.record(result("b", "failed"))
        assert dict(store.counts("quick")) == {"pending": 1, "running": 0, "done": 1, "failed": 1}
        rows = {r["key"]: r for r in store.rows("quick")}
        assert rows["a"]["host"] == "h" and rows["a"]["git_commit"] == "abc" and rows["a"]["device"] == "cpu"
        assert rows["b"]["error"].startswith("RuntimeError")
        (record,) = [r for r in store.records("quick") if r.key == "a"]
        assert record.metrics == {"test_accuracy": 1.0} and record.status == "done"
        mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal"


def test_a_done_run_is_never_overwritten_or_duplicated(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as store:
        store.add("s", [("a", "accuracy", "{}")])
        assert store.record(result("a", value=0.5))
        assert not store.record(result("a", value=0.9))  # a second result for a done run is dropped
        assert not store.record(result("a", "failed"))
        store.add("s", [("a", "accuracy", "{}")])  # adding again keeps the result
        (record,) = store.records("s")
        assert record.metrics == {"test_accuracy": 0.5}
        assert store.record(result("b", "failed")) and store.record(result("b"))  # failed -> done is fine


def test_runs_shared_by_two_suites_are_stored_once(tmp_path):
    with Store.open(tmp_path / "s.sqlite") as store:
        store.add("one", [("a", "accuracy", "{}")])
        store.add("two", [("a", "accuracy", "{}"), ("b", "accuracy", "{}")])
        store.record(result("a"))
        assert store.counts("one")["done"] == store.counts("two")["done"] == 1
        assert len(store.rows()) == 2 and store.suites() == ["one", "two"]


def test_an_edited_suite_lists_only_its_current_runs_and_keeps_every_result(tmp_path):
    """``exact``: a suite whose grid changed no longer shows the runs it dropped (in its
    leaderboard, counts and exports), but their results stay in the store for whoever names
    them again."""
    with Store.open(tmp_path / "s.sqlite") as store:
        store.add("s", [("a", "accuracy", "{}"), ("b", "accuracy", "{}")], exact=True)
        store.record(result("a"))
        store.record(result("b"))
        store.add("s", [("b", "accuracy", "{}"), ("c", "accuracy", "{}")], exact=True)
        assert [r.key for r in store.records("s")] == ["b", "c"]
        assert store.counts("s")["done"] == 1 and [r["key"] for r in store.rows("s")] == ["b", "c"]
        store.add("s", [("a", "accuracy", "{}")], exact=True)
        (record,) = store.records("s")
        assert record.key == "a" and record.status == "done"  # found again, not recomputed
        store.add("s", [("b", "accuracy", "{}")])  # without exact (ingest): added, none dropped
        assert [r.key for r in store.records("s")] == ["a", "b"]


@pytest.mark.parametrize(
    "content",
    [b"", b"hello, this is a text file\n" * 10, b"SQLite format 3\x00" + b"\x00" * 200],
    ids=["empty", "text", "truncated-sqlite"],
)
def test_a_file_that_is_not_a_store_is_refused_and_left_untouched(tmp_path, content):
    path = tmp_path / "s.sqlite"
    path.write_bytes(content)
    before = digest(path)
    with pytest.raises(StoreError) as error:
        Store.open(path)
    assert "\n" not in str(error.value)
    assert digest(path) == before


def test_another_programs_sqlite_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    before = digest(path)
    with pytest.raises(StoreError, match="another program"):
        Store.open(path)
    assert digest(path) == before


def test_a_corrupt_store_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.add("s", [(f"k{i}", "accuracy", "{}" + " " * 500) for i in range(200)])
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, len(data), 4096):  # scribble over every page after the first
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    before = digest(path)
    with pytest.raises(StoreError, match="corrupt"):
        Store.open(path)
    assert digest(path) == before


def test_a_second_driver_is_refused_while_the_first_holds_the_lock(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as first:
        first.lock()
        code = (
            "import sys\nfrom noprune.sweep.store import Store, StoreError\n"
            f"s = Store.open({str(path)!r})\n"
            "try:\n    s.lock()\nexcept StoreError as e:\n    print(e); sys.exit(3)\n"
        )
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert other.returncode == 3 and "another noprune run" in other.stdout
    with Store.open(path) as again:  # released on close
        again.lock()


def test_runs_left_running_by_a_dead_driver_are_pending_again(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store.open(path) as store:
        store.add("s", [("a", "accuracy", "{}"), ("b", "accuracy", "{}")])
        store.record(result("a"))
        store.mark_running(["a", "b"], 5.0)  # a done run stays done
        assert dict(store.counts("s")) == {"pending": 0, "running": 1, "done": 1, "failed": 0}
    with Store.open(path) as store:
        store.lock()
        assert dict(store.counts("s")) == {"pending": 1, "running": 0, "done": 1, "failed": 0}
