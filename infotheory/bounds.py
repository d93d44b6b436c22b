"""Bounds on I(mask; S): Clopper-Pearson limits, the entropy caps, Fano's inequality."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from infotheory.bits import popcount
from infotheory.entropy import h2
from infotheory.estimate import Estimate, bit_counts, n_distinct


def clopper_pearson(k: np.ndarray | float, n: np.ndarray | int, alpha: float = 0.05) -> tuple:
    """Two-sided 1 - alpha Clopper-Pearson interval (lo, hi) for a binomial rate (vectorised).

    ``k`` may be fractional (an effective count); lo = 0 at k = 0 and hi = 1 at k = n.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if np.any(n <= 0) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1e-12), n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1e-12)), 1.0)
    if lo.ndim == 0:
        return float(lo), float(hi)
    return lo, hi


def log2_binomial(p: int, k: int) -> float:
    """log2 C(p, k) via log-gamma."""
    return float((special.gammaln(p + 1) - special.gammaln(k + 1) - special.gammaln(p - k + 1)) / np.log(2))


def upper_bound(
    packed: np.ndarray,
    p_bits: int,
    draws: np.ndarray,
    h_s: float | None = None,
    alpha: float = 0.05,
) -> Estimate:
    """I(m; S) <= min(H(S), log2 C(p, k), sum_j h2(p_j)).

    ``h_s``: the known entropy of the data variable (design fact). log2 C(p, k) is a candidate only
    when every mask keeps the same number k of weights (the pruner's fixed density). p_j is each
    bit's keep rate across masks, taken at its two-sided Clopper-Pearson limit nearest 1/2 at
    level alpha / p (Bonferroni over the p bits), so every h2(p_j) bounds H(m_j) simultaneously
    and the sum bounds H(m) >= I(m; S) with confidence 1 - alpha jointly. Masks are treated as
    independent samples of m (one mask per draw, or replicates that are independent given S).
    """
    packed = np.asarray(packed, dtype=np.uint8)
    m = len(packed)
    if m == 0:
        raise ValueError("upper_bound needs at least one mask")
    nd = n_distinct(draws, m)
    candidates: dict[str, float | None] = {"h_s": None if h_s is None else float(h_s)}
    ks = np.unique(popcount(packed))
    candidates["log2_binomial"] = log2_binomial(p_bits, int(ks[0])) if len(ks) == 1 else None
    counts = bit_counts(packed, p_bits)
    # counts take only m + 1 values: compute the bound per value, then sum by bincount.
    grid = np.arange(m + 1)
    lo, hi = clopper_pearson(grid, m, alpha / p_bits)  # Bonferroni: all p limits hold jointly
    nearest = np.where(hi < 0.5, hi, np.where(lo > 0.5, lo, 0.5))
    per_count = h2(nearest)
    candidates["sum_h2_bits"] = float((np.bincount(counts, minlength=m + 1) * per_count).sum())
    valid = {name: v for name, v in candidates.items() if v is not None}
    best = min(valid, key=valid.get)
    confidence = 1.0 - alpha if best == "sum_h2_bits" else 1.0
    details = {
        "candidates": candidates,
        "chosen": best,
        "alpha": alpha,
        "per_bit_alpha": alpha / p_bits,
        "distinct_kept_counts": ks[:10].tolist(),
        "note": "log2 C(p, k) omitted when masks keep different numbers of weights"
        if len(ks) > 1
        else "log2 C(p, k) assumes the pruner always keeps k weights",
    }
    return Estimate(valid[best], "upper_bound", confidence, m, nd, details)


def fano_bound(error: float, alternatives: int) -> float:
    """Fano's inequality, I(m; S) >= log2 D - h2(Pe) - Pe log2(D - 1) for S uniform over D values
    (Cover & Thomas 2006, eq. 2.140), clipped at 0, Pe taken at most (D - 1) / D (where the bound,
    convex and decreasing in Pe, reaches 0). D = 2 gives 1 - h2(Pe), the bound per uniform bit."""
    if alternatives < 2:
        return 0.0
    error = min(error, (alternatives - 1) / alternatives)
    value = np.log2(alternatives) - float(h2(error)) - error * np.log2(alternatives - 1)
    return max(0.0, float(value))
