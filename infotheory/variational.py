"""Lower bounds on I(mask; labels) from a decoder's probabilities (Barber & Agakov 2003).

For any conditional distribution q(y | m) fixed before the test draws,

    I(m; y) = H(y) - H(y | m) >= H(y) - E[-log2 q(y | m)],

since the cross-entropy E[-log2 q(y | m)] is at least H(y | m) (Gibbs' inequality). With n
i.i.d. uniform binary labels H(y) = n, and q may factor along the chain rule,
q(y | m) = prod_i q(y_i | m, y_1..y_{i-1}): the guess of y_i may use the earlier labels, which
the mask makes dependent even though they are independent a priori (I(m; y) = sum_i
I(m, y_<i; y_i) because the y_i are independent). Each test draw t gives
Z_t = n + sum_i log2 q(y_ti | m_t, y_t,<i), with E[Z_t] <= I(m; y); the Z_t of independent test
draws are i.i.d., and clipping every q to [floor, 1 - floor] bounds them in
[n (1 + log2 floor), n (1 + log2(1 - floor))], so :func:`infotheory.confidence.bernstein_upper`
gives a lower confidence bound on E[Z].

The decoder here is linear-Gaussian: the joint mean and covariance of (mask features, label
signs) on the fit draws (the labels' own block set to its known value, the identity), the
features' block shrunk towards its diagonal; the Cholesky factor of that covariance holds, for
each label, the best linear prediction from the features and the earlier labels and its residual
variance. A logistic link with one slope and intercept for all labels, fitted on a held-out
quarter of the fit draws, turns the standardised prediction into q, and the floor is chosen
there too (the test draws are never looked at).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from infotheory.confidence import bernstein_upper

FLOORS = (0.1, 0.2, 0.3, 0.4, 0.45)
"""Candidate floors of the clipped probabilities; the one with the best bound on the calibration
quarter of the fit draws is used."""

SHRINKAGES = (0.05, 0.2, 0.5, 0.8, 0.95)
"""Candidate weights s of the diagonal in the joint covariance, (1 - s) S + s diag(S); the one
with the best bound on the calibration quarter of the fit draws is used (few fit draws for
many features need more)."""


@dataclass(frozen=True)
class GaussianDecoder:
    """Linear-Gaussian predictions of the label signs from mask features (and, with ``chain``,
    from the earlier labels): fitted mean and Cholesky factor of the joint covariance."""

    mean: np.ndarray
    factor: np.ndarray
    features: int
    chain: bool

    @classmethod
    def fit(cls, x: np.ndarray, signs: np.ndarray, chain: bool, shrinkage: float) -> GaussianDecoder:
        x = np.asarray(x, dtype=np.float64)
        d, n = x.shape[1], signs.shape[1]
        mean_x = x.mean(axis=0)
        v = np.concatenate([x - mean_x, signs], axis=1)  # the signs' mean is 0 by design
        cov = v.T @ v / len(v)
        cov = (1.0 - shrinkage) * cov + shrinkage * np.diag(np.diag(cov)) + 1e-9 * np.eye(d + n)
        if chain:
            factor = _cholesky(cov)
        else:  # each label from the features alone: no label-label coupling
            factor_x = _cholesky(cov[:d, :d])
            cross = linalg.solve_triangular(factor_x, cov[:d, d:], lower=True)  # [d, n]
            residual = np.sqrt(np.maximum(np.diag(cov)[d:] - (cross**2).sum(axis=0), 1e-9))
            factor = np.zeros((d + n, d + n))
            factor[:d, :d] = factor_x
            factor[d:, :d] = cross.T
            factor[d:, d:] = np.diag(residual)
        return cls(np.concatenate([mean_x, np.zeros(n)]), factor, d, chain)

    def scores(self, x: np.ndarray, signs: np.ndarray) -> np.ndarray:
        """Standardised predictions (prediction / residual variance) of every label sign [rows, n]:
        the prediction of label i uses the features and, with ``chain``, labels 1..i-1."""
        d = self.features
        v = np.concatenate([np.asarray(x, dtype=np.float64), signs], axis=1) - self.mean
        lxx = self.factor[:d, :d]
        innovation_x = linalg.solve_triangular(lxx, v[:, :d].T, lower=True)  # [d, rows]
        from_x = self.factor[d:, :d] @ innovation_x  # [n, rows]
        lss = self.factor[d:, d:]
        diag = np.diag(lss)
        if self.chain:
            innovation_s = linalg.solve_triangular(lss, v[:, d:].T - from_x, lower=True)
            prediction = v[:, d:].T - diag[:, None] * innovation_s
        else:
            prediction = from_x
        return (prediction / diag[:, None] ** 2).T


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, with a growing diagonal jitter if the matrix is not quite positive
    definite (the labels' identity block against an estimated cross block)."""
    jitter = 0.0
    scale = float(np.mean(np.diag(cov)))
    for _ in range(12):
        try:
            return linalg.cholesky(cov + jitter * np.eye(len(cov)), lower=True)
        except linalg.LinAlgError:
            jitter = max(2 * jitter, 1e-6 * scale)
    raise linalg.LinAlgError("covariance of mask features and labels is not positive definite")


