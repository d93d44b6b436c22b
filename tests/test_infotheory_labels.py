"""I(mask; labels) for i.i.d. uniform binary labels (infotheory.labels) on masks of known information."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import infotheory as it
from infotheory.labels import label_detector, label_information, per_label_centroid_cv, per_label_ridge_cv


def _labels(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    return rng.integers(0, 2, size=(k, n))


def test_identical_masks_are_exactly_zero():
    rng = np.random.default_rng(0)
    mask = rng.random(1000) < 0.1
    result = label_information(it.pack(np.repeat(mask[None], 32, axis=0)), 1000, _labels(rng, 32, 20))
    assert result.exact is not None and result.exact.value == 0.0
    assert result.lower.value == result.upper.value == 0.0
    assert result.metrics()["information_exact"] == 0.0


def test_null_lower_bound_is_zero_and_detector_p_values_are_uniform():
    p_values = []
    for trial in range(20):
        rng = np.random.default_rng(100 + trial)
        labels = _labels(rng, 48, 16)
        masks = rng.random((48, 2000)) < 0.2  # independent of the labels
        result = label_information(it.pack(masks), 2000, labels, n_permutations=50, seed=trial)
        assert result.lower.value == 0.0
        assert result.upper.value == 16.0 and result.upper.details["chosen"] == "h_s"
        p_values.append(result.detector.details["p_value"])
    assert stats.kstest(p_values, "uniform").pvalue > 0.01


def test_masks_that_copy_the_labels_give_nearly_all_the_bits():
    rng = np.random.default_rng(1)
    labels = _labels(rng, 200, 24)
    noise = rng.random((200, 3000)) < 0.1
    noise[:, :480] = np.repeat(labels == 1, 20, axis=1)  # each label copied into 20 bits
    result = label_information(it.pack(noise), 3000, labels, n_permutations=20)
    assert 20.0 <= result.lower.value <= 24.0 == result.upper.value
    assert result.detector.details["p_value"] < 0.06


def test_binary_symmetric_channel_lower_bound_is_below_its_capacity():
    rng = np.random.default_rng(2)
    n, eps = 24, 0.1
    labels = _labels(rng, 400, n)
    masks = rng.random((400, 1500)) < 0.3
    # every label written into 40 bits, each through its own BSC(eps): the labels are decodable
    # by majority, and I(m; y) <= n bits; one bit alone carries n (1 - h2(eps)) bits
    for j in range(40):
        masks[:, j * n : (j + 1) * n] = (labels == 1) ^ (rng.random((400, n)) < eps)
    result = label_information(it.pack(masks), 1500, labels, n_permutations=0)
    assert result.detector is None
    assert n * (1 - it.h2(0.2)) <= result.lower.value <= n


def test_masks_of_a_channel_with_known_capacity():
    rng = np.random.default_rng(3)
    n, eps, k = 16, 0.15, 600
    labels = _labels(rng, k, n)
    masks = (labels == 1) ^ (rng.random((k, n)) < eps)  # the mask is the labels through a BSC
    truth = n * (1 - it.h2(eps))
    result = label_information(it.pack(masks), n, labels, n_permutations=0)
    assert 0.6 * truth <= result.lower.value <= truth
    assert result.upper.value >= truth


def test_decoders_predict_held_out_draws_only():
    rng = np.random.default_rng(4)
    labels = _labels(rng, 40, 5)
    masks = np.repeat(labels == 1, 10, axis=1)
    for decoder in (per_label_centroid_cv, per_label_ridge_cv):
        wrong = decoder(it.pack(masks), 50, labels)
        assert wrong.shape == (40, 5) and wrong.sum() == 0
    shuffled = labels[rng.permutation(40)]  # labels unrelated to the masks
    assert per_label_centroid_cv(it.pack(masks), 50, shuffled).mean() > 0.3


def test_fixed_guesses_are_scored_on_every_draw():
    rng = np.random.default_rng(5)
    labels = _labels(rng, 64, 10)
    masks = rng.random((64, 300)) < 0.5
    result = label_information(it.pack(masks), 300, labels, guesses={"oracle": labels}, n_permutations=0)
    oracle = result.decoders["oracle"]
    assert oracle.details["error_rate"] == 0.0 and result.lower is not oracle
    assert result.lower.details["decoder"] == "oracle" and result.lower.value > 5.0
    assert oracle.confidence == pytest.approx(1 - 0.05 / 2 / 3)


def test_detector_finds_a_weak_dense_dependence():
    rng = np.random.default_rng(6)
    labels = _labels(rng, 64, 8)
    rate = 0.2 + 0.1 * np.repeat(labels, 100, axis=1)
    masks = rng.random((64, 800)) < rate
    assert label_detector(it.pack(masks), 800, labels, n_permutations=50).details["p_value"] < 0.05


def test_bad_labels_are_rejected():
    masks = it.pack(np.zeros((4, 8), dtype=bool))
    with pytest.raises(ValueError, match="binary"):
        label_information(masks, 8, np.full((4, 3), 2))
    with pytest.raises(ValueError, match="K = 4"):
        label_information(masks, 8, np.zeros((5, 3), dtype=int))
