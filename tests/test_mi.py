"""``noprune mi``: bounds on I(mask; data) from mask files and a labels or draws design, in process
through ``noprune.cli.main``; bad input is one line on stderr and exit code 2."""

from __future__ import annotations

import contextlib
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

from noprune.cli import main
from pruners import MaskSet

SHAPES = {"fc1.weight": (8, 12), "out.weight": (4, 8)}  # p = 128


@dataclass
class Run:
    rc: int
    out: str
    err: str


def cli(*argv: str | Path) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return Run(rc, out.getvalue(), err.getvalue())


def write_masks(folder: Path, flat: np.ndarray, shapes: dict = SHAPES) -> list[Path]:
    """One mask file per row of ``flat`` ([K, p] bools), split into ``shapes`` in order."""
    paths = []
    for k, row in enumerate(np.asarray(flat, dtype=bool)):
        masks, start = {}, 0
        for name, shape in shapes.items():
            size = math.prod(shape)
            masks[name] = torch.from_numpy(row[start : start + size].reshape(shape).copy())
            start += size
        path = folder / f"m{k:03d}.safetensors"
        MaskSet(masks).save(path)
        paths.append(path)
    return paths


def one_error_line(run: Run) -> str:
    assert run.rc == 2 and run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("noprune: error: "), run.err
    assert "Traceback" not in run.err
    return lines[0]


