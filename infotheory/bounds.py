"""Upper and lower bounds on I(mask; S): Clopper-Pearson, entropy caps, Fano, Barber-Agakov."""

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


def _one_sided_upper(k: float, n: float, alpha: float) -> float:
    """One-sided 1 - alpha Clopper-Pearson upper limit."""
    return float(clopper_pearson(k, n, 2 * alpha)[1])


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


def _fano(pe: float, k: int) -> float:
    pe = min(pe, (k - 1) / k)  # Fano's bound is decreasing in Pe up to (K - 1) / K
    return max(0.0, float(np.log2(k) - h2(pe) - pe * np.log2(k - 1)) if k > 1 else 0.0)


def fano_lower_bound(
    error_count: float,
    n_test: float,
    k_alternatives: int,
    alpha: float = 0.05,
    n_masks: int | None = None,
    n_draws: int | None = None,
) -> Estimate:
    """I(m; S) >= log2 K - h2(Pe_hi) - Pe_hi log2(K - 1), clipped at 0, S uniform over K.

    Pe_hi is the one-sided 1 - alpha Clopper-Pearson upper limit of the held-out error rate
    ``error_count / n_test`` (the test predictions must be independent: count draws, not
    replicates; see :func:`infotheory.decoders.nearest_centroid_cv`'s ``unit``). The bound is
    convex in Pe, so averaging the errors of several fold decoders keeps it valid.
    """
    if k_alternatives < 2:
        raise ValueError(f"Fano needs at least 2 alternatives, got {k_alternatives}")
    pe_hat = error_count / n_test
    pe_hi = _one_sided_upper(error_count, n_test, alpha)
    value = _fano(pe_hi, k_alternatives)
    details = {
        "method": "Fano with Clopper-Pearson upper error limit",
        "error_rate": pe_hat,
        "error_rate_upper": pe_hi,
        "point_fano": _fano(pe_hat, k_alternatives),
        "h_s": float(np.log2(k_alternatives)),
        "assumes": "S uniform over K alternatives; independent held-out test predictions",
    }
    nt = round(float(n_test))
    return Estimate(value, "lower_bound", 1.0 - alpha, n_masks or nt, n_draws or nt, details)


def per_label_fano_lower_bound(
    errors: float,
    n_predictions: float,
    n_labels: int,
    alpha: float = 0.05,
    n_draws: int | None = None,
    n_masks: int | None = None,
) -> Estimate:
    """I(m; y) >= n (1 - h2(min(1/2, Pe_hi))) for n independent uniform binary labels y.

    Pe_hi is the one-sided 1 - alpha Clopper-Pearson upper limit of the mean error over all
    ``n_predictions`` label guesses. When guesses of one draw may be dependent (several labels
    read off one mask), pass ``n_draws``: the limit is then taken on n_draws effective trials
    with the same error rate, which is valid for per-draw error fractions in [0, 1].
    """
    rate = errors / n_predictions
    if n_draws is not None:
        pe_hi = _one_sided_upper(min(rate * n_draws, n_draws), n_draws, alpha)
    else:
        pe_hi = _one_sided_upper(errors, n_predictions, alpha)
    value = max(0.0, n_labels * (1.0 - float(h2(min(0.5, pe_hi)))))
    details = {
        "method": "per-label Fano with Clopper-Pearson upper error limit",
        "error_rate": rate,
        "error_rate_upper": pe_hi,
        "point": n_labels * (1.0 - float(h2(min(0.5, rate)))),
        "assumes": "independent uniform binary labels",
        "effective_trials": n_draws if n_draws is not None else n_predictions,
    }
    np_ = round(float(n_predictions))
    return Estimate(value, "lower_bound", 1.0 - alpha, n_masks or np_, n_draws or np_, details)


def barber_agakov_lower_bound(
    log2_probs_of_truth: np.ndarray,
    h_s: float,
    alpha: float | None = None,
    n_draws: int | None = None,
) -> Estimate:
    """I(m; S) >= H(S) + E[log2 q(s | m)] for any decoder q, evaluated on held-out (m, s) pairs.

    With ``alpha=None`` the mean is used: a point estimate of a lower bound (confidence None).
    With ``alpha`` the mean is replaced by its one-sided 1 - alpha lower limit from the normal
    approximation (mean - z sd / sqrt(n)); approximate, as the normal approximation is.
    """
    lp = np.asarray(log2_probs_of_truth, dtype=np.float64).ravel()
    if len(lp) < 2 or not np.isfinite(lp).all():
        raise ValueError("need at least 2 finite held-out log2 probabilities")
    mean = float(lp.mean())
    sem = float(lp.std(ddof=1) / np.sqrt(len(lp)))
    point = h_s + mean
    details = {
        "method": "Barber-Agakov variational bound",
        "point": point,
        "mean_log2_q": mean,
        "sem": sem,
        "h_s": h_s,
    }
    if alpha is None:
        details["note"] = "point estimate of a lower bound, not a confidence bound (pass alpha for one)"
        value, conf = point, None
    else:
        z = float(stats.norm.ppf(1 - alpha))
        value, conf = h_s + mean - z * sem, 1.0 - alpha
        details["note"] = "one-sided lower limit of the mean from the normal approximation (approximate)"
    details["raw"] = value
    return Estimate(max(0.0, value), "lower_bound", conf, len(lp), n_draws or len(lp), details)
