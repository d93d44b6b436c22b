"""noprune.load_runs: runs as a pandas DataFrame with the config and the metrics as flat columns."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import noprune
from noprune.cli import main
from noprune.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
QUICK = ROOT / "results" / "quick" / "runs.csv"


def test_runs_csv_loads_flat_with_every_default_filled():
    runs = noprune.load_runs(QUICK)
    assert len(runs) == 288 and runs["key"].is_unique and set(runs["status"]) == {"done"}
    for column in (
        "prune.pruner",
        "prune.density",
        "seed",
        "train.lr",
        "prune.scope",
        "test_accuracy",
        "nnz",
    ):
        assert column in runs.columns
    assert runs["prune.scope"].eq("global").all()  # a default the suite did not write
    assert (runs["nnz"] == (runs["prune.density"] * runs["numel"]).round()).all()
    assert "per_layer_density.fc1.weight" in runs.columns
    assert runs["started"].dtype.kind == "f" and (runs["finished"] >= runs["started"]).all()
    mean = runs.groupby(["prune.pruner", "prune.density"])["test_accuracy"].mean()
    assert mean[("snip", 0.5)] == pytest.approx(
        runs.query("`prune.pruner` == 'snip' and `prune.density` == 0.5")["test_accuracy"].mean()
    )


def test_a_store_gives_the_same_frame_as_its_runs_csv(tmp_path, capsys):
    store = tmp_path / "s.sqlite"
    assert main(["ingest", str(QUICK), "--suite", "quick", "--store", str(store)]) == 0
    capsys.readouterr()
    from_store = noprune.load_runs(store, "quick").sort_values("key").reset_index(drop=True)
    from_csv = noprune.load_runs(QUICK).sort_values("key").reset_index(drop=True)
    shared = [c for c in from_csv.columns if c not in ("started", "finished", "git_dirty")]
    pd.testing.assert_frame_equal(from_store[shared], from_csv[shared], check_dtype=False)
    assert len(noprune.load_runs(store, "no-such-suite")) == 0


def test_a_missing_store_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no store"):
        noprune.load_runs(tmp_path / "none.sqlite")
