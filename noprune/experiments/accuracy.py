"""The ``accuracy`` experiment: prune, train, and record what the leaderboard shows."""

from __future__ import annotations

from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.pipeline import run_prune


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
