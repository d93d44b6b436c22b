"""Executors with the ``concurrent.futures.Executor`` shape, on which the benchmark runner runs its sweeps.

Every executor takes a top-level, picklable function with plain JSON-able arguments (the runner's worker)
and returns futures with ``.result()`` and ``.done()``; an exception raised inside the function comes back
out of ``future.result()`` as the original exception type with its message:

* ``serial``  - the exception object itself, raised in the calling process.
* ``process`` - a pickled copy; its ``__cause__`` holds the worker's traceback as text. A call whose
  worker process died (SIGKILL from the out-of-memory killer, a segfault) raises ``WorkerDied``; the
  other calls go on in a rebuilt pool.
* ``dask``    - a copy rebuilt by ``distributed``, with the remote traceback attached.
* ``slurm``   - a pickled copy; the job's traceback is added as a note (``exc.__notes__``). Exceptions that
  cannot be pickled come back as ``RuntimeError("TypeName: message")``; a job that dies without raising
  (killed, timed out) gives submitit's ``FailedJobError`` / ``UncompletedJobError``.

``shutdown(cancel=False)`` waits for all submitted work, as ``concurrent.futures`` does;
``shutdown(cancel=True)`` cancels what has not finished (pending work, and also running work where the
backend can stop it: process workers are terminated, dask tasks and submitit jobs are cancelled). Used as a
context manager, an executor shuts down on exit and cancels unfinished work when the block raises (e.g.
``KeyboardInterrupt``). ``dask`` and ``slurm`` need optional extras (``noprune[dask]``, ``noprune[slurm]``),
imported only when such an executor is made.
"""

from __future__ import annotations

import abc
import concurrent.futures
import functools
import itertools
import multiprocessing
import os
import pickle
import shutil
import signal
import tempfile
import threading
import time
import traceback
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noprune.errors import UnknownNameError, UserError

EXECUTORS: dict[str, str] = {
    "serial": "one run at a time in this process, lazily, in as_completed order (Ctrl-C loses only one run)",
    "process": "a local pool of spawned worker processes (workers=0: one per CPU core)",
    "dask": "a dask.distributed cluster: options address=tcp://host:8786, or a local cluster of workers",
    "slurm": "submitit jobs on Slurm (options folder, partition, timeout_min, ...; cluster=local to test)",
}

_POLL_S = 0.1  # how often the slurm executor's watcher polls its jobs
_PARENT_POLL_S = 0.5  # how often a process-pool worker checks that its driver is alive


def _cpu_count() -> int:
    return os.cpu_count() or 1


def _unique(futures: Iterable[Any]) -> list[Any]:
    """The futures in order, each once."""
    return list(dict.fromkeys(futures))


class Executor(abc.ABC):
    """The common shape: ``submit``, ``as_completed``, ``shutdown`` and the context manager."""

    name: str = ""

    def __init__(self) -> None:
        self._closed = False

    @abc.abstractmethod
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Schedule ``fn(*args, **kwargs)``; return a future with ``.result()`` and ``.done()``."""

    @abc.abstractmethod
    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        """Yield each of ``futures`` once, as it finishes."""

    @abc.abstractmethod
    def shutdown(self, cancel: bool = False) -> None:
        """Release the executor's resources: wait for submitted work, or cancel what is unfinished."""

    def warm(self) -> None:  # noqa: B027 (a no-op unless the executor starts workers of its own)
        """Start the workers now, before any work is submitted (where the executor has workers
        of its own to start)."""

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"cannot submit to the {self.name} executor after shutdown")

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        self.shutdown(cancel=exc_type is not None)


# ---------------------------------------------------------------------------------------------------- serial


