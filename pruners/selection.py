"""Shared selection: exact top-k over scores, global or layerwise, with a deterministic tie-break.

SCIENCE.md §2: keep exactly round(density * N) weights; never cut at ``score > threshold``.
Ties are broken by flat index (the weight that comes first in the fixed parameter order wins),
through a stable sort, so a mask is a pure function of its scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch

from pruners.masks import MaskSet

SCOPES = ("global", "layerwise")


def check_density(density: float) -> float:
    """Density is the fraction of prunable weights kept; it must lie in (0, 1]."""
    if not (isinstance(density, int | float) and 0.0 < float(density) <= 1.0):
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    return float(density)


def keep_count(density: float, n: int) -> int:
    """round(density * n): the exact number of weights kept out of n."""
    return round(density * n)


def layer_counts(density: float, sizes: Sequence[int], alive: Sequence[int]) -> list[int]:
    """Per-layer keep counts at one density for the layerwise scope.

    Each layer gets density * n_l up to rounding; the rounding is settled by largest remainder
    (ties to the earlier layer) so the counts add up to exactly round(density * N), and no
    layer is given more weights than it still has alive.
    """
    total = keep_count(density, sum(sizes))
    if total > sum(alive):
        raise ValueError(f"cannot keep {total} weights, only {sum(alive)} are alive")
    quotas = [density * n for n in sizes]
    counts = [min(math.floor(q), a) for q, a in zip(quotas, alive, strict=True)]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(quotas[i] - counts[i]), i))
    left = total - sum(counts)
    while left > 0:
        for i in by_remainder:
            if left and counts[i] < alive[i]:
                counts[i] += 1
                left -= 1
    return counts


def top_k(scores: torch.Tensor, alive: torch.Tensor, k: int, *, invert: bool = False) -> torch.Tensor:
    """Boolean mask keeping the k highest scores among ``alive`` entries (lowest if ``invert``).

    ``invert`` is a true rank inversion (Frankle et al. 2021), also for signed scores: it keeps
    the k lowest-ranked weights, never 1/score. Ties go to the lower flat index either way.
    """
    flat_scores = scores.reshape(-1)
    if torch.isnan(flat_scores).any():
        raise ValueError("scores contain NaN; the pruner's scoring diverged")
    candidates = alive.reshape(-1).nonzero().squeeze(1)
    if k > candidates.numel():
        raise ValueError(f"cannot keep {k} weights, only {candidates.numel()} are alive")
    order = torch.sort(flat_scores[candidates], descending=not invert, stable=True).indices
    keep = torch.zeros(flat_scores.numel(), dtype=torch.bool, device=scores.device)
    keep[candidates[order[:k]]] = True
    return keep.reshape(scores.shape)


def select(
    scores: Mapping[str, torch.Tensor],
    density: float,
    *,
    scope: str = "global",
    alive: MaskSet | None = None,
    invert: bool = False,
) -> MaskSet:
    """Keep exactly round(density * N) of the weights with the highest scores.

    ``global`` ranks all prunable weights together; ``layerwise`` keeps the same density in
    each tensor (up to the rounding rule of :func:`layer_counts`). Weights already pruned in
    ``alive`` are never revived, which is what iterative schedules need.
    """
    density = check_density(density)
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    names = list(scores)
    alive_masks = {
        n: (alive[n] if alive is not None else torch.ones_like(scores[n], dtype=torch.bool)).to(
            scores[n].device
        )
        for n in names
    }
    if scope == "layerwise":
        counts = layer_counts(
            density,
            [scores[n].numel() for n in names],
            [int(alive_masks[n].sum()) for n in names],
        )
        return MaskSet(
            {
                n: top_k(scores[n], alive_masks[n], c, invert=invert)
                for n, c in zip(names, counts, strict=True)
            }
        )
    device = scores[names[0]].device
    flat = torch.cat([scores[n].detach().reshape(-1).to(device, torch.float64) for n in names])
    flat_alive = torch.cat([alive_masks[n].reshape(-1).to(device) for n in names])
    keep = top_k(flat, flat_alive, keep_count(density, flat.numel()), invert=invert)
    out, start = {}, 0
    for n in names:
        size = scores[n].numel()
        out[n] = keep[start : start + size].reshape(scores[n].shape)
        start += size
    return MaskSet(out)