def _link(scores: np.ndarray, signs: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of q(y = 1) = sigmoid(a s + b), by logistic regression over every
    (draw, label) pair (scikit-learn, almost unregularised)."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), (signs.ravel() > 0).astype(int))
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])


def _log2_q(scores: np.ndarray, signs: np.ndarray, link: tuple[float, float], floor: float) -> np.ndarray:
    """log2 q(y_i | ...) of the true labels, q clipped to [floor, 1 - floor] -> [rows, n]."""
    a, b = link
    p_one = 1.0 / (1.0 + np.exp(-(a * scores + b)))
    p_true = np.where(signs > 0, p_one, 1.0 - p_one)
    return np.log2(np.clip(p_true, floor, 1.0 - floor))


def per_draw_bound(z: np.ndarray, n: int, floor: float, level: float) -> tuple[float, dict[str, float]]:
    """Lower confidence bound at 1 - ``level`` on E[Z] for i.i.d. Z in
    [n (1 + log2 floor), n (1 + log2(1 - floor))]."""
    low, high = n * (1.0 + np.log2(floor)), n * (1.0 + np.log2(1.0 - floor))
    scaled = np.clip((high - np.asarray(z)) / (high - low), 0.0, 1.0)
    upper, how = bernstein_upper(scaled, level)
    return high - upper * (high - low), how


@dataclass(frozen=True)
class LogLoss:
    """The Barber-Agakov terms Z_t of the test draws and how they were made."""

    z: np.ndarray
    floor: float
    shrinkage: float
    errors: np.ndarray  # [test, n]: the decoder's sign guesses that were wrong


def log_loss_terms(
    fit_x: np.ndarray,
    fit_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    *,
    chain: bool,
    test_draws: int,
    level: float,
) -> LogLoss:
    """Fit the decoder on the fit draws (shrinkage, link and floor chosen on their last quarter
    with the covariance fitted on the other three; then the covariance refitted on all), and
    give the test draws' Z_t."""
    fit_s, test_s = 2.0 * np.asarray(fit_y, float) - 1.0, 2.0 * np.asarray(test_y, float) - 1.0
    n = fit_s.shape[1]
    cut = (3 * len(fit_s)) // 4
    best: tuple[float, float, float, tuple[float, float]] | None = None
    for shrinkage in SHRINKAGES:
        held = GaussianDecoder.fit(fit_x[:cut], fit_s[:cut], chain, shrinkage).scores(
            fit_x[cut:], fit_s[cut:]
        )
        link = _link(held, fit_s[cut:])
        for floor in FLOORS:
            z = n + _log2_q(held, fit_s[cut:], link, floor).sum(axis=1)
            scale = n * np.log2((1.0 - floor) / floor)
            # the bound this would give on as many test draws: mean minus the Bernstein terms
            guess = z.mean() - z.std() * np.sqrt(2 * np.log(1 / level) / test_draws)
            guess -= scale * np.log(1 / level) / (0.9 * test_draws)
            if best is None or guess > best[0]:
                best = (guess, shrinkage, floor, link)
    assert best is not None
    _, shrinkage, floor, link = best
    decoder = GaussianDecoder.fit(fit_x, fit_s, chain, shrinkage)
    scores = decoder.scores(test_x, test_s)
    z = n + _log2_q(scores, test_s, link, floor).sum(axis=1)
    return LogLoss(z, floor, shrinkage, ((scores * link[0] + link[1]) > 0) != (test_s > 0))
