"""The information_calibration experiment: synthetic cases of known truth, misuse refused, the
table and figure, and the committed suite's coverage of the issue's cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infotheory import synthetic
from noprune.config import ExperimentConfig, InfoConfig, canonical
from noprune.errors import UserError
from noprune.experiments import run_experiment
from noprune.sweep.runner import expand, load_suite
from noprune.sweep.store import Record
from tests.conftest import has_row

CPU = torch.device("cpu")


def case(data: str, **info) -> ExperimentConfig:
    return ExperimentConfig(experiment="information_calibration", data=data, info=InfoConfig(**info))


def test_synthetic_cases_have_the_stated_truth():
    rng = np.random.default_rng(0)
    carrier = synthetic.labels_case("carrier", rng, 64, 10, 200, q=0.1)
    bits = np.unpackbits(carrier.packed, axis=1)[:, :10]
    assert carrier.truth == pytest.approx(10 * (1 - 0.4689955935892812))
    assert 0.05 < np.mean(bits != carrier.labels) < 0.15  # the labels through BSC(0.1)
    xor = synthetic.labels_case("xor", rng, 64, 10, 200)
    bits = np.unpackbits(xor.packed, axis=1)
    assert ((bits[:, :10] ^ bits[:, 10:20]) == xor.labels).all()
    pruned = synthetic.labels_case("random_pruner", rng, 8, 4, 1000, density=0.1)
    assert (np.unpackbits(pruned.packed, axis=1).sum(axis=1) == 100).all() and pruned.truth == 0
    draws = synthetic.draws_case("draws_carrier", rng, 16, 3, 64)
    code = np.unpackbits(draws.packed, axis=1)[:, :4]
    assert (code @ (1 << np.arange(4)) == draws.draws).all() and draws.truth == 4.0
    noise = synthetic.noise_rows(rng, 4, 100_000, 0.05)
    assert abs(noise.mean() - 0.05) < 0.002


def test_runs_report_truth_bounds_and_refusals():
    m = run_experiment(
        case("masks:case=carrier,n=20,p=300,q=0", draws=64, repetitions=2), device=CPU, data_root=None
    )
    # 32 test draws (the other 32 fit the decoders): an error-free decoder certifies about a quarter
    assert m["truth"] == 20.0 and m["coverage"] == 1.0 and 0.25 < m["lower_share"] <= 1.0
    m = run_experiment(case("masks:case=iid,n=1,p=100", draws=64, repetitions=20), device=CPU, data_root=None)
    assert m["truth"] == 0.0 and m["coverage"] == 1.0 and m["lower_positive"] <= 0.1
    m = run_experiment(
        case("masks:case=reused,n=100,p=100", draws=64, repetitions=2), device=CPU, data_root=None
    )
    assert m["refused"] == 1.0 and "repeat" in m["refusal"] and "truth" not in m
    m = run_experiment(case("masks:case=draws_copies,n=16,p=64", repetitions=2), device=CPU, data_root=None)
    assert m["refused"] == 1.0 and "identical masks" in m["refusal"]
    again = run_experiment(case("masks:case=draws_null,n=16,p=64", repetitions=3), device=CPU, data_root=None)
    same = run_experiment(case("masks:case=draws_null,n=16,p=64", repetitions=3), device=CPU, data_root=None)
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in same.items() if k != "seconds"
    }
    with pytest.raises(UserError, match="unknown synthetic case"):
        run_experiment(case("masks:case=nope"), device=CPU, data_root=None)
    with pytest.raises(UserError, match="masks:case"):
        run_experiment(case("digits"), device=CPU, data_root=None)


def test_table_and_figure(tmp_path):
    from noprune.report.calibration_report import calibration_markdown, plot_calibration

    records = []
    for data in ("masks:case=carrier,n=10,p=100", "masks:case=iid,n=1,p=100", "masks:case=reused,n=50,p=100"):
        c = case(data, draws=32, repetitions=2)
        records.append(Record(data, canonical(c), "done", run_experiment(c, device=CPU, data_root=None)))
    table = calibration_markdown(records)
    assert table.count("\n") == 2 + 3 and has_row(table, "labels", "carrier", "10", "100")
    paths = plot_calibration(records, tmp_path / "calibration")
    assert [p.name for p in paths] == ["calibration.png", "calibration.pdf"]
    assert calibration_markdown([]) == "" and plot_calibration([], tmp_path / "none") == []


def test_the_calibration_suite_holds_the_issue_cases():
    suite = load_suite("mi-calibration")
    configs = expand(suite)
    data = {(c.data, c.info.draws, c.info.replicates, c.info.repetitions) for c in configs}
    assert ("masks:case=iid,n=1,p=1000", 64, 2, 1000) in data  # the n = 1, K = 64 null
    assert ("masks:case=draws_null,n=16,p=64", 64, 2, 1000) in data  # the draws design with R = 2
    for n in (10, 100, 1000):
        for q in ("", ",q=0.1", ",q=0.3"):
            for p in (1000, 100_000):
                for k in (64, 256):
                    assert any(
                        c.data == f"masks:case=carrier,n={n},p={p}{q}" and c.info.draws == k for c in configs
                    )
    assert any("p=10000000" in c.data for c in configs)
    assert any("case=xor" in c.data and c.info.draws == 256 for c in configs)
