"""`noprune report`: runs of different experiments joined per data, model, pruner and density."""

from __future__ import annotations

import json

import pytest

from noprune.cli import main
from noprune.config import canonical, canonical_json, from_dict, run_key
from noprune.report.combined import build_report, read_runs
from noprune.sweep.runs_csv import write_rows
from noprune.sweep.store import Record
from tests.conftest import has_row, md_rows


def record(
    key: str, experiment: str, pruner: str, density: float, seed: int, metrics: dict, data: str = "gaussian"
):
    config = {"experiment": experiment, "data": data, "model": "mlp:8", "seed": seed}
    config["prune"] = {"pruner": pruner, "density": density}
    return Record(key, config, "done", metrics)


RECORDS = [
    record("a", "memorization", "imp", 0.1, 0, {"memorised_fraction": 1.0, "nnz": 10}),
    record("b", "memorization", "imp", 0.1, 1, {"memorised_fraction": 0.5, "nnz": 10}),
    record(
        "c",
        "mask_information",
        "imp",
        0.1,
        0,
        {"information_lower": 3.0, "information_upper": 30.0, "nnz": 10},
    ),
    record("d", "memorization", "random", 0.1, 0, {"memorised_fraction": 0.25, "nnz": 10}),
    record("e", "robustness", "imp", 0.1, 0, {"spectral_product": 12.0, "interpolated": 1.0}, data="sphere"),
    Record("f", {"experiment": "memorization", "prune": {"pruner": "snip", "density": 0.1}}, "failed", None),
]


def test_columns_of_different_experiments_are_joined_and_averaged_over_seeds():
    text = build_report([*RECORDS, RECORDS[0]])  # a run in two suites' runs.csv counts once
    gaussian = text.split("### gaussian / mlp:8")[1].split("###")[0]
    rows = md_rows(gaussian)[1:]
    assert rows[0][:3] == ["random", "0.1", "10"]
    assert rows[1][:6] == ["imp", "0.1", "10", "3.00", "30.00", "0.75 (2)"]
    assert "snip" not in text  # failed runs are not reported
    sphere = text.split("### sphere / mlp:8")[1]
    assert "Lip ≤" in sphere and "12.0" in sphere and "memorised" not in sphere


def test_runs_that_differ_in_how_the_mask_is_made_are_separate_rows():
    """SynFlow at 3 and 100 rounds, or from another init, is not averaged with the default."""

    def synflow(key: str, value: float, **fields: object) -> Record:
        r = record(key, "memorization", "synflow", 0.01, 0, {"memorised_fraction": value, "nnz": 5})
        r.config["prune"].update({k: v for k, v in fields.items() if k != "init"})
        if "init" in fields:
            r.config["init"] = fields["init"]
        return r

    runs = [
        synflow("s100", 0.4),
        synflow("s3", 0.1, synflow_rounds=3),
        synflow("s10", 0.3, synflow_rounds=10),
        synflow("s2", 0.0, synflow_rounds=2),
        synflow("pt", 0.2, init="pytorch"),
        record("r", "memorization", "random", 0.01, 0, {"memorised_fraction": 0.0, "nnz": 5}),
    ]
    runs[-1].config["prune"]["synflow_rounds"] = 3  # not a synflow setting for random
    text = build_report(runs)
    rows = [line for line in text.splitlines() if line.startswith("| ") and "density" not in line]
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    assert [(c[0], c[3]) for c in cells] == [
        ("random", "0.00"),
        ("synflow", "0.40"),
        ("synflow [init=pytorch]", "0.20"),
        ("synflow [rounds=2]", "0.00"),
        ("synflow [rounds=3]", "0.10"),
        ("synflow [rounds=10]", "0.30"),
    ]


def test_report_reads_the_committed_runs_csv(tmp_path):
    configs = [from_dict(r.config) for r in RECORDS]
    rows = [
        {"key": run_key(c), "status": r.status, "config": canonical_json(c), "metrics": json.dumps(r.metrics)}
        for r, c in zip(RECORDS, configs, strict=True)
    ]
    suite = tmp_path / "results" / "e1"
    suite.mkdir(parents=True)
    write_rows(rows, suite / "runs.csv")
    assert read_runs([suite / "runs.csv"]) == [
        Record(run_key(c), canonical(c), r.status, r.metrics) for r, c in zip(RECORDS, configs, strict=True)
    ]
    assert main(["report", "--results", str(tmp_path / "results")]) == 0
    assert has_row((tmp_path / "results" / "report.md").read_text(), "imp", "0.1", "10")


