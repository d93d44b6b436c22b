"""Fault injection: what a sweep survives, run as a user would meet each fault.

A worker killed as the out-of-memory killer kills it (SIGKILL), on the process and the Dask
executors; the driver killed (SIGKILL) or stopped (SIGTERM); two drivers on one store through a
symlink; a disk that fills up (RLIMIT_FSIZE); a read-only store folder. After each: no finished
result lost, none duplicated, no row left marked running, every message one line.

The worker is killed by a plugin pruner (an entry point in a folder on PYTHONPATH, as an
installed distribution would be) that sends SIGKILL to its own process when its setting
``die`` is 1, so exactly the runs meant to die do.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from noprune.sweep.store import Store
from tests.test_runner import alive

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
import dataclasses
import os
import signal

import torch

import pruners


@dataclasses.dataclass
class Doomed(pruners.ScoringPruner):
    """Magnitude, except that with die=1 it kills its own process as the OOM killer would."""

    name = "doomed"
    description = "magnitude, or SIGKILL to its own process with die=1 (fault injection)"
    uses_data = False
    die: int = 0

    def score(self, net, masks, batch):
        if self.die:
            os.kill(os.getpid(), signal.SIGKILL)
        return [w.detach().abs() for w in net.weights()]
'''

SUITE = """
name = "faults"
description = "fault injection"
[fixed]
data = "gaussian:n=40,d=10,n_test=50"
model = "mlp:16,16"
train.epochs = {epochs}
train.batch_size = 8
prune.pruner = "doomed"
prune.density = 0.5
[[grid]]
seed = {{range = [0, {runs}]}}
[[grid]]
seed = [0]
"prune.settings.die" = [{die}]
"""


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """A folder that, on PYTHONPATH, holds the ``doomed`` pruner as an installed plugin."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "noprune_fault_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = folder / "noprune_fault_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: noprune-fault-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[noprune.pruners]\ndoomed = noprune_fault_plugin:Doomed\n")
    return folder


def environment(plugin: Path) -> dict[str, str]:
    path = os.pathsep.join([str(plugin), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path}


def suite(tmp_path: Path, *, runs: int = 6, die: int = 1, epochs: int = 3) -> Path:
    path = tmp_path / "faults.toml"
    path.write_text(SUITE.format(runs=runs, die=die, epochs=epochs))
    return path


def noprune(plugin: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "noprune", *args],
        env=environment(plugin),
        capture_output=True,
        text=True,
        timeout=kwargs.pop("timeout", 240),
        **kwargs,
    )


def run_args(suite_file: Path, store: Path) -> list[str]:
    return ["run", str(suite_file), "--store", str(store), "--results", str(store.parent / "res")]


