"""The ``mask_information`` experiment (SCIENCE.md E6 and section 4): I(mask; labels | init).

Design: the inputs (the first ``info.points`` training inputs of ``data``) and the init (from
``seed``) are fixed; the data variable is the label vector y in {0, 1}^n, drawn ``info.draws``
= K times i.i.d. uniform, so H(S) = n bits exactly. The pruner runs once per draw with the same
pruner seed and the same training order, so the masks differ only through the labels: all K
prunings run as one ensemble (``noprune.ensemble``). The bounds come from
``infotheory.label_information``: exact zero when all masks agree (random, magnitude and synflow
must land there), an upper bound, and per-label Fano lower bounds from decoders cross-validated
over draws plus the masked network at init (sign of f(x_i; theta_0 * m) as the guess of y_i),
jointly at confidence 1 - ``info.alpha``. p_eff = nnz + I (SCIENCE.md section 1, informal form)
is reported as the interval these bounds give.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import torch

from infotheory import effective_parameters, label_information, pack
from noprune.config import ExperimentConfig
from noprune.data import load_dataset
from noprune.data.base import make_generator
from noprune.ensemble import EnsembleData, StackedMLP
from noprune.ensemble.pruning import BATCHED, masked_copy
from noprune.errors import UserError
from noprune.experiments.accuracy import MLP_MODELS
from noprune.models import build_model
from noprune.pipeline import check_config, prune_stacked
from noprune.specs import split_spec


def check(config: ExperimentConfig) -> None:
    check_config(config)
    if split_spec(config.model)[0] not in MLP_MODELS:
        raise UserError(
            f"mask_information prunes its label draws as one ensemble of MLPs; model {config.model!r} "
            f"is not one of {', '.join(MLP_MODELS)}"
        )
    if config.prune.pruner not in BATCHED:
        raise UserError(
            f"mask_information supports the pruners {', '.join(BATCHED)}, not {config.prune.pruner!r}"
        )
    if config.prune.ablation not in (None, "invert"):
        raise UserError(f"mask_information supports the ablation invert only, not {config.prune.ablation!r}")
    if config.info.draws < 2:
        raise UserError(f"mask_information needs info.draws >= 2, got {config.info.draws}")


def draw_labels(seed: int, draws: int, points: int) -> torch.Tensor:
    """K i.i.d. uniform binary label vectors [K, n], from the seed alone."""
    generator = make_generator(seed, "mask_information/labels")
    return torch.randint(0, 2, (draws, points), generator=generator)


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    check(config)
    info = config.info
    data = load_dataset(config.data, seed=config.seed, root=data_root)
    n = info.points or data.n_train
    if not 1 <= n <= data.n_train:
        raise UserError(f"info.points must be in 1..{data.n_train} for data {config.data!r}, got {n}")
    x = data.x_train[:n]
    labels = draw_labels(config.seed, info.draws, n)
    relabelled = dataclasses.replace(data, x_train=x, y_train=labels[0], num_classes=2)
    init = build_model(config.model, data.input_shape, 2, seed=config.seed, init=config.init)
    k = info.draws
    model = StackedMLP.from_models([init] * k).to(device)
    theta0 = model.clone()
    ensemble = EnsembleData(x[None].to(device), labels.to(device))
    start = time.perf_counter()
    masks = prune_stacked(
        config,
        relabelled,
        model,
        config.prune.density,
        seeds=[config.seed] * k,  # one pruner seed and one training order: only the labels vary
        batch=(x[None].to(device), labels.to(device)),
        ensemble=ensemble,
    )
    pruning_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with torch.no_grad():
        inputs = x.to(device).expand(k, *x.shape)
        guesses = masked_copy(theta0, masks).requires_grad_(False)(inputs).argmax(dim=-1)
    bits = torch.cat([m.reshape(k, -1) for m in masks], dim=1).cpu().numpy()
    packed = pack(bits)
    y = labels.numpy()
    result = label_information(
        packed,
        bits.shape[1],
        y,
        alpha=info.alpha,
        guesses={"init_network": guesses.cpu().numpy()},
        seed=config.seed,
    )
    nnz = float(bits.sum(axis=1).mean())
    peff = effective_parameters(nnz, result.lower.value, result.upper.value)
    return {
        **result.metrics(),
        "label_bits": n,
        "draws": k,
        "nnz": nnz,
        "numel": int(bits.shape[1]),
        "density": nnz / bits.shape[1],
        "distinct_masks": len(np.unique(packed, axis=0)),
        "peff_low": peff.low,
        "peff_high": peff.high,
        "information_per_weight_upper": result.upper.value / max(nnz, 1.0),
        "pruning_seconds": pruning_seconds,
        "estimate_seconds": time.perf_counter() - start,
    }
