"""The results store: one SQLite file in WAL mode (stdlib), written by the driver alone.

Per run it holds the key, the canonical config JSON, the status (pending, running, done,
failed), the metrics JSON, the error text, start and end times, and provenance (host, package
version, git commit and dirty flag, torch version, device). Suites map to runs through
``suite_runs``, so a run shared by two suites is stored and computed once.

A file that is not ours (wrong SQLite application id, or not SQLite) or is corrupt is refused
with a clear error and left untouched. One driver at a time holds an exclusive lock on
``STORE.lock``; a second ``noprune run`` on the same store refuses to start.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import pathname2url

from noprune.errors import UserError
from noprune.paths import output_folder


@dataclass(frozen=True)
class Record:
    """One stored run: its key, full config as a nested dict, status and metrics."""

    key: str
    config: dict[str, Any]
    status: str
    metrics: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Record:
        """The record of a stored row (:meth:`Store.rows`: config and metrics as JSON text)."""
        metrics = row.get("metrics")
        return cls(
            row["key"], json.loads(row["config"]), row["status"], json.loads(metrics) if metrics else None
        )


APPLICATION_ID = 0x6E707275  # "npru"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed")
PROVENANCE = ("host", "version", "git_commit", "git_dirty", "torch", "device")

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    metrics TEXT,
    error TEXT,
    started REAL,
    finished REAL,
    host TEXT,
    version TEXT,
    git_commit TEXT,
    git_dirty INTEGER,
    torch TEXT,
    device TEXT
);
CREATE TABLE IF NOT EXISTS suite_runs (
    suite TEXT NOT NULL,
    key TEXT NOT NULL REFERENCES runs(key),
    PRIMARY KEY (suite, key)
);
"""


COLUMNS = {  # what a store must hold to be read: the tables and columns of SCHEMA
    "runs": ("key", "experiment", "config", "status", "metrics", "error", "started", "finished", *PROVENANCE),
    "suite_runs": ("suite", "key"),
}


class StoreError(UserError):
    """The store file cannot be used; it has not been modified."""


