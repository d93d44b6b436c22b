"""The masked training loop: SGD or Adam, epochs or steps, minibatches, lr schedules, metrics.

Pruned weights stay at exactly zero: :meth:`pruners.MaskSet.apply` masks their gradients and
the loop zeroes them again after every optimizer step. Every random choice (data order,
augmentation) comes from a generator seeded by the config.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from noprune import progress
from noprune.config import TrainConfig
from noprune.data import Dataset
from noprune.errors import TrainingDiverged, UserError
from pruners import MaskSet, Trainer
from pruners.scoring import batch_loss


@dataclass
class Metrics:
    loss: float
    accuracy: float


@dataclass
class TrainResult:
    """Final train and test metrics, per-epoch history, and the wall time spent."""

    train: Metrics
    test: Metrics
    steps: int
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    if config.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.SGD(
        model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


def lr_factor(config: TrainConfig, step: int, total: int, steps_per_epoch: int) -> float:
    """Multiplier of the base lr at ``step`` (0-based) of ``total``."""
    if config.lr_schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * step / max(1, total)))
    if config.lr_schedule == "step":
        epoch = step // steps_per_epoch
        return config.gamma ** sum(epoch >= m for m in config.milestones)
    return 1.0


LOSS_CHANGE = 0.01
"""Converged: the mean training loss moved by less than this from one epoch's end to the next."""

STALL_EPOCHS = 3
"""Converged: the training accuracy has not changed for this many consecutive epochs."""


class Convergence:
    """No Free Prune's stopping rule, per network: "We train till convergence in loss to within
    0.01 (or until accuracy doesn't change for three consecutive epochs)". Read here as: at the
    end of every epoch, on the whole training set, a network has converged once its mean loss
    differs by less than :data:`LOSS_CHANGE` from the previous epoch's, or its count of correct
    points has equalled the previous epoch's :data:`STALL_EPOCHS` times in a row. One instance
    follows K networks (``fit``: K = 1; ``fit_ensemble``: the members).

    The epoch is the rule's clock, so it suits large training sets: on noisy digits (23 steps an
    epoch, the e2-noisy-digits suite) it stopped nearly every network after two epochs, imp's
    rounds and magnitude_after's dense phase included (all at ~10% train accuracy, 5 seeds); on
    E1's 30 points (one step an epoch) within 2-22 steps."""

    def __init__(self, k: int, device: torch.device | str = "cpu") -> None:
        self.loss: torch.Tensor | None = None
        self.right: torch.Tensor | None = None
        self.stalled = torch.zeros(k, dtype=torch.long, device=device)

    def update(self, loss: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        """[K] bool, converged at this epoch's end, from the mean training losses [K] and the
        counts of correctly classified training points [K]."""
        done = torch.zeros_like(self.stalled, dtype=torch.bool)
        if self.loss is not None and self.right is not None:  # set together: not at the first epoch
            done = (loss - self.loss).abs() < LOSS_CHANGE
            self.stalled = torch.where(right == self.right, self.stalled + 1, 0)
            done |= self.stalled >= STALL_EPOCHS
        self.loss, self.right = loss.clone(), right.clone()
        return done


def augment_batch(x: torch.Tensor, generator: torch.Generator, pad: int = 4) -> torch.Tensor:
    """Random crop after zero padding, and random horizontal flip, per example."""
    b, c, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator).to(x.device)
    flips = (torch.rand(b, generator=generator) < 0.5).to(x.device)
    padded = nn.functional.pad(x, (pad, pad, pad, pad))
    rows = (offsets[:, :1] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (offsets[:, 1:] + torch.arange(w, device=x.device))[:, None, None, :]
    idx_b = torch.arange(b, device=x.device)[:, None, None, None]
    idx_c = torch.arange(c, device=x.device)[None, :, None, None]
    out = padded[idx_b, idx_c, rows, cols]
    return torch.where(flips[:, None, None, None], out.flip(3), out)


def correct(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-example correctness: argmax for classes, sign agreement for +-1 regression targets."""
    if target.is_floating_point():
        return (torch.sign(output.reshape(target.shape)) == torch.sign(target)).all(dim=-1)
    return output.argmax(dim=1) == target


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1024) -> Metrics:
    """Mean loss and accuracy of ``model`` in eval mode over (x, y)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    loss_sum, right = 0.0, 0
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size].to(device), y[start : start + batch_size].to(device)
        out = model(xb)
        loss_sum += float(batch_loss(out, yb)) * len(xb)
        right += int(correct(out, yb).sum())
    model.train(was_training)
    return Metrics(loss_sum / max(1, len(x)), right / max(1, len(x)))


def fit(
    model: nn.Module,
    data: Dataset,
    masks: MaskSet | None,
    config: TrainConfig,
    *,
    seed: int = 0,
    steps: int | None = None,
    start: int = 0,
    length: int | None = None,
    stop: Callable[[nn.Module], bool] | None = None,
    check_every: int = 10,
) -> list[dict[str, float]]:
    """Train ``model`` in place on ``data.x_train`` with ``masks`` held fixed; return the history.

    Runs ``steps`` optimizer steps if given, else ``config.total_steps``. The data order is a
    fresh permutation per epoch from a generator seeded with ``seed``, so two calls with the
    same config and seed see the same batches. ``start`` and ``length`` make the call steps
    ``start`` to ``start + steps`` of a run of ``length`` steps (default ``start + steps``): the
    data order (and augmentation draws) of the steps before ``start`` are drawn and skipped, and
    the learning-rate schedule runs over ``length`` (IMP rewinding to step k, Frankle et al.
    2020: steps 0 to k of the run, then k to the end in every round). Raises
    :class:`TrainingDiverged` on a NaN loss.
    With ``stop``, training ends early at the first ``check_every``-th step after which
    ``stop(model)`` is true (``noprune.ensemble.StopRule`` for one model); the last history
    entry then holds that step.
    """
    if config.gradient_noise:
        raise UserError("train.gradient_noise is implemented by the noise_correlation experiment only")
    device = next(model.parameters()).device
    x, y = data.x_train.to(device), data.y_train.to(device)
    n = len(x)
    per_epoch = config.steps_per_epoch(n)
    total = config.total_steps(n) if steps is None else steps
    batch = config.batch_rows(n)
    generator = torch.Generator().manual_seed(seed)
    optimizer = make_optimizer(model, config)
    zero_pruned = masks.zeroer(model) if masks is not None else None
    if masks is not None:
        masks.apply(model)
    history: list[dict[str, float]] = []
    convergence = Convergence(1) if config.converge else None
    model.train()
    order = torch.randperm(n, generator=generator).to(device)
    with progress.bar(total, "training") as shown:
        for step in range(start + total):
            within = step % per_epoch
            if within == 0 and step > 0:
                order = torch.randperm(n, generator=generator).to(device)
            idx = order[within * batch : (within + 1) * batch]
            xb, yb = x[idx], y[idx]
            if config.augment and xb.dim() == 4:
                xb = augment_batch(xb, generator)
            if step < start:
                continue
            for group in optimizer.param_groups:
                group["lr"] = config.lr * lr_factor(config, step, length or start + total, per_epoch)
            optimizer.zero_grad(set_to_none=True)
            loss = batch_loss(model(xb), yb)
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"training loss became {float(loss.detach())} at step {step}")
            loss.backward()
            optimizer.step()
            if zero_pruned is not None:
                zero_pruned()
            shown.update()
            stopping = stop is not None and (step + 1) % check_every == 0 and stop(model)
            if convergence is not None and within == per_epoch - 1 and not stopping:
                metrics = evaluate(model, x, y)
                right = torch.tensor([round(metrics.accuracy * n)])
                stopping = bool(convergence.update(torch.tensor([metrics.loss]), right)[0])
            if within == per_epoch - 1 or step == start + total - 1 or stopping:
                history.append(
                    {"step": step + 1, "epoch": (step + 1) / per_epoch, "batch_loss": float(loss.detach())}
                )
            if stopping:
                break
    return history


