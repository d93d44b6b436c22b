"""The labels design shared by the information experiments (``mask_information`` and
``exact_label_information``): fixed inputs and init, label vectors as the data variable, and the
two ways to prune one mask per (label vector, density): one ensemble of MLPs, or one network at a
time with a shared training per draw."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from noprune.config import ExperimentConfig
from noprune.data import Dataset, load_dataset
from noprune.data.base import make_generator
from noprune.ensemble import EnsembleData, StackedMLP
from noprune.ensemble.pruning import masked_copy
from noprune.errors import UserError
from noprune.experiments.shared import MLP_MODELS
from noprune.models import build_model
from noprune.pipeline import make_pruner, pretraining, prune_stacked
from noprune.specs import split_spec
from noprune.training import make_trainer, shared_training


def draw_labels(seed: int, draws: int, points: int) -> torch.Tensor:
    """K i.i.d. uniform binary label vectors [K, n], from the seed alone."""
    generator = make_generator(seed, "mask_information/labels")
    return torch.randint(0, 2, (draws, points), generator=generator)


@dataclass
class Design:
    """The fixed inputs ``x`` [n, ...] and init, and the K label draws ``labels`` [K, n]."""

    data: Dataset
    """The inputs with ``labels[0]``, two classes: what sizes the pruners' training."""
    labels: torch.Tensor
    init: nn.Module

    @property
    def x(self) -> torch.Tensor:
        return self.data.x_train

    def with_labels(self, k: int) -> Dataset:
        return dataclasses.replace(self.data, y_train=self.labels[k])


def design(config: ExperimentConfig, data_root: str | None) -> Design:
    data = load_dataset(config.data, seed=config.seed, root=data_root)
    n = config.info.points or data.n_train
    if not 1 <= n <= data.n_train:
        raise UserError(f"info.points must be in 1..{data.n_train} for data {config.data!r}, got {n}")
    labels = draw_labels(config.seed, config.info.draws, n)
    relabelled = dataclasses.replace(data, x_train=data.x_train[:n], y_train=labels[0], num_classes=2)
    init = build_model(config.model, data.input_shape, 2, seed=config.seed, init=config.init)
    return Design(relabelled, labels, init)


@dataclass
class Pruned:
    """Per density: the masks of the draws as bits [draws, p] and the masked init's label
    guesses [draws, n]; whether re-pruning the first draws with another pruner seed gave the same
    masks (None where not checked: label-blind pruners)."""

    bits: list[np.ndarray]
    guesses: list[np.ndarray]
    deterministic: list[bool | None] | None = None
    spread: list[tuple[float, float]] | None = None
    """Where another pruner seed changes the masks: (mean Hamming distance, estimate of H(m | y)
    with the seed drawn at random) of :func:`infotheory.replicate_spread` per density."""


def batched(config: ExperimentConfig) -> bool:
    """Whether the draws prune as one ensemble (MLPs)."""
    return split_spec(config.model)[0] in MLP_MODELS


def prune_as_ensemble(
    config: ExperimentConfig,
    plan: Design,
    densities: Sequence[float],
    draws: Sequence[int],
    device: torch.device,
) -> Pruned:
    """Member k * D + d of one ensemble prunes draw ``draws[k]`` at density ``densities[d]``."""
    d = len(densities)
    labels = plan.labels[list(draws)].repeat_interleave(d, dim=0).to(device)
    members = len(labels)
    model = StackedMLP.from_models([plan.init] * members).to(device)
    theta0 = model.clone()
    x = plan.x[None].to(device)
    masks = prune_stacked(
        config,
        plan.data,
        model,
        [density for _ in draws for density in densities],
        seeds=[config.seed] * members,  # one pruner seed and one training order: only the labels vary
        batch=(x, labels),
        ensemble=EnsembleData(x, labels),
    )
    with torch.no_grad():
        net = masked_copy(theta0, masks).requires_grad_(False)
        guesses = net(x.expand(members, *plan.x.shape)).argmax(dim=-1).cpu().numpy()
    bits = torch.cat([m.reshape(members, -1) for m in masks], dim=1).cpu().numpy()
    return Pruned([bits[i::d] for i in range(d)], [guesses[i::d] for i in range(d)])


def prune_one_by_one(
    config: ExperimentConfig,
    plan: Design,
    densities: Sequence[float],
    draws: Sequence[int],
    device: torch.device,
) -> Pruned:
    """The one-model pruner, draw by draw; a draw's densities share its training."""
    pruner = make_pruner(config, plan.data)
    x = plan.x.to(device)
    bits: list[list[np.ndarray]] = [[] for _ in densities]
    guesses: list[list[np.ndarray]] = [[] for _ in densities]
    for k in draws:
        data = plan.with_labels(k)
        trainer = shared_training(make_trainer(data, pretraining(config), seed=config.seed))
        for i, density in enumerate(densities):
            model = copy.deepcopy(plan.init).to(device)
            masks = pruner.prune(
                model,
                density,
                batch=(x, data.y_train.to(device)),
                scope=config.prune.scope,
                seed=config.seed,
                trainer=trainer,
                invert=config.prune.ablation == "invert",
            )
            bits[i].append(torch.cat([m.reshape(-1).cpu() for m in masks.values()]).numpy())
            net = copy.deepcopy(plan.init).to(device)
            masks.zero_(net)
            with torch.no_grad():
                guesses[i].append(net.eval()(x).argmax(dim=-1).cpu().numpy())
    return Pruned([np.stack(b) for b in bits], [np.stack(g) for g in guesses])
