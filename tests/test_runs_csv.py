"""runs.csv as a flat table: one column per config field and metric, read back exactly; and what
re-renders from it without a store (leaderboard, plot, noprune render)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas
import pytest

from noprune.cli import main
from noprune.config import ExperimentConfig, PruneConfig, TrainConfig, canonical_json, run_key
from noprune.errors import UserError
from noprune.sweep.runs_csv import read_rows, write_rows
from noprune.sweep.store import Store

ROOT = Path(__file__).resolve().parents[1]


def row(config: ExperimentConfig, metrics: dict | None, status: str = "done") -> dict:
    return {
        "key": run_key(config),
        "experiment": config.experiment,
        "config": canonical_json(config),
        "status": status,
        "metrics": None if metrics is None else json.dumps(metrics),
        "error": None if status == "done" else "boom",
        "started": 1.5,
        "finished": 2.25,
        "host": "h",
        "version": "0.1.0",
        "git_commit": "abc",
        "git_dirty": 0,
        "torch": "2.14.1",
        "device": "cpu",
    }


ROWS = [
    # density 0.1 is the default: its column must still hold 0.1, or grouping would drop the run
    row(ExperimentConfig(prune=PruneConfig("snip", 0.1)), {"test_accuracy": 0.5, "refusal": None}),
    row(ExperimentConfig(prune=PruneConfig("snip", 0.5), seed=1), {"test_accuracy": 0.75, "nnz": 10}),
    row(
        ExperimentConfig(
            prune=PruneConfig("synflow", 0.5, settings={"rounds": 3}), train=TrainConfig(milestones=(3, 7))
        ),
        {"per_layer_density": {"fc1.weight": 0.5}, "collapsed_layers": ["out.weight"], "seed": 4},
    ),
    row(ExperimentConfig(data="gaussian:n=20,d=5", prune=PruneConfig("random", 0.2)), None, "failed"),
]


def test_a_store_row_comes_back_exactly(tmp_path):
    path = write_rows(ROWS, tmp_path / "runs.csv")
    back = read_rows(path)
    assert [r["config"] for r in back] == [r["config"] for r in ROWS]
    assert [json.loads(r["metrics"] or "null") for r in back] == [
        json.loads(r["metrics"] or "null") for r in ROWS
    ]
    for column in ("key", "status", "experiment", "error", "started", "finished", "git_dirty", "device"):
        assert [r[column] for r in back] == [r[column] for r in ROWS], column
    assert write_rows(back, tmp_path / "again.csv").read_bytes() == path.read_bytes()


def test_pandas_reads_flat_columns_with_every_value_filled(tmp_path):
    frame = pandas.read_csv(write_rows(ROWS, tmp_path / "runs.csv"))
    assert list(frame["prune.density"]) == [0.1, 0.5, 0.5, 0.2]
    assert list(frame["prune.pruner"]) == ["snip", "snip", "synflow", "random"]
    assert list(frame["seed"]) == [0, 1, 0, 0]
    assert (
        frame["prune.settings.rounds"].iloc[2] == 3 and frame["prune.settings.rounds"].isna()[[0, 1, 3]].all()
    )
    assert frame["train.milestones"].iloc[2] == "[3, 7]"
    assert list(frame["test_accuracy"].iloc[:2]) == [0.5, 0.75]
    assert frame["metrics.seed"].iloc[2] == 4  # a metric named like a config column is prefixed
    assert pandas.isna(frame["refusal"].iloc[0])  # recorded as None: "null", which pandas reads as NaN
    assert "train.weight_decay" not in frame  # at its default in every run: left out
    assert frame.groupby("prune.density")["key"].count().sum() == len(ROWS)


def test_an_edited_config_cell_is_refused_with_its_line(tmp_path):
    path = write_rows(ROWS, tmp_path / "runs.csv")
    text = path.read_text().splitlines()
    text[2] = text[2].replace(",0.5,", ",0.25,", 1)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(UserError, match=r"runs.csv:3: not a run of noprune \(its config"):
        read_rows(path)


def test_the_older_layout_is_read_too(tmp_path):
    old = tmp_path / "old.csv"
    columns = ["key", "status", "experiment", "config", "metrics", "error", "started", "finished"]
    lines = [",".join(columns)]
    for r in ROWS[:2]:
        cells = [r[c] for c in columns]
        lines.append(",".join('"' + str(c).replace('"', '""') + '"' if c is not None else "" for c in cells))
    old.write_text("\n".join(lines) + "\n")
    assert [r["config"] for r in read_rows(old)] == [r["config"] for r in ROWS[:2]]


def test_leaderboard_and_plot_read_the_committed_csv_where_no_store_is(tmp_path, capsys, monkeypatch):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results" / "quick", results / "quick")
    monkeypatch.chdir(tmp_path)  # no runs/noprune.sqlite here
    assert main(["leaderboard", "quick"]) == 0
    out, err = capsys.readouterr()
    assert "reading results/quick/runs.csv" in err
    committed = (ROOT / "results" / "quick" / "leaderboard.md").read_text()
    assert out.strip().split("### ", 1)[1] in committed  # the same table as the committed one
    assert main(["leaderboard", "--store", "results/quick/runs.csv", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("task,metric,pruner")
    assert main(["plot", "quick", "--out", "figure"]) == 0
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_render_redraws_committed_results_byte_for_byte(tmp_path, capsys):
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results" / "quick", results / "quick")
    before = {p.name: p.read_bytes() for p in (results / "quick").iterdir()}
    (results / "quick" / "leaderboard.md").write_text("stale\n")
    (results / "quick" / "test_accuracy.png").unlink()
    assert main(["render", "--results", str(results)]) == 0
    assert {p.name: p.read_bytes() for p in (results / "quick").iterdir()} == before
    assert main(["render", "nothing", "--results", str(results)]) == 2
    assert "no runs.csv in" in capsys.readouterr().err


def test_a_suite_the_store_lacks_is_read_from_its_committed_csv_in_its_own_metrics(
    tmp_path, capsys, monkeypatch
):
    """After `noprune run quick` a store exists; e2-noisy-digits' leaderboard, plot and status
    still come from results/e2-noisy-digits/runs.csv (saying so), in the metrics its suite file
    declares (train_accuracy, effective_density, memorised_fraction), not test_accuracy."""
    results = tmp_path / "results"
    shutil.copytree(ROOT / "results" / "e2-noisy-digits", results / "e2-noisy-digits")
    monkeypatch.chdir(tmp_path)
    Store.open(tmp_path / "runs" / "noprune.sqlite").close()  # a store, without this suite
    assert main(["leaderboard", "e2-noisy-digits"]) == 0
    out, err = capsys.readouterr()
    assert "no suite e2-noisy-digits in runs/noprune.sqlite; reading results/e2-noisy-digits/runs.csv" in err
    heads = [line.split(" — ")[1].split(":")[0] for line in out.splitlines() if line.startswith("### ")]
    assert heads == ["train_accuracy (%)", "effective_density", "memorised_fraction"]
    assert main(["status", "e2-noisy-digits"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["e2-noisy-digits", "640", "0", "0", "0"]
    assert main(["plot", "e2-noisy-digits", "--metric", "memorised_fraction", "--out", "figure"]) == 0
    assert (tmp_path / "figure.png").stat().st_size > 0
    assert main(["leaderboard", "quick"]) == 2  # neither in the store nor in results/
    assert main(["leaderboard", "e2-noisy-digits", "--metric", "bogus"]) == 2
    assert "has the metric 'bogus'" in capsys.readouterr().err
