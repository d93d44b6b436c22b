"""I(mask; labels) when the data variable is a vector of i.i.d. uniform binary labels.

The design of SCIENCE.md section 4 (and ``noprune``'s ``mask_information`` experiment): inputs
and init are fixed, the data variable S is the label vector y in {0, 1}^n, drawn K times, and
the pruner runs once per draw, giving masks m_1..m_K. Then H(S) = n bits exactly, and

- exact zero: all K masks identical -> I = 0 exactly (data-blind pruners land here);
- upper bound: min(H(S), log2 C(p, k), sum_j h2(p_j)) (:func:`infotheory.bounds.upper_bound`);
- lower bound (the headline): per-label Fano, I(m; y) >= sum_i I(m; y_i) >= n (1 - h2(Pe)),
  with Pe the Clopper-Pearson upper limit of the held-out per-label error of a decoder; the
  decoders are a per-label nearest centroid in Hamming space (cross-validated over draws), a
  per-label logistic probe (small masks), and any decoder fixed before seeing the labels, such as
  the masked network at init (sign of f(x_i; theta_0 * m) as the guess of y_i), passed as
  ``guesses``. The best decoder is reported, each taken at alpha / (2 x #decoders) so that
  the lower and the upper bound hold jointly with confidence 1 - alpha;
- detector: sum over (bit, label) of the squared correlation between bit and label, against
  its null under permutations of the draws, with a p-value (not a bound).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from infotheory.bounds import per_label_fano_lower_bound, upper_bound
from infotheory.decoders import group_folds
from infotheory.detect import permutation_estimate
from infotheory.entropy import exact_zero
from infotheory.estimate import Estimate


@dataclass(frozen=True)
class LabelInformation:
    """Bounds on I(mask; labels) from K draws: ``lower`` and ``upper`` hold jointly with
    confidence ``1 - alpha`` (both are the exact value when ``exact`` is set)."""

    lower: Estimate
    upper: Estimate
    exact: Estimate | None
    detector: Estimate | None
    decoders: dict[str, Estimate] = field(default_factory=dict)
    alpha: float = 0.05

    def metrics(self) -> dict[str, object]:
        """A flat JSON-able summary (the ``mask_information`` experiment's information columns)."""
        out: dict[str, object] = {
            "information_lower": self.lower.value,
            "information_upper": self.upper.value,
            "information_exact": None if self.exact is None else self.exact.value,
            "information_confidence": 1.0 if self.exact is not None else 1.0 - self.alpha,
            "information_lower_method": self.lower.details.get("decoder", self.lower.kind),
            "information_upper_method": self.upper.details.get("chosen", self.upper.kind),
            "detector_statistic": None if self.detector is None else self.detector.value,
            "detector_p_value": None if self.detector is None else self.detector.details["p_value"],
        }
        for name, estimate in self.decoders.items():
            out[f"decoder_{name}_error"] = estimate.details["error_rate"]
            out[f"decoder_{name}_bound"] = estimate.value
        return out


def _unpacked(packed: np.ndarray, p_bits: int, start: int, stop: int) -> np.ndarray:
    """Bits [start, stop) of every packed mask as float32 (start a multiple of 8)."""
    bits = np.unpackbits(packed[:, start // 8 : (stop + 7) // 8], axis=1)
    return bits[:, : min(stop, p_bits) - start].astype(np.float32)


def _chunk(p_bits: int, rows: int, budget_bytes: int) -> int:
    return max(8, (budget_bytes // (16 * max(rows, 1))) // 8 * 8)


def overlaps(packed: np.ndarray, p_bits: int, budget_bytes: int = 1 << 26) -> np.ndarray:
    """[K, K] numbers of weights two masks both keep (X X^T; the diagonal holds each mask's
    count), one pass over the bits in column chunks. Both decoders below need only this."""
    packed = np.asarray(packed, dtype=np.uint8)
    out = np.zeros((len(packed), len(packed)))
    step = _chunk(p_bits, 2 * len(packed), budget_bytes)
    for s in range(0, p_bits, step):
        bits = _unpacked(packed, p_bits, s, s + step)
        out += bits @ bits.T  # float32 counts of one chunk are exact
    return out


def _check_rows(gram: np.ndarray, labels: np.ndarray) -> None:
    if len(gram) != len(labels):
        raise ValueError(f"{len(gram)} masks but {len(labels)} label vectors")


def per_label_centroid_cv(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    budget_bytes: int = 1 << 26,
) -> np.ndarray:
    """Held-out per-label errors [K, n] (0 or 1) of nearest-centroid decoders, one per label.

    For label i a test mask gets the label whose training masks (those with y_i = 0, and those
    with y_i = 1) are nearer in mean Hamming distance, |x| + sum_j c_j - 2 x . c with c the
    class's mean mask (ties -> 0; a class with no training mask is never predicted). Mean, not
    majority, centroids: at low density the majority of every class is the empty mask. Folds
    split the K draws (one mask per draw), so no draw is both trained on and tested.
    """
    return centroid_errors(overlaps(packed, p_bits, budget_bytes), labels, folds, seed)


def centroid_errors(gram: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """:func:`per_label_centroid_cv` from the masks' :func:`overlaps`: x . c and sum_j c_j are
    means of overlaps and counts over the class's training masks."""
    y = np.asarray(labels, dtype=np.float64)
    _check_rows(gram, y)
    k, n = y.shape
    sizes = np.diag(gram)
    wrong = np.zeros((k, n))
    for test in group_folds(np.arange(k), folds, seed):
        train = np.setdiff1d(np.arange(k), test)
        dists = []
        for member in (1.0 - y[train], y[train]):  # class 0, class 1: [train, n] indicators
            count = member.sum(axis=0)
            mean_size = sizes[train] @ member / np.maximum(count, 1)
            mean_overlap = gram[np.ix_(test, train)] @ member / np.maximum(count, 1)
            dist = sizes[test][:, None] + mean_size[None, :] - 2 * mean_overlap
            dist[:, count == 0] = np.inf
            dists.append(dist)
        wrong[test] = (dists[1] < dists[0]) != (y[test] > 0)
    return wrong


def per_label_ridge_cv(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    folds: int = 5,
    seed: int = 0,
    budget_bytes: int = 1 << 26,
) -> np.ndarray:
    """Held-out per-label errors [K, n] of linear probes, all labels at once.

    Label i's probe is ridge regression of 2 y_i - 1 on the mask bits (centred on the training
    draws), solved in its dual through the K x K Gram matrix, so its cost is K^2 p whatever the
    mask size; the ridge is the mean squared norm of the centred training masks (a scale-free
    choice made without the test draws). A test mask gets y_i = 1 when the probe is positive.
    """
    return ridge_errors(overlaps(packed, p_bits, budget_bytes), labels, folds, seed)


def ridge_errors(gram: np.ndarray, labels: np.ndarray, folds: int = 5, seed: int = 0) -> np.ndarray:
    """:func:`per_label_ridge_cv` from the masks' :func:`overlaps`, centred per fold on the
    training mean mu: (x - mu) . (x' - mu) = x . x' - x . mu - mu . x' + mu . mu."""
    y = 2.0 * np.asarray(labels, dtype=np.float64) - 1.0
    _check_rows(gram, y)
    k, n = y.shape
    wrong = np.zeros((k, n))
    for test in group_folds(np.arange(k), folds, seed):
        train = np.setdiff1d(np.arange(k), test)
        tt, vt = gram[np.ix_(train, train)], gram[np.ix_(test, train)]
        centred = tt - tt.mean(axis=0)[None, :] - tt.mean(axis=1)[:, None] + tt.mean()
        cross = vt - vt.mean(axis=1)[:, None] - tt.mean(axis=0)[None, :] + tt.mean()
        ridge = max(np.trace(centred) / len(train), 1e-12)
        target = y[train] - y[train].mean(axis=0)
        dual = np.linalg.solve(centred + ridge * np.eye(len(train)), target)
        score = cross @ dual + y[train].mean(axis=0)
        wrong[test] = (score > 0) != (y[test] > 0)
    return wrong


def _gram(columns: np.ndarray) -> np.ndarray:
    """Z Z^T for Z the columns centred and scaled to unit norm (constant columns dropped)."""
    z = columns.astype(np.float64) - columns.mean(axis=0)
    norm = np.sqrt((z**2).sum(axis=0))
    z = np.divide(z, norm, out=np.zeros_like(z), where=norm > 0)
    return z @ z.T


def label_detector(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    n_permutations: int = 1000,
    seed: int = 0,
    budget_bytes: int = 1 << 26,
) -> Estimate:
    """T = sum over (bit j, label i) of K phi_ij^2 / (2 ln 2), phi the correlation of m_j and y_i
    across draws (about the summed plug-in I(m_j; y_i) in bits for small dependence), against its
    null with the label vectors permuted across draws. p-value = (1 + #{T_perm >= T}) / (1 +
    n_permutations); the value is T minus the null mean. A detector, not a bound."""
    packed = np.asarray(packed, dtype=np.uint8)
    y = np.asarray(labels).astype(np.float64)
    k = len(y)
    # sum_ij phi_ij^2 = ||Yz^T Bz||_F^2 = sum_ab (Bz Bz^T)_ab (Yz Yz^T)_ab with unit-norm centred
    # columns Yz, Bz: two K x K Gram matrices, and each permutation of the draws costs K^2.
    bits_gram = np.zeros((k, k))
    step = _chunk(p_bits, 2 * k, budget_bytes)
    for s in range(0, p_bits, step):
        bits_gram += _gram(_unpacked(packed, p_bits, s, s + step))
    labels_gram = _gram(y)
    rng = np.random.default_rng(seed)
    orders = [np.arange(k)] + [rng.permutation(k) for _ in range(n_permutations)]
    totals = np.array([(bits_gram * labels_gram[np.ix_(o, o)]).sum() for o in orders])
    totals *= k / (2 * np.log(2))
    note = (
        "detector of label dependence (summed squared bit-label correlations, in approximate "
        "plug-in bits, minus the permutation mean), not a bound"
    )
    return permutation_estimate(totals, k, k, note)


def label_information(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    *,
    alpha: float = 0.05,
    guesses: dict[str, np.ndarray] | None = None,
    folds: int = 5,
    seed: int = 0,
    n_permutations: int = 1000,
) -> LabelInformation:
    """Bounds on I(m; y) from one mask per draw of i.i.d. uniform binary labels y in {0, 1}^n.

    ``packed``: [K, ceil(p / 8)] masks, row k pruned on label vector ``labels[k]`` ([K, n]).
    ``guesses``: {name: [K, n] predicted labels} of decoders fixed before seeing the labels
    (e.g. the masked network at init); they are scored on all K draws. The lower and the upper bound
    hold jointly with confidence 1 - alpha (alpha / 2 each; Bonferroni over the decoders).
    """
    packed = np.asarray(packed, dtype=np.uint8)
    labels = np.asarray(labels)
    if labels.ndim != 2 or len(labels) != len(packed):
        raise ValueError(f"labels must be [K, n] with K = {len(packed)} masks, got shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be binary (0 or 1): the bounds assume i.i.d. uniform binary labels")
    k, n = labels.shape
    draws = np.arange(k)
    zero = exact_zero(packed, draws)
    if zero is not None:
        return LabelInformation(zero, zero, zero, None, {}, alpha)
    upper = upper_bound(packed, p_bits, draws, h_s=float(n), alpha=alpha / 2)
    errors: dict[str, float] = {}
    if k >= 2 * folds:
        gram = overlaps(packed, p_bits)  # one pass over the bits serves both decoders
        errors["centroid"] = float(centroid_errors(gram, labels, folds, seed).sum())
        errors["ridge"] = float(ridge_errors(gram, labels, folds, seed).sum())
    for name, guess in (guesses or {}).items():
        errors[name] = float((np.asarray(guess) != labels).sum())
    level = alpha / 2 / max(1, len(errors))
    decoders = {}
    for name, wrong in errors.items():
        estimate = per_label_fano_lower_bound(wrong, k * n, n, alpha=level, n_draws=k, n_masks=k)
        decoders[name] = Estimate(
            estimate.value, "lower_bound", 1.0 - level, k, k, {**estimate.details, "decoder": name}
        )
    if decoders:
        lower = max(decoders.values(), key=lambda e: e.value)
        lower = Estimate(lower.value, "lower_bound", 1.0 - alpha / 2, k, k, lower.details)
    else:
        lower = Estimate(
            0.0, "lower_bound", 1.0, k, k, {"decoder": "none", "note": "too few draws to decode"}
        )
    detector = label_detector(packed, p_bits, labels, n_permutations, seed) if n_permutations else None
    return LabelInformation(lower, upper, None, detector, decoders, alpha)
