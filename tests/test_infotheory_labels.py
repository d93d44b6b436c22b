"""I(mask; labels) for i.i.d. uniform binary labels (infotheory.labels) on masks of known information."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import infotheory as it
from infotheory.labels import default_fit, label_detector, label_information, repeat_p_value


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
    # 100 test draws without an error still allow a mean error of about log(280) / (0.9 x 100)
    assert 15.0 <= result.lower.value <= 24.0 == result.upper.value
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


def carrier(rng: np.random.Generator, k: int, n: int, p: int, q: float, density: float = 0.05):
    """n label bits copied into the first n mask bits, each flipped with probability q; the other
    bits i.i.d. noise. I(m; y) = n (1 - h2(q)) exactly."""
    labels = _labels(rng, k, n)
    masks = rng.random((k, p)) < density
    masks[:, :n] = (labels == 1) ^ (rng.random((k, n)) < q)
    return it.pack(masks), labels, n * (1 - float(it.h2(q)))


def test_decoders_never_count_a_fit_draw():
    # a decoder that memorises its fit draws gains nothing on the test draws
    rng = np.random.default_rng(4)
    labels = _labels(rng, 64, 20)
    masks = rng.random((64, 500)) < 0.3
    result = label_information(it.pack(masks), 500, labels, n_permutations=0)
    assert result.lower.value == 0.0
    assert result.fit_draws == default_fit(64) == 32
    for estimate in result.decoders.values():
        assert estimate.details["test_draws"] == 32
    assert abs(result.decoders["ridge"].details["error_rate"] - 0.5) < 0.05
    # the split is the caller's: the first ``fit`` draws are fit draws
    assert label_information(it.pack(masks), 500, labels, fit=48, n_permutations=0).fit_draws == 48
    with pytest.raises(ValueError, match="fit must be in"):
        label_information(it.pack(masks), 500, labels, fit=64)


def test_a_test_draw_changes_no_fitted_decoder():
    """Changing the labels of a test draw changes only that draw's terms: nothing was fitted on it."""
    packed, labels, _ = carrier(np.random.default_rng(21), 64, 20, 300, 0.1)
    first = label_information(packed, 300, labels, n_permutations=0)
    changed = labels.copy()
    changed[-1] = 1 - changed[-1]
    second = label_information(packed, 300, changed, n_permutations=0)
    for name in first.decoders:
        a, b = first.decoders[name].details, second.decoders[name].details
        if "floor" not in a:  # Fano decoders: every draw but the last guessed alike
            assert a["error_rate"] * 32 - 1 / 20 * 20 <= b["error_rate"] * 32 <= a["error_rate"] * 32 + 1


@pytest.mark.parametrize(
    ("k", "q", "p", "share"),
    [(256, 0.0, 1000, 0.7), (256, 0.1, 1000, 0.7), (256, 0.0, 100_000, 0.7), (64, 0.0, 1000, 0.25)],
)
def test_carrier_masks_are_certified_near_their_truth(k, q, p, share):
    packed, labels, truth = carrier(np.random.default_rng(11), k, 100, p, q)
    result = label_information(packed, p, labels, n_permutations=0)
    assert share * truth <= result.lower.value <= truth + 1e-9
    assert result.upper.value >= truth
    assert result.lower.details["test_draws"] == k - default_fit(k)


def test_labels_carried_by_pairs_of_bits_are_seen_by_the_pair_decoder():
    rng = np.random.default_rng(12)
    k, n, p = 256, 100, 1000
    labels = _labels(rng, k, n)
    masks = rng.random((k, p)) < 0.05
    masks[:, n : 2 * n] = rng.random((k, n)) < 0.5
    masks[:, :n] = (labels == 1) ^ masks[:, n : 2 * n]  # y_i = m_i XOR m_{n + i}: no bit alone tells
    result = label_information(it.pack(masks), p, labels, n_permutations=0)
    assert result.decoders["bit"].value == 0.0
    assert result.decoders["pairs"].value > 50.0 and result.lower.value > 50.0


def test_fixed_guesses_enter_the_selection():
    rng = np.random.default_rng(5)
    labels = _labels(rng, 64, 10)
    masks = rng.random((64, 300)) < 0.5
    result = label_information(it.pack(masks), 300, labels, guesses={"oracle": labels}, n_permutations=0)
    oracle = result.decoders["oracle"]
    assert oracle.details["error_rate"] == 0.0
    assert result.lower.details["chosen"] == "oracle"
    # 32 test draws without an error: a mean error of at most about log(280) / (0.9 x 32)
    assert result.lower.value > 2.5 and result.lower.confidence == 0.975


