"""Experiments: pure functions ``run(config, device=, data_root=) -> metrics`` in a registry.

A metrics dict is JSON-able. Seeds come from the config; the device and the data folder are
execution details, not part of the config or its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.errors import UnknownNameError
from noprune.experiments import accuracy

Experiment = Callable[..., dict[str, Any]]

EXPERIMENTS: dict[str, tuple[Experiment, str]] = {
    "accuracy": (accuracy.run, "prune, train, record accuracy, loss, realised density and times"),
}


def run_experiment(
    config: ExperimentConfig, *, device: torch.device, data_root: str | None
) -> dict[str, Any]:
    try:
        experiment, _ = EXPERIMENTS[config.experiment]
    except KeyError:
        raise UnknownNameError("experiment", config.experiment, list(EXPERIMENTS)) from None
    return experiment(config, device=device, data_root=data_root)
