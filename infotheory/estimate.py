"""The result object every estimator returns, and the shared helpers (draw bootstrap, bit counts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS = ("exact", "lower_bound", "upper_bound", "detector", "point")


@dataclass(frozen=True)
class Estimate:
    """One number about I(mask; data) with what it is and what it stands on.

    ``kind`` is one of ``exact``, ``lower_bound``, ``upper_bound``, ``detector``, ``point``;
    ``confidence`` is the probability that the statement holds (None where there is no such
    guarantee, e.g. a point estimate or a detector statistic); ``details`` says how it was made.
    """

    value: float
    kind: str
    confidence: float | None
    n_masks: int
    n_draws: int
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Estimate kind must be one of {KINDS}, got {self.kind!r}")
        if not np.isfinite(self.value):
            raise ValueError(f"Estimate value must be finite, got {self.value!r}")

    def __str__(self) -> str:
        conf = "" if self.confidence is None else f", {100 * self.confidence:g}% confidence"
        counts = f"{self.n_masks} masks from {self.n_draws} draws"
        if self.kind == "exact":
            return f"I = {self.value:.2f} bits (exact, {counts})"
        if self.kind == "lower_bound":
            return f"I >= {self.value:.2f} bits (lower bound{conf}, {counts})"
        if self.kind == "upper_bound":
            return f"I <= {self.value:.2f} bits (upper bound{conf}, {counts})"
        if self.kind == "point":
            return f"I ~ {self.value:.2f} bits (point estimate, {counts})"
        p = self.details.get("p_value")
        ptxt = "" if p is None else f", p = {p:.3g}"
        return f"detector statistic {self.value:.3g} bits (detector{ptxt}, {counts})"


def n_distinct(draws: np.ndarray | None, n_rows: int) -> int:
    """Number of distinct draw ids (``n_rows`` when no draw ids are given)."""
    if draws is None:
        return int(n_rows)
    return len(np.unique(np.asarray(draws)))


def bit_counts(packed: np.ndarray, p_bits: int, budget_bytes: int = 1 << 26) -> np.ndarray:
    """Per-bit number of masks that keep the bit -> int64[p_bits], unpacking in column chunks."""
    packed = np.asarray(packed, dtype=np.uint8)
    m, nb = packed.shape
    if nb * 8 < p_bits:
        raise ValueError(f"packed masks hold {nb * 8} bits, fewer than p_bits={p_bits}")
    out = np.zeros(nb * 8, dtype=np.int64)
    step = max(1, budget_bytes // max(1, 8 * m))
    for s in range(0, nb, step):
        out[8 * s : 8 * (s + step)] = np.unpackbits(packed[:, s : s + step], axis=1).sum(axis=0)
    return out[:p_bits]


def bootstrap_draws(
    statistic: Callable[[np.ndarray, np.ndarray, np.ndarray], float],
    packed: np.ndarray,
    draws: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` under resampling whole draws (never rows).

    Each replicate picks D draws with replacement (D = number of distinct draws) and keeps all
    the masks of each picked draw together. ``statistic(packed_sub, draws_sub, rows)`` gets the
    resampled masks, fresh draw ids 0..D-1 (a draw picked twice counts as two draws) and ``rows``,
    the indices into the original arrays (to select labels or anything else row-aligned).
    Returns the (alpha/2, 1 - alpha/2) percentiles.
    """
    packed = np.asarray(packed)
    draws = np.asarray(draws)
    if len(draws) != len(packed):
        raise ValueError(f"{len(draws)} draw ids for {len(packed)} masks")
    uniq, inverse = np.unique(draws, return_inverse=True)
    members = [np.flatnonzero(inverse == d) for d in range(len(uniq))]
    rng = np.random.default_rng(seed)
    values = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, len(uniq), size=len(uniq))
        rows = np.concatenate([members[d] for d in pick])
        new_ids = np.repeat(np.arange(len(pick)), [len(members[d]) for d in pick])
        values[b] = float(statistic(packed[rows], new_ids, rows))
    if not np.isfinite(values).all():
        raise ValueError("statistic returned a non-finite value on a bootstrap replicate")
    lo, hi = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)
