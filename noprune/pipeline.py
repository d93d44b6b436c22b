"""Prune one network, optionally train it, and describe the result (``noprune prune`` and the
``accuracy`` experiment).

One config: a pruner, a model, a data set, a density, a scope and a seed. Every random draw
(data, initial weights, scoring batch, pruner, training order) comes from that seed.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

import pruners
from noprune.config import SEED_LIMIT, ExperimentConfig, TrainConfig, canonical, run_key
from noprune.data import Dataset, balanced_batch, load_dataset
from noprune.ensemble import EnsembleData, StackedMLP, prune_ensemble
from noprune.errors import UnknownNameError, UserError
from noprune.models import INITS, build_model, check_model_spec, initialize
from noprune.sweep.provenance import provenance, resolve_device
from noprune.training import make_trainer, train

ABLATIONS = tuple(pruners.ABLATIONS)


@dataclass
class PruneOutcome:
    model: nn.Module
    masks: pruners.MaskSet
    init_state: dict[str, torch.Tensor]
    report: dict[str, Any]


def check_config(config: ExperimentConfig) -> None:
    """Validate names and ranges before any work, with messages a user can act on."""
    prune = config.prune
    if prune.pruner not in pruners.PRUNERS:
        raise UnknownNameError("pruner", prune.pruner, list(pruners.PRUNERS))
    if not 0.0 < prune.density <= 1.0:
        raise UserError(f"density must be in (0, 1], got {prune.density:g}")
    if prune.scope not in ("global", "layerwise"):
        raise UserError(f"scope must be global or layerwise, got {prune.scope!r}")
    if prune.ablation is not None and prune.ablation not in ABLATIONS:
        raise UnknownNameError("ablation", prune.ablation, ABLATIONS)
    if config.init not in INITS:
        raise UnknownNameError("init", config.init, list(INITS))
    check_model_spec(config.model)
    _check_numbers(config)
    _check_pruner(config)


def _check_numbers(config: ExperimentConfig) -> None:
    """Ranges and finiteness of every numeric field, so that no bad value reaches a run."""
    train, prune, info = config.train, config.prune, config.info
    rules: list[tuple[str, object, bool, str]] = [
        ("seed", config.seed, 0 <= config.seed < SEED_LIMIT, f"an integer in 0..{SEED_LIMIT - 1}"),
        ("train.lr", train.lr, math.isfinite(train.lr) and train.lr > 0, "finite and > 0"),
        (
            "train.momentum",
            train.momentum,
            math.isfinite(train.momentum) and train.momentum >= 0,
            "finite and >= 0",
        ),
        (
            "train.weight_decay",
            train.weight_decay,
            math.isfinite(train.weight_decay) and train.weight_decay >= 0,
            "finite and >= 0",
        ),
        ("train.gamma", train.gamma, math.isfinite(train.gamma) and train.gamma > 0, "finite and > 0"),
        ("train.gradient_noise", train.gradient_noise, math.isfinite(train.gradient_noise), "finite"),
        ("train.milestones", train.milestones, all(m >= 0 for m in train.milestones), "epochs >= 0"),
        ("prune.batch_per_class", prune.batch_per_class, prune.batch_per_class >= 1, ">= 1"),
        ("prune.pretrain_epochs", prune.pretrain_epochs, prune.pretrain_epochs >= 0, ">= 0"),
        ("prune.rewind_step", prune.rewind_step, prune.rewind_step >= 0, ">= 0"),
        ("info.draws", info.draws, info.draws >= 1, ">= 1"),
        ("info.points", info.points, info.points >= 0, ">= 0 (0: all)"),
        ("info.fit_draws", info.fit_draws, info.fit_draws >= 0, ">= 0 (0: the default split)"),
        ("info.parents", info.parents, info.parents >= 1, ">= 1"),
        ("info.alpha", info.alpha, 0.0 < info.alpha < 1.0, "in (0, 1)"),
        ("info.repetitions", info.repetitions, info.repetitions >= 0, ">= 0"),
        ("info.replicates", info.replicates, info.replicates >= 1, ">= 1"),
    ]
    for name, value, ok, want in rules:
        if not ok:
            raise UserError(f"{name} must be {want}, got {value!r}")


def _check_pruner(config: ExperimentConfig) -> None:
    """The pruner's own validation of its settings, and of its scope and schedule at the density,
    before any run. Steps per epoch need the data: exact at full batch (1), else a stand-in that
    refuses no rewind step (the run checks again with the data)."""
    prune = config.prune
    per_epoch = 1 if config.train.batch_size == 0 else max(1, prune.rewind_step + 1)
    pruner = _pruner(config, per_epoch)
    try:
        if prune.scope not in pruner.scopes:
            raise ValueError(
                f"it sets each layer's density itself: scope must be {' or '.join(pruner.scopes)}"
            )
        schedule = getattr(pruner, "schedule", None)
        if callable(schedule):
            schedule(prune.density)
    except ValueError as error:
        raise UserError(f"pruner {prune.pruner}: {error}") from None


def make_pruner(config: ExperimentConfig, data: Dataset) -> pruners.Pruner:
    """The pruner with its settings (``prune.settings``), and for the fields noprune derives
    (``config.DERIVED_SETTINGS``) the training steps per round from ``prune.pretrain_epochs``
    and the rewind step from ``prune.rewind_step``."""
    return _pruner(config, config.train.steps_per_epoch(data.n_train))


def _pruner(config: ExperimentConfig, steps_per_epoch: int) -> pruners.Pruner:
    """:func:`make_pruner` with the steps per epoch given (the data decides them)."""
    prune = config.prune
    cls = pruners.PRUNERS[prune.pruner]
    fields = {f.name for f in dataclasses.fields(cls)}
    settings = prune.pruner_settings()
    if "train_steps" in fields:
        settings["train_steps"] = prune.pretrain_epochs * steps_per_epoch
    if "rewind_step" in fields:
        settings["rewind_step"] = prune.rewind_step
    elif prune.rewind_step:
        raise UserError(f"pruner {prune.pruner} does not rewind; prune.rewind_step must be 0")
    try:
        return cls(**settings)
    except ValueError as error:
        raise UserError(f"pruner {prune.pruner}: {error}") from None


def scoring_batch(config: ExperimentConfig, data: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-balanced batch data-dependent pruners score on, drawn from the seed."""
    return balanced_batch(data, config.prune.batch_per_class, torch.Generator().manual_seed(config.seed))


