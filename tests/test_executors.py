"""Executors: same results everywhere, exceptions through result(), as_completed, shutdown and cancel."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

import pytest

from noprune.errors import UnknownNameError, UserError
from noprune.sweep.executors import EXECUTORS, Executor, SerialExecutor, make_executor
from tests.executor_payloads import boom, nap, square, torch_threads

ROOT = Path(__file__).resolve().parents[1]
KINDS = ["serial", "process", "dask", "slurm"]


def _children() -> dict[int, str]:
    """This process's descendants (pid -> command line), without multiprocessing's resource tracker."""
    try:
        import psutil
    except ImportError:
        return {p.pid: p.name for p in multiprocessing.active_children()}
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "resource_tracker" not in command:
            found[child.pid] = command
    return found


@pytest.fixture(autouse=True)
def no_processes_left_behind():
    before = set(_children())
    yield
    # Cancelled submitit jobs exit within seconds on an idle machine; on one busy with other
    # work (two sweep workers beside the tests) one slurm case took longer than 15 s.
    deadline = time.monotonic() + 60
    while (left := {pid: c for pid, c in _children().items() if pid not in before}) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert not left, f"processes left behind: {left}"


def make(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int = 2) -> Executor:
    """The executor of this kind for tests, skipped when its optional dependency is missing."""
    if kind == "dask":
        pytest.importorskip("distributed")
        return make_executor("dask", workers=workers)
    if kind == "slurm":
        pytest.importorskip("submitit")
        # submitit's local jobs are fresh interpreters: they must find tests.executor_payloads
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        options = {"cluster": "local", "folder": str(tmp_path / "slurm"), "timeout_min": "5"}
        return make_executor("slurm", workers=workers, options=options)
    return make_executor(kind, workers=workers)


@pytest.mark.parametrize("kind", KINDS)
def test_results_errors_as_completed_and_shutdown(kind, tmp_path, monkeypatch):
    xs = [3, -1, 4, 0, 5, 2]
    with make(kind, tmp_path, monkeypatch) as executor:
        assert executor.name == kind
        futures = [executor.submit(square, {"x": x}) for x in xs]
        futures.append(executor.submit(square, {"x": 7}, offset=1))
        failures = [executor.submit(boom, {"x": x}) for x in (8, 9)]
        everything = futures + failures
        seen = list(executor.as_completed(everything + everything[:2]))  # duplicates are yielded once
        assert len(seen) == len(everything)
        assert {id(f) for f in seen} == {id(f) for f in everything}
        assert all(f.done() for f in everything)
        results = sorted((f.result() for f in futures), key=lambda r: r["x"])
        expected = sorted(
            [{"x": x, "square": x * x} for x in xs] + [{"x": 7, "square": 50}], key=lambda r: r["x"]
        )
        assert results == expected
        for x, future in zip((8, 9), failures, strict=True):
            with pytest.raises(ValueError, match=f"boom at x={x}"):
                future.result()
        if kind == "process":  # workers share the cores: torch.set_num_threads(cpu_count // workers)
            threads = executor.submit(torch_threads, {}).result()["threads"]
            assert threads == max(1, (os.cpu_count() or 1) // 2)
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(square, {"x": 1})
    executor.shutdown()  # a second shutdown is a no-op


@pytest.mark.parametrize("kind", ["process", "dask", "slurm"])
def test_an_exception_in_the_block_cancels_unfinished_work(kind, tmp_path, monkeypatch):
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt), make(kind, tmp_path, monkeypatch, workers=1) as executor:
        quick = executor.submit(nap, {"seconds": 0})
        assert quick.result()["seconds"] == 0
        slow = [executor.submit(nap, {"seconds": 60}) for _ in range(4)]
        time.sleep(0.5)
        raise KeyboardInterrupt
    assert time.monotonic() - start < 30
    if kind != "dask":  # dask futures are released with their client, results and all
        assert quick.done() and quick.result()["seconds"] == 0
        assert all(f.done() for f in slow)
        # never started: workers=1 and the first slow one holds the worker (a process pool queues at most 2)
        assert slow[-1].cancelled()


def test_serial_runs_lazily_in_as_completed_order():
    calls: list[int] = []

    def record(x: int) -> int:
        calls.append(x)
        return x

    executor = SerialExecutor()
    futures = [executor.submit(record, x) for x in (2, 0, 1)]
    assert calls == [] and not any(f.done() for f in futures)
    assert futures[2].result() == 1  # result() runs a call that as_completed has not reached
    assert [f.result() for f in executor.as_completed(futures)] == [1, 2, 0]  # finished ones first
    assert calls == [1, 2, 0]
    last = executor.submit(record, 5)
    executor.shutdown()  # without cancel, pending calls still run
    assert last.result() == 5 and calls == [1, 2, 0, 5]


def test_serial_interrupt_loses_only_the_run_in_progress():
    calls: list[int] = []

    def run(x: int) -> int:
        calls.append(x)
        if x == 1:
            raise KeyboardInterrupt
        return x

    with pytest.raises(KeyboardInterrupt), SerialExecutor() as executor:
        futures = [executor.submit(run, x) for x in range(4)]
        done = [f.result() for f in executor.as_completed(futures)]
    assert calls == [0, 1] and "done" not in locals()
    assert futures[0].result() == 0
    assert isinstance(futures[1].exception(), KeyboardInterrupt)
    assert futures[2].cancelled() and futures[3].cancelled()


def test_executors_table_and_unknown_names():
    assert list(EXECUTORS) == KINDS
    assert all(isinstance(v, str) and "\n" not in v for v in EXECUTORS.values())
    with pytest.raises(UnknownNameError, match="unknown executor 'bogus'; choose one of: dask, process"):
        make_executor("bogus")
    with pytest.raises(UserError, match="takes no options"):
        make_executor("serial", options={"address": "x"})
    with pytest.raises(UnknownNameError, match="unknown dask executor option 'adress'"):
        make_executor("dask", options={"adress": "tcp://h:8786"})
    with pytest.raises(UserError, match="workers"):
        make_executor("process", workers=-1)


def test_bad_slurm_options_are_user_errors(tmp_path):
    pytest.importorskip("submitit")
    folder = str(tmp_path / "slurm")
    with pytest.raises(UnknownNameError, match="slurm executor cluster 'moon'"):
        make_executor("slurm", options={"cluster": "moon", "folder": folder})
    with pytest.raises(UserError, match="timeout_min must be a int"):
        make_executor("slurm", options={"cluster": "local", "folder": folder, "timeout_min": "soon"})


@pytest.mark.parametrize(
    ("kind", "module", "hint"),
    [
        ("dask", "distributed", "the dask executor needs dask.distributed: pip install 'noprune[dask]'"),
        ("slurm", "submitit", "the slurm executor needs submitit: pip install 'noprune[slurm]'"),
    ],
)
def test_missing_optional_dependency_gives_the_install_hint(kind, module, hint, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(UserError) as info:
        make_executor(kind, options={"cluster": "local"} if kind == "slurm" else None)
    assert str(info.value) == hint


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_warm_starts_the_workers_before_any_work_and_changes_no_result(kind, tmp_path, monkeypatch):
    """ProcessExecutor.warm spawns every worker at once (each imports torch in its initializer
    while the driver gets the work ready); elsewhere it does nothing. Work submitted after it
    runs as before, and nothing is left behind (the autouse fixture)."""
    before = set(_children())
    with make(kind, tmp_path, monkeypatch) as executor:
        executor.warm()
        deadline = time.monotonic() + 30
        started = set(_children()) - before
        while kind == "process" and len(started) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
            started = set(_children()) - before
        assert len(started) == (2 if kind == "process" else 0)
        futures = [executor.submit(square, {"x": i}) for i in range(4)]
        assert sorted(f.result()["square"] for f in executor.as_completed(futures)) == [0, 1, 4, 9]


def test_a_killed_drivers_temporary_folder_is_removed_by_the_next(tmp_path, monkeypatch):
    """The process executor's mark folder is named after its driver's pid; a driver that was
    SIGKILLed cannot remove it, so the next process executor removes those of dead drivers."""
    import subprocess
    import tempfile

    from noprune.sweep.executors import MARKS_PREFIX

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    stale = tmp_path / f"{MARKS_PREFIX}{int(dead.stdout)}-abc"
    stale.mkdir()
    (stale / "0").write_text("1")
    alive = tmp_path / f"{MARKS_PREFIX}{os.getppid()}-def"  # a running process's folder stays
    alive.mkdir()
    with make_executor("process", workers=1) as executor:
        assert executor.submit(square, {"x": 3}).result()["square"] == 9
    assert not stale.exists() and alive.exists()
    assert not list(tmp_path.glob(f"{MARKS_PREFIX}{os.getpid()}-*"))  # its own, removed at shutdown
