"""The robustness experiment (docs/SCIENCE.md E5): Lipschitz bounds of the margin z_1 - z_0 are exact
on hand-computable networks, the lower bounds never exceed the spectral upper bound, an ensemble
member is what a lone run gives, runs are deterministic, and the two E5 suites can be joined."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from noprune.config import ExperimentConfig, PruneConfig, TrainConfig
from noprune.ensemble import StackedMLP
from noprune.errors import UserError
from noprune.experiments import run_experiment, run_experiment_batch, shared
from noprune.experiments.robustness import (
    adversarial_ratios,
    input_gradient_norms,
    lipschitz_metrics,
    spectral_norms,
)
from noprune.sweep.runner import expand, load_suite

CPU = torch.device("cpu")
TIMES = ("scoring_seconds", "train_seconds", "lipschitz_seconds")


def config(pruner: str = "snip", density: float = 0.3, seed: int = 0, **prune) -> ExperimentConfig:
    return ExperimentConfig(
        experiment="robustness",
        data="sphere:n=24,d=8,n_test=64",
        model="mlp:32,32",
        seed=seed,
        prune=PruneConfig(pruner=pruner, density=density, pretrain_epochs=20, **prune),
        train=TrainConfig(optimizer="adam", lr=0.01, batch_size=0, steps=1500),
    )


pytestmark = pytest.mark.usefixtures("one_thread")


def without_times(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMES}


def two_layer(scale: float = 1.0) -> StackedMLP:
    """Members k = 0, 1 of x -> relu(W1 x) -> W2 h with W1 = scale_k * diag(3, 1), no biases,
    W2 rows (class 0, class 1) = (0, 0), (1, 2): f(x) = 3 s relu(x_1) + 2 s relu(x_2)."""
    w1 = torch.tensor([[3.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    w2 = torch.tensor([[0.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    return StackedMLP(
        [torch.stack([w1, scale * w1]), torch.stack([w2, w2])], [None, None], ["fc1.weight", "out.weight"]
    )


# -- exact values on a network computed by hand -------------------------------------------------


def test_gradient_norms_and_spectral_products_are_exact_on_a_known_network():
    model = two_layer(scale=2.0)
    # both units active, only unit 1, only unit 2, none
    x = torch.tensor([[0.6, 0.8], [0.8, -0.6], [-0.6, 0.8], [-0.8, -0.6]], dtype=torch.float64)
    norms = input_gradient_norms(model, x.expand(2, 4, 2))
    # grad f = W1^T (w_1 - w_0) restricted to the active units: (3, 2), (3, 0), (0, 2), (0, 0)
    expected = torch.tensor([math.sqrt(13), 3.0, 2.0, 0.0], dtype=torch.float64)
    torch.testing.assert_close(norms, torch.stack([expected, 2 * expected]), rtol=1e-12, atol=0)
    upper, upper_logits = spectral_norms(model)
    # ||W1|| = 3 s, ||w_1 - w_0|| = ||W2|| = sqrt(5)
    torch.testing.assert_close(upper, torch.tensor([3 * math.sqrt(5), 6 * math.sqrt(5)], dtype=torch.float64))
    torch.testing.assert_close(upper_logits, upper)


def test_adversarial_estimate_is_a_difference_quotient_between_the_start_slope_and_lip():
    """Deep inside the region where both units are active f is linear with gradient (3, 2): the
    ascent starts along the gradient, so it finds exactly sqrt(13) = Lip(f). Near the kink x_2 = 0
    it starts at slope 3 and may only improve, never beyond Lip(f). Where f is flat around x
    (no unit active) the ratio's gradient is 0 and the estimate stays at 0: a lower bound, not a
    search for distant slopes."""
    model = two_layer().take(torch.tensor([0]))
    x = torch.tensor([[[0.6, 0.8], [0.8, 0.6], [0.05, -0.03], [-0.5, -0.5]]], dtype=torch.float64)
    ratios = adversarial_ratios(model, x)[0]
    lip = math.sqrt(13)
    torch.testing.assert_close(ratios[:2], torch.full((2,), lip, dtype=torch.float64))
    assert 3.0 - 1e-12 <= ratios[2] <= lip + 1e-12
    assert ratios[3] == 0.0


def test_masks_are_applied_before_measuring():
    model = two_layer()
    keep = [
        torch.tensor([[True, False], [False, False]]).expand(2, 2, 2),
        torch.ones(2, 2, 2, dtype=torch.bool),
    ]
    x = torch.tensor([[[0.6, 0.8]]], dtype=torch.float64)
    (m, _) = lipschitz_metrics(model, keep, x, None)
    # only unit 1 survives: f = 3 relu(x_1), slope 3; the bound is ||W1 m|| ||w_1 - w_0|| = 3 sqrt(5)
    assert m["grad_norm_train_max"] == pytest.approx(3.0, rel=1e-12)
    assert m["adversarial_max"] == pytest.approx(3.0, rel=1e-12)
    assert m["spectral_product"] == pytest.approx(3 * math.sqrt(5), rel=1e-12)
    assert m["grad_norm_test_max"] is None and m["lipschitz_lower"] == pytest.approx(3.0)


# -- trained networks ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def batch() -> tuple[list[ExperimentConfig], list[dict]]:
    configs = [config("snip", d, s) for s, d in ((0, 0.3), (1, 0.3), (2, 0.1), (0, 1.0))]
    return configs, run_experiment_batch(configs, device=CPU, data_root=None)


def test_trained_networks_interpolate_and_lower_bounds_stay_below_the_upper_bound(batch):
    configs, results = batch
    for c, m in zip(configs, results, strict=True):
        assert m["interpolated"] == 1.0 and m["memorised_fraction"] == 1.0 and m["train_accuracy"] == 1.0
        assert 0 < m["steps"] < c.train.steps and m["steps"] % 10 == 0
        upper = m["spectral_product"]
        for lower in ("grad_norm_train_max", "grad_norm_test_max", "adversarial_max", "lipschitz_lower"):
            assert 0.0 < m[lower] <= upper * (1 + 1e-9), (lower, m[lower], upper)
        assert m["grad_norm_train_mean"] <= m["grad_norm_train_max"]
        assert m["adversarial_mean"] <= m["adversarial_max"]
        assert upper <= m["spectral_product_logits"] * math.sqrt(2) * (1 + 1e-9)
        assert (m["n"], m["d"], m["nnz"]) == (24, 8, round(c.prune.density * (8 * 32 + 32 * 32 + 32 * 2)))
        assert m["robustness_scale_nnz"] == pytest.approx(math.sqrt(24 * 8 / m["nnz"]))
        assert m["bias_parameters"] == 32 + 32 + 2


def test_ensemble_bounds_are_each_members_own_single_model_gradients(batch):
    """The gradients of the summed margins on a stacked input are each member's own: compare
    with plain autograd on the member as a standalone nn.Module."""
    configs, _ = batch
    pruned = shared.prune_batch(configs[:2], device=CPU, data_root=None)
    data = pruned.data
    bounds = lipschitz_metrics(pruned.model, pruned.masks, data.x_train, data.x_test)
    for k in range(2):
        member = pruned.model.member(k).double()
        with torch.no_grad():
            for name, p in member.named_parameters():
                if name.endswith("weight"):
                    p.mul_(pruned.masks[pruned.model.names.index(name)][k])
        x = data.x_train[k].double().requires_grad_(True)
        z = member(x)
        (grad,) = torch.autograd.grad((z[:, 1] - z[:, 0]).sum(), x)
        assert bounds[k]["grad_norm_train_max"] == pytest.approx(float(grad.norm(dim=1).max()), rel=1e-12)
        assert bounds[k]["grad_norm_train_mean"] == pytest.approx(float(grad.norm(dim=1).mean()), rel=1e-12)


def test_an_ensemble_member_equals_a_lone_run_and_runs_are_deterministic(batch):
    configs, results = batch
    alone = without_times(run_experiment(configs[2], device=CPU, data_root=None))
    member = without_times(results[2])
    assert alone.pop("ensemble_size") == 2 and member.pop("ensemble_size") == 4
    assert alone.keys() == member.keys()
    for key, value in member.items():
        assert alone[key] == (pytest.approx(value, rel=1e-5) if isinstance(value, float) else value), key
    again = without_times(run_experiment(configs[2], device=CPU, data_root=None))
    again.pop("ensemble_size")
    assert again == alone


def test_sparse_networks_that_fail_to_interpolate_are_reported_not_dropped():
    c = config("random", 0.02)
    m = run_experiment(
        dataclasses.replace(c, train=dataclasses.replace(c.train, steps=50)), device=CPU, data_root=None
    )
    assert m["interpolated"] == 0.0 and m["memorised_fraction"] < 1.0 and m["steps"] == 50
    assert m["lipschitz_lower"] <= m["spectral_product"] * (1 + 1e-9)


def test_unsupported_settings_are_one_clear_error():
    with pytest.raises(UserError, match="MLPs"):
        run_experiment(dataclasses.replace(config(), model="cnn"), device=CPU, data_root=None)
    with pytest.raises(UserError, match="ablation"):
        run_experiment(config(ablation="shuffle"), device=CPU, data_root=None)
    with pytest.raises(UserError, match="two-class"):
        run_experiment(
            dataclasses.replace(config("random"), data="digits", model="mlp:8"), device=CPU, data_root=None
        )


# -- the suites -----------------------------------------------------------------------------------


def test_the_information_suite_covers_the_robustness_runs_it_is_joined_to():
    """e5-information must prune exactly as e5-robustness does: every information config is a
    robustness config but for the experiment and info fields, and every (pruner, density) of
    robustness has information for some seeds."""
    robust = expand(load_suite("e5-robustness"))
    info = expand(load_suite("e5-information"))
    assert len(robust) == 245 and {c.experiment for c in robust} == {"robustness"}
    assert {c.experiment for c in info} == {"mask_information"}

    def pruning(c: ExperimentConfig) -> tuple:
        return (c.data, c.model, c.seed, c.prune, c.train)

    robust_keys = {pruning(c) for c in robust}
    assert all(pruning(c) in robust_keys for c in info)
    assert {(c.prune.pruner, c.prune.density) for c in info} == {
        (c.prune.pruner, c.prune.density) for c in robust
    }
    assert all(c.info.points == 100 for c in info)
