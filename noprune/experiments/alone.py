"""``run`` for experiments that exist only as an ensemble: their ``run_batch`` on one config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from noprune.config import ExperimentConfig

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
