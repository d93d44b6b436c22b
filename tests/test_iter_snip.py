"""The worked example of docs/ARCHITECTURE.md's "Extending": iterative SNIP (de Jorge et al.,
ICLR 2021) added as one file, ``pruners/iter_snip.py``, and one registry entry, and nothing else.

What it must then do without any other change: its defining behaviour (SNIP's score recomputed
on the masked network at each step of the exponential schedule), and the whole suite around it:
``noprune prune``, a sweep on the process and the Dask executors (seeds as one ensemble), the
leaderboard and the combined report. The registry-wide tests (exact counts, determinism, the
ensemble's masks equal to the single path's bit for bit) pick it up by themselves.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch

import pruners
from noprune.cli import main
from noprune.report.combined import build_report, read_runs
from tests.conftest import has_row, tiny_mlp

SUITE = """
name = "iter-snip"
description = "iterative SNIP beside SNIP"
[fixed]
experiment = "memorization"
data = "gaussian:n=40,d=10,n_test=50"
model = "mlp:16,16"
train.epochs = 5
train.batch_size = 8
train.lr = 0.05
[grid]
"prune.pruner" = ["snip", "iter_snip"]
"prune.density" = [0.3, 0.05]
seed = [0, 1]
"""


def test_iter_snip_is_snip_rescored_on_the_masked_network_at_each_exponential_step(batch) -> None:
    """Step by step by hand: SNIP's scores of the network under the current mask, the kept
    weights the top round(d_t N) of them among the survivors, d_t = density^(t/T)."""
    model, rounds, density = tiny_mlp(0), 4, 0.05
    masks = pruners.get("iter_snip", rounds=rounds).prune(copy.deepcopy(model), density, batch=batch)
    snip = pruners.get("snip")
    expected = pruners.MaskSet.dense(model)
    for t in range(1, rounds + 1):
        scores = snip.scores(model, expected, batch)
        expected = pruners.select(scores, density ** (t / rounds) if t < rounds else density, alive=expected)
    assert masks == expected
    one_shot = snip.prune(copy.deepcopy(model), density, batch=batch)
    assert pruners.get("iter_snip", rounds=1).prune(copy.deepcopy(model), density, batch=batch) == one_shot
    assert masks != one_shot  # rescoring changes which weights survive
    assert masks.nnz == round(density * masks.numel)


def test_iter_snip_runs_through_prune_a_sweep_on_process_and_dask_the_leaderboard_and_the_report(
    tmp_path, capsys
) -> None:
    pytest.importorskip("distributed")
    out = tmp_path / "one"
    common = ["--model", "mlp:16", "--data", "gaussian:n=40,d=10", "--density", "0.1", "--out"]
    assert main(["prune", "--pruner", "iter_snip", "--pruner-setting", "rounds=5", *common, str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["nnz"] == round(0.1 * report["numel"])
    suite = tmp_path / "iter-snip.toml"
    suite.write_text(SUITE)
    stored = {}
    for executor in ("process", "dask"):
        results = tmp_path / executor
        store = tmp_path / f"{executor}.sqlite"
        args = ["run", str(suite), "--store", str(store), "--results", str(results), "--no-progress"]
        assert main([*args, "--executor", executor, "--workers", "2"]) == 0
        assert "8 done, 0 failed" in capsys.readouterr().out
        leaderboard = (results / "iter-snip" / "leaderboard.md").read_text()
        assert has_row(leaderboard, "iter_snip") and has_row(leaderboard, "snip")
        records = read_runs([results / "iter-snip" / "runs.csv"])
        assert all(r.metrics["ensemble_size"] >= 2 for r in records)  # seeds ran as one ensemble
        stored[executor] = {r.key: r.metrics["memorised_fraction"] for r in records}
        assert has_row(build_report(records), "iter_snip", "0.3")
    assert stored["process"] == stored["dask"]
    assert torch.tensor(list(stored["process"].values())).isfinite().all()
