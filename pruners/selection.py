"""Shared selection: exact top-k over scores, global or layerwise, with a deterministic tie-break.

docs/SCIENCE.md §2: keep exactly round(density * N) weights; never cut at ``score > threshold``.
Ties are broken by flat index (the weight that comes first in the fixed parameter order wins),
as a stable sort would break them, so a mask is a pure function of its scores; the selection
itself is a linear-time cut (introselect), not a sort.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
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
    """Per-layer keep counts at one density for the layerwise scope: each layer gets
    density * n_l, apportioned (:func:`apportion`) to exactly round(density * N)."""
    return apportion([density * n for n in sizes], keep_count(density, sum(sizes)), alive)


def apportion(quotas: Sequence[float], total: int, caps: Sequence[int]) -> list[int]:
    """Integer counts near real ``quotas`` that add up to exactly ``total``, none above its cap.

    Each count is floor(quota) (at most its cap); what is left of ``total`` goes one by one by
    largest remainder (ties to the earlier layer), skipping layers at their cap.
    """
    if total > sum(caps):
        raise ValueError(f"cannot keep {total} weights, only {sum(caps)} are alive")
    counts = [min(max(math.floor(q), 0), c) for q, c in zip(quotas, caps, strict=True)]
    if sum(counts) > total:
        raise ValueError(f"per-layer quotas {list(quotas)} exceed the total {total}")
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - counts[i]), i))
    left = total - sum(counts)
    while left > 0:
        for i in by_remainder:
            if left and counts[i] < caps[i]:
                counts[i] += 1
                left -= 1
    return counts


def top_k(scores: torch.Tensor, alive: torch.Tensor, k: int, *, invert: bool = False) -> torch.Tensor:
    """Boolean mask keeping the k highest scores among ``alive`` entries (lowest if ``invert``).

    ``invert`` is a true rank inversion (Frankle et al. 2021), also for signed scores: it keeps
    the k lowest-ranked weights, never 1/score. Ties go to the lower flat index either way.
    """
    counts = torch.tensor([k], device=scores.device)
    return top_k_rows(scores.reshape(1, -1), alive.reshape(1, -1), counts, invert=invert).reshape(
        scores.shape
    )


def top_k_rows(
    scores: torch.Tensor, alive: torch.Tensor, counts: torch.Tensor, *, invert: bool = False
) -> torch.Tensor:
    """:func:`top_k` for each row of [K, N] scores at once, keeping ``counts[k]`` in row k.

    Linear time, no sort: a selection (:func:`cut_values`) over the row's alive scores finds its
    counts[k]-th highest score t, one call for all the rows that keep the same count of the
    same number alive (an ensemble's members at one density); every alive score above t is
    kept, and of the alive scores equal to t the lowest indices fill the count. That is exactly
    the order of a stable sort with pruned entries last (ties to the lower index), which
    tests/test_selection.py checks on random rows with ties.
    """
    if torch.isnan(scores).any():
        raise ValueError("scores contain NaN; the pruner's scoring diverged")
    counts = counts.to(alive.device)
    alive_counts = alive.sum(dim=1)
    if bool((counts > alive_counts).any()):
        raise ValueError(f"cannot keep {counts.tolist()} weights, only {alive_counts.tolist()} are alive")
    # Highest first; pruned entries at -inf, below every alive score (an alive -inf ties with
    # them, and the tie fill below takes alive entries only).
    key = (scores.neg() if invert else scores).masked_fill(~alive, float("-inf"))
    keep = torch.zeros_like(alive)
    n = key.shape[1]
    # Rows mostly pruned are cut among their alive scores only: introselect slows 16x on a row
    # whose entries are mostly -inf (all equal), as in the late rounds of an iterative pruner,
    # and every selection does less work.
    # Such rows group by count and number alive, the others by count.
    sparse = alive_counts * 2 < n
    groups = torch.stack([counts, torch.where(sparse, alive_counts, -1)], dim=1)
    for count, n_alive in sorted(set(map(tuple, groups.tolist()))):
        if count == 0:
            continue
        rows = (
            (groups == torch.tensor([count, n_alive], device=groups.device)).all(dim=1).nonzero().squeeze(1)
        )
        every = len(rows) == len(counts)
        row_keys, row_alive = (key, alive) if every else (key[rows], alive[rows])
        if n_alive < 0:
            cut = cut_values(row_keys, n - count)
        else:
            cut = cut_values(row_keys[row_alive].reshape(len(rows), n_alive), n_alive - count)
        kept = row_keys > cut
        short = count - kept.sum(dim=1)  # how many of its ties each row still takes
        tie_rows, tie_cols = (row_keys == cut).logical_and_(row_alive).nonzero(as_tuple=True)
        per_row = torch.bincount(tie_rows, minlength=len(kept))
        rank = torch.arange(len(tie_rows), device=kept.device) - (per_row.cumsum(0) - per_row)[tie_rows]
        fill = rank < short[tie_rows]  # nonzero lists a row's ties by index: the lowest fill
        kept[tie_rows[fill], tie_cols[fill]] = True
        if every:
            return kept
        keep[rows] = kept
    return keep


LARGE_ROW = 2**18
"""Rows longer than this (262,144) are cut by numpy's introselect, shorter ones by
``torch.kthvalue``."""


def cut_values(rows: torch.Tensor, j: int) -> torch.Tensor:
    """The value of rank ``j`` (0-based, ascending) of each row of a [R, N] tensor, as [R, 1],
    in linear time. ``torch.kthvalue``, except for CPU rows longer than :data:`LARGE_ROW`:
    numpy's introselect is 1.2x (50k entries) to 2.6x (14.7M) faster on distinct scores, but
    slows on repeated values, which real scores are full of (the exact zeros of pruned weights
    in FORCE, SynFlow's products): on the rows the quick suite's SynFlow, PX and FORCE cut
    (3 x 50,200), ``kthvalue`` took 0.42, 0.44 and 0.38 s where introselect took 1.5, 1.7 and
    2.2 s. From about 2^18 entries on introselect's lead on distinct scores grows (1.6x at
    271k: 0.0028 s against 0.0044 s, 2.6x at 14.7M), while on real rows it can still lose
    (FORCE's 266,200-weight rows of LeNet-300-100 on MNIST: 0.31 s against 0.15 s over 60
    rounds); mostly pruned rows reach it compressed (:func:`top_k_rows`), which removes the
    worst case (16x slower on rows of 90-99% -inf)."""
    if rows.device.type == "cpu" and rows.shape[1] > LARGE_ROW:
        return torch.from_numpy(np.partition(rows.detach().numpy(), j, axis=1)[:, j : j + 1])
    return rows.kthvalue(j + 1, dim=1, keepdim=True).values


def select_rows(
    scores: Sequence[torch.Tensor],
    densities: Sequence[float],
    *,
    scope: str = "global",
    alive: Sequence[torch.Tensor] | None = None,
    invert: bool = False,
    counts: Sequence[Sequence[int]] | None = None,
) -> list[torch.Tensor]:
    """:func:`select` for K members at once: per-layer scores [K, ...] -> per-layer bool masks.

    Member k keeps exactly round(densities[k] * N) weights, by the same rule as :func:`select`;
    with ``counts`` (one list of per-layer counts per member, adding up to that total), layer l
    of member k keeps exactly ``counts[k][l]``: the layerwise selection of a method that sets
    its own layer densities (``pruners.ratios``).
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    densities = [check_density(d) for d in densities]
    k = scores[0].shape[0]
    if len(densities) != k:
        raise ValueError(f"need one density per member: {k} members, {len(densities)} densities")
    device = scores[0].device
    alive = [
        (a if a is not None else torch.ones_like(s, dtype=torch.bool)).to(device)
        for s, a in zip(scores, alive or [None] * len(scores), strict=True)
    ]
    flat = [s.detach().reshape(k, -1).to(torch.float64) for s in scores]
    flat_alive = [a.reshape(k, -1) for a in alive]
    sizes = [f.shape[1] for f in flat]
    if counts is not None:
        if [sum(c) for c in counts] != [keep_count(d, sum(sizes)) for d in densities]:
            raise ValueError(f"per-layer counts {counts} do not add up to the densities {densities}")
        layer = torch.tensor([list(c) for c in counts], device=device)
    elif scope == "layerwise":
        alive_counts = torch.stack([a.sum(dim=1) for a in flat_alive], dim=1).tolist()
        layer = torch.tensor(
            [
                layer_counts(d, sizes, member_alive)
                for d, member_alive in zip(densities, alive_counts, strict=True)
            ],
            device=device,
        )
    if counts is not None or scope == "layerwise":
        keeps = [
            top_k_rows(f, a, layer[:, i], invert=invert)
            for i, (f, a) in enumerate(zip(flat, flat_alive, strict=True))
        ]
    else:
        total = torch.tensor([keep_count(d, sum(sizes)) for d in densities], device=device)
        keep = top_k_rows(torch.cat(flat, dim=1), torch.cat(flat_alive, dim=1), total, invert=invert)
        keeps = list(torch.split(keep, sizes, dim=1))
    return [m.reshape(s.shape) for m, s in zip(keeps, scores, strict=True)]


def select(
    scores: Mapping[str, torch.Tensor],
    density: float,
    *,
    scope: str = "global",
    alive: MaskSet | None = None,
    invert: bool = False,
    counts: Sequence[Sequence[int]] | None = None,
) -> MaskSet:
    """Keep exactly round(density * N) of the weights with the highest scores.

    ``global`` ranks all prunable weights together; ``layerwise`` keeps the same density in
    each tensor (up to the rounding rule of :func:`layer_counts`). Weights already pruned in
    ``alive`` are never revived, which is what iterative schedules need. ``counts``: one list
    of per-layer counts, kept exactly (:func:`select_rows`).
    """
    names = list(scores)
    keeps = select_rows(
        [scores[n][None] for n in names],
        [density],
        scope=scope,
        alive=None if alive is None else [alive[n][None] for n in names],
        invert=invert,
        counts=counts,
    )
    return MaskSet({n: m[0] for n, m in zip(names, keeps, strict=True)})