class _LazyFuture(concurrent.futures.Future):
    """A future whose call runs in the calling thread when first asked for (result, as_completed)."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        super().__init__()
        self._call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None = (fn, args, kwargs)

    def run(self) -> None:
        """Run the call unless done or cancelled; a KeyboardInterrupt is stored, then re-raised."""
        if self._call is None or self.cancelled():
            return
        fn, args, kwargs = self._call
        self._call = None
        self.set_running_or_notify_cancel()
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            self.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            self.set_result(value)

    def result(self, timeout: float | None = None) -> Any:
        self.run()
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self.run()
        return super().exception(timeout)


class SerialExecutor(Executor):
    """Runs each call in the calling process, lazily: a call runs when ``as_completed`` reaches it (in the
    order the futures were given, already finished ones first) or when its ``result()`` is asked for.

    Work is never done at ``submit`` time, so a Ctrl-C during a long serial sweep loses only the run in
    progress, and the rest are cancelled by ``shutdown(cancel=True)``. Not thread-safe.
    """

    name = "serial"

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[_LazyFuture] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        self._check_open()
        future = _LazyFuture(fn, args, kwargs)
        self._pending.append(future)
        return future

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        futures = _unique(futures)
        finished = [f for f in futures if f.done()]
        yield from finished
        seen = set(map(id, finished))
        for future in futures:
            if id(future) in seen:
                continue
            if isinstance(future, _LazyFuture):
                future.run()
            else:
                concurrent.futures.wait([future])
            yield future

    def shutdown(self, cancel: bool = False) -> None:
        self._closed = True
        pending, self._pending = self._pending, []
        for future in pending:
            if cancel:
                future.cancel()
            else:
                future.run()


# --------------------------------------------------------------------------------------------------- process


def _init_worker(threads: int, driver: int) -> None:
    """Process-pool initializer: give each worker its share of the cores, and end it when the
    driver is gone (a driver killed with SIGKILL cannot stop its workers; without this they
    would finish their calls for no one and then wait forever). Ctrl-C reaches every process
    of the terminal's group: a worker ignores it (a worker waiting for its next call would
    print a traceback) and the driver, which stores what finished, stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    torch.set_num_threads(threads)
    threading.Thread(target=_exit_with, args=(driver,), name="noprune-exit-with-driver", daemon=True).start()


def _exit_with(driver: int) -> None:
    while os.getppid() == driver:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