def test_reused_label_vectors_are_refused():
    rng = np.random.default_rng(13)
    labels = np.repeat(_labels(rng, 64, 100), 4, axis=0)  # 64 label vectors, 4 masks each
    masks = np.repeat(rng.random((64, 1000)) < 0.05, 4, axis=0)  # a data-blind mask per vector
    with pytest.raises(ValueError, match="label vectors repeat"):
        label_information(it.pack(masks), 1000, labels)
    # short label vectors repeat by chance: accepted
    it.check_label_rows(_labels(rng, 256, 4))
    it.check_label_rows(_labels(rng, 64, 1))


def test_null_lower_bound_is_positive_at_most_at_its_level():
    """n = 1 label per draw, K = 64, 400 repetitions: positive in at most 2.5% (+ 3 sd)."""
    positive = 0
    for trial in range(400):
        rng = np.random.default_rng(1000 + trial)
        labels = _labels(rng, 64, 1)
        masks = rng.random((64, 200)) < 0.1
        positive += (
            label_information(it.pack(masks), 200, labels, n_permutations=0, seed=trial).lower.value > 0
        )
    assert positive / 400 <= 0.025 + 3 * np.sqrt(0.025 * 0.975 / 400)


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


def test_reused_label_vectors_are_refused_at_any_n():
    """64 label vectors of n = 10 labels, each used for 4 masks: i.i.d. uniform rows would give
    about 226 distinct of 256, these give at most 64. Short vectors repeat by chance and pass."""
    rng = np.random.default_rng(30)
    reused = np.repeat(_labels(rng, 64, 10), 4, axis=0)
    masks = np.repeat(rng.random((64, 200)) < 0.2, 4, axis=0)
    with pytest.raises(ValueError, match="label vectors repeat"):
        label_information(it.pack(masks), 200, reused, n_permutations=0)
    assert repeat_p_value(reused) < 1e-20
    for n, k in ((1, 64), (4, 256), (10, 256), (16, 4096), (40, 256), (1000, 256)):
        assert repeat_p_value(_labels(rng, k, n)) > 1e-3  # the bounds are exact: no false refusal
    one_repeat = _labels(rng, 256, 1000)
    one_repeat[-1] = one_repeat[0]
    assert repeat_p_value(one_repeat) < 1e-100


def test_the_p_value_of_repeats_is_valid_under_the_null():
    rng = np.random.default_rng(31)
    p_values = np.array([repeat_p_value(_labels(rng, 64, 6)) for _ in range(300)])
    assert np.mean(p_values <= 0.05) <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)


def test_masks_copied_for_consecutive_draws_are_refused():
    """64 masks, each copied for 4 consecutive draws of fresh labels (no label row repeats):
    exchangeable draws would put about 3 of the 256 next to a copy, here 192 are."""
    rng = np.random.default_rng(17)
    masks = np.repeat(rng.random((64, 500)) < 0.1, 4, axis=0)
    runs = it.labels.mask_runs(it.pack(masks))
    assert runs.adjacent == 192 and runs.expected == pytest.approx(3.0, rel=0.05)
    with pytest.raises(ValueError, match="masks repeat in runs"):
        label_information(it.pack(masks), 500, _labels(rng, 256, 10), n_permutations=0)
    # the same masks in random order, and every mask equal (a label-blind pruner), pass
    assert it.labels.mask_runs(it.pack(masks[rng.permutation(256)])).p_value > 1e-3
    assert it.labels.mask_runs(it.pack(np.repeat(masks[:1], 256, axis=0))).p_value == 1.0


def test_the_p_value_of_mask_runs_is_valid_under_exchangeable_draws():
    """i.i.d. masks from a few values (many repeats, as a pruner that reads one label gives):
    p <= 0.05 in at most 5% (+ 3 sd) of 400 repetitions, and p <= 0.2 in at most 20%."""
    rng = np.random.default_rng(23)
    values = rng.random((6, 40)) < 0.5
    p_values = np.array(
        [it.labels.mask_runs(it.pack(values[rng.integers(0, 6, 128)])).p_value for _ in range(400)]
    )
    for level in (0.05, 0.2):
        assert np.mean(p_values <= level) <= level + 3 * np.sqrt(level * (1 - level) / 400)
