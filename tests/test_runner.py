"""Sweeps: resumable after SIGKILL at any moment, identical across executors, one driver per store."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noprune.cli import main
from noprune.config import run_key
from noprune.experiments import EXPERIMENTS
from noprune.sweep.runner import available_suites, expand, load_suite
from noprune.sweep.store import Store

TIMING = {"scoring_seconds", "train_seconds", "ensemble_size"}  # how a run was executed, not what it computed

SUITE = """
name = "tiny"
description = "a tiny sweep for tests"
[fixed]
data = "gaussian:n=40,d=10,n_test=50"
model = "mlp:16,16"
train.epochs = 20
train.batch_size = 8
train.lr = 0.05
prune.pretrain_epochs = 2
[grid]
"prune.pruner" = ["random", "snip", "imp"]
"prune.density" = [0.5, 0.1]
seed = [0, 1]
"""


@pytest.fixture
def suite_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SUITE)
    return path


def run_command(suite: Path, store: Path, results: Path, *extra: str) -> list[str]:
    """``python -m noprune run SUITE`` as a subprocess command line."""
    return [
        sys.executable,
        "-m",
        "noprune",
        "run",
        str(suite),
        "--store",
        str(store),
        "--no-progress",
        "--results",
        str(results),
        *extra,
    ]


def run_cli(suite: Path, store: Path, *extra: str) -> int:
    return main(
        [
            "run",
            str(suite),
            "--store",
            str(store),
            "--no-progress",
            "--results",
            str(store.parent / "results"),
            *extra,
        ]
    )


def stored(store: Path) -> dict[str, tuple[str, dict | None]]:
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = db.execute("SELECT key, status, metrics FROM runs").fetchall()
    db.close()
    return {
        k: (s, {m: v for m, v in json.loads(x).items() if m not in TIMING} if x else None) for k, s, x in rows
    }


def done_count(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
        n = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0]
        db.close()
        return n
    except sqlite3.Error:
        return 0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, tuple[str, dict | None]]:
    """The uninterrupted sweep, serial."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "tiny.toml").write_text(SUITE)
    assert run_cli(folder / "tiny.toml", folder / "s.sqlite", "--executor", "serial") == 0
    return stored(folder / "s.sqlite")


def test_suite_expands_to_the_grid_with_distinct_keys(suite_file):
    configs = expand(load_suite(str(suite_file)))
    assert len(configs) == 12 == len({run_key(c) for c in configs})
    assert {c.prune.pruner for c in configs} == {"random", "snip", "imp"}
    only = expand(load_suite(str(suite_file)), {"prune.density": 0.2, "train.epochs": 3})
    assert len(only) == 6 and {c.prune.density for c in only} == {0.2}


def test_grid_tables_expand_to_the_union_of_their_products_without_duplicates(tmp_path):
    """[[grid]] tables: a variant (SynFlow's rounds) for one pruner without rerunning the others."""
    head = SUITE.split("[grid]")[0]
    path = tmp_path / "union.toml"
    path.write_text(
        head
        + '[[grid]]\n"prune.pruner" = ["random", "synflow"]\nseed = [0, 1]\n'
        + '[[grid]]\n"prune.pruner" = ["synflow"]\n"prune.settings.rounds" = [2, 100]\nseed = [0, 1]\n'
    )
    configs = expand(load_suite(str(path)))
    # synflow with 100 rounds is the default: the second grid adds only the 2-round runs
    assert len(configs) == 6 == len({run_key(c) for c in configs})
    rounds = sorted((c.prune.pruner, dict(c.prune.settings).get("rounds", 100), c.seed) for c in configs)
    assert rounds == [
        ("random", 100, 0),
        ("random", 100, 1),
        ("synflow", 2, 0),
        ("synflow", 2, 1),
        ("synflow", 100, 0),
        ("synflow", 100, 1),
    ]
    assert len(expand(load_suite(str(path)), {"seed": 0})) == 3


def test_the_reference_sweep_stores_every_run_done(reference):
    assert len(reference) == 12
    assert all(status == "done" for status, _ in reference.values())
    assert all(0.0 <= m["test_accuracy"] <= 1.0 for _, m in reference.values())


