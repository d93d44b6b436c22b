"""Prune one network, optionally train it, and describe the result (``noprune prune``).

One request: a pruner, a model, a data set, a density, a scope and a seed. Every random draw
(data, initial weights, scoring batch, pruner, training order) comes from that seed.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

import pruners
from noprune.data import Dataset, balanced_batch, load_dataset
from noprune.errors import UnknownNameError, UserError
from noprune.models import build_model, initialize
from noprune.provenance import provenance, resolve_device
from noprune.training import TrainConfig, make_trainer, train

ABLATIONS = tuple(pruners.ABLATIONS)


@dataclass(frozen=True)
class PruneRequest:
    """What to prune and how. ``pretrain_epochs`` is the training that imp (per round) and
    magnitude_after (dense) do before ranking; ``rewind_step`` is imp's rewind point in steps.
    ``train.epochs`` (or ``train.steps``) > 0 trains the pruned network afterwards."""

    pruner: str
    model: str
    data: str
    density: float
    scope: str = "global"
    seed: int = 0
    data_root: str | None = None
    ablation: str | None = None
    batch_per_class: int = 10
    pretrain_epochs: int = 10
    rewind_step: int = 0
    train: TrainConfig = field(default_factory=lambda: TrainConfig(epochs=0))
    device: str = "auto"


@dataclass
class PruneOutcome:
    model: nn.Module
    masks: pruners.MaskSet
    init_state: dict[str, torch.Tensor]
    report: dict[str, Any]


def check_request(req: PruneRequest) -> None:
    """Validate names and ranges before any work, with messages a user can act on."""
    if req.pruner not in pruners.PRUNERS:
        raise UnknownNameError("pruner", req.pruner, list(pruners.PRUNERS))
    if not 0.0 < req.density <= 1.0:
        raise UserError(f"density must be in (0, 1], got {req.density:g}")
    if req.scope not in ("global", "layerwise"):
        raise UserError(f"scope must be global or layerwise, got {req.scope!r}")
    if req.ablation is not None and req.ablation not in ABLATIONS:
        raise UnknownNameError("ablation", req.ablation, ABLATIONS)


def make_pruner(req: PruneRequest, data: Dataset) -> pruners.Pruner:
    cls = pruners.PRUNERS[req.pruner]
    if not cls.needs_trainer:
        return cls()
    steps = req.pretrain_epochs * req.train.steps_per_epoch(data.n_train)
    if cls.name == "imp":
        if not 0 <= req.rewind_step < steps:
            raise UserError(
                f"imp needs 0 <= --rewind-step < its {steps} training steps per round "
                f"(--pretrain-epochs {req.pretrain_epochs}), got --rewind-step {req.rewind_step}"
            )
        return cls(train_steps=steps, rewind_step=req.rewind_step)
    return cls(train_steps=steps)


def scoring_batch(req: PruneRequest, data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-balanced batch data-dependent pruners score on, drawn from the seed."""
    return balanced_batch(data, req.batch_per_class, torch.Generator().manual_seed(req.seed))


def run_prune(req: PruneRequest) -> PruneOutcome:
    """Prune (and optionally train) as ``req`` says; return the model, masks and report."""
    check_request(req)
    device = resolve_device(req.device)
    data = load_dataset(req.data, seed=req.seed, root=req.data_root)
    model = build_model(req.model, data.input_shape, data.num_classes, seed=req.seed).to(device)
    pruner = make_pruner(req, data)
    batch = scoring_batch(req, data)
    pretrain = dataclasses.replace(req.train, epochs=req.pretrain_epochs, steps=0)
    start = time.perf_counter()
    masks = pruner.prune(
        model,
        req.density,
        batch=batch,
        scope=req.scope,
        seed=req.seed,
        trainer=make_trainer(data, pretrain) if pruner.needs_trainer else None,
        invert=req.ablation == "invert",
        apply=False,
    )
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    scoring_seconds = time.perf_counter() - start
    if req.ablation == "shuffle":
        masks = pruners.shuffle(masks, seed=req.seed)
    elif req.ablation == "reinit":
        # A seed stream distinct from the one that drew the initial weights.
        pruners.reinit(model, masks, seed=req.seed + 1_000_003, initializer=initialize)
    masks.apply(model)
    init_state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    report = describe(req, pruner, masks, data, batch, scoring_seconds, device)
    if req.train.total_steps(data.n_train) > 0:
        result = train(model, data, masks, req.train)
        report["training"] = {
            "config": dataclasses.asdict(req.train),
            "steps": result.steps,
            "seconds": result.seconds,
            "train_loss": result.train.loss,
            "train_accuracy": result.train.accuracy,
            "test_loss": result.test.loss,
            "test_accuracy": result.test.accuracy,
            "history": result.history,
        }
        report["density_after_training"] = nonzero_density(model, masks)
    return PruneOutcome(model, masks, init_state, report)


def nonzero_density(model: nn.Module, masks: pruners.MaskSet) -> float:
    """Fraction of prunable weights that are nonzero: a check that pruned weights stayed zero."""
    params = dict(model.named_parameters())
    return sum(int((params[n] != 0).sum()) for n in masks) / masks.numel


def describe(
    req: PruneRequest,
    pruner: pruners.Pruner,
    masks: pruners.MaskSet,
    data: Dataset,
    batch: tuple[torch.Tensor, torch.Tensor],
    scoring_seconds: float,
    device: torch.device,
) -> dict[str, Any]:
    """The report.json of one pruning: realised figures, settings, seeds and provenance."""
    bn_mode = "eval" if pruner.name == "synflow" else ("train" if pruner.uses_data else "n/a")
    return {
        "pruner": req.pruner,
        "pruner_settings": pruner.settings(),
        "ablation": req.ablation,
        "model": req.model,
        "data": req.data,
        "data_root": req.data_root,
        "scope": req.scope,
        "density_target": req.density,
        "sparsity_target": 1.0 - req.density,
        "density": masks.density,
        "nnz": masks.nnz,
        "numel": masks.numel,
        "per_layer": {
            n: {"nnz": s.nnz, "numel": s.numel, "density": s.density} for n, s in masks.per_layer().items()
        },
        "collapsed_layers": masks.collapsed(),
        "scoring_seconds": scoring_seconds,
        "scoring_batch": {
            "per_class": req.batch_per_class,
            "size": len(batch[0]),
            "seed": req.seed,
            "batchnorm_mode": bn_mode,
            "used": pruner.uses_data and not pruner.needs_trainer,
        },
        "pretraining": (
            {"epochs": req.pretrain_epochs, "rewind_step": req.rewind_step} if pruner.needs_trainer else None
        ),
        "seeds": {
            "data": req.seed,
            "init": req.seed,
            "batch": req.seed,
            "pruner": req.seed,
            "train": req.train.seed,
        },
        "data_shape": {
            "n_train": data.n_train,
            "input_shape": list(data.input_shape),
            "outputs": data.num_classes,
        },
        "provenance": provenance(device),
    }
