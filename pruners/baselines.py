"""Data-blind baselines at initialization: random and magnitude (SCIENCE.md §2)."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner


@dataclasses.dataclass
class Random(ScoringPruner):
    """I.i.d. uniform scores from the seeded generator; the mask depends on the seed alone."""

    name = "random"
    description = "uniform random scores from a seeded generator (data-blind baseline)"
    uses_data = False

    def score(self, model, masks, batch, generator):
        params = dict(model.named_parameters())
        return {
            n: torch.rand(m.shape, generator=generator, dtype=torch.float64).to(params[n].device)
            for n, m in masks.items()
        }


@dataclasses.dataclass
class Magnitude(ScoringPruner):
    """abs(theta_0): keep the largest initial weights."""

    name = "magnitude"
    description = "largest |theta| at initialization (data-blind)"
    uses_data = False

    def score(self, model, masks, batch, generator):
        params = dict(model.named_parameters())
        return {n: params[n].detach().abs() for n in masks}