def test_identical_masks_are_exactly_zero(tmp_path):
    rng = np.random.default_rng(0)
    mask = rng.random(128) < 0.3
    paths = write_masks(tmp_path, np.repeat(mask[None], 12, axis=0))
    labels = tmp_path / "labels.npy"
    np.save(labels, rng.integers(0, 2, size=(12, 20)))
    text = cli("mi", *paths, "--labels", labels)
    assert text.rc == 0, text.err
    assert "I = 0.00 bits (exact, 12 masks from 12 draws)" in text.out
    assert "lower bound" not in text.out and "upper bound" not in text.out
    assert f"mean nnz {int(mask.sum())} of p = 128" in text.out
    out = json.loads(cli("mi", *paths, "--labels", labels, "--json").out)
    assert out["exact"]["value"] == 0.0 and out["exact"]["kind"] == "exact"
    assert out["lower"]["value"] == out["upper"]["value"] == 0.0
    assert out["p_eff"]["low"] == out["p_eff"]["high"] == mask.sum()
    draws = tmp_path / "draws.json"
    draws.write_text(json.dumps([k // 3 for k in range(12)]))
    out = json.loads(cli("mi", *paths, "--draws", draws, "--json").out)
    assert out["exact"]["value"] == 0.0 and out["n_draws"] == 4 and out["h_s"] == 2.0


def test_masks_that_copy_the_labels(tmp_path):
    rng = np.random.default_rng(1)
    k, n, repeat = 100, 16, 8
    labels = rng.integers(0, 2, size=(k, n))
    paths = write_masks(tmp_path, np.repeat(labels, repeat, axis=1))  # p = 128 = n x 8
    path = tmp_path / "labels.csv"
    np.savetxt(path, 2 * labels - 1, fmt="%d", delimiter=",")  # -1/+1 labels map to 0/1
    run = cli("mi", *paths, "--labels", path, "--permutations", "20", "--json")
    assert run.rc == 0, run.err
    out = json.loads(run.out)
    assert out["design"] == "labels" and out["h_s"] == n and out["exact"] is None
    assert 0 < out["lower"]["value"] <= n and out["lower"]["kind"] == "lower_bound"
    assert out["upper"]["value"] == n and out["upper"]["details"]["chosen"] == "h_s"
    assert out["detector"]["details"]["p_value"] == pytest.approx(1 / 21)
    assert out["p_eff"]["low"] == pytest.approx(out["nnz_mean"] + out["lower"]["value"])
    assert out["p_eff"]["high"] == pytest.approx(out["nnz_mean"] + n)
    text = cli("mi", *paths, "--labels", path, "--permutations", "0").out
    assert "I >= " in text and f"I <= {n:.2f} bits (upper bound" in text and "detector" not in text
    assert "p_eff in [" in text
    assert "fit draws: the first 50 masks" in text
    split = json.loads(
        cli("mi", *paths, "--labels", path, "--fit", "70", "--permutations", "0", "--json").out
    )
    assert split["lower"]["details"]["fit_draws"] == 70 and split["lower"]["details"]["test_draws"] == 30
    assert "--fit must be in 0..99" in one_error_line(cli("mi", *paths, "--labels", path, "--fit", "100"))


def test_draws_with_replicates_where_the_mask_determines_the_draw(tmp_path):
    rng = np.random.default_rng(2)
    n_draws, reps = 8, 4
    codebook = rng.random((n_draws, 128)) < 0.3
    draw = np.repeat(np.arange(n_draws), reps)
    flat = codebook[draw] ^ (rng.random((len(draw), 128)) < 0.02)  # replicates differ a little
    paths = write_masks(tmp_path, flat)
    ids = tmp_path / "draws.txt"
    ids.write_text("\n".join(f"draw{d}" for d in draw) + "\n")  # ids may be names
    ids.with_name("short.json").write_text(json.dumps(draw[:-1].tolist()))
    out = json.loads(cli("mi", *paths, "--draws", ids, "--permutations", "20", "--json").out)
    assert out["design"] == "draws" and out["n_draws"] == n_draws and out["h_s"] == 3.0
    assert out["lower"]["value"] > 0 and out["lower"]["details"]["error_rate"] == 0.0
    assert out["upper"]["value"] == 3.0
    assert out["detector"]["details"]["p_value"] == pytest.approx(1 / 21)
    # the last mask of each draw is held out; the rest train the centroids
    assert out["lower"]["details"]["test_masks"] == n_draws
    assert out["lower"]["details"]["train_masks"] == n_draws * (reps - 1)
    # draw 7 one mask short: still one held-out mask per draw
    out = json.loads(cli("mi", *paths[:-1], "--draws", ids.with_name("short.json"), "--json").out)
    assert out["lower"]["value"] > 0 and out["lower"]["details"]["train_masks"] == n_draws * (reps - 1) - 1
    # 8 error-free held-out masks still leave an error rate up to 1 - 0.025^(1/8) possible
    assert out["lower"]["details"]["error_rate_upper"] == pytest.approx(1 - 0.025 ** (1 / 8), rel=1e-6)
    # one mask per draw: no held-out replicate, so no lower bound (said, not faked)
    single = tmp_path / "single.npy"
    np.save(single, np.arange(len(paths)))
    text = cli("mi", *paths, "--draws", single).out
    assert "(lower bound" not in text and "the lower bound is unavailable" in text
    assert f"I <= {math.log2(len(paths)):.2f} bits (upper bound" in text


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    rng = np.random.default_rng(3)
    paths = write_masks(tmp_path, rng.random((12, 128)) < 0.3)
    good = tmp_path / "labels.npy"
    np.save(good, rng.integers(0, 2, size=(12, 20)))

    line = one_error_line(cli("mi", *paths, tmp_path / "nope.safetensors", "--labels", good))
    assert "nope.safetensors not found" in line
    other = tmp_path / "other"
    other.mkdir()
    odd = write_masks(other, rng.random((1, 128)) < 0.3, {"fc1.weight": (12, 8), "out.weight": (4, 8)})[0]
    line = one_error_line(cli("mi", *paths[:11], odd, "--labels", good))
    assert str(odd) in line and "fc1.weight has shape (12, 8)" in line
    not_masks = tmp_path / "x.safetensors"
    not_masks.write_bytes(b"not a safetensors file")
    assert str(not_masks) in one_error_line(cli("mi", *paths[:11], not_masks, "--labels", good))

    rows = tmp_path / "rows.npy"
    np.save(rows, rng.integers(0, 2, size=(11, 20)))
    assert "11 rows for 12 mask files" in one_error_line(cli("mi", *paths, "--labels", rows))
    ternary = tmp_path / "ternary.json"
    ternary.write_text(json.dumps(rng.integers(0, 3, size=(12, 20)).tolist()))
    assert "binary labels" in one_error_line(cli("mi", *paths, "--labels", ternary))
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([[0, 1]] * 12, dtype=object), allow_pickle=True)
    assert "pickle" in one_error_line(cli("mi", *paths, "--labels", pickled))
    assert "not found" in one_error_line(cli("mi", *paths, "--labels", tmp_path / "missing.npy"))
    replicated = tmp_path / "replicated.npy"
    np.save(replicated, np.repeat(rng.integers(0, 2, size=(6, 64)), 2, axis=0))
    assert "label vectors repeat" in one_error_line(cli("mi", *paths, "--labels", replicated))
    assert "given twice" in one_error_line(cli("mi", *paths[:11], paths[0], "--labels", good))
    copies = write_masks(other, np.repeat(rng.random((6, 128)) < 0.3, 2, axis=0))
    draws = tmp_path / "pairs.json"
    draws.write_text(json.dumps(np.repeat(np.arange(6), 2).tolist()))
    assert "identical masks" in one_error_line(cli("mi", *copies, "--draws", draws))
    runs = tmp_path / "runs"
    runs.mkdir()
    in_runs = write_masks(runs, np.repeat(rng.random((16, 128)) < 0.3, 4, axis=0))  # 4 draws each
    fresh = tmp_path / "fresh.npy"
    np.save(fresh, rng.integers(0, 2, size=(64, 20)))
    assert "masks repeat in runs" in one_error_line(cli("mi", *in_runs, "--labels", fresh))
    draws = tmp_path / "draws.json"
    draws.write_text(json.dumps([0] * 12))
    assert "one draw" in one_error_line(cli("mi", *paths, "--draws", draws))
    draws.write_text(json.dumps([0, 1] * 5))
    assert "10 draw ids for 12" in one_error_line(cli("mi", *paths, "--draws", draws))

    assert "required" in one_error_line(cli("mi", *paths))
    assert "not allowed" in one_error_line(cli("mi", *paths, "--labels", good, "--draws", draws))
    assert "--alpha" in one_error_line(cli("mi", *paths, "--labels", good, "--alpha", "1.5"))


MODERN = ["uniform", "erk", "smart_ratio", "force", "prospr", "ntksap", "px", "phew"]


@pytest.mark.parametrize("name", MODERN)
def test_masks_of_the_modern_methods_go_through_noprune_mi(tmp_path, name):
    """Each method pruned on 8 draws of random labels (fixed inputs and init) and its mask files
    bounded by ``noprune mi``: exactly 0 for the data-free ones and for PX, which reads the
    inputs but not the labels (its masks are identical); a bound for those that read labels."""
    import copy

    import pruners
    from tests.conftest import tiny_mlp

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(40, 20)).astype(np.float32))
    labels = rng.integers(0, 4, size=(8, 40))
    model = tiny_mlp(0)
    paths = []
    for k, y in enumerate(labels):
        settings = {"rounds": 4} if name in ("force", "px", "ntksap") else {}
        masks = pruners.get(name, **settings).prune(copy.deepcopy(model), 0.1, batch=(x, torch.from_numpy(y)))
        paths.append(masks.save(tmp_path / f"m{k}.safetensors") or tmp_path / f"m{k}.safetensors")
    np.save(tmp_path / "labels.npy", labels % 2)
    out = json.loads(
        cli("mi", *paths, "--labels", tmp_path / "labels.npy", "--json", "--permutations", "0").out
    )
    if not pruners.get(name).uses_data or name == "px":
        assert out["exact"]["value"] == 0.0
    else:
        assert out["exact"] is None and out["lower"]["value"] >= 0.0
    assert out["nnz_mean"] == round(0.1 * 1216)