def rows(store: Path) -> dict[str, tuple[str, str | None, str | None]]:
    """{key: (status, metrics JSON, error)}, read-only."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    found = {k: (s, m, e) for k, s, m, e in db.execute("SELECT key, status, metrics, error FROM runs")}
    db.close()
    return found


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("noprune: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_a_worker_killed_for_memory_fails_only_its_run(tmp_path, plugin, executor):
    """Issue 18, item 1: at 6efcd36 one killed worker failed every run of the sweep, started or
    not ("0 done, 28 failed"), and the exit code was 0."""
    if executor == "dask":
        pytest.importorskip("distributed")
    store = tmp_path / "s.sqlite"
    extra = ["--executor", executor, "--workers", "2", "--batch", "1", "--no-progress"]
    result = noprune(plugin, *run_args(suite(tmp_path), store), *extra)
    assert result.returncode == 1, result.stderr  # runs failed: non-zero, after the summary
    assert "6 done, 1 failed" in result.stdout
    assert "Traceback" not in result.stderr
    stored = rows(store)
    failed = [(k, e) for k, (s, _, e) in stored.items() if s == "failed"]
    assert len(stored) == 7 and len(failed) == 1
    key, error = failed[0]
    died = "SIGKILL" if executor == "process" else "KilledWorker"
    assert died in error
    with Store.open(store) as s:
        die = {r.key: r.config["prune"].get("settings", {}).get("die", 0) for r in s.records()}
    assert die[key] == 1 and sum(die.values()) == 1


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def finished(store: Path) -> int:
    try:
        return sum(s == "done" for s, _, _ in rows(store).values())
    except sqlite3.Error:  # not made yet
        return 0


def marked_running(store: Path) -> int:
    try:
        return sum(s == "running" for s, _, _ in rows(store).values())
    except sqlite3.Error:
        return 0


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_stopped_driver_leaves_no_run_marked_running_and_resumes_each_once(tmp_path, plugin, how):
    """Items 2: after SIGTERM the driver returns its in-flight rows to pending before it exits;
    after SIGKILL (nothing can run) `noprune status` calls them interrupted, not running; the
    resume then finishes every run exactly once."""
    store = tmp_path / "s.sqlite"
    slow = suite(tmp_path, runs=6, die=0, epochs=1500)  # about 2 s a run
    driver = subprocess.Popen(
        [sys.executable, "-m", "noprune", *run_args(slow, store), "--workers", "2", "--batch", "1"],
        env=environment(plugin),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: marked_running(store) > 0)
        time.sleep(0.5)
        workers = children(driver.pid)
        driver.send_signal(getattr(signal, how))
        driver.wait(timeout=60)
        # the workers end with their driver, even one killed with SIGKILL (at 6efcd36 they
        # lived on, holding their memory, until killed by hand)
        wait_for(lambda: not any(alive(pid) for pid in workers), seconds=20)
        stderr = driver.stderr.read()
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    status = noprune(plugin, "status", "faults", "--store", str(store))
    assert status.returncode == 0
    header, line = status.stdout.splitlines()[:2]
    left = int(line.split()[-1])
    if how == "SIGTERM":
        assert driver.returncode == 130 and "interrupted" in stderr
        assert "stored" in stderr and "Traceback" not in stderr
        assert marked_running(store) == 0  # returned to pending before the exit
    else:
        assert header.split()[-1] == "interrupted" and left > 0  # no live driver holds the lock
    resumed = noprune(plugin, *run_args(slow, store), "--workers", "2", "--batch", "1", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stdout
    assert [s for s, _, _ in rows(store).values()] == ["done"] * 6  # die=0 is the default: 6 runs


def test_ctrl_c_with_a_worker_waiting_prints_one_line(tmp_path, plugin):
    """Ctrl-C reaches the whole process group; near a sweep's end one worker waits for a call
    that will not come. Only the driver speaks: one line (a waiting worker used to print its
    KeyboardInterrupt traceback), and the finished runs are stored."""
    store = tmp_path / "s.sqlite"
    slow = suite(tmp_path, runs=5, die=0, epochs=1500)  # about 2 s a run
    driver = subprocess.Popen(
        [sys.executable, "-m", "noprune", *run_args(slow, store), "--workers", "2", "--batch", "1", "-q"],
        env=environment(plugin),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal gives a command
    )
    try:
        wait_for(lambda: finished(store) >= 4)
        os.killpg(driver.pid, signal.SIGINT)
        driver.wait(timeout=60)
        stderr = driver.stderr.read()
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    if driver.returncode == 0:
        pytest.skip("the last run finished before the interrupt arrived")
    assert driver.returncode == 130
    assert stderr.splitlines() == [
        "noprune: interrupted; finished results are stored, run the same command to resume"
    ], stderr


def test_two_drivers_through_a_symlink_share_one_lock(tmp_path, plugin):
    """Item 3: at 6efcd36 the lock was keyed on the path's name, so a driver through a symlink
    to the store (or to its folder) ran the same sweep at once, computing every run twice."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link.sqlite").symlink_to(real / "s.sqlite")
    (tmp_path / "folder").symlink_to(real)
    with Store.open(real / "s.sqlite") as first:
        first.lock()
        for other in (
            tmp_path / "link.sqlite",
            tmp_path / "folder" / "s.sqlite",
            Path(os.path.relpath(real / "s.sqlite")),
        ):
            result = noprune(plugin, *run_args(suite(tmp_path, die=0), other), "--no-progress")
            assert result.returncode == 2
            assert "another noprune run (pid" in one_error_line(result.stderr)
        assert first.driver_running()
    assert sum(Store.open(real / "s.sqlite").counts().values()) == 0  # the refused drivers ran nothing


