"""What the experiments share (a library, not an experiment: experiments never import each
other): the MLPs the ensemble engine stacks, the accuracy metrics of a pruned network, and the
pruning of configs that differ only in seed and density as one ensemble (``prune_batch``);
``run_alone`` for experiments that exist only as an ensemble."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from noprune.config import ExperimentConfig, TrainConfig, canonical
from noprune.data import load_dataset
from noprune.ensemble import EnsembleData, EnsembleResult, StackedMLP, member_masks
from noprune.models import build_model
from noprune.pipeline import check_config, make_pruner, prune_stacked, scoring_batch
from noprune.specs import split_spec
from noprune.training import Metrics, TrainingDiverged
from pruners import MaskSet, connected

MLP_MODELS = ("mlp", "mlp_nobias", "lenet_300_100")


def metrics(
    masks: MaskSet,
    *,
    effective_nnz: int,
    train: Metrics | None,
    test: Metrics | None,
    scoring_seconds: float,
    train_seconds: float | None,
    density_after_training: float | None,
) -> dict[str, Any]:
    """The accuracy experiment's metrics; every count comes from the MaskSet itself.

    ``effective_nnz`` counts the kept weights on some input-to-output path
    (``pruners.connected``); over ``numel`` it is the effective density of Vysogorets & Kempe
    (2023). Kept weights off every path (layer collapse, dead ends) count in ``density`` only.
    """
    return {
        "train_accuracy": train.accuracy if train else None,
        "test_accuracy": test.accuracy if test else None,
        "train_loss": train.loss if train else None,
        "test_loss": test.loss if test else None,
        "density": masks.density,
        "nnz": masks.nnz,
        "numel": masks.numel,
        "effective_nnz": effective_nnz,
        "effective_density": effective_nnz / masks.numel,
        "per_layer_density": {n: stats.density for n, stats in masks.per_layer().items()},
        "collapsed_layers": masks.collapsed(),
        "scoring_seconds": scoring_seconds,
        "train_seconds": train_seconds,
        "density_after_training": density_after_training,
    }


def stacked_key(config: ExperimentConfig) -> str | None:
    """Everything but seed and density, for MLPs (the ensemble engine runs every pruner)."""
    if (
        split_spec(config.model)[0] not in MLP_MODELS
        or config.prune.ablation not in (None, "invert")
        or config.train.augment
        or config.train.total_steps(1) == 0
    ):
        return None
    shared = canonical(
        dataclasses.replace(config, seed=0, prune=dataclasses.replace(config.prune, density=1.0))
    )
    return json.dumps(shared, sort_keys=True)


@dataclass
class PrunedEnsemble:
    """Configs of one batch key, pruned as one ensemble and ready to train. Member k runs
    ``members[k]``; a lone config is padded with a copy of itself (``prune_batch``)."""

    members: list[ExperimentConfig]
    model: StackedMLP
    data: EnsembleData
    masks: list[torch.Tensor]
    scoring_seconds: float
    """Pruning time per member."""

    @property
    def seeds(self) -> list[int]:
        return [c.seed for c in self.members]

    @property
    def train(self) -> TrainConfig:
        return self.members[0].train


def prune_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> PrunedEnsemble | None:
    """Data, stacked initial networks and masks of ``configs`` (one batch key) as one ensemble,
    or None when their data sets, or the scoring batches of a pruner that scores on a batch,
    differ in shape (then they cannot be stacked: run them one by one). A lone config is run
    beside a copy of itself, so its numbers never depend on how the runner happened to group
    it (batched matmuls take another kernel for a single matrix)."""
    for config in configs:
        check_config(config)
    members = list(configs) if len(configs) > 1 else [configs[0], configs[0]]
    first = members[0]
    datasets = [load_dataset(c.data, seed=c.seed, root=data_root) for c in members]
    batches = [scoring_batch(c, d) for c, d in zip(members, datasets, strict=True)]
    pruner = make_pruner(first, datasets[0])
    scores_on_batch = not pruner.needs_trainer  # the pruners at init (data-free ones read its shape)
    if len({d.x_train.shape for d in datasets}) > 1 or (
        scores_on_batch and len({b[0].shape for b in batches}) > 1
    ):
        return None
    model = StackedMLP.from_models(
        [
            build_model(c.model, d.input_shape, d.num_classes, seed=c.seed, init=c.init)
            for c, d in zip(members, datasets, strict=True)
        ]
    ).to(device)
    data = EnsembleData.from_datasets(datasets).to(device)
    seeds = [c.seed for c in members]
    start = time.perf_counter()
    masks = prune_stacked(
        first,
        datasets[0],
        model,
        [c.prune.density for c in members],
        seeds=seeds,
        batch=(
            (
                torch.stack([b[0] for b in batches]).to(device),
                torch.stack([b[1] for b in batches]).to(device),
            )
            if scores_on_batch
            else None
        ),
        ensemble=data,
    )
    return PrunedEnsemble(members, model, data, masks, (time.perf_counter() - start) / len(members))


def member_metrics(pruned: PrunedEnsemble, result: EnsembleResult, k: int) -> dict[str, Any] | Exception:
    """:func:`metrics` of member k after training (or the divergence it met)."""
    if bool(result.diverged[k]):
        return TrainingDiverged(f"training loss became non-finite (member {k} of an ensemble)")
    names = [n for n, _ in pruned.model.targets(pruned.members[0].prune.biases)]
    member = MaskSet(member_masks(pruned.masks, names, k))
    nonzero = sum(int((t[k] != 0).sum()) for t in pruned.model.masked_tensors(len(pruned.masks)))
    input_shape = tuple(pruned.data.x_train.shape[2:])
    return {
        **metrics(
            member,
            effective_nnz=connected(pruned.model.member(k), member, input_shape).nnz,
            train=Metrics(float(result.train_loss[k]), float(result.train_accuracy[k])),
            test=Metrics(float(result.test_loss[k]), float(result.test_accuracy[k])),
            scoring_seconds=pruned.scoring_seconds,
            train_seconds=result.seconds / len(pruned.members),
            density_after_training=nonzero / member.numel,
        ),
        "ensemble_size": len(pruned.members),
    }


Run = Callable[..., dict[str, Any]]


def run_alone(run_batch: Callable[..., list[dict[str, Any] | Exception]], doc: str) -> Run:
    """The experiment's ``run``: ``run_batch([config])``, re-raising a member's error."""

    def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
        result = run_batch([config], device=device, data_root=data_root)[0]
        if isinstance(result, Exception):
            raise result
        return result

    run.__doc__ = doc
    return run
