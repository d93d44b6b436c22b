"""Entropies in bits: binary entropy, plug-in and Miller-Madow, exact zero, mask histograms."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from infotheory.estimate import Estimate, n_distinct


def h2(p: np.ndarray | float) -> np.ndarray | float:
    """Binary entropy in bits, vectorised, with h2(0) = h2(1) = 0."""
    p = np.asarray(p, dtype=np.float64)
    q = np.clip(p, 1e-300, 1.0)
    r = np.clip(1.0 - p, 1e-300, 1.0)
    out = -(p * np.log2(q) + (1.0 - p) * np.log2(r))
    out = np.where((p <= 0.0) | (p >= 1.0), 0.0, out)
    return float(out) if out.ndim == 0 else out


def symbol_counts(symbols: object) -> np.ndarray:
    """Counts of each distinct symbol. A 2-D array counts its rows (e.g. packed masks)."""
    if isinstance(symbols, np.ndarray) and symbols.ndim == 2:
        rows = np.ascontiguousarray(symbols)
        void = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
        return np.unique(void, return_counts=True)[1]
    if isinstance(symbols, np.ndarray) and symbols.ndim == 1 and symbols.dtype != object:
        return np.unique(symbols, return_counts=True)[1]
    return np.array(list(Counter(list(symbols)).values()), dtype=np.int64)


def plugin_entropy(symbols: object) -> float:
    """Plug-in (maximum-likelihood) entropy in bits of the empirical symbol distribution."""
    counts = symbol_counts(symbols).astype(np.float64)
    n = counts.sum()
    if n == 0:
        raise ValueError("entropy of no symbols")
    f = counts / n
    return float(max(0.0, -(f * np.log2(f)).sum()))


def miller_madow_entropy(symbols: object) -> float:
    """Plug-in entropy plus the Miller-Madow correction (m - 1) / (2 N ln 2) bits."""
    counts = symbol_counts(symbols)
    n, m = int(counts.sum()), int((counts > 0).sum())
    return plugin_entropy(symbols) + (m - 1) / (2.0 * n * np.log(2.0))


def replicate_spread(replicates: np.ndarray) -> tuple[float, float]:
    """How much a mask varies with the pruner's own randomness, the data held fixed: from
    [R, D, p] boolean masks (R pruner seeds on each of D data draws) -> (mean Hamming distance
    between two seeds' masks of one draw, the per-bit plug-in sum_j h2(f_j(s)) averaged over the
    draws, f_j(s) the fraction of seeds that keep weight j on draw s).

    The sum estimates H(m | S), by which the upper bound H(m) stands above I(m; S) = H(m) -
    H(m | S); an estimate, not a bound: subadditivity puts sum_j h2(p_j(s)) above H(m | S = s),
    and plug-in frequencies of few seeds put h2(f_j) below h2(p_j) on average."""
    r = len(replicates)
    if r < 2:
        raise ValueError(f"replicate_spread needs at least 2 pruner seeds, got {r}")
    ones = replicates.sum(axis=0, dtype=np.int64)  # [D, p]
    differ = ones * (r - ones)  # pairs of seeds that disagree on the bit
    hamming = float(differ.sum(axis=1).mean() / math.comb(r, 2))
    return hamming, float(h2(ones / r).sum(axis=1).mean())


def _all_rows_identical(packed: np.ndarray, budget_bytes: int = 1 << 26) -> bool:
    step = max(1, budget_bytes // max(1, packed.shape[0]))
    for s in range(0, packed.shape[1], step):
        block = packed[:, s : s + step]
        if not (block == block[:1]).all():
            return False
    return True


def exact_zero(packed: np.ndarray, draws: np.ndarray) -> Estimate | None:
    """I = 0 exactly when every mask is identical across at least two draws, else None.

    Holds for the draws seen; a data-blind pruner lands here by construction.
    """
    packed = np.asarray(packed, dtype=np.uint8)
    nd = n_distinct(draws, len(packed))
    if len(packed) == 0 or nd < 2 or not _all_rows_identical(packed):
        return None
    return Estimate(
        0.0,
        "exact",
        1.0,
        len(packed),
        nd,
        {"method": "exact_zero", "note": "all masks identical across draws: the mask carries no data"},
    )


def mask_histogram_information(packed: np.ndarray, draws: np.ndarray) -> Estimate:
    """I(m; S) = H(m) by plug-in on the mask histogram, for masks that are deterministic given S.

    ``draws`` gives, for each mask, the alternative S it came from. Raises ValueError when one
    alternative produced two different masks (then H(m | S) > 0 and H(m) is not I(m; S)). The
    value is the plug-in estimate, biased low by about (support - 1) / (2 N ln 2) bits; details
    carry the Miller-Madow value and that bias.
    """
    packed = np.asarray(packed, dtype=np.uint8)
    draws = np.asarray(draws)
    if len(draws) != len(packed) or len(packed) == 0:
        raise ValueError(f"{len(draws)} draw ids for {len(packed)} masks")
    uniq, inverse = np.unique(draws, return_inverse=True)
    for d in range(len(uniq)):
        if not _all_rows_identical(packed[inverse == d]):
            raise ValueError(
                f"draw {uniq[d]!r} has differing masks: the mask is not a deterministic function of S, "
                "so the mask histogram does not estimate I(m; S); use the bounds instead"
            )
    counts = symbol_counts(packed)
    n, support = int(counts.sum()), len(counts)
    plugin = plugin_entropy(packed)
    bias = (support - 1) / (2.0 * n * np.log(2.0))
    return Estimate(
        plugin,
        "point",
        None,
        n,
        len(uniq),
        {
            "method": "plug-in entropy of the mask histogram (I = H(m) as m is deterministic given S)",
            "support": support,
            "miller_madow": plugin + bias,
            "approx_bias_bits": -bias,
            "note": "plug-in is biased low by about (support - 1) / (2 N ln 2) bits",
        },
    )