def _marked_call(mark: str, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Runs in a pool worker: note which process took the call (its pid in the file ``mark``),
    then make it. If the process dies, the pool learns whose call it held from this note."""
    with open(mark, "w") as f:
        f.write(str(os.getpid()))
    return fn(*args, **kwargs)


class WorkerDied(RuntimeError):
    """The worker process running a call died (killed by a signal, as the out-of-memory killer
    does, or exited) before the call returned."""


def _death(exitcode: int | None) -> str | None:
    """How a worker ended, if it died by itself; None if it is alive, exited cleanly, or was
    terminated by the pool (SIGTERM) after another worker died."""
    if exitcode is None or exitcode in (0, -signal.SIGTERM):
        return None
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        hint = "; the out-of-memory killer sends it when memory runs out" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exited with code {exitcode}"


MARKS_PREFIX = "noprune-calls-"
"""The process executor's folder of call marks: ``TMPDIR/noprune-calls-<driver pid>-<random>``."""


def _remove_stale_marks() -> None:
    """Remove the mark folders of drivers that are gone (killed before they could clean up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{MARKS_PREFIX}*-*"):
        pid = folder.name[len(MARKS_PREFIX) :].partition("-")[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # alive, another user's
            pass


@dataclass
class _Call:
    """One submitted call of the process executor, and how many pools broke while it ran."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    mark: Path
    breaks: int = 0


class ProcessExecutor(Executor):
    """A ``ProcessPoolExecutor`` with the "spawn" start method (fork is unsafe with torch's threads); each
    worker runs ``torch.set_num_threads(max(1, os.cpu_count() // workers))``.

    A worker that dies (SIGKILL from the out-of-memory killer, a segfault, ``os._exit``) breaks a
    ``ProcessPoolExecutor`` and fails every call in it. Here the call that the dead worker held
    fails alone, with :class:`WorkerDied`; the pool is rebuilt and every other unfinished call is
    submitted again (a call whose pool breaks ``MAX_BREAKS`` times while it runs fails too).

    Spawned workers re-import the main module: scripts that use it need an ``if __name__ == "__main__":``
    guard. ``shutdown(cancel=True)`` cancels unfinished calls and terminates the workers.
    """

    name = "process"
    MAX_BREAKS = 3

    def __init__(self, workers: int = 0) -> None:
        super().__init__()
        self.workers = workers or _cpu_count()
        self._threads = max(1, _cpu_count() // self.workers)
        _remove_stale_marks()
        self._marks = Path(tempfile.mkdtemp(prefix=f"{MARKS_PREFIX}{os.getpid()}-"))
        self._count = itertools.count()
        self._lock = threading.RLock()
        self._calls: dict[concurrent.futures.Future, _Call] = {}
        self._broken: list[tuple[concurrent.futures.Future, _Call]] = []
        self._pool = self._new_pool()

    def warm(self) -> None:
        """Spawn every worker now: each imports torch (its initializer) while the caller gets
        the work ready. A pool spawns a worker per submitted call while none is idle, so one
        trivial call per worker starts them all."""
        with self._lock:
            for _ in range(self.workers):
                self._pool.submit(os.getpid)

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._threads, os.getpid()),
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        self._check_open()
        outer: concurrent.futures.Future = concurrent.futures.Future()
        call = _Call(fn, args, kwargs, self._marks / str(next(self._count)))
        with self._lock:
            self._calls[outer] = call
            self._start(outer, call)
        return outer

    def _start(self, outer: concurrent.futures.Future, call: _Call) -> None:
        """Submit ``call`` to the current pool (the caller holds the lock)."""
        pool = self._pool
        try:
            inner = pool.submit(_marked_call, str(call.mark), call.fn, call.args, call.kwargs)
        except BrokenProcessPool:  # it broke a moment ago: the call waits for the next pool
            self._hold(outer, call, pool)
            return
        inner.add_done_callback(lambda f: self._finished(outer, call, pool, f))

    def _hold(
        self, outer: concurrent.futures.Future, call: _Call, pool: concurrent.futures.ProcessPoolExecutor
    ) -> None:
        """Keep a call that ``pool`` failed by breaking; the first one held starts the recovery."""
        with self._lock:
            first = not self._broken
            self._broken.append((outer, call))
        if first:
            threading.Thread(target=self._recover, args=(pool,), daemon=True).start()

    def _finished(
        self,
        outer: concurrent.futures.Future,
        call: _Call,
        pool: concurrent.futures.ProcessPoolExecutor,
        inner: concurrent.futures.Future,
    ) -> None:
        """The inner future is done: pass its outcome on, or, if its pool broke, hold the call
        for :meth:`_recover` (the first broken call of a pool starts it)."""
        error = None if inner.cancelled() else inner.exception()
        if isinstance(error, BrokenProcessPool) and not self._closed:
            self._hold(outer, call, pool)
            return
        with self._lock:
            self._calls.pop(outer, None)
        call.mark.unlink(missing_ok=True)
        if inner.cancelled() or outer.done():
            outer.cancel()
        elif error is not None:
            _settle(outer, exc=error)
        else:
            _settle(outer, value=inner.result())

    def _recover(self, pool: concurrent.futures.ProcessPoolExecutor) -> None:
        """After ``pool`` broke: fail the calls of the worker that died, rerun the others."""
        processes = dict(getattr(pool, "_processes", None) or {})
        manager = getattr(pool, "_executor_manager_thread", None)
        if manager is not None:
            manager.join()  # the pool has failed every call it held and stopped its workers
        for process in processes.values():
            process.join()
        deaths = {pid: _death(process.exitcode) for pid, process in processes.items()}
        with self._lock:
            broken, self._broken = self._broken, []
            if self._closed:
                for outer, _ in broken:
                    outer.cancel()
                return
            self._pool = self._new_pool()
            for outer, call in broken:
                pid = _read_pid(call.mark)
                death = deaths.get(pid) if pid is not None else None
                call.breaks += pid is not None
                if death is None and call.breaks < self.MAX_BREAKS:
                    call.mark.unlink(missing_ok=True)
                    self._start(outer, call)
                    continue
                self._calls.pop(outer, None)
                why = death or f"its worker was lost {call.breaks} times"
                _settle(outer, exc=WorkerDied(f"the worker process {pid} running this call died: {why}"))

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return concurrent.futures.as_completed(_unique(futures))

    def shutdown(self, cancel: bool = False) -> None:
        if self._closed:
            return
        if not cancel:
            concurrent.futures.wait(list(self._calls))  # reruns after a worker died included
        with self._lock:
            self._closed = True
            pool = self._pool
            outers = list(self._calls)
        if not cancel:
            pool.shutdown(wait=True)
            shutil.rmtree(self._marks, ignore_errors=True)
            return
        for outer in outers:
            outer.cancel()
        processes = list((getattr(pool, "_processes", None) or {}).values())
        manager = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
        if manager is not None:
            manager.join(timeout=10)
        shutil.rmtree(self._marks, ignore_errors=True)


def _read_pid(mark: Path) -> int | None:
    """The pid a worker wrote when it took a call, or None if no worker took it."""
    try:
        return int(mark.read_text())
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------------------------------------------ dask


DASK_CONNECT_SECONDS = 10
"""How long a connection to a Dask scheduler given by ``address`` may take before it is refused."""


def _connect(distributed: Any, address: str) -> Any:
    """A client of the scheduler at ``address``, or one error line (distributed's own logging of
    the failed attempts silenced while it tries)."""
    import logging

    quiet = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.comm")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.CRITICAL)
    try:
        return distributed.Client(address, timeout=DASK_CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise UserError(
            f"cannot reach the Dask scheduler at {address!r} ({reason}); start it, or check "
            "--executor-option address=tcp://HOST:PORT"
        ) from None
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UserError("the dask executor needs dask.distributed: pip install 'noprune[dask]'") from None
    return distributed


class DaskExecutor(Executor):
    """A ``distributed.Client``: to the scheduler at ``address``, or to a ``LocalCluster`` of ``workers``
    single-threaded worker processes that it starts and closes on shutdown.

    Local workers get ``OMP_NUM_THREADS = max(1, os.cpu_count() // workers)`` (read by torch at import);
    workers of a remote cluster are configured by whoever started them. Tasks are submitted with
    ``pure=False``, so equal arguments still run again. Futures are ``distributed.Future`` objects, usable
    only until shutdown: collect results inside the ``with`` block.
    """

    name = "dask"

    def __init__(self, workers: int = 0, address: str | None = None, dashboard: str | None = None) -> None:
        super().__init__()
        distributed = _import_distributed()
        self._distributed = distributed
        self._cluster = None
        if address:
            self._client = _connect(distributed, address)
        else:
            workers = workers or _cpu_count()
            threads = str(max(1, _cpu_count() // workers))
            # without a dashboard, the scheduler's HTTP server still starts: on a free port, not 8787
            self._cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=dashboard or ":0",
                scheduler_kwargs={"dashboard": bool(dashboard)},
                env={"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads},
            )
            try:
                self._client = distributed.Client(self._cluster)
            except BaseException:
                self._cluster.close()
                raise
        self._futures: weakref.WeakSet[Any] = weakref.WeakSet()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        self._check_open()
        # keyword arguments go through a partial, so names like `key` or `priority` reach fn, not dask
        call = functools.partial(fn, **kwargs) if kwargs else fn
        future = self._client.submit(call, *args, pure=False)
        self._futures.add(future)
        return future

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return iter(self._distributed.as_completed(_unique(futures)))

    def shutdown(self, cancel: bool = False) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            unfinished = [f for f in list(self._futures) if not f.done()]
            if unfinished:
                if cancel:
                    self._client.cancel(unfinished, force=True)
                else:
                    self._distributed.wait(unfinished)
        finally:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()


# ----------------------------------------------------------------------------------------------------- slurm


def _import_submitit() -> Any:
    try:
        import submitit
    except ImportError:
        raise UserError("the slurm executor needs submitit: pip install 'noprune[slurm]'") from None
    return submitit


def _call_capturing(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], threads: int
) -> tuple[bool, Any]:
    """Runs inside a submitit job: ``(True, result)`` or ``(False, exception)``, so the exception's type
    survives (submitit itself would raise a ``FailedJobError`` holding only the traceback text)."""
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        return True, fn(*args, **kwargs)
    except Exception as exc:
        text = "".join(traceback.format_exception(exc))
        try:
            exc.add_note(f"traceback in the submitit job:\n{text}")
            pickle.dumps(exc)  # it must travel back from the job
        except Exception:
            exc = RuntimeError(f"{type(exc).__name__}: {exc}\n{text}")
        return False, exc


_SLURM_INTS = ("timeout_min", "gpus_per_node", "cpus_per_task")
_SLURM_OPTIONS = ("folder", "cluster", "partition", "mem_gb", "name", *_SLURM_INTS)


class SlurmExecutor(Executor):
    """Submitit jobs, one per call, through ``submitit.AutoExecutor(folder=..., cluster=...)``.

    Options (strings): ``folder`` (default ``runs/slurm``), ``cluster`` (``auto``, ``slurm`` or ``local``:
    submitit's local executor, for tests and laptops), ``timeout_min`` (default 60), ``gpus_per_node``,
    ``cpus_per_task``, ``mem_gb``, ``partition`` (``slurm_partition``), ``name``, and any ``slurm_*``
    parameter of submitit passed through as a string (``slurm_account``, ``slurm_qos``, ...).

    Futures are ``concurrent.futures.Future`` objects fed by a watcher thread that submits the calls, at
    most ``workers`` jobs at a time (workers=0: no limit on Slurm, one per CPU core on the local cluster),
    and polls ``job.done()`` every 0.1 s; ``future.job`` is the submitit job once submitted. Each job runs
    torch with ``cpus_per_task`` threads (locally: ``os.cpu_count() // workers``).
    """

    name = "slurm"

    def __init__(self, workers: int = 0, options: dict[str, str] | None = None) -> None:
        super().__init__()
        submitit = _import_submitit()
        options = dict(options or {})
        cluster = options.pop("cluster", "auto")
        if cluster not in ("auto", "slurm", "local"):
            raise UnknownNameError("slurm executor cluster", cluster, ["auto", "slurm", "local"])
        folder = options.pop("folder", "runs/slurm")
        try:
            self._executor = submitit.AutoExecutor(
                folder=folder, cluster=None if cluster == "auto" else cluster
            )
        except (RuntimeError, ValueError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise UserError(f"cannot start the slurm executor with cluster={cluster!r}: {message}") from None
        self.cluster: str = self._executor.cluster
        params: dict[str, Any] = {"timeout_min": 60}
        for key, value in options.items():
            if key in _SLURM_INTS:
                params[key] = _parse_number(key, value, int)
            elif key == "mem_gb":
                params[key] = _parse_number(key, value, float)
            elif key == "partition":
                params["slurm_partition"] = value
            elif key == "name" or key.startswith("slurm_"):
                params[key] = value
        try:
            self._executor.update_parameters(**params)
        except (NameError, ValueError) as exc:
            raise UserError(f"bad slurm executor options: {str(exc).splitlines()[0]}") from None
        if workers:
            self._limit = workers
        else:
            self._limit = _cpu_count() if self.cluster == "local" else 1 << 30
        if "cpus_per_task" in params:
            self._threads = max(1, params["cpus_per_task"])
        else:
            self._threads = (
                max(1, _cpu_count() // min(self._limit, _cpu_count())) if self.cluster == "local" else 1
            )
        self._queue: deque[tuple[concurrent.futures.Future, Callable[..., Any], tuple, dict]] = deque()
        self._running: dict[concurrent.futures.Future, Any] = {}
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._watch, name="noprune-slurm-watcher", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        self._check_open()
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.job = None  # type: ignore[attr-defined]
        with self._wake:
            self._queue.append((future, fn, args, kwargs))
            self._wake.notify()
        return future

    def as_completed(self, futures: Iterable[Any]) -> Iterator[Any]:
        return concurrent.futures.as_completed(_unique(futures))

    def _watch(self) -> None:
        """The watcher thread: submit queued calls within the limit, collect finished jobs."""
        while True:
            with self._wake:
                if self._stop or (self._closed and not self._queue and not self._running):
                    return
                starting = []
                while self._queue and len(self._running) + len(starting) < self._limit:
                    starting.append(self._queue.popleft())
            for future, fn, args, kwargs in starting:
                if future.cancelled():
                    continue
                try:
                    job = self._executor.submit(_call_capturing, fn, args, kwargs, self._threads)
                except Exception as exc:
                    _settle(future, exc=exc)
                    continue
                future.job = job  # type: ignore[attr-defined]
                with self._wake:
                    self._running[future] = job
            for future, job in list(self._running.items()):
                try:
                    if future.cancelled():
                        job.cancel(check=False)
                    elif not job.done():
                        continue
                    else:
                        ok, value = job.result()
                        if ok:
                            _settle(future, value=value)
                        else:
                            _settle(future, exc=value)
                except Exception as exc:
                    _settle(future, exc=exc)
                with self._wake:
                    self._running.pop(future, None)
            with self._wake:
                if not starting:
                    self._wake.wait(_POLL_S)

    def shutdown(self, cancel: bool = False) -> None:
        if self._closed:
            return
        with self._wake:
            self._closed = True
            if cancel:
                self._stop = True
                while self._queue:
                    self._queue.popleft()[0].cancel()
            self._wake.notify()
        self._thread.join()
        if not cancel:
            return
        jobs = list(self._running.items())
        self._running.clear()
        for future, job in jobs:
            future.cancel()
            try:
                job.cancel(check=False)
            except Exception:  # a job that already ended, or a Slurm hiccup: nothing left to stop
                pass
        if self.cluster == "local":  # wait for the local job processes to go, so none is left behind
            deadline = time.monotonic() + 10
            for _, job in jobs:
                while not job.done() and time.monotonic() < deadline:
                    time.sleep(_POLL_S)


def _settle(
    future: concurrent.futures.Future, *, value: Any = None, exc: BaseException | None = None
) -> None:
    """Finish a future unless it was cancelled meanwhile."""
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(value)
    except concurrent.futures.InvalidStateError:
        pass


def _parse_number(key: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise UserError(f"slurm executor option {key} must be a {kind.__name__}, got {value!r}") from None


# ------------------------------------------------------------------------------------------------------ make


_OPTIONS: dict[str, tuple[str, ...]] = {
    "serial": (),
    "process": (),
    "dask": ("address", "dashboard"),
    "slurm": _SLURM_OPTIONS,
}


def make_executor(name: str, *, workers: int = 0, options: dict[str, str] | None = None) -> Executor:
    """The executor called ``name`` (see ``EXECUTORS``); ``workers=0`` picks a sensible default.

    ``options`` are executor-specific strings: dask ``address`` (``tcp://host:8786``; absent: start a local
    cluster) and ``dashboard`` (e.g. ``:8787``; absent: no dashboard); slurm: see ``SlurmExecutor``.
    """
    if name not in EXECUTORS:
        raise UnknownNameError("executor", name, list(EXECUTORS))
    if workers < 0:
        raise UserError(f"workers must be 0 (a default) or a positive count, got {workers}")
    options = dict(options or {})
    for key in options:
        if key not in _OPTIONS[name] and not (name == "slurm" and key.startswith("slurm_")):
            if not _OPTIONS[name]:
                raise UserError(f"the {name} executor takes no options; got {key!r}")
            raise UnknownNameError(f"{name} executor option", key, list(_OPTIONS[name]))
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers, address=options.get("address"), dashboard=options.get("dashboard"))
    return SlurmExecutor(workers, options)
