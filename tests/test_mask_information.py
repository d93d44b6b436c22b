"""The mask_information experiment (docs/SCIENCE.md E6): data-blind pruners are exactly 0, data-dependent
ones are bounded by H(S) = n bits, and the runner's suite is valid."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from noprune.config import ExperimentConfig, InfoConfig, PruneConfig, TrainConfig
from noprune.errors import UserError
from noprune.experiments import batch_key, label_design, run_experiment, run_experiment_batch
from noprune.experiments import mask_information as mi
from noprune.experiments.label_design import draw_labels
from noprune.sweep.runner import expand, load_suite

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


@pytest.mark.parametrize("model", ["mlp:16,16", "mlp_nobias:16", "lenet_300_100", "cnn:4,8,16"])
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
    m = run_experiment(config(pruner, 0.1, draws=20, fit_draws=12), device=CPU, data_root=None)
    assert m["information_exact"] is None and m["distinct_masks"] > 1
    assert m["fit_draws"] == 12 and m["test_draws"] == 8
    if pruner == "snip":  # full batch, no randomness: the pruner seed changes nothing
        assert m["deterministic_given_labels"] is True
    assert 0.0 <= m["information_lower"] <= m["information_upper"] <= m["label_bits"] == 24
    assert m["information_confidence"] == pytest.approx(0.95)
    assert m["peff_low"] == m["nnz"] + m["information_lower"]
    assert set(m) >= {"decoder_screened_error", "decoder_pairs_error", "decoder_init_network_error"}
    assert 0.0 < m["detector_p_value"] <= 1.0


def test_where_the_seed_changes_the_masks_their_entropy_given_the_labels_is_estimated():
    """magnitude_after on minibatches of 8: the pruner seed orders them, so another seed gives
    other masks for the same labels; snip, full batch, gives the same."""
    c = config("magnitude_after", 0.2, draws=16)
    c = dataclasses.replace(c, train=dataclasses.replace(c.train, batch_size=8))
    m = run_experiment(c, device=CPU, data_root=None)
    assert m["deterministic_given_labels"] is False
    assert m["replicate_hamming"] > 0 and 0 < m["seed_entropy_estimate"] <= m["numel"]
    s = run_experiment(config("snip", 0.2, draws=16), device=CPU, data_root=None)
    assert s["deterministic_given_labels"] is True
    assert s["seed_entropy_estimate"] == 0.0 and s["replicate_hamming"] is None


def test_runs_are_deterministic_and_labels_come_from_the_seed():
    a = run_experiment(config("snip", 0.2), device=CPU, data_root=None)
    b = run_experiment(config("snip", 0.2), device=CPU, data_root=None)
    drop = ("pruning_seconds", "estimate_seconds")
    assert {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}
    assert torch.equal(draw_labels(0, 12, 24), draw_labels(0, 12, 24))
    assert not torch.equal(draw_labels(0, 12, 24), draw_labels(1, 12, 24))


def test_unsupported_settings_are_one_clear_error():
    with pytest.raises(UserError, match="ablation"):
        run_experiment(
            dataclasses.replace(config("snip", 0.1), prune=PruneConfig("snip", 0.1, ablation="shuffle")),
            device=CPU,
            data_root=None,
        )
    bad = config("snip", 0.1)
    with pytest.raises(UserError, match=r"info\.draws"):
        run_experiment(dataclasses.replace(bad, info=InfoConfig(draws=1)), device=CPU, data_root=None)
    with pytest.raises(UserError, match=r"info\.points"):
        run_experiment(config("snip", 0.1, points=10**6), device=CPU, data_root=None)


def with_density(c: ExperimentConfig, density: float) -> ExperimentConfig:
    return dataclasses.replace(c, prune=dataclasses.replace(c.prune, density=density))


def without_times(m: dict) -> dict:
    return {k: v for k, v in m.items() if not k.endswith("_seconds") and k != "densities_together"}


@pytest.mark.parametrize(
    ("pruner", "model"),
    [
        ("imp", "mlp:16,16"),
        ("magnitude_after", "mlp:16,16"),
        ("grasp", "mlp:16,16"),
        ("imp", "cnn:4,8,16"),
        ("magnitude_after", "cnn:4,8,16"),
        ("snip", "cnn:4,8,16"),
    ],
)
def test_densities_pruned_together_give_what_each_gives_alone(pruner: str, model: str):
    """One batch of densities (one ensemble for MLPs; shared training for the CNN) changes no
    number: each density's metrics equal those of its run alone."""
    configs = [with_density(config(pruner, 0.5, model, draws=6), d) for d in (0.5, 0.2, 0.1)]
    assert len({batch_key(c) for c in configs}) == 1
    together = run_experiment_batch(configs, device=CPU, data_root=None)
    for c, m in zip(configs, together, strict=True):
        assert without_times(m) == without_times(run_experiment(c, device=CPU, data_root=None))
        assert m["densities_together"] == 3
    assert [m["nnz"] for m in together] == [round(d * together[0]["numel"]) for d in (0.5, 0.2, 0.1)]


