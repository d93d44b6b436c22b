"""Upper bounds on I(mask; S) by held-out code length (Shannon's source coding bound).

For any code q of the masks fixed before the test draws, I(m; S) <= H(m) <= E[-log2 q(m)]
(Cover & Thomas 2006, Thm. 5.4.3 with Kraft's inequality: the expected length of any prefix
code, or -log2 of any sub-probability, is at least the entropy). The bound holds whether or
not the pruner is deterministic given S; for one that is, I(m; S) = H(m) and the bound is as
tight as the model of the masks is good. Models are fitted on the fit draws only:

- :func:`independent_code`: each bit on its own, keep rate by the Krichevsky-Trofimov rule
  (c + 1/2) / (F + 1) over the F fit draws;
- :func:`autoregressive_code`: the bits that vary on the fit draws in index order, each by a
  logistic regression (scikit-learn) on its most correlated earlier varying bits, so bits that
  move together are paid for once.

Each model q is mixed with the uniform code u over masks of the pruner's fixed nnz k (or over
all masks, nnz first, when nnz varies): q' = (1 - w) q + w u, w = :data:`UNIFORM_WEIGHT`. Then
-log2 q'(m) <= log2 C(p, k) + log2(1 / w) for every mask, the per-draw lengths on the test
draws are i.i.d. and bounded, and :func:`infotheory.confidence.bernstein_upper` bounds their
mean from above (:func:`code_length_bound`).
"""

from __future__ import annotations

import numpy as np

from infotheory.bounds import log2_binomial
from infotheory.confidence import bernstein_upper
from infotheory.estimate import Estimate

UNIFORM_WEIGHT = 2.0**-10
"""Weight w of the uniform code in the mixture: costs at most log2(1 / (1 - w)) = 0.0014 bits
per mask and caps every code length at log2 C(p, k) + 10 bits."""

PARENTS = 16
"""Earlier varying bits each bit's logistic model conditions on (the most correlated on the fit
draws)."""

RIDGE = 1.0
"""L2 penalty of the autoregressive code's logistic regressions (scikit-learn's default C = 1)."""

NEWTON_COLUMNS = 32
"""Columns whose logistic regressions one batched Newton step solves together (memory:
columns x fit draws x (parents + 1) doubles)."""


PROBABILITY_FLOOR = 1e-6
"""A modelled bit probability is kept in [floor, 1 - floor] (still a code: q(0) + q(1) = 1)."""


def keep_rates(ones: np.ndarray, rows: int) -> np.ndarray:
    """Krichevsky-Trofimov keep rate (c + 1/2) / (F + 1) of each bit kept c times in F fit draws,
    within [floor, 1 - floor]."""
    rate = (np.asarray(ones, dtype=np.float64) + 0.5) / (rows + 1.0)
    return np.clip(rate, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)


