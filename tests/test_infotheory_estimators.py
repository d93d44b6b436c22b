"""infotheory estimators against synthetic distributions with known I(mask; S), the null included."""

from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np
import pytest
from scipy import stats
from scipy.special import comb

import infotheory as it


def test_h2_and_clopper_pearson_known_values():
    assert it.h2(0.5) == pytest.approx(1.0)
    assert it.h2(0.0) == 0.0 and it.h2(1.0) == 0.0
    assert np.allclose(it.h2(np.array([0.0, 0.1, 0.9, 1.0])), [0.0, 0.468996, 0.468996, 0.0], atol=1e-6)
    lo, hi = it.clopper_pearson(0, 10, 0.05)
    assert lo == 0.0 and hi == pytest.approx(0.3085, abs=1e-4)
    lo, hi = it.clopper_pearson(10, 10, 0.05)
    assert lo == pytest.approx(0.025**0.1, abs=1e-6) and hi == 1.0
    lo, hi = it.clopper_pearson(3, 10, 0.05)
    assert (lo, hi) == (pytest.approx(0.0667, abs=1e-4), pytest.approx(0.6525, abs=1e-4))


def test_plugin_and_miller_madow_entropy():
    sym = np.repeat(np.arange(4), 25)
    assert it.plugin_entropy(sym) == pytest.approx(2.0)
    assert it.miller_madow_entropy(sym) == pytest.approx(2.0 + 3 / (2 * 100 * np.log(2)))
    assert it.plugin_entropy(["a", "b", "a", "b"]) == pytest.approx(1.0)
    rows = np.array([[1, 2], [1, 2], [3, 4], [3, 4]], dtype=np.uint8)  # rows of a packed array
    assert it.plugin_entropy(rows) == pytest.approx(1.0)


def test_estimate_str_and_validation():
    e = it.Estimate(3.1234, "lower_bound", 0.95, 64, 16)
    assert str(e) == "I >= 3.12 bits (lower bound, 95% confidence, 64 masks from 16 draws)"
    assert str(it.Estimate(4.0, "upper_bound", 1.0, 8, 8)).startswith("I <= 4.00 bits (upper bound, 100%")
    with pytest.raises(ValueError):
        it.Estimate(1.0, "guess", None, 1, 1)
    with pytest.raises(ValueError):
        it.Estimate(float("nan"), "point", None, 1, 1)


def test_exact_zero_for_identical_masks_only():
    rng = np.random.default_rng(0)
    row = it.pack(rng.random((1, 1001)) < 0.3)
    packed = np.repeat(row, 12, axis=0)
    draws = np.repeat(np.arange(4), 3)
    e = it.exact_zero(packed, draws)
    assert e is not None and e.value == 0.0 and e.kind == "exact" and e.confidence == 1.0
    assert (e.n_masks, e.n_draws) == (12, 4)
    packed[5, 3] ^= 1
    assert it.exact_zero(packed, draws) is None
    assert it.exact_zero(np.repeat(row, 3, axis=0), np.zeros(3)) is None  # one draw proves nothing


def _null_data(rng, k=8, n_draws=64, p=512):
    labels = rng.integers(0, k, size=n_draws)
    masks = rng.random((n_draws, p)) < 0.3  # independent of the label
    return it.pack(masks), labels


def test_null_draw_bound_is_zero_and_permutation_p_values_are_uniform():
    rng = np.random.default_rng(1)
    fano = []
    for _ in range(20):
        masks = rng.random((64, 512)) < 0.3  # 16 draws x 4 replicates, independent of the draw
        info = it.draw_information(it.pack(masks), 512, np.repeat(np.arange(16), 4), n_permutations=0)
        fano.append(info.lower.value)
    assert np.mean(np.array(fano) == 0.0) >= 0.95
    p_values = []
    for t in range(40):
        packed, labels = _null_data(rng, k=4, p=256)
        det = it.permutation_null(packed, 256, labels, n_permutations=200, seed=t)
        assert det.kind == "detector" and det.confidence is None
        p_values.append(det.details["p_value"])
    p_values = np.array(p_values)
    assert stats.kstest(p_values, "uniform").pvalue > 0.01
    assert np.mean(p_values < 0.05) <= 0.15