@pytest.mark.parametrize("moment", ["after-first-result", "random-0", "random-1"])
def test_a_sweep_killed_with_sigkill_resumes_to_each_run_done_exactly_once(
    tmp_path, suite_file, reference, moment
):
    """Kill the driver and its workers (SIGKILL to the process group) mid-sweep, then resume.

    ``--batch 2`` makes six ensemble jobs of the twelve runs, so results arrive a few at a
    time; ensembles of two or more give bitwise the same per-member numbers whatever the
    grouping, so the resumed sweep must equal the uninterrupted one exactly.
    """
    store = tmp_path / "s.sqlite"
    command = run_command(
        suite_file, store, tmp_path / "results", "--executor", "process", "--workers", "2", "--batch", "2"
    )
    process = subprocess.Popen(
        command, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 60
    if moment == "after-first-result":
        while done_count(store) == 0 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
    else:  # an arbitrary moment: before, during or between results
        time.sleep(random.Random(moment).uniform(0.5, 4.0))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    interrupted = stored(store) if store.exists() else {}
    finished_before = sum(s == "done" for s, _ in interrupted.values())
    if moment == "after-first-result":
        assert 0 < finished_before < 12  # really interrupted, with results already stored
    assert run_cli(suite_file, store, "--executor", "process", "--workers", "2", "--batch", "2") == 0
    resumed = stored(store)
    assert set(resumed) == set(reference)
    assert all(status == "done" for status, _ in resumed.values())
    for key, (status, metrics) in interrupted.items():  # nothing stored was lost or redone
        if status == "done":
            assert resumed[key][1] == metrics
    assert resumed == reference  # deterministic runs: the same metrics as uninterrupted


@pytest.mark.parametrize("executor", ["process", "dask"])
def test_executors_give_identical_metrics(tmp_path, suite_file, reference, executor):
    if executor == "dask":
        pytest.importorskip("distributed")
    store = tmp_path / "s.sqlite"
    assert run_cli(suite_file, store, "--executor", executor, "--workers", "2") == 0
    assert stored(store) == reference


def test_a_second_driver_on_the_same_store_refuses_with_one_line(tmp_path, suite_file):
    store = tmp_path / "s.sqlite"
    slow = tmp_path / "slow.toml"
    slow.write_text(SUITE.replace("train.epochs = 20", "train.epochs = 4000"))
    first = subprocess.Popen(
        run_command(slow, store, tmp_path / "r1", "--executor", "serial", "--batch", "1"),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (store.parent / "s.sqlite.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)
        second = subprocess.run(
            run_command(suite_file, store, tmp_path / "r2"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1 and "another noprune run" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()


def children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_sigterm_to_the_driver_stops_its_workers_and_keeps_the_store(tmp_path, suite_file):
    """``kill DRIVER`` (SIGTERM to the driver alone, not its group) ends the sweep as Ctrl-C
    does: one line, exit 130, no worker left computing, and the store usable for a resume."""
    store = tmp_path / "s.sqlite"
    slow = tmp_path / "slow.toml"
    slow.write_text(SUITE.replace("train.epochs = 20", "train.epochs = 4000"))
    driver = subprocess.Popen(
        run_command(
            slow, store, tmp_path / "r", "--executor", "process", "--workers", "2", "--batch", "1", "--quiet"
        ),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:  # the pool's workers have started
            workers = {p for p in children(driver.pid) if "spawn_main" in cmdline(p)}
            time.sleep(0.05)
        assert len(workers) == 2
        while not running_rows(store) and time.monotonic() < deadline:  # and the sweep with them
            time.sleep(0.05)
        time.sleep(1.0)
        driver.send_signal(signal.SIGTERM)
        _, stderr = driver.communicate(timeout=60)
        assert driver.returncode == 130
        assert stderr.count("\n") == 1 and "interrupted" in stderr and "Traceback" not in stderr
        deadline = time.monotonic() + 20
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(alive(p) for p in workers)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait()
    with Store.open(store) as s:  # unlocked: a resume can start
        assert sum(s.counts().values()) == len(expand(load_suite(str(slow))))


def running_rows(store: Path) -> int:
    """Rows marked running in a store another process writes (0 before it has any)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
            return db.execute("SELECT COUNT(*) FROM runs WHERE status = 'running'").fetchone()[0]
    except sqlite3.Error:
        return 0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


MIXED = """
name = "mixed"
[fixed]
data = "gaussian:n=40,d=10,n_test=50"
prune.pruner = "random"
prune.density = 0.5
train.epochs = 5
train.batch_size = 8
[grid]
model = ["mlp:16,16", "cnn"]        # cnn on vector inputs raises inside the run
"train.lr" = [0.05, 1e12]           # 1e12 diverges: NaN loss
seed = [0, 1]
"""


def test_a_failing_or_diverging_run_is_stored_as_failed_and_the_sweep_goes_on(tmp_path):
    suite = tmp_path / "mixed.toml"
    suite.write_text(MIXED)
    store = tmp_path / "s.sqlite"
    assert run_cli(suite, store, "--executor", "serial") == 1  # runs failed: exit code 1
    db = sqlite3.connect(store)
    rows = db.execute("SELECT config, status, error FROM runs").fetchall()
    db.close()
    assert len(rows) == 8
    for config, status, error in rows:
        config = json.loads(config)
        if config["model"] == "cnn":
            assert status == "failed" and "UserError" in error and "needs image input" in error
        elif config["train"]["lr"] > 1:
            assert status == "failed" and "TrainingDiverged" in error
        else:
            assert status == "done" and error is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--set", "prune.bogus=1"], "unknown config field"),
        (["--set", "seed"], "field=value"),
        (["--executor", "mpi"], "unknown executor"),
        (["--set", "init=xavier"], "unknown init 'xavier'"),
        (["--set", "prune.scope=bad"], "scope must be global or layerwise"),
        (["--set", "prune.density=0"], "density must be in (0, 1]"),
    ],
)
def test_bad_run_arguments_give_one_line_and_exit_code_2(tmp_path, suite_file, capsys, extra, message):
    """Checked before any run starts: nothing is run, so nothing is stored as failed."""
    store = tmp_path / "s.sqlite"
    assert run_cli(suite_file, store, *extra) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    if store.exists():
        db = sqlite3.connect(store)
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
        db.close()


@pytest.mark.parametrize(
    "content",
    [
        "[grid\nseed = [0]",
        'name = "x"\n[grid]\nseed = 3\n',
        "[fixed]\nprune.bogus = 1\n",
        'colour = "red"\n',
        "grid = [1, 2]\n",
        '[[grid]]\nseed = [0]\n[[grid]]\n"prune.bogus" = [1]\n',
    ],
    ids=[
        "toml-syntax",
        "grid-not-list",
        "unknown-field",
        "unknown-key",
        "grid-not-tables",
        "bad-second-grid",
    ],
)
def test_malformed_suite_files_give_one_line_and_exit_code_2(tmp_path, capsys, content):
    suite = tmp_path / "bad.toml"
    suite.write_text(content)
    assert run_cli(suite, tmp_path / "s.sqlite") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("noprune: error:")


def test_status_ingest_leaderboard_and_plot(tmp_path, suite_file, capsys):
    json_dir = tmp_path / "json"
    store = tmp_path / "s.sqlite"
    assert run_cli(suite_file, store, "--executor", "serial", "--json-dir", str(json_dir)) == 0
    assert len(list(json_dir.glob("*.json"))) == 12
    capsys.readouterr()
    assert main(["status", "tiny", "--store", str(store)]) == 0
    assert "tiny" in capsys.readouterr().out
    other = tmp_path / "other.sqlite"
    (json_dir / "junk.json").write_text("{not json")
    (json_dir / ".tmp-abc.json").write_text("{half writ")  # a worker killed mid-write: ignored
    assert main(["ingest", str(json_dir), "--store", str(other), "--suite", "tiny"]) == 2
    assert "junk.json: not a JSON file" in capsys.readouterr().err
    assert not other.exists()  # all or nothing: the store was not even made
    (json_dir / "junk.json").unlink()
    assert main(["ingest", str(json_dir), "--store", str(other), "--suite", "tiny"]) == 0
    assert "ingested 12" in capsys.readouterr().out
    assert main(["ingest", str(json_dir), "--store", str(other), "--suite", "tiny"]) == 0
    assert "ingested 0" in capsys.readouterr().out  # nothing duplicated
    assert stored(other) == stored(store)
    for fmt in ("md", "latex", "csv", "html"):
        assert main(["leaderboard", "tiny", "--store", str(other), "--format", fmt]) == 0
        assert "snip" in capsys.readouterr().out
    assert main(["plot", "tiny", "--store", str(other), "--out", str(tmp_path / "p" / "acc")]) == 0
    assert (tmp_path / "p" / "acc.png").stat().st_size > 1000
    results = tmp_path / "results" / "tiny"
    assert {p.name for p in results.iterdir()} >= {
        "leaderboard.md",
        "runs.csv",
        "provenance.json",
        "test_accuracy.png",
        "test_accuracy.pdf",
    }
    assert main(["status", "--store", str(tmp_path / "missing.sqlite")]) == 2


@pytest.mark.parametrize(
    "content", [b"not a database at all\n" * 20, b"SQLite format 3\x00" + b"\x07" * 4000]
)
def test_a_corrupt_or_foreign_store_gives_one_line_exit_2_and_is_left_untouched(
    tmp_path, suite_file, capsys, content
):
    store = tmp_path / "s.sqlite"
    store.write_bytes(content)
    assert run_cli(suite_file, store) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ("not a noprune store" in err or "corrupt" in err)
    assert store.read_bytes() == content
    assert main(["leaderboard", "--store", str(store)]) == 2
    assert store.read_bytes() == content


def test_jobs_group_mlp_runs_by_batch_key_and_leave_the_rest_alone(suite_file):
    from noprune.sweep.runner import plan_jobs

    configs = expand(load_suite(str(suite_file)))
    jobs = plan_jobs(configs, batch=3)
    assert sorted(len(j) for j in jobs) == [2] * 6  # 3 pruners x 4 runs, in chunks of at most 3
    for job in jobs:
        assert len({(c.prune.pruner, c.train) for c in job}) == 1
    assert all(len(j) == 1 for j in plan_jobs(configs, batch=1))
    cnn = expand(load_suite(str(suite_file)), {"model": "cnn", "data": "digits"})
    assert all(len(j) == 1 for j in plan_jobs(cnn, batch=32))


def test_pruners_that_train_first_get_a_seeds_densities_in_one_ensemble(suite_file):
    """Seeds vary fastest in the grid: random's chunks hold one density, imp's one seed (whose
    densities then share their training, noprune.ensemble.pruning.after_training)."""
    from noprune.sweep.runner import plan_jobs

    jobs = plan_jobs(expand(load_suite(str(suite_file))), batch=2)
    chunks = {(j[0].prune.pruner, tuple((c.prune.density, c.seed) for c in j)) for j in jobs if len(j) > 1}
    assert ("random", ((0.5, 0), (0.5, 1))) in chunks and ("random", ((0.1, 0), (0.1, 1))) in chunks
    assert ("imp", ((0.5, 0), (0.1, 0))) in chunks and ("imp", ((0.5, 1), (0.1, 1))) in chunks


def test_the_memory_limit_caps_every_ensemble_of_a_group(suite_file):
    from noprune.sweep.runner import plan_jobs

    configs = expand(load_suite(str(suite_file)))
    assert sorted(len(j) for j in plan_jobs(configs, batch=32)) == [4] * 3
    capped = plan_jobs(configs, batch=32, limit=lambda c: 3)  # 4 per group: two of 2, not 3 + 1
    assert sorted(len(j) for j in capped) == [2] * 6
    assert sorted(len(j) for j in plan_jobs(configs, batch=32, limit=lambda c: None)) == [4] * 3
    assert sorted(len(j) for j in plan_jobs(configs, batch=3, limit=lambda c: 100)) == [2] * 6


def test_ensemble_limit_keeps_the_stacked_data_within_its_budget(monkeypatch, suite_file, tmp_path):
    import noprune.experiments as experiments
    from noprune.data import load_dataset

    config = expand(load_suite(str(suite_file)))[0]
    data = load_dataset(config.data, seed=config.seed)
    member = sum(t.nbytes for t in (data.x_train, data.y_train, data.x_test, data.y_test))
    assert member == 40 * 10 * 4 + 40 * 8 + 50 * 10 * 4 + 50 * 8  # float32 inputs, int64 labels
    monkeypatch.setattr(experiments, "ENSEMBLE_DATA_BYTES", 3 * member + 1)
    assert experiments.ensemble_limit(config, None) == 3
    monkeypatch.setattr(experiments, "ENSEMBLE_DATA_BYTES", member - 1)
    assert experiments.ensemble_limit(config, None) == 1
    absent = expand(load_suite(str(suite_file)), {"data": "fashionmnist"})[0]
    assert experiments.ensemble_limit(absent, str(tmp_path)) is None  # the runs will say why


def test_a_sweep_trains_ensembles_no_larger_than_the_memory_limit(
    monkeypatch, tmp_path, suite_file, reference
):
    import noprune.experiments as experiments

    monkeypatch.setattr(experiments, "ENSEMBLE_DATA_BYTES", 3 * 4320 + 1)  # 3 members of tiny's data
    store = tmp_path / "s.sqlite"
    assert run_cli(suite_file, store, "--executor", "serial") == 0
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    sizes = [json.loads(m)["ensemble_size"] for (m,) in db.execute("SELECT metrics FROM runs")]
    db.close()
    assert sizes == [2] * 12  # 4 runs per pruner: two ensembles of 2, where the default makes one of 4
    for key, (status, metrics) in stored(store).items():  # the same numbers as one ensemble of 4
        assert status == "done" and metrics["nnz"] == reference[key][1]["nnz"]
        assert metrics["train_loss"] == pytest.approx(reference[key][1]["train_loss"], rel=1e-4, abs=1e-6)


def test_batched_runs_agree_with_one_network_per_job(tmp_path, suite_file, reference):
    store = tmp_path / "s.sqlite"
    assert run_cli(suite_file, store, "--executor", "serial", "--batch", "1") == 0
    single = stored(store)
    assert set(single) == set(reference)
    for key, (_, batched) in reference.items():
        one = single[key][1]
        assert one["nnz"] == batched["nnz"] and one["per_layer_density"] == batched["per_layer_density"]
        assert one["effective_nnz"] == batched["effective_nnz"] <= one["nnz"]
        for metric in ("train_loss", "test_loss"):
            assert one[metric] == pytest.approx(batched[metric], rel=1e-4, abs=1e-6)
        assert one["test_accuracy"] == pytest.approx(batched["test_accuracy"], abs=0.021)  # one point of 50


def test_a_lone_run_gives_the_numbers_it_gets_inside_a_batch(suite_file):
    import torch

    from noprune.experiments import run_experiment_batch

    configs = [c for c in expand(load_suite(str(suite_file))) if c.prune.pruner == "imp"]
    together = run_experiment_batch(configs, device=torch.device("cpu"), data_root=None)
    alone = run_experiment_batch(configs[2:3], device=torch.device("cpu"), data_root=None)
    timing = {"scoring_seconds", "train_seconds", "ensemble_size"}
    assert {k: v for k, v in alone[0].items() if k not in timing} == {
        k: v for k, v in together[2].items() if k not in timing
    }


@pytest.mark.parametrize("name", available_suites())
def test_every_committed_suite_loads_and_expands(name):
    suite = load_suite(name)
    configs = expand(suite)
    assert configs and all(c.experiment in EXPERIMENTS for c in configs)
    assert len({run_key(c) for c in configs}) == len(configs)


def test_rerunning_a_suite_that_reproduces_its_numbers_keeps_the_committed_record(
    tmp_path, suite_file, capsys
):
    """A fresh store rerunning a suite whose results folder already holds the same runs with the
    same numbers (timings aside) keeps runs.csv and provenance.json byte for byte (README's main
    job leaves a clone clean); a run whose numbers differ rewrites them."""
    assert run_cli(suite_file, tmp_path / "a.sqlite") == 0
    results = tmp_path / "results" / "tiny"
    first = {
        name: (results / name).read_bytes() for name in ("runs.csv", "provenance.json", "leaderboard.md")
    }
    capsys.readouterr()
    assert run_cli(suite_file, tmp_path / "a2" / "b.sqlite", "--results", str(tmp_path / "results")) == 0
    assert "already record these runs and numbers; kept" in capsys.readouterr().err
    assert {name: (results / name).read_bytes() for name in first} == first
    assert run_cli(suite_file, tmp_path / "c.sqlite", "--set", "train.lr=0.07") == 0
    assert (results / "runs.csv").read_bytes() != first["runs.csv"]


def test_ingest_of_a_runs_csv_restores_the_suite_and_exports_it_byte_for_byte(tmp_path, capsys):
    """A committed runs.csv goes back into a store (to extend a suite without rerunning it):
    every run done with its numbers and provenance, none twice; a bad row is named, and nothing
    of its file is stored."""
    from noprune.sweep.runs_csv import write_rows

    committed = Path(__file__).resolve().parents[1] / "results" / "quick" / "runs.csv"
    store = tmp_path / "s.sqlite"
    assert main(["ingest", str(committed), "--store", str(store), "--suite", "quick"]) == 0
    rows = len(committed.read_text().splitlines()) - 1  # the header
    assert f"ingested {rows} results" in capsys.readouterr().out
    assert main(["ingest", str(committed), "--store", str(store), "--suite", "quick"]) == 0
    assert "ingested 0" in capsys.readouterr().out
    with Store.open(store) as s:
        write_rows(s.rows("quick"), tmp_path / "runs.csv")
    assert (tmp_path / "runs.csv").read_bytes() == committed.read_bytes()
    lines = committed.read_text().splitlines(keepends=True)
    (tmp_path / "bad.csv").write_text(lines[0] + "f" + lines[1][1:])  # a key that is not its config's
    assert main(["ingest", str(tmp_path / "bad.csv"), "--store", str(tmp_path / "t.sqlite")]) == 2
    assert "bad.csv:2: not a run of noprune (its config" in capsys.readouterr().err
    assert not (tmp_path / "t.sqlite").exists()  # nothing written


def test_jobs_go_longest_first_and_stay_the_same_jobs():
    from noprune.sweep.runner import expected_cost, longest_first, plan_jobs

    configs = expand(load_suite("quick"))
    jobs = plan_jobs(configs, 32)
    ordered = longest_first(jobs)
    assert sorted(map(id, ordered)) == sorted(map(id, jobs))
    first = [job[0].prune.pruner for job in ordered[:5]]
    # imp: 20+ trainings; synflow, px: 100 rounds; ntksap: 20 rounds of 5 draws; phew, at density
    # 0.5, ahead of the one-pass pruners (its walks cost with the density)
    assert first[0] == "imp" and set(first[1:4]) == {"synflow", "px", "ntksap"}
    order = [job[0].prune.pruner for job in ordered]
    assert order.index("phew") < min(order.index(p) for p in ("random", "snip", "grasp", "magnitude"))
    costs = [max(map(expected_cost, job)) for job in ordered]
    assert costs == sorted(costs, reverse=True)
    # imp at density 0.01: 21 rounds of 10 pretraining epochs, 21 scorings, 20 epochs after.
    imp = next(c for c in configs if c.prune.pruner == "imp" and c.prune.density == 0.01)
    assert expected_cost(imp) == 20 + 21 * 10 + 21 * 0.5


WORKER = """
from noprune.config import canonical
from noprune.sweep.runner import expand, load_suite
from noprune.sweep.worker import execute_batch

chosen = [c for c in expand(load_suite("quick")) if c.prune.pruner == "snip"][:2]
payloads = [{"config": canonical(c), "device": "cpu", "data_root": None, "out_dir": None} for c in chosen]
assert [r["status"] for r in execute_batch(payloads)] == ["done", "done"]
"""


@pytest.mark.parametrize(
    "code",
    [
        "from noprune.cli import main; main(['list'])",
        "from noprune.cli import main\ntry:\n    main(['status', '--store', 'none.sqlite'])\n"
        "except SystemExit:\n    pass",
        WORKER,
    ],
    ids=["list", "status", "quick-worker"],
)
def test_quick_commands_and_workers_load_no_scipy_infotheory_or_matplotlib(tmp_path, code):
    """The commands a user types most, and a worker of the quick suite, start without the
    estimators' scipy, infotheory itself, matplotlib, scikit-learn or pandas (digits is read from its
    file)."""
    heavy = ("scipy", "infotheory", "matplotlib", "sklearn", "pandas")
    report = f"\nimport sys\nprint('loaded:', [m for m in {heavy!r} if m in sys.modules])\n"
    out = subprocess.run(
        [sys.executable, "-c", code + report], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "loaded: []"


def test_when_idle_runs_once_as_soon_as_a_worker_has_nothing_left(tmp_path):
    """run_sweep's when_idle (noprune run warms the leaderboard's imports in it) runs once per
    sweep, in a thread of its own."""
    import threading

    from noprune.sweep.executors import make_executor
    from noprune.sweep.runner import run_sweep

    suite_file = tmp_path / "tiny.toml"
    suite_file.write_text(SUITE)
    suite = load_suite(str(suite_file))
    configs = expand(suite)
    calls: list[str] = []

    def idle() -> None:
        calls.append(threading.current_thread().name)

    for workers in (2, 1):
        executor = make_executor("process", workers=workers)
        with Store.open(tmp_path / f"s{workers}.sqlite") as store, executor:
            store.lock()
            summary = run_sweep(
                suite, configs, store, executor=executor, progress=False, batch=1, when_idle=idle
            )
            assert summary.done == len(configs)
    time.sleep(0.5)  # the threads are daemons; let the last one finish
    assert calls == ["when-idle", "when-idle"]
