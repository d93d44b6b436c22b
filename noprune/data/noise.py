"""Noise wrappers: Gaussian input noise (E2: variance 3) and random-label noise.

Both return a new ``Dataset``; the draw is fixed by ``seed`` and the test set is untouched.
"""

from __future__ import annotations

import dataclasses
import math

import torch

from noprune.data.base import Dataset, make_generator, require
from noprune.errors import UserError


def with_input_noise(data: Dataset, variance: float, seed: int) -> Dataset:
    """Add N(0, variance) noise to ``x_train`` once (a fixed draw from ``seed``).

    Used by E2 (memorisation of noisy real data, variance 3). Labels, test set and extras are
    unchanged.
    """
    require(
        math.isfinite(variance) and variance >= 0,
        f"input noise variance must be >= 0, got {variance}",
    )
    noise = torch.randn(data.x_train.shape, generator=make_generator(seed, "input_noise"))
    noise = noise.to(device=data.x_train.device, dtype=data.x_train.dtype)
    return dataclasses.replace(data, x_train=data.x_train + math.sqrt(variance) * noise)


def with_label_noise(data: Dataset, fraction: float, seed: int) -> Dataset:
    """Replace the labels of exactly ``round(fraction * N)`` training points, chosen at random
    without replacement, with labels uniform over all classes (so some may keep their label).

    Classification only. ``extras["label_noise_mask"]`` (bool [N]) marks the chosen points.
    """
    if data.task != "classification":
        raise UserError(f"label noise needs a classification data set; {data.name} is {data.task}")
    require(0.0 <= fraction <= 1.0, f"label noise fraction must be in [0, 1], got {fraction}")
    n = data.n_train
    k = round(fraction * n)
    generator = make_generator(seed, "label_noise")
    chosen = torch.randperm(n, generator=generator)[:k]
    new = torch.randint(0, data.num_classes, (k,), generator=generator, dtype=torch.int64)
    device = data.y_train.device
    y = data.y_train.clone()
    y[chosen.to(device)] = new.to(device=device, dtype=y.dtype)
    mask = torch.zeros(n, dtype=torch.bool, device=device)
    mask[chosen.to(device)] = True
    extras = {**data.extras, "label_noise_mask": mask}
    return dataclasses.replace(data, y_train=y, extras=extras)