def test_permutation_statistic_matches_naive_per_bit_information():
    rng = np.random.default_rng(9)
    masks = rng.random((30, 37)) < 0.4
    labels = rng.integers(0, 3, size=30)
    naive = 0.0
    for j in range(37):
        joint = [f"{b}{c}" for b, c in zip(masks[:, j].astype(int), labels, strict=True)]
        naive += it.plugin_entropy(masks[:, j]) + it.plugin_entropy(labels) - it.plugin_entropy(joint)
    det = it.permutation_null(it.pack(masks), 37, labels, n_permutations=10)
    assert det.details["statistic"] == pytest.approx(naive)


def _codebook_data(rng, k=16, reps=3, p=2000, flip=0.01):
    codebook = rng.random((k, p)) < 0.3
    draws = np.repeat(np.arange(k), reps)
    masks = codebook[draws] ^ (rng.random((len(draws), p)) < flip)  # replicates differ a little
    return it.pack(masks), draws


def test_draw_id_decoded_from_replicates_of_16_draws():
    rng = np.random.default_rng(2)
    packed, draws = _codebook_data(rng)
    info = it.draw_information(packed, 2000, draws, n_permutations=50)
    lb = info.lower
    assert lb.details["error_rate"] == 0 and lb.details["test_masks"] == 16  # one held out per draw
    assert lb.details["error_rate_upper"] == pytest.approx(1 - 0.025 ** (1 / 16))
    assert lb.value == pytest.approx(it.fano_bound(1 - 0.025 ** (1 / 16), 16))
    assert 1.5 <= lb.value <= 4.0 and lb.kind == "lower_bound" and lb.confidence == 0.975
    ub = info.upper
    assert ub.kind == "upper_bound" and 4.0 - 1e-9 <= ub.value <= 4.0 + 1e-9
    assert ub.details["candidates"]["sum_h2_bits"] > 4.0
    assert info.detector.details["p_value"] == pytest.approx(1 / 51) and info.detector.value > 0
    # identical replicates are copies, not independent prunings: refused
    copies = np.repeat(packed[::3], 2, axis=0)
    with pytest.raises(ValueError, match="identical masks"):
        it.draw_information(copies, 2000, np.repeat(np.arange(16), 2))


def test_mask_histogram_of_a_deterministic_function_of_16_alternatives():
    rng = np.random.default_rng(2)
    codebook = it.pack(rng.random((16, 2000)) < 0.3)
    alternatives = np.repeat(np.arange(16), 10)
    hist = it.mask_histogram_information(codebook[alternatives], alternatives)
    assert hist.kind == "point" and hist.value == pytest.approx(4.0, abs=1e-12)
    assert hist.details["miller_madow"] > hist.value
    det = it.permutation_null(codebook[alternatives], 2000, alternatives, n_permutations=50)
    assert det.details["p_value"] == pytest.approx(1 / 51) and det.value > 0


def test_mask_histogram_refuses_nondeterministic_masks():
    rng = np.random.default_rng(3)
    packed = it.pack(rng.random((6, 64)) < 0.5)
    with pytest.raises(ValueError, match="deterministic"):
        it.mask_histogram_information(packed, np.array([0, 0, 1, 1, 2, 2]))


def test_upper_bound_uses_log_binomial_for_a_common_kept_count():
    rng = np.random.default_rng(4)
    p, k = 300, 30
    masks = np.zeros((20, p), dtype=bool)
    for i in range(20):
        masks[i, rng.choice(p, size=k, replace=False)] = True
    ub = it.upper_bound(it.pack(masks), p, np.arange(20))

    assert ub.details["candidates"]["log2_binomial"] == pytest.approx(math.log2(comb(p, k, exact=True)))
    assert ub.value == min(v for v in ub.details["candidates"].values() if v is not None)


