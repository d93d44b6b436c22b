"""The ``accuracy`` experiment: prune, train, and record what the leaderboard shows.

``run`` takes the single-model path (any model). ``run_batch`` trains configs that differ only
in seed and density as one ensemble (MLPs on the batched pruners; ``noprune.ensemble``): member
k gets what ``run`` would give its config, within float rounding.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

import torch

from noprune.config import ExperimentConfig, canonical
from noprune.data import load_dataset
from noprune.ensemble import BATCHED, EnsembleData, StackedMLP, prune_ensemble, train_ensemble
from noprune.models import build_model
from noprune.pipeline import check_config, make_pruner, run_prune, scoring_batch
from noprune.specs import split_spec
from noprune.training import TrainingDiverged

MLP_MODELS = ("mlp", "mlp_nobias", "lenet_300_100")


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    """Train and test accuracy and loss, realised density overall and per layer, collapsed
    layers, scoring and training time of one pruned-then-trained network."""
    report = run_prune(config, device=device, data_root=data_root).report
    training = report.get("training", {})
    return {
        "train_accuracy": training.get("train_accuracy"),
        "test_accuracy": training.get("test_accuracy"),
        "train_loss": training.get("train_loss"),
        "test_loss": training.get("test_loss"),
        "density": report["density"],
        "nnz": report["nnz"],
        "numel": report["numel"],
        "per_layer_density": {n: s["density"] for n, s in report["per_layer"].items()},
        "collapsed_layers": report["collapsed_layers"],
        "scoring_seconds": report["scoring_seconds"],
        "train_seconds": training.get("seconds"),
        "density_after_training": report.get("density_after_training"),
    }


def batch_key(config: ExperimentConfig) -> str | None:
    """Everything but seed and density, for MLPs on pruners the ensemble engine batches."""
    if (
        split_spec(config.model)[0] not in MLP_MODELS
        or config.prune.pruner not in BATCHED
        or config.prune.ablation not in (None, "invert")
        or config.train.augment
        or config.train.total_steps(1) == 0
    ):
        return None
    shared = canonical(
        dataclasses.replace(config, seed=0, prune=dataclasses.replace(config.prune, density=1.0))
    )
    return json.dumps(shared, sort_keys=True)


def run_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[dict[str, Any] | Exception]:
    """``run`` for every config at once, as one ensemble. A lone config is run beside a copy of
    itself, so its numbers never depend on how the runner happened to group it."""
    for config in configs:
        check_config(config)
    members = list(configs) if len(configs) > 1 else [configs[0], configs[0]]
    first = members[0]
    datasets = [load_dataset(c.data, seed=c.seed, root=data_root) for c in members]
    batches = [scoring_batch(c, d) for c, d in zip(members, datasets, strict=True)]
    if len({d.x_train.shape for d in datasets}) > 1 or len({b[0].shape for b in batches}) > 1:
        return [run(c, device=device, data_root=data_root) for c in configs]
    pruner = make_pruner(first, datasets[0])
    model = StackedMLP.from_models(
        [
            build_model(c.model, d.input_shape, d.num_classes, seed=c.seed)
            for c, d in zip(members, datasets, strict=True)
        ]
    ).to(device)
    data = EnsembleData.from_datasets(datasets).to(device)
    seeds = [c.seed for c in members]
    start = time.perf_counter()
    masks = prune_ensemble(
        first.prune.pruner,
        model,
        [c.prune.density for c in members],
        seeds=seeds,
        batch=(
            torch.stack([b[0] for b in batches]).to(device),
            torch.stack([b[1] for b in batches]).to(device),
        ),
        scope=first.prune.scope,
        invert=first.prune.ablation == "invert",
        data=data,
        train=dataclasses.replace(first.train, epochs=first.prune.pretrain_epochs, steps=0),
        train_steps=getattr(pruner, "train_steps", 0),
        rewind_step=getattr(pruner, "rewind_step", 0),
        include_biases=first.prune.biases,
    )
    scoring = (time.perf_counter() - start) / len(members)
    result = train_ensemble(model, data, masks, first.train, seeds=seeds)
    names = [n for n, _ in model.targets(first.prune.biases)]
    out: list[dict[str, Any] | Exception] = []
    for k in range(len(configs)):
        if bool(result.diverged[k]):
            out.append(TrainingDiverged(f"training loss became non-finite (member {k} of an ensemble)"))
            continue
        kept = [int(m[k].sum()) for m in masks]
        sizes = [m[k].numel() for m in masks]
        nonzero = sum(int((t[k] != 0).sum()) for t in model.masked_tensors(len(masks)))
        out.append(
            {
                "train_accuracy": float(result.train_accuracy[k]),
                "test_accuracy": float(result.test_accuracy[k]),
                "train_loss": float(result.train_loss[k]),
                "test_loss": float(result.test_loss[k]),
                "density": sum(kept) / sum(sizes),
                "nnz": sum(kept),
                "numel": sum(sizes),
                "per_layer_density": {n: c / s for n, c, s in zip(names, kept, sizes, strict=True)},
                "collapsed_layers": [
                    n for n, c in zip(names, kept, strict=True) if c == 0 and not n.endswith("bias")
                ],
                "scoring_seconds": scoring,
                "train_seconds": result.seconds / len(members),
                "density_after_training": nonzero / sum(sizes),
                "ensemble_size": len(members),
            }
        )
    return out
