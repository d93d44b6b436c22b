"""Tests of noprune.training: the masked training loop, its configs, schedules, augmentation,
metrics, divergence detection and the trainer callable that training-based pruners receive."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

import pruners
from noprune.data import Dataset, load_dataset
from noprune.errors import UserError
from noprune.models import build_model
from noprune.training import (
    TrainConfig,
    TrainingDiverged,
    augment_batch,
    evaluate,
    fit,
    lr_factor,
    make_trainer,
    train,
)

SPEC = "mlp:32,16"


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def gaussian() -> Dataset:
    return load_dataset("gaussian:n=64,d=10,n_test=50", seed=0)


def model_for(data: Dataset, seed: int = 0, spec: str = SPEC) -> nn.Module:
    return build_model(spec, data.input_shape, data.num_classes, seed=seed)


def random_masks(model: nn.Module, density: float = 0.2, seed: int = 0) -> pruners.MaskSet:
    return pruners.get("random").prune(model, density, seed=seed, apply=False)


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def identical(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class StepCounter:
    """Counts optimizer steps of every optimizer (global hook) and records the lr at each."""

    def __init__(self) -> None:
        self.steps = 0
        self.lrs: list[float] = []

    def __enter__(self) -> StepCounter:
        def pre(optimizer, args, kwargs):
            self.lrs.append(optimizer.param_groups[0]["lr"])

        def post(optimizer, args, kwargs):
            self.steps += 1

        self._handles = [register_optimizer_step_pre_hook(pre), register_optimizer_step_post_hook(post)]
        return self

    def __exit__(self, *exc: object) -> None:
        for h in self._handles:
            h.remove()


# -- pruned weights stay at zero ---------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9, weight_decay=5e-4, epochs=5, batch_size=64),
        TrainConfig(optimizer="adam", lr=1e-2, weight_decay=5e-4, epochs=3, batch_size=64),
    ],
    ids=["sgd-momentum-wd", "adam-wd"],
)
def test_pruned_weights_stay_exactly_zero_and_survivors_move(digits: Dataset, config: TrainConfig) -> None:
    model = model_for(digits)
    masks = random_masks(model, density=0.2)
    before = dict(model.named_parameters())
    before = {n: before[n].detach().clone() for n in masks}
    assert all(bool((before[n][~masks[n]] != 0).any()) for n in masks), "fixture: pruned weights nonzero"
    masks.zero_(model)
    initial = evaluate(model, digits.x_train, digits.y_train)

    result = train(model, digits, masks, config)

    params = dict(model.named_parameters())
    for n, m in masks.items():
        p = params[n].detach()
        assert torch.equal(p[~m], torch.zeros_like(p[~m])), f"{n}: a pruned weight is no longer zero"
        # The loop masks gradients too (MaskSet.apply), not only the weights after each step.
        assert params[n].grad is not None
        assert bool((params[n].grad[~m] == 0).all()), f"{n}: a pruned weight has a gradient"
        # Survivors trained: (almost) all of them moved away from their initial values.
        moved = (p[m] != before[n][m]).float().mean().item()
        assert moved > 0.9, f"{n}: only {moved:.2%} of surviving weights changed"
        assert bool((p[m] != 0).any())
    # Biases are not prunable and must train too.
    assert not torch.equal(params["fc1.bias"].detach(), torch.zeros_like(params["fc1.bias"]))
    assert result.train.loss < initial.loss - 0.5  # it learned with 20% of the weights


def test_pruned_weights_stay_zero_with_full_batch_and_steps(gaussian: Dataset) -> None:
    model = model_for(gaussian)
    masks = random_masks(model, density=0.1, seed=3)
    fit(model, gaussian, masks, TrainConfig(lr=0.1, weight_decay=1e-2, batch_size=0, steps=25))
    params = dict(model.named_parameters())
    assert all(int((params[n] != 0).sum()) <= masks.per_layer()[n].nnz for n in masks)
    assert all(bool((params[n].detach()[~m] == 0).all()) for n, m in masks.items())


# -- determinism -------------------------------------------------------------------------------


def trained_state(
    data: Dataset, config: TrainConfig, masks_seed: int | None = 0, seed: int = 0
) -> dict[str, torch.Tensor]:
    model = model_for(data)
    masks = None if masks_seed is None else random_masks(model, density=0.3, seed=masks_seed)
    fit(model, data, masks, config, seed=seed)
    return weights(model)


def test_same_config_and_seed_give_bit_identical_weights(digits: Dataset) -> None:
    config = TrainConfig(lr=0.05, momentum=0.9, weight_decay=5e-4, epochs=2, batch_size=50)
    a = trained_state(digits, config, seed=7)
    b = trained_state(digits, config, seed=7)
    assert identical(a, b)
    assert not identical(a, weights(model_for(digits)))  # training changed something


def test_different_train_seed_gives_different_weights(digits: Dataset) -> None:
    base = TrainConfig(lr=0.05, epochs=2, batch_size=50)
    a = trained_state(digits, base, seed=7)
    b = trained_state(digits, base, seed=8)
    assert not identical(a, b)


def test_augmented_training_is_deterministic_and_differs_from_plain(digits: Dataset) -> None:
    config = TrainConfig(lr=0.05, epochs=1, batch_size=64, augment=True)
    a = trained_state(digits, config, masks_seed=None, seed=1)
    b = trained_state(digits, config, masks_seed=None, seed=1)
    plain = trained_state(digits, TrainConfig(lr=0.05, epochs=1, batch_size=64), masks_seed=None, seed=1)
    assert identical(a, b)
    assert not identical(a, plain)


# -- train() and metrics ---------------------------------------------------------------------


def test_train_returns_metrics_and_learns_digits(digits: Dataset) -> None:
    model = model_for(digits)
    config = TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, epochs=20, batch_size=128)
    result = train(model, digits, None, config)
    for metrics in (result.train, result.test):
        assert 0.0 <= metrics.accuracy <= 1.0
        assert math.isfinite(metrics.loss) and metrics.loss >= 0.0
    assert result.train.accuracy > 0.9
    assert result.test.accuracy > 0.85
    assert result.steps == config.total_steps(digits.n_train) == 20 * math.ceil(1437 / 128)
    assert result.seconds > 0.0
    # One history entry per epoch, ending at the last step.
    assert [h["epoch"] for h in result.history] == [float(e) for e in range(1, 21)]
    assert result.history[-1]["step"] == result.steps
    # The returned metrics are those of the trained model, in eval mode.
    again = evaluate(model, digits.x_test, digits.y_test)
    assert again.accuracy == result.test.accuracy
    assert again.loss == pytest.approx(result.test.loss)


def test_untrained_model_metrics_are_chance_level(digits: Dataset) -> None:
    model = model_for(digits)
    m = evaluate(model, digits.x_test, digits.y_test)
    assert 0.0 <= m.accuracy < 0.4
    assert m.loss > 1.0


def test_evaluate_counts_sign_agreement_for_regression_targets() -> None:
    data = load_dataset("toy", seed=0)
    model = model_for(data, spec="mlp:8")
    with torch.no_grad():
        expected = (torch.sign(model(data.x_train)) == torch.sign(data.y_train)).float().mean().item()
        mse = nn.functional.mse_loss(model(data.x_train), data.y_train).item()
    m = evaluate(model, data.x_train, data.y_train)
    assert m.accuracy == pytest.approx(expected)
    assert m.loss == pytest.approx(mse)


def test_evaluate_restores_training_mode(digits: Dataset) -> None:
    model = model_for(digits)
    model.train()
    evaluate(model, digits.x_test, digits.y_test)
    assert model.training
    model.eval()
    evaluate(model, digits.x_test, digits.y_test)
    assert not model.training


# -- divergence --------------------------------------------------------------------------------


def test_huge_learning_rate_raises_training_diverged(digits: Dataset) -> None:
    model = model_for(digits)
    with pytest.raises(TrainingDiverged, match=r"nan|inf"):
        fit(model, digits, None, TrainConfig(lr=1e9, epochs=2, batch_size=64))


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_weights_raise_training_diverged(gaussian: Dataset, bad: float) -> None:
    model = model_for(gaussian)
    with torch.no_grad():
        model.out.weight.fill_(bad)
        model.out.bias.fill_(bad)
    with pytest.raises(TrainingDiverged, match="at step 0"):
        train(model, gaussian, None, TrainConfig(lr=0.1, epochs=1, batch_size=0))


def test_training_diverged_is_not_a_user_error() -> None:
    assert issubclass(TrainingDiverged, RuntimeError)
    assert not issubclass(TrainingDiverged, UserError)


# -- steps, epochs, batch size -----------------------------------------------------------------


def test_steps_override_epochs() -> None:
    assert TrainConfig(steps=7).total_steps(1437) == 7
    assert TrainConfig(steps=7, epochs=100, batch_size=0).total_steps(30) == 7
    assert TrainConfig(epochs=3, batch_size=128).total_steps(1437) == 3 * 12
    assert TrainConfig(epochs=3, batch_size=0).total_steps(1437) == 3
    assert TrainConfig(batch_size=0).steps_per_epoch(1437) == 1
    assert TrainConfig(batch_size=100).steps_per_epoch(1437) == 15
    assert TrainConfig(batch_size=2000).steps_per_epoch(1437) == 1
    assert TrainConfig(epochs=0).total_steps(1437) == 0


def test_full_batch_with_steps_runs_exactly_that_many_steps(gaussian: Dataset) -> None:
    model = model_for(gaussian)
    config = TrainConfig(lr=0.1, batch_size=0, steps=7, epochs=50)
    with StepCounter() as counter:
        history = fit(model, gaussian, None, config)
    assert counter.steps == 7
    # Full batch: one step per epoch, so a history entry per step.
    assert [h["step"] for h in history] == [1, 2, 3, 4, 5, 6, 7]
    assert [h["epoch"] for h in history] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    # Full-batch gradient descent on a fixed set decreases the loss at a small lr.
    assert history[-1]["batch_loss"] < history[0]["batch_loss"]


def test_steps_within_an_epoch_end_history_at_last_step(digits: Dataset) -> None:
    model = model_for(digits)
    with StepCounter() as counter:
        history = fit(model, digits, None, TrainConfig(lr=0.05, batch_size=128, steps=7))
    assert counter.steps == 7
    assert len(history) == 1
    assert history[-1]["step"] == 7
    assert history[-1]["epoch"] == pytest.approx(7 / 12)


def test_train_with_steps_reports_them(digits: Dataset) -> None:
    result = train(model_for(digits), digits, None, TrainConfig(lr=0.05, batch_size=0, steps=7, epochs=9))
    assert result.steps == 7
    assert result.history[-1]["step"] == 7
    assert len(result.history) == 7


def test_zero_steps_leave_the_model_unchanged(digits: Dataset) -> None:
    model = model_for(digits)
    before = weights(model)
    with StepCounter() as counter:
        assert fit(model, digits, None, TrainConfig(epochs=0)) == []
    assert counter.steps == 0
    assert identical(before, weights(model))


# -- learning-rate schedules -------------------------------------------------------------------


def test_cosine_schedule_goes_from_one_to_zero() -> None:
    config = TrainConfig(lr_schedule="cosine")
    total = 100
    factors = [lr_factor(config, s, total, 10) for s in range(total + 1)]
    assert factors[0] == 1.0
    assert factors[total // 2] == pytest.approx(0.5)
    assert factors[total] == pytest.approx(0.0, abs=1e-12)
    assert factors[total - 1] < 1e-3
    assert all(a > b for a, b in itertools.pairwise(factors))


def test_step_schedule_multiplies_by_gamma_at_epoch_milestones() -> None:
    config = TrainConfig(lr_schedule="step", milestones=(2, 5), gamma=0.1)
    per_epoch = 10
    for step in range(0, 20):
        assert lr_factor(config, step, 100, per_epoch) == 1.0
    for step in range(20, 50):
        assert lr_factor(config, step, 100, per_epoch) == pytest.approx(0.1)
    for step in range(50, 100):
        assert lr_factor(config, step, 100, per_epoch) == pytest.approx(0.01)


def test_constant_schedule_is_one() -> None:
    config = TrainConfig()
    assert {lr_factor(config, s, 50, 7) for s in range(50)} == {1.0}


@pytest.mark.parametrize(
    "config",
    [
        TrainConfig(lr=0.2, lr_schedule="cosine", batch_size=0, steps=12),
        TrainConfig(lr=0.2, lr_schedule="step", milestones=(1, 3), gamma=0.5, batch_size=16, epochs=4),
        TrainConfig(lr=0.2, batch_size=16, epochs=2),
    ],
    ids=["cosine", "step", "constant"],
)
def test_fit_applies_the_schedule_at_every_step(gaussian: Dataset, config: TrainConfig) -> None:
    n = gaussian.n_train
    total, per_epoch = config.total_steps(n), config.steps_per_epoch(n)
    with StepCounter() as counter:
        fit(model_for(gaussian), gaussian, None, config)
    expected = [config.lr * lr_factor(config, s, total, per_epoch) for s in range(total)]
    assert counter.steps == total
    assert counter.lrs == pytest.approx(expected)


# -- augmentation ------------------------------------------------------------------------------


def images(b: int = 16, c: int = 3, h: int = 6, w: int = 5) -> torch.Tensor:
    return torch.rand(b, c, h, w, generator=torch.Generator().manual_seed(0)) + 0.5  # no zeros


def test_augment_keeps_shape_and_is_deterministic() -> None:
    x = images()
    a = augment_batch(x, torch.Generator().manual_seed(3))
    b = augment_batch(x, torch.Generator().manual_seed(3))
    c = augment_batch(x, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_augment_with_zero_padding_only_flips() -> None:
    x = images(b=64)
    out = augment_batch(x, torch.Generator().manual_seed(0), pad=0)
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(3)).flatten(1).all(1)
    assert bool((same | flipped).all())
    assert 0 < int(flipped.sum()) < 64 and 0 < int(same.sum()) < 64


def test_augment_is_a_crop_of_the_padded_image_possibly_flipped() -> None:
    pad = 2
    x = images(b=12)
    out = augment_batch(x, torch.Generator().manual_seed(1), pad=pad)
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    h, w = x.shape[2:]
    shifted = 0
    for i in range(len(x)):
        crops = [
            (r, c, flip)
            for r in range(2 * pad + 1)
            for c in range(2 * pad + 1)
            for flip in (False, True)
            if torch.equal(
                out[i], (lambda t, f=flip: t.flip(2) if f else t)(padded[i, :, r : r + h, c : c + w])
            )
        ]
        assert crops, f"example {i} is not a (flipped) crop of its padded image"
        shifted += all((r, c) != (pad, pad) for r, c, _ in crops)
    assert shifted > 0  # some examples were actually shifted


# -- config validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"optimizer": "rmsprop"},
        {"lr_schedule": "bogus"},
        {"lr": 0.0},
        {"lr": -0.1},
        {"lr": math.nan},
        {"epochs": -1},
        {"steps": -1},
        {"batch_size": -1},
    ],
)
def test_bad_config_raises_user_error(kwargs: dict) -> None:
    with pytest.raises(UserError):
        TrainConfig(**kwargs)


def test_user_error_names_the_bad_value() -> None:
    with pytest.raises(UserError, match="rmsprop"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(UserError, match="bogus"):
        TrainConfig(lr_schedule="bogus")


# -- make_trainer ------------------------------------------------------------------------------


def test_make_trainer_runs_exactly_the_given_steps(digits: Dataset) -> None:
    config = TrainConfig(lr=0.05, momentum=0.9, epochs=50, batch_size=64)
    trainer = make_trainer(digits, config)
    model = model_for(digits)
    masks = random_masks(model, density=0.5)
    with StepCounter() as counter:
        assert trainer(model, masks, 9) is None
    assert counter.steps == 9

    reference = model_for(digits)
    with StepCounter() as counter:
        fit(reference, digits, masks, config, steps=9)
    assert counter.steps == 9
    assert identical(weights(model), weights(reference))

    # Different step counts give different weights; the mask is respected.
    other = model_for(digits)
    trainer(other, masks, 10)
    assert not identical(weights(model), weights(other))
    params = dict(model.named_parameters())
    assert all(bool((params[n].detach()[~m] == 0).all()) for n, m in masks.items())


# -- resuming at step k (IMP rewinding to k > 0) -------------------------------------------------


@pytest.mark.parametrize("augment", [False, True], ids=["plain", "augmented"])
def test_training_resumed_at_step_k_equals_the_uninterrupted_run(digits: Dataset, augment: bool) -> None:
    """Without optimizer state (plain SGD), k steps then ``steps = T - k, start = k`` is the
    run of T steps, bit for bit: the data order (and augmentation draws) and the cosine lr
    resume at step k, here in the middle of an epoch. Restarting both at step 0 is not."""
    config = TrainConfig(
        optimizer="sgd", lr=0.1, momentum=0.0, batch_size=64, lr_schedule="cosine", augment=augment
    )
    total, k = 60, 37  # 29 batches per epoch: k falls inside the second epoch
    masks = random_masks(model_for(digits), 0.5)
    whole = model_for(digits)
    fit(whole, digits, masks, config, seed=3, steps=total)
    split = model_for(digits)
    fit(split, digits, masks, config, seed=3, steps=k, length=total)
    fit(split, digits, masks, config, seed=3, steps=total - k, start=k)
    assert identical(weights(whole), weights(split))
    restarted = model_for(digits)
    fit(restarted, digits, masks, config, seed=3, steps=k, length=total)
    fit(restarted, digits, masks, config, seed=3, steps=total - k)
    assert not identical(weights(whole), weights(restarted))