class Store:
    """A handle on one store file. Open with :meth:`open`; use as a context manager."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self._lock_file: Any = None

    # -- opening ------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike, *, create: bool = True) -> Store:
        """A handle to write into (a driver's, or ingest's); ``create=False`` refuses a path
        that holds no store yet. A store in a folder that cannot be written is refused here
        with one line (:meth:`read` reads it)."""
        path = Path(path)
        if path.exists():
            check_is_ours(path)
        elif not create:
            raise StoreError(f"no store at {path}; run a suite first or pass --store PATH")
        else:
            output_folder(path.parent, "--store")
        if path.exists() and not os.access(path.parent, os.W_OK):
            raise StoreError(
                f"the store {path} lies in a folder that cannot be written (read-only); it can be "
                "read (status, leaderboard, plot), not written; pass --store PATH"
            )
        made = [] if path.exists() else [path, *beside(path)]
        db = None
        try:
            db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            if db.execute("PRAGMA application_id").fetchone()[0] == 0:
                with transaction(db):
                    for statement in SCHEMA.split(";"):
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as error:
            if db is not None:
                db.close()
            for file in made:  # a first write that failed leaves nothing a later run refuses
                with suppress(OSError):
                    file.unlink(missing_ok=True)
            why = disk_problem(path) or error
            raise StoreError(f"cannot open the store {path}: {why}; pass --store PATH") from None
        return cls(path, db)

    @classmethod
    def read(cls, path: str | os.PathLike) -> Store:
        """A read-only handle on an existing store (status, leaderboards, plots, data frames):
        it writes nothing, so it also reads a store in a read-only folder."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"no store at {path}; run a suite first or pass --store PATH")
        check_is_ours(path)
        try:
            return cls(path, connect_read_only(path))
        except sqlite3.DatabaseError as error:
            raise StoreError(f"cannot read the store {path} ({error})") from None

    def close(self) -> None:
        self.unlock()
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the driver's lock --------------------------------------------------------------------
    def lock_path(self) -> Path:
        """``STORE.lock`` beside the resolved file, so every path to one store (a symlink to it or
        to a folder above it, a relative path) takes the same lock."""
        real = self.path.resolve()
        return real.with_name(real.name + ".lock")

    def lock(self) -> None:
        """Take the exclusive driver lock, or refuse if another process holds it. The lock is
        named after the resolved path, so a store must have one name: a hard-linked store file
        (two names, two locks) is refused."""
        links = self.path.resolve().stat().st_nlink
        if links > 1:
            raise StoreError(
                f"the store {self.path} has {links} names (hard links), so two drivers could take "
                "two locks on it; remove the other names or pass --store OTHER_PATH"
            )
        handle = open(self.lock_path(), "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreError(
                f"another noprune run ({holder}) is using the store {self.path}; "
                "wait for it to finish, or pass --store OTHER_PATH"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._lock_file = handle
        self._release_running()  # runs marked running by a driver that died (SIGKILL)

    def _release_running(self) -> None:
        """Runs marked running are pending again (only the lock holder may call this)."""
        with transaction(self._db):
            self._db.execute("UPDATE runs SET status = 'pending', started = NULL WHERE status = 'running'")

    def unlock(self) -> None:
        """Release the driver lock; runs still marked running (a sweep stopped by SIGTERM or
        Ctrl-C, whose workers were stopped with it) are pending again first."""
        if self._lock_file is not None:
            try:
                self._release_running()
            except sqlite3.Error:  # a full disk: the next driver's lock() releases them instead
                pass
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None

    def driver_running(self) -> bool:
        """Whether a driver holds this store's lock now (its running rows are being run); if
        none does, rows marked running were left by one that was killed (SIGKILL)."""
        lock = self.lock_path()
        if self._lock_file is not None:
            return True
        if not lock.exists():
            return False
        with open(lock) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    # -- writing (driver only) ---------------------------------------------------------------
    def add(self, suite: str, runs: Iterable[tuple[str, str, str]], *, exact: bool = False) -> None:
        """Register (key, experiment, config JSON) runs under ``suite``; existing runs are kept.

        ``exact``: the suite is now these runs and no others. Runs an earlier, since edited,
        version of the suite registered leave the suite (and its leaderboard); their results
        stay in the store, where a suite that names them again finds them done."""
        with transaction(self._db):
            if exact:
                self._db.execute("DELETE FROM suite_runs WHERE suite = ?", (suite,))
            for key, experiment, config in runs:
                self._db.execute(
                    "INSERT OR IGNORE INTO runs (key, experiment, config, status)"
                    " VALUES (?, ?, ?, 'pending')",
                    (key, experiment, config),
                )
                self._db.execute("INSERT OR IGNORE INTO suite_runs (suite, key) VALUES (?, ?)", (suite, key))

    def mark_running(self, keys: Iterable[str], started: float) -> None:
        with transaction(self._db):
            for key in keys:
                self._db.execute(
                    "UPDATE runs SET status = 'running', started = ? WHERE key = ? AND status != 'done'",
                    (started, key),
                )

    def record(self, result: dict[str, Any]) -> bool:
        """Store one worker result (status done or failed); never overwrite a done run.

        Returns False if the run was already done (the result is then dropped, not duplicated).
        """
        if result["status"] not in ("done", "failed"):
            raise ValueError(f"a result has status done or failed, not {result['status']!r}")
        with transaction(self._db):
            row = self._db.execute("SELECT status FROM runs WHERE key = ?", (result["key"],)).fetchone()
            if row is None:
                self._db.execute(
                    "INSERT INTO runs (key, experiment, config, status) VALUES (?, ?, ?, 'pending')",
                    (result["key"], result["experiment"], result["config"]),
                )
            elif row[0] == "done":
                return False
            self._db.execute(
                "UPDATE runs SET status = ?, metrics = ?, error = ?, started = ?, finished = ?, host = ?,"
                " version = ?, git_commit = ?, git_dirty = ?, torch = ?, device = ? WHERE key = ?",
                (
                    result["status"],
                    json.dumps(result.get("metrics")) if result.get("metrics") is not None else None,
                    result.get("error"),
                    result.get("started"),
                    result.get("finished"),
                    *(result.get("provenance", {}).get(k) for k in PROVENANCE),
                    result["key"],
                ),
            )
        return True

    # -- reading ------------------------------------------------------------------------------
    def statuses(self, keys: Iterable[str]) -> dict[str, str]:
        """{key: status} of the given keys that the store holds (one query per 500 keys)."""
        keys = list(keys)
        out: dict[str, str] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, status FROM runs WHERE key IN ({marks})"
            out.update(self._db.execute(query, chunk).fetchall())
        return out

    def counts(self, suite: str | None = None) -> Counter[str]:
        query = "SELECT status, COUNT(*) FROM runs"
        args: tuple[str, ...] = ()
        if suite is not None:
            query += " JOIN suite_runs USING (key) WHERE suite = ?"
            args = (suite,)
        counts: Counter[str] = Counter({s: 0 for s in STATUSES})
        counts.update(dict(self._db.execute(query + " GROUP BY status", args).fetchall()))
        return counts

    def suites(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT suite FROM suite_runs ORDER BY suite")]

    def records(self, suite: str | None = None) -> list[Record]:
        return list(self._iter_records(suite))

    def _iter_records(self, suite: str | None) -> Iterator[Record]:
        query = "SELECT key, config, status, metrics FROM runs"
        args: tuple[str, ...] = ()
        if suite is not None:
            query += " JOIN suite_runs USING (key) WHERE suite = ?"
            args = (suite,)
        for key, config, status, metrics in self._db.execute(query + " ORDER BY key", args):
            yield Record(key, json.loads(config), status, json.loads(metrics) if metrics else None)

    def rows(self, suite: str | None = None) -> list[dict[str, Any]]:
        """Every column of every run, for exports and provenance."""
        query = "SELECT * FROM runs"
        args: tuple[str, ...] = ()
        if suite is not None:
            query += " WHERE key IN (SELECT key FROM suite_runs WHERE suite = ?)"
            args = (suite,)
        cursor = self._db.execute(query + " ORDER BY key", args)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def check_is_ours(path: Path) -> None:
    """Refuse, without writing, a file that is not a SQLite database with our application id
    (the -wal and -shm files a read-only look at a WAL store makes are removed if it is refused)."""
    files = beside(path)
    there = [f.exists() for f in files]
    try:
        _check_is_ours(path)
    except StoreError:
        for file, existed in zip(files, there, strict=True):
            if not existed:
                with suppress(OSError):  # a read-only folder, where SQLite made none either
                    file.unlink(missing_ok=True)
        raise


def beside(path: Path) -> list[Path]:
    """The files SQLite keeps beside a WAL store: its write-ahead log and shared memory."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


FULL_BYTES = 1 << 20  # less free space than this beside a store that SQLite failed on: full


def disk_problem(path: Path) -> str | None:
    """Why SQLite may have failed on ``path`` for want of room or rights, named for what it is
    (SQLite says "disk I/O error" or "unable to open database file"), or None."""
    folder = path.absolute().parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} cannot be written (read-only)"
    free = stats.f_bavail * stats.f_frsize
    if free < FULL_BYTES:
        return f"the disk holding it is full ({free // 1024} KiB free)"
    return None


def connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection for reading an existing store (its callers only read). SQLite reads a WAL
    store through a ``-shm`` file beside it, which it makes if missing and removes when the last
    connection closes; where the folder is read-only it can do neither, and the file is read as
    it lies on disk (SQLite's ``immutable`` mode: valid because nothing can write there)."""
    uri = f"file:{pathname2url(str(path.absolute()))}"
    if os.access(path.absolute().parent, os.W_OK):
        return sqlite3.connect(f"{uri}?mode=rw", uri=True)
    return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def _check_is_ours(path: Path) -> None:
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except OSError as error:
        raise StoreError(f"cannot read the store {path}: {error.strerror}") from None
    if len(header) == 0:
        raise StoreError(f"{path} is an empty file, not a noprune store; pass --store NEW_PATH")
    if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
        raise StoreError(f"{path} is not a noprune store (not an SQLite database); pass --store NEW_PATH")
    try:  # read-only: the application id may still sit in the write-ahead log
        db = connect_read_only(path)
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        ok, columns = "ok", {}
        if application_id == APPLICATION_ID:
            ok = db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if ok == "ok":
                columns = {t: table_columns(db, t) for t in COLUMNS}
        db.close()
    except sqlite3.DatabaseError as error:
        problem = disk_problem(path)
        if problem:
            raise StoreError(
                f"cannot read the store {path}: {problem}; it was left untouched; free space or "
                "pass --store PATH"
            ) from None
        raise StoreError(
            f"{path} is corrupt ({error}); it was left untouched; pass --store NEW_PATH"
        ) from None
    if application_id != APPLICATION_ID:
        raise StoreError(f"{path} is an SQLite database of another program, not a noprune store")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} is a store of a newer noprune (schema {version}; this one reads {SCHEMA_VERSION}); "
            "it was left untouched; upgrade noprune or pass --store NEW_PATH"
        )
    if ok != "ok":  # SQLite's report runs over several lines: its first names the damage
        first = ok.replace("*** in database main ***", "").strip().splitlines()[0]
        raise StoreError(f"{path} is corrupt ({first}); it was left untouched; pass --store NEW_PATH")
    for table, expected in COLUMNS.items():
        missing = [c for c in expected if c not in columns[table]]
        if missing:
            what = f"lacks the column {missing[0]}" if columns[table] else "has no such table"
            raise StoreError(
                f"{path} is a damaged noprune store: {table} {what}; it was left untouched; "
                "pass --store NEW_PATH"
            )


def table_columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
