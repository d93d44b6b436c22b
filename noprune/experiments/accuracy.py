"""The ``accuracy`` experiment: prune, train, and record what the leaderboard shows.

``run`` takes the single-model path (any model). ``run_batch`` trains configs that differ only
in seed and density as one ensemble (MLPs; ``noprune.ensemble``): member k gets what ``run``
would give its config, within float rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.ensemble import train_ensemble
from noprune.experiments.shared import member_metrics, metrics, prune_batch, stacked_key
from noprune.pipeline import run_prune
from noprune.training import Metrics

batch_key = stacked_key


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    """Train and test accuracy and loss, realised density overall and per layer, collapsed
    layers, scoring and training time of one pruned-then-trained network."""
    outcome = run_prune(config, device=device, data_root=data_root)
    training = outcome.report.get("training", {})
    trained = bool(training)
    return metrics(
        outcome.masks,
        effective_nnz=outcome.report["connected"]["nnz"],
        train=Metrics(training["train_loss"], training["train_accuracy"]) if trained else None,
        test=Metrics(training["test_loss"], training["test_accuracy"]) if trained else None,
        scoring_seconds=outcome.report["scoring_seconds"],
        train_seconds=training.get("seconds"),
        density_after_training=outcome.report.get("density_after_training"),
    )


def run_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[dict[str, Any] | Exception]:
    """``run`` for every config at once, as one ensemble (``prune_batch``)."""
    pruned = prune_batch(configs, device=device, data_root=data_root)
    if pruned is None:
        return [run(c, device=device, data_root=data_root) for c in configs]
    result = train_ensemble(pruned.model, pruned.data, pruned.masks, pruned.train, seeds=pruned.seeds)
    return [member_metrics(pruned, result, k) for k in range(len(configs))]
