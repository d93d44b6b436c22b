"""Upper confidence bounds on the mean of bounded variables, valid without a binomial model.

Held-out decoding errors are bounded ([0, 1] per draw: the fraction of a draw's labels guessed
wrong) but not Bernoulli, and under sequential (prequential) decoding not identically
distributed either. Two bounds, each for the setting it is proven in:

- :func:`bernstein_upper`: the predictable-plug-in empirical-Bernstein bound (Waudby-Smith &
  Ramdas 2023, Theorem 2, "PrPl-EB"), from the supermartingale of Howard et al. (2021,
  Theorem 4) built on Fan, Grama & Liu's (2015) inequality. Valid for [0, 1] variables that
  arrive in order with conditional means mu_t given the past (a martingale, not i.i.d.), and
  tight when the variables vary little (the penalty scales with the empirical variance).
- :func:`chernoff_upper`: Hoeffding's (1963, Theorem 1, eq. 2.1) relative-entropy bound for
  the average mean of independent [0, 1] variables with possibly different means; exact to
  Clopper-Pearson's zero-failure limit 1 - alpha^(1/n) when no error is seen.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

BERNSTEIN_TRUNCATION = 0.9
"""Largest bet lambda_t of :func:`bernstein_upper` (it must stay below 1). The bound for T
error-free draws is about log(1/alpha) / (0.9 T); a smaller cap loses in proportion, a larger one
pays psi_E(lambda) = -log(1 - lambda) - lambda, which grows without bound near 1, on every draw
that does show an error."""


def _psi(lam: np.ndarray) -> np.ndarray:
    """psi_E(lambda) = -log(1 - lambda) - lambda (Howard et al. 2021, eq. 4 with c = 1)."""
    return -np.log1p(-lam) - lam


def bernstein_upper(
    x: np.ndarray, alpha: float, truncation: float = BERNSTEIN_TRUNCATION
) -> tuple[float, dict[str, float]]:
    """One-sided 1 - alpha upper bound on sum_t lambda_t mu_t / sum_t lambda_t, mu_t = E[x_t | past].

    ``x``: values in [0, 1] in the order they were produced; x_t may depend on x_1..x_{t-1}
    only through mu_t (prequential decoders, each fitted on earlier draws, qualify). With
    predictable bets lambda_t in [0, 1) and predictable centres xhat_{t-1} in [0, 1],

        exp(sum_t lambda_t (mu_t - x_t) - sum_t psi_E(lambda_t) (x_t - xhat_{t-1})^2)

    is a nonnegative supermartingale (Howard et al. 2021, Thm. 4, applied to 1 - x; Fan et
    al. 2015, Lemma 4.1), so by Markov's inequality, with probability >= 1 - alpha,

        sum_t lambda_t mu_t <= sum_t lambda_t x_t + sum_t psi_E(lambda_t) (x_t - xhat_{t-1})^2 + log(1/alpha).

    Bets follow Waudby-Smith & Ramdas (2023, eq. 26, the fixed-sample-size choice):
    lambda_t = min(truncation, sqrt(2 log(1/alpha) / (T sigma2_{t-1}))) with
    xhat_t = (1/2 + sum_{i<=t} x_i) / (t + 1) and sigma2_t = (1/4 + sum_{i<=t} (x_i - xhat_i)^2) / (t + 1).
    The weighted average is what the bound holds for; callers whose target is convex and
    decreasing in each mu_t (Fano's bound) get a bound on it by Jensen's inequality.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    t_total = len(x)
    if t_total == 0:
        return 1.0, {"n": 0, "mean": float("nan"), "weight": 0.0}
    if not ((x >= 0) & (x <= 1)).all():
        raise ValueError("bernstein_upper takes values in [0, 1]")
    if not 0.0 < truncation < 1.0:
        raise ValueError(f"truncation must be in (0, 1), got {truncation}")
    t = np.arange(1, t_total + 1)
    xhat = (0.5 + np.cumsum(x)) / (t + 1)  # xhat_t, after x_1..x_t
    sigma2 = (0.25 + np.cumsum((x - xhat) ** 2)) / (t + 1)
    prev_xhat = np.concatenate([[0.5], xhat[:-1]])  # predictable: known before x_t
    prev_sigma2 = np.concatenate([[0.25], sigma2[:-1]])
    log_inv = float(np.log(1.0 / alpha))
    lam = np.minimum(truncation, np.sqrt(2.0 * log_inv / (t_total * prev_sigma2)))
    penalty = float((_psi(lam) * (x - prev_xhat) ** 2).sum())
    weight = float(lam.sum())
    bound = (float(lam @ x) + penalty + log_inv) / weight
    details = {"n": t_total, "mean": float(x.mean()), "weight": weight, "penalty": penalty}
    return min(1.0, bound), details


def _kl(a: float, b: float) -> float:
    """Relative entropy KL(Bernoulli(a) || Bernoulli(b)) in nats."""
    out = 0.0
    if a > 0:
        out += a * np.log(a / b)
    if a < 1:
        out += (1 - a) * np.log((1 - a) / (1 - b))
    return float(out)


def chernoff_upper(mean: float, n: int, alpha: float) -> float:
    """One-sided 1 - alpha upper bound on (1/n) sum_i mu_i from the sample mean of n independent
    [0, 1] variables: the largest mu with n KL(mean || mu) <= log(1/alpha), by Hoeffding (1963,
    Thm. 1, eq. 2.1), P(mean <= mu - t) <= exp(-n KL(mu - t || mu)), which holds for unequal mu_i."""
    if n <= 0:
        return 1.0
    if not 0.0 <= mean <= 1.0:
        raise ValueError(f"mean must be in [0, 1], got {mean}")
    target = np.log(1.0 / alpha) / n
    if mean >= 1.0 or _kl(mean, 1.0 - 1e-15) <= target:
        return 1.0
    return float(optimize.brentq(lambda mu: _kl(mean, mu) - target, mean, 1.0 - 1e-15, xtol=1e-12))
