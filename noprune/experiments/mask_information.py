"""The ``mask_information`` experiment (docs/SCIENCE.md E6 and section 4): I(mask; labels | init).

Design: the inputs (the first ``info.points`` training inputs of ``data``) and the init (from
``seed``) are fixed; the data variable is the label vector y in {0, 1}^n, drawn ``info.draws``
= K times i.i.d. uniform, so H(S) = n bits exactly. The pruner runs once per draw with the same
pruner seed and the same training order, so the masks differ only through the labels. The
bounds come from ``infotheory.label_information`` (exact zero when all K masks agree; else a
lower bound from label guesses on test draws by decoders fitted on the ``info.fit_draws`` fit
draws, among them the masked network at init, sign of f(x_i; theta_0 * m), and an upper bound
from held-out code lengths), jointly at confidence 1 - ``info.alpha``. With one pruner seed for
every draw the mask is a function of the labels, so I = H(m) whatever the pruner (docs/SCIENCE.md
section 4). ``deterministic_given_labels`` says whether re-pruning two draws with another pruner
seed gives the same masks (then I is also the information with the seed drawn at random); where
it does not, those draws are pruned with ``REPLICATE_SEEDS`` seeds, and ``seed_entropy_estimate``
estimates H(m | y) with the seed drawn at random (how much of the masks' variation is the
pruner's own; ``replicate_hamming``: the bits two seeds' masks of one draw differ in). p_eff =
nnz + I (docs/SCIENCE.md section 1, informal form) is the interval they give.

Configs that differ only in density run together (:func:`batch_key`, :func:`run_batch`), and
their prunings share what does not depend on the density:

- label-blind pruners never see the labels: the data-blind ones (``uses_data`` False: random,
  magnitude, synflow, ...) and those that read only the inputs (``uses_labels`` False: PX), whose
  inputs are fixed here. Their mask is one function of the init, the inputs and the seed: they
  prune on two label draws, which must agree, and that mask stands for all K (I = 0 exactly);
- MLPs with a batched pruner: the K x D prunings (draw k at density d) run as one ensemble, in
  which the densities of a draw share imp's rounds and magnitude_after's dense training
  (``noprune.ensemble.pruning.after_training``);
- other models (the CNN): one network at a time, draw by draw, through the one-model pruner,
  with a trainer that runs each training once (``noprune.training.shared_training``), so the
  densities of a draw share the same training there too.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from noprune.config import ExperimentConfig, canonical
from noprune.errors import UserError
from noprune.experiments.label_design import (
    Design,
    Pruned,
    batched,
    design,
    prune_as_ensemble,
    prune_one_by_one,
)
from noprune.lazy import lazy
from noprune.pipeline import check_config, make_pruner

infotheory = lazy("infotheory")

BLIND_CHECK_DRAWS = 2
"""Label draws a data-blind pruner prunes on; their masks must agree."""

REPLICATE_SEEDS = 8
"""Pruner seeds the checked draws are pruned with where two seeds disagree: their masks estimate
H(m | y) with the seed drawn at random (``seed_entropy_estimate``)."""

ENSEMBLE_DRAWS = 512
"""Draws pruned at once (one ensemble of draws x densities members for MLPs): thousands of fit
draws run in parts of this size, so memory stays that of 512 draws."""


def check(config: ExperimentConfig) -> None:
    check_config(config)
    if config.prune.ablation not in (None, "invert"):
        raise UserError(f"mask_information supports the ablation invert only, not {config.prune.ablation!r}")
    if config.info.draws < 2:
        raise UserError(f"mask_information needs info.draws >= 2, got {config.info.draws}")
    if config.info.parents < 1:
        raise UserError(f"info.parents must be at least 1, got {config.info.parents}")
    if not 0 <= config.info.fit_draws < config.info.draws:
        raise UserError(
            f"info.fit_draws must be in 0..{config.info.draws - 1} (0: the default split), "
            f"got {config.info.fit_draws}"
        )


def batch_key(config: ExperimentConfig) -> str:
    """Everything but the density: a pruner's densities on one design prune together."""
    shared = dataclasses.replace(config, prune=dataclasses.replace(config.prune, density=1.0))
    return json.dumps(canonical(shared), sort_keys=True)