def test_report_without_results_is_one_clear_error(tmp_path, capsys):
    assert main(["report", "--results", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def dense_run(key: str, width_params: int, fraction: float, seed: int = 0) -> Record:
    config = {"experiment": "memorization", "data": "gaussian", "model": f"mlp:{width_params}", "seed": seed}
    config["prune"] = {"pruner": "random", "density": 1.0}
    return Record(
        key, config, "done", {"memorised_fraction": fraction, "numel": width_params, "nnz": width_params}
    )


def test_dense_curve_is_monotone_and_inverted_in_log_parameters():
    from noprune.report.dense_equivalent import dense_curves

    runs = [
        dense_run("d1", 100, 0.2),
        dense_run("d2", 1000, 0.6),
        dense_run("d3", 10000, 0.5),
        dense_run("d4", 10000, 0.9, 1),
    ]
    (curve,) = dense_curves(runs).values()
    assert curve.params == (100.0, 1000.0, 10000.0) and curve.fraction == (0.2, 0.6, 0.7)
    assert curve.equivalent(0.4) == ("=", pytest.approx(10**2.5))
    assert curve.equivalent(0.6) == ("=", pytest.approx(1000.0))
    assert curve.equivalent(0.1) == ("<", 100.0) and curve.equivalent(0.95) == (">", 10000.0)
    assert curve.equivalent(0.7) == ("≥", 10000.0)


def test_report_reads_the_dense_equivalent_off_dense_runs_with_the_same_training():
    runs = [dense_run("d1", 100, 0.0), dense_run("d2", 10000, 1.0)]
    sparse = record("s", "memorization", "imp", 0.1, 0, {"memorised_fraction": 0.5, "nnz": 10})
    other = record("o", "memorization", "snip", 0.1, 0, {"memorised_fraction": 0.5, "nnz": 10})
    other.config["train"] = {"lr": 0.5}  # other training: no dense curve to compare with
    text = build_report([*runs, sparse, other])
    assert "dense-equivalent (E7)" in text
    imp = next(row for row in md_rows(text) if row[0] == "imp")
    snip = next(row for row in md_rows(text) if row[0] == "snip")
    assert imp[-1] == "1000" and snip[-1] == "–"


def test_kept_weights_on_a_path_stand_beside_nnz_where_the_runs_recorded_them():
    """E2's runs record effective_nnz (pruners.connected): a collapsed mask keeps 10 weights and
    none on a path; runs from before the metric existed leave the column out."""
    with_paths = [
        record(
            "p", "memorization", "imp", 0.1, 0, {"memorised_fraction": 0.5, "nnz": 10, "effective_nnz": 9}
        ),
        record(
            "q", "memorization", "grasp", 0.1, 0, {"memorised_fraction": 0.0, "nnz": 10, "effective_nnz": 0}
        ),
    ]
    text = build_report(with_paths)
    assert has_row(text, "pruner", "density", "nnz", "nnz on a path", "memorised")
    assert has_row(text, "grasp", "0.1", "10", "0", "0.00") and has_row(text, "imp", "0.1", "10", "9", "0.50")
    assert "on a path" not in build_report(RECORDS)


def test_e7_figure_places_sparse_networks_on_the_dense_curve(tmp_path):
    """The dense curve with each sparse network drawn at its nnz and at its dense-equivalent
    count; runs of other training (no curve of their own) are left out; no curve, no figure."""
    from noprune.report.memorization_plot import plot_dense_curves

    runs = [dense_run("d1", 100, 0.0), dense_run("d2", 10000, 1.0)]
    sparse = record("s", "memorization", "imp", 0.1, 0, {"memorised_fraction": 0.5, "nnz": 10})
    paths = plot_dense_curves([*runs, sparse], tmp_path / "dense")
    assert [p.name for p in paths] == ["dense.png", "dense.pdf"] and paths[0].stat().st_size > 10_000
    assert plot_dense_curves([sparse], tmp_path / "none") == []
    assert plot_dense_curves(runs[:1], tmp_path / "one_width") == []  # one width is no curve