def pretraining(config: ExperimentConfig) -> TrainConfig:
    """The training imp does per round and magnitude_after does dense: ``config.train`` for
    ``prune.pretrain_epochs`` epochs."""
    return dataclasses.replace(config.train, epochs=config.prune.pretrain_epochs, steps=0)


def prune_stacked(
    config: ExperimentConfig,
    data: Dataset,
    model: StackedMLP,
    densities: float | Sequence[float],
    *,
    seeds: Sequence[int],
    batch: tuple[torch.Tensor, torch.Tensor] | None,
    ensemble: EnsembleData,
) -> list[torch.Tensor]:
    """``prune_ensemble`` with the pruner settings ``config.prune`` gives (those ``run_prune``
    gives the one-model pruner); ``data`` sizes imp's and magnitude_after's training steps."""
    prune = config.prune
    return prune_ensemble(
        make_pruner(config, data),
        model,
        densities,
        seeds=seeds,
        batch=batch,
        scope=prune.scope,
        invert=prune.ablation == "invert",
        data=ensemble,
        train=pretraining(config),
        include_biases=prune.biases,
    )


def run_prune(
    config: ExperimentConfig, *, device: torch.device | str = "auto", data_root: str | None = None
) -> PruneOutcome:
    """Prune (and, if ``config.train`` asks for steps, train) as ``config`` says."""
    check_config(config)
    device = resolve_device(device) if isinstance(device, str) else device
    prune = config.prune
    data = load_dataset(config.data, seed=config.seed, root=data_root)
    model = build_model(config.model, data.input_shape, data.num_classes, seed=config.seed, init=config.init)
    model = model.to(device)
    pruner = make_pruner(config, data)
    batch = scoring_batch(config, data)
    pretrain = pretraining(config)
    start = time.perf_counter()
    try:
        masks = pruner.prune(
            model,
            prune.density,
            batch=batch,
            scope=prune.scope,
            seed=config.seed,
            trainer=make_trainer(data, pretrain, seed=config.seed) if pruner.needs_trainer else None,
            invert=prune.ablation == "invert",
            apply=False,
            include_biases=prune.biases,
        )
    except ValueError as error:  # what the pruner cannot do with this model or data (phew on a ResNet)
        raise UserError(f"pruner {prune.pruner}: {error}") from None
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    scoring_seconds = time.perf_counter() - start
    if prune.ablation == "shuffle":
        masks = pruners.shuffle(masks, seed=config.seed)
    elif prune.ablation == "reinit":
        # A seed stream distinct from the one that drew the initial weights.
        pruners.reinit(
            model,
            masks,
            seed=config.seed + 1_000_003,
            initializer=lambda m, g: initialize(m, g, config.init),
        )
    masks.apply(model)
    init_state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    report = describe(config, pruner, masks, data, batch, scoring_seconds, device, data_root)
    on_paths = pruners.connected(model, masks, data.input_shape)  # effective density
    report["connected"] = {"nnz": on_paths.nnz, "density": on_paths.density}
    if config.train.total_steps(data.n_train) > 0:
        result = train(model, data, masks, config.train, seed=config.seed)
        report["training"] = {
            "config": dataclasses.asdict(config.train),
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
    config: ExperimentConfig,
    pruner: pruners.Pruner,
    masks: pruners.MaskSet,
    data: Dataset,
    batch: tuple[torch.Tensor, torch.Tensor],
    scoring_seconds: float,
    device: torch.device,
    data_root: str | None,
) -> dict[str, Any]:
    """The report.json of one pruning: realised figures, settings, seeds and provenance."""
    prune = config.prune
    bn_mode = pruner.batchnorm_mode
    return {
        "pruner": prune.pruner,
        "pruner_settings": pruner.settings(),
        "ablation": prune.ablation,
        "model": config.model,
        "data": config.data,
        "data_root": data_root,
        "scope": prune.scope,
        "density_target": prune.density,
        "sparsity_target": 1.0 - prune.density,
        "density": masks.density,
        "nnz": masks.nnz,
        "numel": masks.numel,
        "per_layer": {
            n: {"nnz": s.nnz, "numel": s.numel, "density": s.density} for n, s in masks.per_layer().items()
        },
        "collapsed_layers": masks.collapsed(),
        "scoring_seconds": scoring_seconds,
        "scoring_batch": {
            "per_class": prune.batch_per_class,
            "size": len(batch[0]),
            "seed": config.seed,
            "batchnorm_mode": bn_mode,
            "used": pruner.uses_data and not pruner.needs_trainer,
        },
        "pretraining": (
            {"epochs": prune.pretrain_epochs, "rewind_step": prune.rewind_step}
            if pruner.needs_trainer
            else None
        ),
        "seeds": {
            "data": config.seed,
            "init": config.seed,
            "batch": config.seed,
            "pruner": config.seed,
            "train": config.seed,
        },
        "config": canonical(config),
        "run_key": run_key(config),
        "data_shape": {
            "n_train": data.n_train,
            "input_shape": list(data.input_shape),
            "outputs": data.num_classes,
        },
        "provenance": provenance(device),
    }