def bernoulli_lengths(bits: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """-log2 prod_j rate_j^m_j (1 - rate_j)^(1 - m_j) for each row of ``bits`` [rows, w]: the
    independent-bits code, as a constant plus one dot product."""
    base = -np.log2(1.0 - rate)
    return base.sum() + np.asarray(bits, dtype=np.float64) @ (np.log2(1.0 - rate) - np.log2(rate))


def autoregressive_lengths(
    fit_bits: np.ndarray, test_bits: np.ndarray, parents: int = PARENTS, ridge: float = RIDGE
) -> np.ndarray:
    """-log2 q(m) of each test row under q(m) = prod_j q(m_j | m_parents(j)), fitted on
    ``fit_bits`` [F, w] (columns that vary on the fit draws), the columns taken in order of
    decreasing variance on the fit draws (on 8192 SNIP masks 2.6 bits shorter than index order):
    column j by a logistic regression on the ``parents`` earlier columns most correlated with it
    on the fit draws (none for the first), L2 penalty ``ridge`` / 2 |coef|^2 on the summed
    log-loss (scikit-learn's ``LogisticRegression(C=1 / ridge)``), solved for all columns at once
    by Newton's method."""
    x = np.asarray(fit_bits, dtype=np.float64)
    test = np.asarray(test_bits, dtype=np.float64)
    order = np.argsort(-x.var(axis=0), kind="stable")  # the most uncertain bits first
    x, test = x[:, order], test[:, order]
    rows, width = x.shape
    sd = x.std(axis=0)
    z = np.divide(x - x.mean(axis=0), sd, out=np.zeros_like(x), where=sd > 0)
    corr = np.abs(z.T @ z) / rows
    corr[np.triu_indices(width)] = -1.0  # only earlier columns are parents
    pick = np.argsort(-corr, axis=1, kind="stable")[:, :parents]  # [w, P]
    real = np.take_along_axis(corr, pick, axis=1) >= 0  # the first columns have fewer parents
    padded_x = np.concatenate([x, np.zeros((rows, 1)), np.ones((rows, 1))], axis=1)
    padded_test = np.concatenate([test, np.zeros((len(test), 1)), np.ones((len(test), 1))], axis=1)
    design = np.concatenate([np.where(real, pick, width), np.full((width, 1), width + 1)], axis=1)
    out = np.zeros(len(test))
    for lo in range(0, width, NEWTON_COLUMNS):
        cols = np.arange(lo, min(width, lo + NEWTON_COLUMNS))
        coef = _newton(padded_x[:, design[cols]].transpose(1, 0, 2), x[:, cols].T, ridge)
        logit = np.einsum("tcp,cp->ct", padded_test[:, design[cols]], coef)
        # -log2 q(bit) = log2(1 + exp(-logit)) for a kept bit, log2(1 + exp(logit)) otherwise
        signed = np.where(test[:, cols].T > 0, -logit, logit)
        out += np.logaddexp(0.0, np.clip(signed, None, -np.log(PROBABILITY_FLOOR))).sum(axis=0) / np.log(2)
    return out


def _newton(a: np.ndarray, y: np.ndarray, ridge: float, steps: int = 25) -> np.ndarray:
    """Penalised logistic regressions, one per batch entry: ``a`` [b, F, P + 1] (last column the
    unpenalised intercept), ``y`` [b, F] in {0, 1} -> coefficients [b, P + 1]."""
    b, _, q = a.shape
    coef = np.zeros((b, q))
    penalty = np.full(q, ridge)
    penalty[-1] = 1e-8
    for _ in range(steps):
        logit = np.einsum("bfp,bp->bf", a, coef)
        prob = 1.0 / (1.0 + np.exp(-logit))
        grad = np.einsum("bfp,bf->bp", a, prob - y) + penalty * coef
        weight = prob * (1.0 - prob)
        hess = np.matmul(a.transpose(0, 2, 1), a * weight[:, :, None]) + np.diag(penalty)
        step = np.linalg.solve(hess, grad[:, :, None])[:, :, 0]
        coef -= step
        if np.abs(step).max() < 1e-6:
            break
    return coef


def uniform_length(p_bits: int, nnz: np.ndarray, fixed_nnz: int | None) -> np.ndarray:
    """-log2 u(m): uniform over the masks that keep ``fixed_nnz`` weights, or (nnz varies)
    uniform over nnz in 0..p and then over the masks of that nnz."""
    if fixed_nnz is not None:
        return np.full(len(nnz), log2_binomial(p_bits, fixed_nnz))
    return np.log2(p_bits + 1.0) + np.array([log2_binomial(p_bits, int(k)) for k in nnz])


def length_cap(p_bits: int, fixed_nnz: int | None, weight: float = UNIFORM_WEIGHT) -> float:
    """The longest mixed code length any mask can get, -log2(w) - log2 u(m) at the least likely m
    under u (the most numerous nnz, p / 2, where nnz varies)."""
    largest = uniform_length(p_bits, np.array([p_bits // 2]), fixed_nnz)[0]
    return float(largest - np.log2(weight))


def mixed_lengths(lengths: np.ndarray, uniform: np.ndarray, weight: float = UNIFORM_WEIGHT) -> np.ndarray:
    """-log2((1 - w) 2^-L + w 2^-U), computed stably."""
    a = np.log2(1.0 - weight) - lengths
    b = np.log2(weight) - uniform
    return -np.logaddexp2(a, b)


def code_length_bound(
    name: str, lengths: np.ndarray, cap: float, level: float, n_masks: int, n_draws: int
) -> Estimate:
    """Upper bound at confidence 1 - ``level`` on E[-log2 q'(m)] >= H(m) >= I(m; S) from the
    mixed code lengths of i.i.d. test draws, each in [0, ``cap``] (empirical Bernstein)."""
    scaled = np.clip(np.asarray(lengths, dtype=np.float64) / cap, 0.0, 1.0)
    upper, how = bernstein_upper(scaled, level)
    details = {
        "method": "held-out code length, empirical Bernstein (Waudby-Smith & Ramdas 2023)",
        "model": name,
        "mean_length": float(np.mean(lengths)),
        "length_sd": float(np.std(lengths)),
        "length_cap": cap,
        "test_draws": len(lengths),
    }
    return Estimate(upper * cap, "upper_bound", 1.0 - level, n_masks, n_draws, {**details, **how})