def test_a_hard_linked_store_is_refused_by_a_second_driver(tmp_path, plugin):
    """Two names of one store file (a hard link) would be two locks: the driver refuses, with
    one line, and runs nothing."""
    with Store.open(tmp_path / "s.sqlite"):
        pass
    os.link(tmp_path / "s.sqlite", tmp_path / "twin.sqlite")
    for name in ("s.sqlite", "twin.sqlite"):
        result = noprune(plugin, *run_args(suite(tmp_path, die=0), tmp_path / name), "--no-progress")
        assert result.returncode == 2
        assert "has 2 names (hard links)" in one_error_line(result.stderr)
    assert sum(Store.open(tmp_path / "s.sqlite").counts().values()) == 0


def limit_file_size(size: int):
    """A preexec_fn: files this process writes stop at ``size`` bytes (EFBIG), as on a full disk."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails instead of killing us
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


def test_a_full_disk_ends_the_sweep_with_one_line_and_keeps_every_stored_result(tmp_path, plugin):
    """A disk that fills up mid-sweep: one error line, exit 2; what the store holds is intact
    (SQLite's transactions), and a resume with room finishes each run once."""
    store = tmp_path / "s.sqlite"
    path = suite(tmp_path, runs=24, die=0)
    args = [
        sys.executable,
        "-m",
        "noprune",
        *run_args(path, store),
        "--workers",
        "1",
        "--batch",
        "1",
        "--quiet",  # the error alone on standard error
    ]
    full = subprocess.run(
        args,
        env=environment(plugin),
        capture_output=True,
        text=True,
        timeout=240,
        preexec_fn=limit_file_size(100 * 1024),
    )
    assert full.returncode == 2, full.stderr
    assert "cannot write" in one_error_line(full.stderr)
    before = {k: v for k, v in rows(store).items() if v[0] == "done"}
    assert 0 < len(before) < 24  # it stopped part way
    resumed = noprune(plugin, *run_args(path, store), "--workers", "1", "--no-progress")
    assert resumed.returncode == 0, resumed.stderr
    after = rows(store)
    assert [s for s, _, _ in after.values()] == ["done"] * 24
    assert all(after[k] == v for k, v in before.items())  # stored results unchanged, not rerun


@contextlib.contextmanager
def sealable_folder(folder: Path):
    """A folder and a function that makes it read-only: by its mode for a normal user, by
    remounting a tmpfs read-only for root (whom modes do not stop); skips where root may not
    mount."""
    folder.mkdir()
    if os.geteuid() != 0:
        try:
            yield lambda: folder.chmod(0o555)
        finally:
            folder.chmod(0o755)
        return
    mount = shutil.which("mount")
    made = mount and subprocess.run([mount, "-t", "tmpfs", "tmpfs", str(folder)], capture_output=True)
    if not made or made.returncode != 0:
        pytest.skip("root here may not mount a tmpfs: no way to make a folder read-only for root")
    try:
        yield lambda: subprocess.run([mount, "-o", "remount,ro", str(folder)], check=True)
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_read_only_store_folder_gives_one_line(tmp_path, plugin):
    """A store in a folder that cannot be written: run refuses with one line, status reads it
    (or says in one line why not), and the folder is byte-identical afterwards."""
    results = ["--results", str(tmp_path / "res"), "--no-progress"]
    with sealable_folder(tmp_path / "ro") as seal:
        store = tmp_path / "ro" / "s.sqlite"
        first = noprune(plugin, *run_args(suite(tmp_path, runs=2, die=0), store), *results)
        assert first.returncode == 0, first.stderr
        seal()
        files = {p.name: p.read_bytes() for p in store.parent.iterdir()}
        result = noprune(plugin, *run_args(suite(tmp_path, runs=3, die=0), store), *results)
        assert result.returncode == 2
        assert "cannot be written (read-only)" in one_error_line(result.stderr)
        status = noprune(plugin, "status", "--store", str(store))
        assert status.returncode == 0, status.stderr
        assert status.stdout.splitlines()[1].split() == ["faults", "2", "0", "0", "0"]
        board = noprune(plugin, "leaderboard", "faults", "--store", str(store))
        assert board.returncode == 0 and "(2)" in board.stdout, board.stderr
        assert {p.name: p.read_bytes() for p in store.parent.iterdir()} == files


@contextlib.contextmanager
def small_disk(folder: Path, kib: int):
    """``folder`` as a file system of ``kib`` KiB (a tmpfs; root only, skipped elsewhere)."""
    folder.mkdir()
    mount = shutil.which("mount")
    made = (
        os.geteuid() == 0
        and mount
        and subprocess.run(
            [mount, "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)], capture_output=True
        )
    )
    if not made or made.returncode != 0:
        pytest.skip("only root that may mount a tmpfs can give a test a full disk")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Take every free byte of ``folder``'s file system."""
    with contextlib.suppress(OSError), open(folder / "filler", "wb", buffering=0) as handle:
        while True:
            handle.write(b"\0" * 4096)


def test_a_full_disk_is_named_and_leaves_no_store_that_later_runs_refuse(tmp_path, plugin):
    """A store whose first write fails for lack of room leaves no file behind; a healthy store
    on a disk that has since filled is called full, not corrupt, by run and status, and is
    byte-identical after both; with room again the sweep resumes."""
    quiet = ["--results", str(tmp_path / "res"), "--no-progress"]
    with small_disk(tmp_path / "tiny", 12) as disk:
        fill(disk)
        first = noprune(plugin, *run_args(suite(tmp_path, runs=2, die=0), disk / "s.sqlite"), *quiet)
        assert first.returncode == 2
        assert "the disk holding it is full" in one_error_line(first.stderr)
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    with small_disk(tmp_path / "small", 512) as disk:
        store = disk / "s.sqlite"
        assert noprune(plugin, *run_args(suite(tmp_path, runs=2, die=0), store), *quiet).returncode == 0
        fill(disk)
        files = {p.name: p.read_bytes() for p in disk.iterdir() if p.name != "filler"}
        for args in (
            run_args(suite(tmp_path, runs=3, die=0), store) + quiet,
            ["status", "--store", str(store)],
        ):
            result = noprune(plugin, *args)
            assert result.returncode == 2
            assert "the disk holding it is full" in one_error_line(result.stderr)
        assert {p.name: p.read_bytes() for p in disk.iterdir() if p.name != "filler"} == files
        (disk / "filler").unlink()
        resumed = noprune(plugin, *run_args(suite(tmp_path, runs=3, die=0), store), *quiet)
        assert resumed.returncode == 0, resumed.stderr
        assert [s for s, _, _ in rows(store).values()] == ["done"] * 3


def test_results_that_do_not_fit_name_their_file_and_leave_no_part_of_it(tmp_path, plugin):
    """A results folder on a full disk: one line naming the file that did not fit, the runs
    stored, and no partly written file in the folder."""
    store = tmp_path / "s.sqlite"
    with small_disk(tmp_path / "res", 64) as disk:
        fill(disk)
        args = run_args(suite(tmp_path, runs=2, die=0), store)[:-2]
        result = noprune(plugin, *args, "--results", str(disk), "--quiet")
        assert result.returncode == 2
        line = one_error_line(result.stderr)
        assert "No space left on device; the runs are stored" in line and "cannot write " in line
        assert [s for s, _, _ in rows(store).values()] == ["done"] * 2
        left = [p for p in disk.rglob("*") if p.is_file() and p.name != "filler"]
        assert all(p.stat().st_size > 0 and not p.name.endswith(".part") for p in left), left
