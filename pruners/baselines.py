"""Data-blind baselines at initialization: random and magnitude (docs/SCIENCE.md §2)."""

from __future__ import annotations

import dataclasses

from pruners.base import ScoringPruner


@dataclasses.dataclass
class Random(ScoringPruner):
    """I.i.d. uniform scores from the seeded generator; the mask depends on the seed alone."""

    name = "random"
    description = "uniform random scores from a seeded generator (data-blind baseline)"
    uses_data = False
    order = 0
    color = "black"
    marker = "o"
    family = "random baseline"

    def score(self, net, masks, batch):
        return net.uniform()


@dataclasses.dataclass
class Magnitude(ScoringPruner):
    """abs(theta_0): keep the largest initial weights."""

    name = "magnitude"
    description = "largest |theta| at initialization (data-blind)"
    uses_data = False
    order = 1
    color = "#88CCEE"
    marker = ">"

    def score(self, net, masks, batch):
        return [w.abs() for w in net.weights()]