def test_a_cnn_draw_trains_once_for_all_densities_of_magnitude_after(monkeypatch: pytest.MonkeyPatch):
    calls: list[int] = []
    fit = label_design.make_trainer

    def counting(data, train, *, seed):
        trainer = fit(data, train, seed=seed)

        def train_and_count(model, masks, steps):
            calls.append(steps)
            trainer(model, masks, steps)

        return train_and_count

    monkeypatch.setattr(label_design, "make_trainer", counting)
    configs = [
        with_density(config("magnitude_after", 0.5, "cnn:4,8,16", draws=3), d) for d in (0.5, 0.2, 0.1)
    ]
    run_experiment_batch(configs, device=CPU, data_root=None)
    # one dense training per draw, not one per draw and density; two more for the determinism check
    assert calls == [20] * (3 + mi.BLIND_CHECK_DRAWS)


def test_px_reads_no_label_so_it_prunes_two_draws_and_they_stand_for_all(monkeypatch: pytest.MonkeyPatch):
    """PX scores from the inputs alone (uses_labels False), and here only the labels vary: it
    prunes two draws, not K, and gives what pruning every draw gives (I = 0 exactly)."""
    import pruners

    assert pruners.get("px").uses_data and not pruners.get("px").uses_labels
    assert pruners.get("snip").uses_labels and pruners.get("imp").uses_labels
    seen = []
    pruned = mi.prune_as_ensemble

    def counting(config, plan, densities, draws, device):
        seen.append(len(draws))
        return pruned(config, plan, densities, draws, device)

    monkeypatch.setattr(mi, "prune_as_ensemble", counting)
    m = run_experiment(config("px", 0.2, draws=6), device=CPU, data_root=None)
    assert seen == [mi.BLIND_CHECK_DRAWS] and m["information_exact"] == 0.0 and m["distinct_masks"] == 1
    plan = mi.design(config("px", 0.2, draws=6), None)
    every = pruned(config("px", 0.2, draws=6), plan, [0.2], range(6), CPU)
    assert (every.bits[0] == every.bits[0][0]).all()  # pruning all six draws: one mask


def test_data_blind_pruners_that_see_the_labels_are_caught(monkeypatch: pytest.MonkeyPatch):
    """A pruner declared data-blind whose masks differ between two label draws fails loudly."""
    pruned = mi.prune_one_by_one

    def leaky(config, plan, densities, draws, device):
        out = pruned(config, plan, densities, draws, device)
        out.bits[0][1, 0] = ~out.bits[0][0, 0]
        return out

    monkeypatch.setattr(mi, "prune_one_by_one", leaky)
    with pytest.raises(RuntimeError, match="reads no label"):
        run_experiment(config("magnitude", 0.5, "cnn:4,8,16"), device=CPU, data_root=None)


@pytest.mark.parametrize(("name", "runs"), [("mi-digits", 128), ("mi-digits-cnn", 18)])
def test_the_digits_suites_keep_the_label_entropy_above_nnz(name: str, runs: int):
    """H(S) = info.points bits >= the surviving weights at every density, so that H(S) does not
    cap I below nnz; a pruner's densities share one batch key (one job)."""
    from noprune.models import build_model

    suite = load_suite(name)
    configs = expand(suite)
    assert len(configs) == runs and {c.experiment for c in configs} == {"mask_information"}
    assert suite.metrics[:2] == ("information_lower", "information_upper")
    assert all(c.info.draws >= 256 for c in configs)
    for c in configs:
        model = build_model(c.model, (1, 8, 8), 2, seed=0)
        weights = sum(p.numel() for n, p in model.named_parameters() if "weight" in n)
        assert round(c.prune.density * weights) <= c.info.points
    assert len({batch_key(c) for c in configs}) == len({(c.model, c.prune.pruner) for c in configs})


def test_information_figure_is_written_from_stored_runs(tmp_path):
    from noprune.config import canonical
    from noprune.report.information_plot import plot_information
    from noprune.sweep.store import Record

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