def train(
    model: nn.Module, data: Dataset, masks: MaskSet | None, config: TrainConfig, *, seed: int = 0
) -> TrainResult:
    """:func:`fit` for the configured steps, then train and test metrics in eval mode."""
    start_time = time.perf_counter()
    history = fit(model, data, masks, config, seed=seed)
    seconds = time.perf_counter() - start_time
    return TrainResult(
        train=evaluate(model, data.x_train, data.y_train),
        test=evaluate(model, data.x_test, data.y_test),
        steps=config.total_steps(data.n_train),
        seconds=seconds,
        history=history,
    )


def make_trainer(data: Dataset, config: TrainConfig, *, seed: int = 0) -> Trainer:
    """The ``train(model, masks, steps, start=0, length=None)`` callable that training-based
    pruners receive (:func:`fit`'s ``start`` and ``length``)."""

    def trainer(
        model: nn.Module, masks: MaskSet, steps: int, start: int = 0, length: int | None = None
    ) -> None:
        fit(model, data, masks, config, seed=seed, steps=steps, start=start, length=length)

    return trainer


def shared_training(trainer: Trainer) -> Trainer:
    """``trainer`` that runs each training once: a call whose starting state (parameters and
    buffers), mask, steps, start and length equal an earlier call's loads the state that call
    ended with.

    ``fit`` is a function of those three (its data, config and seed are fixed in ``trainer``),
    so this changes no result. It lets the pruners that train share their training across
    densities, pruned one after another: magnitude_after's dense training, and imp's rounds
    up to the first at which two target densities' schedules part, as
    ``noprune.ensemble.pruning.after_training`` shares them within an ensemble."""
    done: dict[bytes, dict[str, torch.Tensor]] = {}

    def digest(model: nn.Module, masks: MaskSet, steps: int, start: int, length: int | None) -> bytes:
        h = hashlib.blake2b(f"{steps},{start},{length}".encode(), digest_size=32)
        for name, tensor in [*model.state_dict().items(), *masks.items()]:
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return h.digest()

    def train_once(
        model: nn.Module, masks: MaskSet, steps: int, start: int = 0, length: int | None = None
    ) -> None:
        key = digest(model, masks, steps, start, length)
        if key in done:
            model.load_state_dict(done[key])
            return
        resume = {k: v for k, v in (("start", start), ("length", length)) if v}
        trainer(model, masks, steps, **resume)  # a plain trainer(model, masks, steps) too
        done[key] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    return train_once
