"""Effective parameter count of a pruned network (No Free Prune, Kumar, Luo & Sellke 2024, §1).

p_eff = I(m; D | init) + E[||m||_1] * b, with b = log2(1 + 60 W J / eps) the bits per surviving
weight from discretising weights (W: weight-set diameter, J: Lipschitz constant of the
parametrisation, eps: the fitting margin of Theorem 4). The informal form of the paper's figures
takes b = 1: p_eff ~ I(m; D) + ||m||_0. The information is known only up to bounds, so p_eff is
reported as an interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def bits_per_weight(diameter: float, lipschitz: float, eps: float) -> float:
    """b = log2(1 + 60 W J / eps), the theorem's bits per surviving weight (docs/SCIENCE.md §1)."""
    if diameter <= 0 or lipschitz <= 0 or eps <= 0:
        raise ValueError("diameter, lipschitz and eps must be positive")
    return math.log2(1.0 + 60.0 * diameter * lipschitz / eps)


@dataclass(frozen=True)
class EffectiveParameters:
    """p_eff as an interval [low, high] from bounds on I, with the pieces that make it."""

    low: float
    high: float
    nnz: float
    bits_per_weight: float
    information_low: float
    information_high: float

    def __str__(self) -> str:
        weights = f"{self.nnz:g} weights x {self.bits_per_weight:g} bits"
        information = f"I in [{self.information_low:.6g}, {self.information_high:.6g}] bits"
        return f"p_eff in [{self.low:.6g}, {self.high:.6g}] = {weights} + {information}"


def effective_parameters(
    nnz: float, information_low: float, information_high: float, bits_per_weight: float = 1.0
) -> EffectiveParameters:
    """p_eff = nnz * b + I with I in [information_low, information_high] (bits).

    ``bits_per_weight`` = 1 gives the informal p_eff ~ ||m||_0 + I(m; D) of the paper's figures;
    :func:`bits_per_weight` gives the theorem's factor.
    """
    if nnz < 0 or bits_per_weight <= 0:
        raise ValueError("nnz must be >= 0 and bits_per_weight > 0")
    if not 0.0 <= information_low <= information_high:
        raise ValueError(
            f"need 0 <= information_low <= information_high, got {information_low}, {information_high}"
        )
    base = nnz * bits_per_weight
    return EffectiveParameters(
        base + information_low,
        base + information_high,
        nnz,
        bits_per_weight,
        information_low,
        information_high,
    )
