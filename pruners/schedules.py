"""Pruning schedules: the sequence of densities a pruner passes through to reach its target."""

from __future__ import annotations

import math

from pruners.selection import check_density


def one_shot(density: float) -> list[float]:
    """Prune to the target in one step."""
    return [check_density(density)]


def exponential(density: float, rounds: int) -> list[float]:
    """density^(k/n) at round k = 1..n (SynFlow, Tanaka et al. 2020, Alg. 1); the last is exact."""
    density = check_density(density)
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    return [density ** (k / rounds) for k in range(1, rounds)] + [density]


def iterative(density: float, rate: float) -> list[float]:
    """Remove a fraction ``rate`` of the survivors per round until the target (lottery ticket).

    Densities (1 - rate)^r for r = 1, 2, ... while above the target, then the target itself, so
    the last round prunes at most ``rate`` of the survivors and lands exactly on the target.
    """
    density = check_density(density)
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate}")
    if density == 1.0:
        return [1.0]
    rounds = math.ceil(math.log(density) / math.log(1.0 - rate) - 1e-9)
    return [(1.0 - rate) ** r for r in range(1, rounds)] + [density]