def prune_draws(
    config: ExperimentConfig, plan: Design, densities: Sequence[float], device: torch.device
) -> Pruned:
    """Every draw's masks at every density (label-blind pruners: pruned on two draws, checked
    to agree, and repeated)."""
    prune = prune_as_ensemble if batched(config) else prune_one_by_one
    k = len(plan.labels)
    pruner = make_pruner(config, plan.data)
    if pruner.uses_data and pruner.uses_labels:
        parts = [
            prune(config, plan, densities, range(start, min(k, start + ENSEMBLE_DRAWS)), device)
            for start in range(0, k, ENSEMBLE_DRAWS)
        ]
        pruned = Pruned(
            [np.concatenate([part.bits[i] for part in parts]) for i in range(len(densities))],
            [np.concatenate([part.guesses[i] for part in parts]) for i in range(len(densities))],
        )
        # the same draws with another pruner seed (and training order): equal masks say the
        # seed does not matter here
        checked = range(BLIND_CHECK_DRAWS)
        again = prune(dataclasses.replace(config, seed=config.seed + 1), plan, densities, checked, device)
        pruned.deterministic = [
            bool((b[:BLIND_CHECK_DRAWS] == a).all()) for b, a in zip(pruned.bits, again.bits, strict=True)
        ]
        if not all(pruned.deterministic):
            # the seed matters: H(m | y) with the seed drawn at random, from more seeds
            more = [
                prune(dataclasses.replace(config, seed=config.seed + r), plan, densities, checked, device)
                for r in range(2, REPLICATE_SEEDS)
            ]
            pruned.spread = [
                infotheory.replicate_spread(np.stack([b[:BLIND_CHECK_DRAWS], a, *(m.bits[i] for m in more)]))
                for i, (b, a) in enumerate(zip(pruned.bits, again.bits, strict=True))
            ]
        return pruned
    seen = prune(config, plan, densities, range(BLIND_CHECK_DRAWS), device)
    for density, bits in zip(densities, seen.bits, strict=True):
        if not (bits == bits[0]).all():
            raise RuntimeError(
                f"pruner {config.prune.pruner} reads no label, but its masks at density {density:g} "
                "differ between label draws"
            )
    return Pruned(
        [np.broadcast_to(b[:1], (k, b.shape[1])) for b in seen.bits],
        [np.broadcast_to(g[:1], (k, g.shape[1])) for g in seen.guesses],
    )


def bounds(
    config: ExperimentConfig, labels: torch.Tensor, bits: np.ndarray, guesses: np.ndarray
) -> dict[str, Any]:
    """The information bounds and p_eff of one density's K masks."""
    start = time.perf_counter()
    k, n = labels.shape
    packed = infotheory.pack(bits)
    result = infotheory.label_information(
        packed,
        bits.shape[1],
        labels.numpy(),
        fit=config.info.fit_draws or None,
        parents=config.info.parents,
        alpha=config.info.alpha,
        guesses={"init_network": np.ascontiguousarray(guesses)},
        seed=config.seed,
    )
    nnz = float(bits.sum(axis=1).mean())
    peff = infotheory.effective_parameters(nnz, result.lower.value, result.upper.value)
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
        "information_per_weight_lower": result.lower.value / max(nnz, 1.0),
        "information_per_weight_upper": result.upper.value / max(nnz, 1.0),
        "estimate_seconds": time.perf_counter() - start,
    }


def run_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[dict[str, Any]]:
    """The metrics of configs of one :func:`batch_key` (their densities pruned together).
    ``pruning_seconds`` is the batch's pruning time over its number of densities."""
    for config in configs:
        check(config)
    if len({batch_key(c) for c in configs}) > 1:
        raise ValueError("mask_information batches configs that differ only in density")
    first = configs[0]
    plan = design(first, data_root)
    densities = [c.prune.density for c in configs]
    start = time.perf_counter()
    pruned = prune_draws(first, plan, densities, device)
    share = (time.perf_counter() - start) / len(configs)
    deterministic = pruned.deterministic or [None] * len(configs)
    spread = pruned.spread or [(None, None)] * len(configs)
    return [
        {
            **bounds(first, plan.labels, bits, guesses),
            "deterministic_given_labels": same,
            "replicate_hamming": hamming,
            "seed_entropy_estimate": 0.0 if same else entropy,
            "pruning_seconds": share,
            "densities_together": len(configs),
        }
        for bits, guesses, same, (hamming, entropy) in zip(
            pruned.bits, pruned.guesses, deterministic, spread, strict=True
        )
    ]


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    return run_batch([config], device=device, data_root=data_root)[0]
