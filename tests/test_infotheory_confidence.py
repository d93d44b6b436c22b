"""Upper confidence bounds on bounded means (infotheory.confidence): coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest

import infotheory as it


def test_chernoff_matches_the_zero_failure_limit_and_covers():
    assert it.chernoff_upper(0.0, 100, 0.025) == pytest.approx(1 - 0.025 ** (1 / 100))
    assert it.chernoff_upper(1.0, 10, 0.05) == 1.0
    rng = np.random.default_rng(0)
    means = rng.uniform(0.0, 0.4, size=50)  # unequal means: the bound is on their average
    misses = sum(
        it.chernoff_upper(float((rng.random(50) < means).mean()), 50, 0.05) < means.mean()
        for _ in range(2000)
    )
    assert misses / 2000 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 2000)


@pytest.mark.parametrize("kind", ["bernoulli", "binomial_fraction", "two_levels"])
def test_bernstein_covers_the_mean_at_its_level(kind):
    rng = np.random.default_rng(1)
    alpha, reps, t = 0.05, 2000, 96
    misses = 0
    for _ in range(reps):
        if kind == "bernoulli":
            x, mu = (rng.random(t) < 0.3).astype(float), 0.3
        elif kind == "binomial_fraction":  # per-draw error fractions of 100 labels at rate 0.1
            x, mu = rng.binomial(100, 0.1, size=t) / 100, 0.1
        else:  # mostly 0, sometimes 1: a decoder that sometimes fails a whole draw
            x, mu = (rng.random(t) < 0.02).astype(float), 0.02
        misses += it.bernstein_upper(x, alpha)[0] < mu
    assert misses / reps <= alpha + 3 * np.sqrt(alpha * (1 - alpha) / reps)


def test_bernstein_is_tight_when_the_values_vary_little():
    upper, _ = it.bernstein_upper(np.zeros(192), 0.025)
    assert upper < 1.3 * np.log(40) / 192  # near the log(1/alpha) / T floor of any valid bound
    x = np.random.default_rng(2).binomial(100, 0.1, size=192) / 100
    assert it.bernstein_upper(x, 0.025)[0] < 0.135
    with pytest.raises(ValueError):
        it.bernstein_upper(np.array([1.5]), 0.05)
