"""Outputs a user can trust: byte-identical files under the user's umask, no traceback into a
closed pipe or a full disk, interrupt messages that say what was kept, and compute time
charged once per job."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from noprune.cli import main

PRUNE = ["prune", "--pruner", "snip", "--model", "mlp:8", "--data", "gaussian:n=20,d=5", "--density", "0.5"]
FILES = ("masks.safetensors", "init.safetensors")


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_prune_twice_gives_byte_identical_files_made_under_the_umask(tmp_path, umask, capsys):
    """Item 4: at 6efcd36 masks.safetensors differed between two identical runs (safetensors
    writes its metadata in hash order) and both safetensors files were made mode 0600."""
    previous = os.umask(umask)
    try:
        for name in ("a", "b"):
            assert main([*PRUNE, "--out", str(tmp_path / name)]) == 0
    finally:
        os.umask(previous)
    capsys.readouterr()
    for file in FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    for file in (*FILES, "report.json"):
        assert stat.S_IMODE((tmp_path / "a" / file).stat().st_mode) == 0o666 & ~umask


def test_saved_masks_and_weights_load_back(tmp_path, capsys):
    """The rewritten safetensors header is still a file safetensors (and MaskSet) reads."""
    from noprune.weights import load_state
    from pruners import MaskSet

    assert main([*PRUNE, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    masks = MaskSet.load(tmp_path / "masks.safetensors")
    state = load_state(tmp_path / "init.safetensors")
    assert set(masks) <= set(state) and all(masks[n].shape == state[n].shape for n in masks)


def test_worker_result_files_are_sorted_json_under_the_umask(tmp_path):
    from noprune.sweep.worker import write_atomically

    previous = os.umask(0o027)
    try:
        write_atomically(tmp_path / "r.json", {"b": 1, "a": {"d": 2, "c": 3}})
    finally:
        os.umask(previous)
    assert (tmp_path / "r.json").read_text() == '{"a": {"c": 3, "d": 2}, "b": 1}'
    assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


@pytest.fixture(scope="module")
def masks(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("masks")
    for seed in range(4):
        assert main([*PRUNE, "--seed", str(seed), "--out", str(folder / str(seed))]) == 0
    import numpy as np

    np.save(folder / "labels.npy", np.random.default_rng(0).integers(0, 2, size=(4, 20)))
    return [
        *(str(folder / str(s) / "masks.safetensors") for s in range(4)),
        "--labels",
        str(folder / "labels.npy"),
    ]


def test_mi_into_a_closed_pipe_ends_quietly(masks):
    """Item 10: `noprune mi ... | head` ended in a BrokenPipeError traceback at 6efcd36."""
    child = subprocess.Popen(
        [sys.executable, "-m", "noprune", "mi", *masks], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    child.stdout.close()  # the reader is gone before the first line is written
    _, stderr = child.communicate(timeout=120)
    assert child.returncode == 0 and stderr == b""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_to_a_full_disk_is_one_line(masks):
    with open("/dev/full", "w") as full:
        child = subprocess.run(
            [sys.executable, "-m", "noprune", "mi", *masks], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert child.returncode == 2
    assert child.stderr == "noprune: error: cannot write standard output: No space left on device\n"


def test_an_interrupted_bench_does_not_claim_stored_results(monkeypatch, capsys):
    """Item 10: an interrupted `noprune bench` said its results were stored; it stores none."""
    from noprune.ensemble import bench

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(bench, "run", interrupted)
    assert main(["bench", "--cases", "a"]) == 130
    assert capsys.readouterr().err == "noprune: interrupted\n"


def test_compute_seconds_charges_each_job_once():
    """Item 11: provenance.json charged every ensemble member its whole job's time (5,399 s
    for a 195 s sweep on 2 cores at 6efcd36)."""
    from noprune.report.results import compute_seconds

    ensemble = [
        {"status": "done", "host": "h", "started": 100.0, "finished": 110.0, "key": str(i)} for i in range(4)
    ]
    alone = [{"status": "failed", "host": "h", "started": 120.0, "finished": 125.0, "key": "x"}]
    never = [{"status": "pending", "host": None, "started": None, "finished": None, "key": "y"}]
    assert compute_seconds(ensemble + alone + never) == 15.0  # not 4 x 10 + 5 = 45
