"""The mask_information experiment (SCIENCE.md E6): data-blind pruners are exactly 0, data-dependent
ones are bounded by H(S) = n bits, and the runner's suite is valid."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from noprune.config import ExperimentConfig, InfoConfig, PruneConfig
from noprune.errors import UserError
from noprune.experiments import run_experiment
from noprune.experiments.mask_information import draw_labels
from noprune.runner import expand, load_suite
from noprune.training import TrainConfig

CPU = torch.device("cpu")


def config(pruner: str, density: float, model: str = "mlp:16,16", **info: int) -> ExperimentConfig:
    return ExperimentConfig(
        experiment="mask_information",
        data="digits",
        model=model,
        prune=PruneConfig(pruner=pruner, density=density, pretrain_epochs=20),
        train=TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9, batch_size=0),
        info=InfoConfig(**{"draws": 12, "points": 24, **info}),
    )


@pytest.mark.parametrize("model", ["mlp:16,16", "mlp_nobias:16", "lenet_300_100"])
@pytest.mark.parametrize("pruner", ["random", "magnitude", "synflow"])
def test_data_blind_pruners_are_exactly_zero(pruner: str, model: str):
    big = model == "lenet_300_100"
    for density in (0.01,) if big else (0.5, 0.05):
        m = run_experiment(config(pruner, density, model, draws=2 if big else 4), device=CPU, data_root=None)
        assert m["information_exact"] == 0.0 and m["distinct_masks"] == 1
        assert m["information_lower"] == m["information_upper"] == 0.0
        assert m["information_confidence"] == 1.0
        assert m["peff_low"] == m["peff_high"] == m["nnz"] == round(density * m["numel"])


@pytest.mark.parametrize("pruner", ["snip", "imp"])
def test_data_dependent_pruners_are_bounded_by_the_label_entropy(pruner: str):
    m = run_experiment(config(pruner, 0.1), device=CPU, data_root=None)
    assert m["information_exact"] is None and m["distinct_masks"] > 1
    assert 0.0 <= m["information_lower"] <= m["information_upper"] <= m["label_bits"] == 24
    assert m["information_confidence"] == pytest.approx(0.95)
    assert m["peff_low"] == m["nnz"] + m["information_lower"]
    assert set(m) >= {"decoder_centroid_error", "decoder_ridge_error", "decoder_init_network_error"}
    assert 0.0 < m["detector_p_value"] <= 1.0


def test_runs_are_deterministic_and_labels_come_from_the_seed():
    a = run_experiment(config("snip", 0.2), device=CPU, data_root=None)
    b = run_experiment(config("snip", 0.2), device=CPU, data_root=None)
    drop = ("pruning_seconds", "estimate_seconds")
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    assert torch.equal(draw_labels(0, 12, 24), draw_labels(0, 12, 24))
    assert not torch.equal(draw_labels(0, 12, 24), draw_labels(1, 12, 24))


def test_unsupported_settings_are_one_clear_error():
    with pytest.raises(UserError, match="ensemble of MLPs"):
        run_experiment(config("snip", 0.1, model="cnn"), device=CPU, data_root=None)
    bad = config("snip", 0.1)
    with pytest.raises(UserError, match=r"info\.draws"):
        run_experiment(dataclasses.replace(bad, info=InfoConfig(draws=1)), device=CPU, data_root=None)
    with pytest.raises(UserError, match=r"info\.points"):
        run_experiment(config("snip", 0.1, points=10**6), device=CPU, data_root=None)


def test_the_digits_suite_expands_to_every_pruner_and_density():
    suite = load_suite("mi-digits")
    configs = expand(suite)
    assert len(configs) == 42 and {c.experiment for c in configs} == {"mask_information"}
    assert suite.metrics[:2] == ("information_lower", "information_upper")


def test_information_figure_is_written_from_stored_runs(tmp_path):
    from noprune.config import canonical
    from noprune.information_plot import plot_information
    from noprune.leaderboard import Record

    records = []
    for pruner in ("random", "snip"):
        for density in (0.5, 0.1):
            c = config(pruner, density, draws=4)
            m = run_experiment(c, device=CPU, data_root=None)
            records.append(Record(pruner + str(density), canonical(c), "done", m))
    paths = plot_information(records, tmp_path / "information")
    assert [p.name for p in paths] == ["information.png", "information.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert plot_information([], tmp_path / "none") == []