def test_binary_symmetric_channel_upper_bound_covers_the_truth():
    rng = np.random.default_rng(5)
    n_labels, n_draws, eps = 16, 4000, 0.1
    y = rng.integers(0, 2, size=(n_draws, n_labels)).astype(bool)
    masks = y ^ (rng.random((n_draws, n_labels)) < eps)
    truth = n_labels * (1 - it.h2(eps))
    ub = it.upper_bound(it.pack(masks), n_labels, np.arange(n_draws))
    assert ub.value >= truth and ub.details["chosen"] == "sum_h2_bits"


def test_bootstrap_resamples_whole_draws():
    rng = np.random.default_rng(7)
    draws = np.repeat(np.arange(20), 4)
    packed = it.pack(rng.random((80, 100)) < 0.3)

    def statistic(sub, new_ids, rows):
        for d in np.unique(new_ids):
            orig = draws[rows[new_ids == d]]
            assert len(np.unique(orig)) == 1 and len(orig) == 4  # a draw comes whole
        return float(it.popcount(sub).mean())

    lo, hi = it.bootstrap_draws(statistic, packed, draws, n_boot=50, seed=0)
    assert lo <= it.popcount(packed).mean() <= hi and lo < hi


def test_bits_at_scale_stay_fast_and_bounded():
    rng = np.random.default_rng(8)
    p = 10_000_000
    packed = rng.integers(0, 256, size=(64, p // 8), dtype=np.uint8)
    draws = np.repeat(np.arange(16), 4)
    tracemalloc.start()
    t0 = time.perf_counter()
    ub = it.upper_bound(packed, p, draws, h_s=16.0)
    t1 = time.perf_counter()
    lower = it.draw_information(packed, p, draws, n_permutations=0).lower
    t2 = time.perf_counter()
    same = np.broadcast_to(packed[:1], packed.shape)
    ez = it.exact_zero(same, draws)
    t3 = time.perf_counter()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert ub.value == 16.0 and lower.details["test_masks"] == 16 and ez is not None and ez.value == 0.0
    assert max(t1 - t0, t2 - t1, t3 - t2) < 20.0, (t1 - t0, t2 - t1, t3 - t2)
    assert peak < 400 * 2**20, peak  # never unpacks 64 x 1e7 bools (640 MB)


def test_per_bit_upper_bound_is_joint_over_all_bits_and_covers_the_truth():
    from infotheory.bounds import upper_bound as joint_upper_bound

    rng = np.random.default_rng(7)
    p, rate = 2000, 0.02
    truth = p * float(it.h2(rate))  # H(m) >= I(m; S) for independent bits
    for trial in range(10):
        masks = rng.random((64, p)) < rate
        estimate = joint_upper_bound(it.pack(masks), p, np.arange(64))
        assert estimate.details["per_bit_alpha"] == pytest.approx(0.05 / p)
        assert estimate.details["candidates"]["sum_h2_bits"] >= truth, trial


def test_replicate_spread_counts_disagreeing_seeds_and_per_bit_entropy():
    """Two seeds differing in 3 bits: 3 bits apart, 3 x h2(1/2) = 3 bits; four seeds, one of
    which keeps a weight the others drop: 3 of 6 pairs disagree (0.5 bits apart), h2(1/4)."""
    a = np.zeros((2, 1, 10), dtype=bool)
    a[1, 0, :3] = True
    assert it.replicate_spread(a) == pytest.approx((3.0, 3.0))
    b = np.zeros((4, 2, 5), dtype=bool)
    b[0, :, 0] = True
    assert it.replicate_spread(b) == pytest.approx((0.5, float(it.h2(0.25))))
    assert it.replicate_spread(np.ones((3, 2, 5), dtype=bool)) == (0.0, 0.0)
    with pytest.raises(ValueError, match="at least 2"):
        it.replicate_spread(b[:1])
