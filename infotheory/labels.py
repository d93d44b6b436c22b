"""I(mask; labels) when the data variable is a vector of i.i.d. uniform binary labels.

The design of the ``mask_information`` experiment and of ``noprune mi --labels``: inputs and
init are fixed, the data variable S is the label vector y in {0, 1}^n, drawn K times, and the
pruner runs once per draw, giving masks m_1..m_K. Then H(S) = n bits exactly, and

- exact zero: all K masks identical -> I = 0 exactly (data-blind pruners land here);
- upper bound: min(H(S), log2 C(p, k), sum_j h2(p_j)) (:func:`infotheory.bounds.upper_bound`);
- lower bound (the headline): for independent y_i, I(m; y) >= sum_i I(m; y_i), and for any
  decoder g_i of y_i from the mask, I(m; y_i) >= 1 - h2(P(g_i(m) != y_i)) (Fano for a uniform
  bit); by Jensen (1 - h2 is convex on [0, 1/2]), I(m; y) >= n (1 - h2(Pbar)) with Pbar the
  mean per-label error, i.e. the expected per-draw error fraction. Pbar is bounded from held-out
  draws that no decoder has seen (see :func:`label_information`);
- detector: sum over (bit, label) of the squared correlation between bit and label, against
  its null with the label vectors permuted across draws, with a p-value (not a bound).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from infotheory import codes, variational
from infotheory.bits import popcount
from infotheory.bounds import fano_bound, upper_bound
from infotheory.confidence import bernstein_upper
from infotheory.detect import permutation_estimate
from infotheory.entropy import exact_zero
from infotheory.estimate import Estimate, bit_counts

SCREEN_BITS = 32
"""Bits kept per label by the screened decoders (the largest |correlation| with the label on
the training draws)."""

PAIR_CANDIDATES = 256
"""Bits among which the pair decoder searches (the most variable on the first training draws):
its cost is n x PAIR_CANDIDATES^2 x K per refit."""

REPEAT_REFUSAL = 1e-6
"""The level of the repeated-rows test (:func:`check_label_rows`): label rows that repeat in a way
i.i.d. uniform draws would with at most this probability are refused (the design needs
independent draws; a label vector used for several masks is not)."""


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
    fit_draws: int = 0

    def metrics(self) -> dict[str, object]:
        """A flat JSON-able summary (the ``mask_information`` experiment's information columns)."""
        out: dict[str, object] = {
            "information_lower": self.lower.value,
            "information_upper": self.upper.value,
            "information_exact": None if self.exact is None else self.exact.value,
            "information_confidence": 1.0 if self.exact is not None else 1.0 - self.alpha,
            "information_lower_method": self.lower.details.get("decoder", self.lower.kind),
            "information_upper_method": self.upper.details.get("chosen", self.upper.kind),
            "fit_draws": self.fit_draws,
            "test_draws": self.lower.n_masks - self.fit_draws,
            "detector_statistic": None if self.detector is None else self.detector.value,
            "detector_p_value": None if self.detector is None else self.detector.details["p_value"],
        }
        for name, estimate in self.decoders.items():
            out[f"decoder_{name}_error"] = estimate.details["error_rate"]
            out[f"decoder_{name}_bound"] = estimate.value
        for name, value in self.upper.details.get("candidates", {}).items():
            out[f"upper_{name}"] = value
        return out


# -- the design's checks -----------------------------------------------------------------------
@dataclass(frozen=True)
class Repeats:
    """How K label rows of n bits repeat: distinct rows, colliding pairs, the pairs i.i.d. uniform
    rows would give on average, and the p-value of :func:`repeat_p_value`."""

    rows: int
    bits: int
    distinct: int
    pairs: int
    expected_pairs: float
    p_value: float


def label_repeats(labels: np.ndarray) -> Repeats:
    """A valid p-value for "the K label rows are i.i.d. uniform over {0, 1}^n", from how often
    they repeat: the smaller of two tail bounds, each exact for any n and K (no approximation),
    times 2 (a union bound).

    - Colliding pairs C: E[C] = C(K, 2) / 2^n, and Markov's inequality gives P(C >= c) <= E[C] / c
      (strong where repeats should be rare: long label vectors, any repeat is improbable);
    - distinct rows D: a function of K independent draws that changes by at most 1 when one draw
      changes, so McDiarmid's inequality gives P(D <= E[D] - t) <= exp(-2 t^2 / K), with
      E[D] = N (1 - (1 - 1/N)^K), N = 2^n (strong where repeats are expected: short vectors).
    """
    k, n = labels.shape
    _, counts = np.unique(labels, axis=0, return_counts=True)
    pairs = int(sum(math.comb(int(c), 2) for c in counts))
    log_expected_pairs = math.log(math.comb(k, 2)) - n * math.log(2) if k > 1 else -math.inf
    markov = min(1.0, math.exp(log_expected_pairs) / pairs) if pairs else 1.0
    # E[D] = N (1 - (1 - 1/N)^K) = N (-expm1(K log1p(-1/N))), stable for large N
    distinct_expected = -math.expm1(k * math.log1p(-(2.0**-n))) * 2.0**n if n < 1000 else float(k)
    shortfall = distinct_expected - len(counts)
    mcdiarmid = math.exp(-2.0 * shortfall**2 / k) if shortfall > 0 else 1.0
    p_value = min(1.0, 2.0 * min(markov, mcdiarmid))
    return Repeats(k, n, len(counts), pairs, math.exp(log_expected_pairs), p_value)


def repeat_p_value(labels: np.ndarray) -> float:
    """The p-value of :func:`label_repeats`."""
    return label_repeats(labels).p_value


def check_label_rows(labels: np.ndarray) -> None:
    """Refuse label rows that repeat more than independent uniform draws plausibly would
    (:func:`label_repeats` below :data:`REPEAT_REFUSAL`): a label vector reused for several
    masks puts one draw on both sides of the fit / test split and breaks the independence of the
    test draws the bounds rest on. Holds at any n: for short vectors, where repeats are expected,
    it compares the number of distinct rows with its expectation."""
    r = label_repeats(labels)
    if r.p_value < REPEAT_REFUSAL:
        raise ValueError(
            f"label vectors repeat: {r.distinct} distinct among {r.rows} ({r.pairs} identical pairs; "
            f"i.i.d. uniform labels of n = {r.bits} bits would give {r.expected_pairs:.2g} pairs; "
            f"p <= {r.p_value:.2g}): give one mask per independent label draw"
        )


@dataclass(frozen=True)
class Runs:
    """How K masks in file order repeat their neighbours: the draws whose mask equals the one
    before (``adjacent``), its mean over every order of the same masks (``expected`` =
    sum_c n_c (n_c - 1) / K, n_c the copies of mask c), and the p-value of :func:`mask_runs`."""

    rows: int
    distinct: int
    adjacent: int
    expected: float
    p_value: float


def mask_runs(packed: np.ndarray) -> Runs:
    """A valid p-value for "the K masks are in exchangeable order", which independent draws are,
    from how often a mask equals the one before it; conditional on the multiset of masks, so it
    holds for any pruner (label-blind ones, with every mask equal, give p = 1).

    Under exchangeability, given the first k masks the next is uniform over the K - k left, so it
    repeats mask k with probability q_k = r_k / (K - k), r_k the copies of mask k not yet seen.
    With X_k = 1[m_{k+1} = m_k], M = sum_k (X_k - q_k) is a martingale with increments at most 1
    and predictable variance V = sum_k q_k (1 - q_k); Freedman's inequality gives
    P(M >= t, V <= v) <= exp(-t^2 / (2 (v + t / 3))). v runs over 1, 2, 4, ... up to K (a union
    bound over the grid: the p-value is the grid size times the bound at the first v >= V).
    Masks given in runs (one mask copied for several consecutive draws) are what it refuses."""
    k = len(packed)
    _, ids, counts = np.unique(packed, axis=0, return_inverse=True, return_counts=True)
    ids = ids.ravel()
    if k < 2:
        return Runs(k, len(counts), 0, 0.0, 1.0)
    order = np.argsort(ids, kind="stable")
    rank = np.empty(k, dtype=np.int64)  # copies of mask k among draws 0..k-1
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank[order] = np.arange(k) - np.repeat(starts, counts)
    left = (counts[ids] - rank - 1)[:-1]  # copies of mask k after draw k
    q = left / (k - 1 - np.arange(k - 1))
    adjacent = int((ids[1:] == ids[:-1]).sum())
    excess = adjacent - float(q.sum())
    variance = float((q * (1 - q)).sum())
    grid = max(1, math.ceil(math.log2(k)) + 1)
    v = 2.0 ** min(grid - 1, max(0, math.ceil(math.log2(max(variance, 1.0)))))
    p_value = 1.0 if excess <= 0 else min(1.0, grid * math.exp(-(excess**2) / (2 * (v + excess / 3))))
    expected = float((counts * (counts - 1)).sum()) / k  # E[adjacent] over the K! orders
    return Runs(k, len(counts), adjacent, expected, p_value)


def check_mask_order(packed: np.ndarray) -> None:
    """Refuse masks that repeat their neighbours more than draws in exchangeable order could
    (:func:`mask_runs` below :data:`REPEAT_REFUSAL`): one mask copied for several consecutive
    draws is not one mask per independent draw, and copies on both sides of the fit / test split
    would let a decoder recognise rather than decode."""
    r = mask_runs(packed)
    if r.p_value < REPEAT_REFUSAL:
        raise ValueError(
            f"masks repeat in runs: {r.adjacent} of {r.rows} draws repeat the mask before them "
            f"({r.distinct} distinct masks; exchangeable draws would give {r.expected:.3g}; "
            f"p <= {r.p_value:.2g}): give one mask per independent label draw, in the order drawn"
        )


# -- one pass over the bits ------------------------------------------------------------------
_BYTE_BITS = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1).astype(np.float32)


def unpacked(packed: np.ndarray, p_bits: int, start: int, stop: int) -> np.ndarray:
    """Bits [start, stop) of every packed mask as float32 (start a multiple of 8), through a
    byte -> 8 floats table (one pass, no uint8 intermediate)."""
    block = packed[:, start // 8 : (stop + 7) // 8]
    bits = _BYTE_BITS[block].reshape(len(packed), -1)
    return bits[:, : min(stop, p_bits) - start]


def _chunk(rows: int, budget_bytes: int) -> int:
    return max(8, (budget_bytes // (16 * max(rows, 1))) // 8 * 8)


def _columns(packed: np.ndarray, index: np.ndarray) -> np.ndarray:
    """The bits ``index`` (any shape) of every mask -> [K, *index.shape] uint8."""
    return (packed[:, index // 8] >> (7 - index % 8)) & 1


def _merge_top(best_score: np.ndarray, best_index: np.ndarray, score: np.ndarray, offset: int) -> None:
    """Fold a chunk's scores [n, w] (bits offset..offset + w) into each row's running top s
    (in place). Only entries above a row's current s-th best can enter, and they are few once
    a few chunks have passed, so they are gathered sparsely and the rows re-sorted."""
    n, s = best_score.shape
    flat = np.flatnonzero(score > best_score.min(axis=1)[:, None])
    if len(flat) > 8 * n * s:  # the first chunks: cut each row to its own top s first
        top = np.argpartition(-score, s - 1, axis=1)[:, :s]
        rows, cols = np.repeat(np.arange(n), s), top.ravel()
    else:
        rows, cols = np.divmod(flat, score.shape[1])
    if not len(rows):
        return
    all_rows = np.concatenate([np.repeat(np.arange(n), s), rows])
    all_score = np.concatenate([best_score.ravel(), score[rows, cols]])
    all_index = np.concatenate([best_index.ravel(), cols + offset])
    order = np.lexsort((-all_score, all_rows))  # by row, best first
    first = np.searchsorted(all_rows[order], np.arange(n))
    take = order[first[:, None] + np.arange(s)[None, :]]
    best_score[:] = all_score[take]
    best_index[:] = all_index[take]


@dataclass
class _Pass:
    """What one pass over the bits gives the classic decoders: the overlaps x . x' of every row
    with every training row, the SCREEN_BITS bits most correlated with each label on the
    training rows, and the most variable bits there (the pair decoder's candidates)."""

    overlap: np.ndarray  # [rows, train]
    screened: np.ndarray  # [n, SCREEN_BITS] bit indices, best first
    candidates: np.ndarray  # [<= PAIR_CANDIDATES] bit indices


def _one_pass(packed: np.ndarray, p_bits: int, signs: np.ndarray, train: int, budget: int) -> _Pass:
    """Rows [0, train) of ``packed`` are the training rows (``signs`` their labels in +-1). The
    screening score of bit j for label i is |cov(m_j, y_i)| / sd(m_j) on the training rows (the
    correlation up to the label's own sd, which does not change the ranking within a label)."""
    t, n = signs.shape
    s = min(SCREEN_BITS, p_bits)
    overlap = np.zeros((len(packed), t))
    best_score = np.full((n, s), -1.0, dtype=np.float32)
    best_index = np.zeros((n, s), dtype=np.int64)
    variance = np.zeros(p_bits, dtype=np.float32)
    signs32 = signs.astype(np.float32)
    ybar = signs32.mean(axis=0)
    step = _chunk(len(packed) + n, budget)
    for start in range(0, p_bits, step):
        bits = unpacked(packed, p_bits, start, start + step)  # [rows, w]
        w = bits.shape[1]
        overlap += bits @ bits[:t].T  # float32 counts are exact
        xbar = bits[:t].mean(axis=0)
        xsd = np.sqrt(np.maximum(xbar * (1.0 - xbar), 0.0))
        variance[start : start + w] = xsd**2
        inv = np.divide(1.0, xsd, out=np.zeros_like(xsd), where=xsd > 0) / t
        score = signs32.T @ bits[:t] - np.multiply.outer(ybar * t, xbar)
        np.abs(score, out=score)
        score *= inv
        _merge_top(best_score, best_index, score, start)
    order = np.argsort(-best_score, axis=1, kind="stable")
    screened = np.take_along_axis(best_index, order, axis=1)
    m = min(PAIR_CANDIDATES, p_bits)
    candidates = np.sort(np.argpartition(-variance, m - 1)[:m]) if m < p_bits else np.arange(p_bits)
    return _Pass(overlap, screened, candidates)


# -- decoders: each fits on the rows ``train`` and guesses the labels of ``test`` ------------------
def _cell_majority(feature_train: np.ndarray, y_train: np.ndarray, feature_test: np.ndarray) -> np.ndarray:
    """Guess y from a binary feature by the majority label of each feature value on the
    training draws (ties -> 0). Shapes [rows, n] for all three."""
    ones = feature_train.astype(bool)
    guess = np.zeros(feature_test.shape, dtype=bool)
    for value in (False, True):
        cell = ones == value
        frac = (y_train * cell).sum(axis=0) / np.maximum(cell.sum(axis=0), 1)
        guess = np.where(feature_test.astype(bool) == value, frac > 0.5, guess)
    return guess


def _centroid(
    overlap: np.ndarray, sizes: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray
) -> np.ndarray:
    """Per label, the class whose training masks are nearer in mean Hamming distance,
    |x| + mean_c |m| - 2 mean_c x . m (ties -> 0; an empty class is never guessed). Mean, not
    majority, centroids: at low density the majority of every class is the empty mask.
    ``overlap`` [rows, train]: x . m; ``sizes`` [rows]: |x|."""
    dists = []
    for member in (1.0 - y[train], y[train]):  # class 0, class 1: [train, n] indicators
        count = member.sum(axis=0)
        mean_size = sizes[train] @ member / np.maximum(count, 1)
        mean_overlap = overlap[test] @ member / np.maximum(count, 1)
        dist = sizes[test][:, None] + mean_size[None, :] - 2 * mean_overlap
        dist[:, count == 0] = np.inf
        dists.append(dist)
    return dists[1] < dists[0]


def _ridge(overlap: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per label, ridge regression of 2 y_i - 1 on all the mask bits, centred on the training
    draws and solved in its dual through the overlaps (cost rows x train x p whatever p); the
    ridge is the mean squared norm of the centred training masks, a scale-free choice. Guess 1
    when positive."""
    signs = 2.0 * y - 1.0
    tt, vt = overlap[train], overlap[test]
    centred = tt - tt.mean(axis=0)[None, :] - tt.mean(axis=1)[:, None] + tt.mean()
    cross = vt - vt.mean(axis=1)[:, None] - tt.mean(axis=0)[None, :] + tt.mean()
    ridge = max(np.trace(centred) / len(train), 1e-12)
    target = signs[train] - signs[train].mean(axis=0)
    dual = np.linalg.solve(centred + ridge * np.eye(len(train)), target)
    return cross @ dual + signs[train].mean(axis=0) > 0


def _screened(bits: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per label, ridge regression of 2 y_i - 1 on its screened bits ``bits`` [K, n, s], centred
    on the training draws, ridge = the mean squared norm of the centred columns."""
    signs = 2.0 * y[train] - 1.0  # [t, n]
    z = bits[train].astype(np.float64)  # [t, n, s]
    mean = z.mean(axis=0)
    z -= mean
    target = signs - signs.mean(axis=0)
    normal = np.einsum("tns,tnr->nsr", z, z)
    ridge = np.trace(normal, axis1=1, axis2=2) / z.shape[2] + 1e-9
    normal += ridge[:, None, None] * np.eye(z.shape[2])
    coef = np.linalg.solve(normal, np.einsum("tns,tn->ns", z, target)[:, :, None])[:, :, 0]
    score = np.einsum("tns,ns->tn", bits[test] - mean, coef) + signs.mean(axis=0)
    return score > 0


def _pairs(bits: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per label, the pair of candidate bits whose parity (XOR) is most correlated with the label
    on the training draws, then the majority label of each parity value: information that
    single bits do not show (y_i = m_a XOR m_b) but a pair does."""
    sb = 2.0 * bits[train].astype(np.float64) - 1.0  # [t, M] in +-1
    t, m = sb.shape
    signs = 2.0 * y[train] - 1.0
    ys = signs - signs.mean(axis=0)
    ysd = np.sqrt((ys**2).mean(axis=0))
    product_mean = sb.T @ sb / t  # [M, M]
    product_sd = np.sqrt(np.maximum(1.0 - product_mean**2, 0.0))
    upper = np.triu(np.ones((m, m), dtype=bool), 1) & (product_sd > 1e-9)
    n = y.shape[1]
    first = np.zeros(n, dtype=np.int64)
    second = np.zeros(n, dtype=np.int64)
    for lo in range(0, n, 64):
        hi = min(n, lo + 64)
        cov = np.einsum("ti,ta,tb->iab", ys[:, lo:hi], sb, sb, optimize=True) / t
        score = np.where(upper, np.abs(cov) / np.where(upper, product_sd, 1.0), -1.0)
        score /= np.maximum(ysd[lo:hi], 1e-12)[:, None, None]
        flat = score.reshape(hi - lo, -1).argmax(axis=1)
        first[lo:hi], second[lo:hi] = np.divmod(flat, m)
    parity_train = bits[train][:, first] ^ bits[train][:, second]
    parity_test = bits[test][:, first] ^ bits[test][:, second]
    return _cell_majority(parity_train, y[train], parity_test)


# -- the bounds ----------------------------------------------------------------------------------
CLASSIC_FIT = 256
"""Fit draws the classic decoders (one bit, screened bits, pairs, centroid, ridge) train on, the
last ones: their cost grows with the square of it, and on real masks the linear-Gaussian
decoders, which use every fit draw, carry the bound."""

FEATURE_CAP = 4096
"""Largest number of bits varying on the fit draws for which the linear-Gaussian decoders and the
autoregressive code are fitted (their cost grows with its square and cube); they are fitted only
where the fit draws are at least a quarter as many as those bits, too few to fit them otherwise."""

DETECTOR_DRAWS = 1024
"""Test draws the permutation detector uses (its cost grows with their square)."""

MIN_SPLIT = 8
"""Fewest fit draws, and fewest test draws, for the held-out bounds."""


def default_fit(k: int) -> int:
    """Fit draws when the caller names none: the first half of the K draws, or all but
    :data:`DEFAULT_TEST` when that is more. Past about a thousand test draws the confidence terms
    shrink slowly and the decoders gain more from fit draws: on 4096 SNIP masks of digits the
    lower bound was 9.05 bits with 2048 fit draws and 9.94 with 3072 (before the candidates were
    trimmed to those below)."""
    return max(k // 2, k - DEFAULT_TEST)


DEFAULT_TEST = 1024
"""Test draws of the default split when K > 2 x DEFAULT_TEST."""


def _fano_bound(wrong: np.ndarray, n: int, level: float) -> dict[str, float]:
    """I >= n (1 - h2(Pbar)) at confidence 1 - ``level``, from the per-draw error fractions of
    independent test draws (``wrong`` [T, n] in {0, 1})."""
    per_draw = wrong.mean(axis=1)
    upper, how = bernstein_upper(per_draw, level)
    return {
        "error_rate": float(per_draw.mean()),
        "error_rate_upper": upper,
        "point": n * fano_bound(float(per_draw.mean()), 2),  # n (1 - h2(Pbar)), Pbar at most 1/2
        "bound": n * fano_bound(upper, 2),
        "test_draws": len(per_draw),
        "bernstein_weight": how["weight"],
    }


def _classic_errors(
    packed: np.ndarray,
    p_bits: int,
    y: np.ndarray,
    fit: int,
    fixed: dict[str, np.ndarray],
    budget_bytes: int,
    linear: bool,
) -> dict[str, np.ndarray]:
    """Each classic decoder fitted on the last :data:`CLASSIC_FIT` fit draws, and each fixed
    guess: its wrong guesses [T, n] on the test draws (rows ``fit`` on). ``linear``: the
    linear-Gaussian decoders run too, and they read every varying bit with every fit draw, so
    the one-bit, centroid and ridge decoders, linear in the bits as they are, are left out (each
    candidate costs the union bound a share of alpha)."""
    train_rows = np.arange(max(0, fit - CLASSIC_FIT), fit)
    test_rows = np.arange(fit, len(packed))
    rows = np.concatenate([train_rows, test_rows])
    t = len(train_rows)
    train, test = np.arange(t), np.arange(t, len(rows))
    yr = y[rows]
    sweep = _one_pass(packed[rows], p_bits, 2.0 * yr[:t] - 1.0, t, budget_bytes)
    sizes = popcount(packed[rows]).astype(np.float64)
    screened = _columns(packed[rows], sweep.screened)  # [rows, n, s]
    candidates = _columns(packed[rows], sweep.candidates)  # [rows, M]
    truth = yr[test] > 0.5
    guess = {
        "screened": _screened(screened, yr, train, test),
        "pairs": _pairs(candidates, yr, train, test),
        **{name: g[fit:] for name, g in fixed.items()},
    }
    if not linear:
        guess["bit"] = _cell_majority(screened[train, :, 0], yr[train], screened[test, :, 0])
        guess["centroid"] = _centroid(sweep.overlap, sizes, yr, train, test)
        guess["ridge"] = _ridge(sweep.overlap, yr, train, test)
    return {name: (g != truth).astype(np.float64) for name, g in guess.items()}


def _code_bounds(
    packed: np.ndarray,
    p_bits: int,
    fit: int,
    features: np.ndarray | None,
    varying: np.ndarray,
    ones: np.ndarray,
    level: float,
    parents: int,
) -> dict[str, Estimate]:
    """Held-out code-length bounds (:mod:`infotheory.codes`) of the independent-bits code and,
    where the varying bits are few enough, the autoregressive one, each at ``level``."""
    k = len(packed)
    test = packed[fit:]
    rate = codes.keep_rates(ones, fit)
    lengths = np.zeros(k - fit)
    step = _chunk(k - fit, 1 << 27)
    for start in range(0, p_bits, step):
        lengths += codes.bernoulli_lengths(
            unpacked(test, p_bits, start, start + step), rate[start : start + step]
        )
    nnz = popcount(packed)
    fixed_nnz = int(nnz[0]) if (nnz == nnz[0]).all() else None
    uniform = codes.uniform_length(p_bits, nnz[fit:], fixed_nnz)
    cap = codes.length_cap(p_bits, fixed_nnz)
    found = {"independent": (lengths, "independent bits")}
    if features is not None:
        chain = codes.autoregressive_lengths(features[:fit], features[fit:], parents)
        along = lengths - codes.bernoulli_lengths(features[fit:], rate[varying]) + chain
        found["autoregressive"] = (along, f"autoregressive logistic, {parents} parents")
    return {
        name: codes.code_length_bound(model, codes.mixed_lengths(raw, uniform), cap, level, k, k)
        for name, (raw, model) in found.items()
    }


def label_information(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    *,
    fit: int | None = None,
    alpha: float = 0.05,
    guesses: dict[str, np.ndarray] | None = None,
    seed: int = 0,
    n_permutations: int = 1000,
    budget_bytes: int = 1 << 27,
    parents: int = codes.PARENTS,
) -> LabelInformation:
    """Bounds on I(m; y) from one mask per draw of i.i.d. uniform binary labels y in {0, 1}^n.

    ``packed``: [K, ceil(p / 8)] masks, row k pruned on label vector ``labels[k]`` ([K, n]).
    ``fit``: the first ``fit`` draws are fit draws (default :func:`default_fit`): every decoder
    and mask model is fitted on them and nothing is counted on them; the other K - fit are test
    draws, on which every confidence statement is made (sample splitting). Given the fit draws,
    the test draws are i.i.d., so a decoder's per-draw terms on them are i.i.d. and bounded.
    ``guesses``: {name: [K, n] predicted labels} of decoders fixed before seeing the labels (e.g.
    the masked network at init). ``parents``: earlier bits each bit of the autoregressive code
    conditions on.

    Lower bound: the largest of (1) per-label Fano, I >= sum_i I(m; y_i) >= n (1 - h2(Pbar)),
    for each classic decoder and fixed guess, Pbar bounded from the test draws' error fractions;
    (2) Barber-Agakov with a linear-Gaussian decoder of each label from the mask alone and (3)
    along the chain rule, from the mask and the earlier labels (:mod:`infotheory.variational`).
    Upper bound: the smallest of H(S) = n, log2 C(p, k), the Clopper-Pearson sum of per-bit
    entropies, and the held-out code length of the independent-bits and the autoregressive code
    (:mod:`infotheory.codes`). Each side takes alpha / 2, split evenly over its candidates that
    are random (a union bound), so lower and upper hold jointly with confidence 1 - alpha.
    ``decoders`` reports each lower-bound candidate at its own level.
    """
    packed = np.asarray(packed, dtype=np.uint8)
    labels = np.asarray(labels)
    if labels.ndim != 2 or len(labels) != len(packed):
        raise ValueError(f"labels must be [K, n] with K = {len(packed)} masks, got shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be binary (0 or 1): the bounds assume i.i.d. uniform binary labels")
    k, n = labels.shape
    fit = default_fit(k) if fit is None else int(fit)
    if not 0 <= fit < k:
        raise ValueError(
            f"fit must be in 0..{k - 1} (the first fit draws; the rest are test draws), got {fit}"
        )
    check_label_rows(labels)
    check_mask_order(packed)
    zero = exact_zero(packed, np.arange(k))
    if zero is not None:
        return LabelInformation(zero, zero, zero, None, {}, alpha, fit)
    test_rows = np.arange(fit, k)
    detector = None
    if n_permutations and len(test_rows) >= 4:
        few = test_rows[:DETECTOR_DRAWS]
        detector = label_detector(packed[few], p_bits, labels[few], n_permutations, seed)
    if fit < MIN_SPLIT or k - fit < MIN_SPLIT:
        upper = upper_bound(packed, p_bits, np.arange(k), h_s=float(n), alpha=alpha / 2)
        note = (
            f"the held-out bounds need at least {MIN_SPLIT} fit and {MIN_SPLIT} test draws, "
            f"got {fit} and {k - fit}"
        )
        lower = Estimate(0.0, "lower_bound", 1.0, k, k, {"decoder": "none", "note": note})
        return LabelInformation(lower, upper, None, detector, {}, alpha, fit)
    y = labels.astype(np.float64)
    ones = bit_counts(packed[:fit], p_bits)
    varying = np.flatnonzero((ones > 0) & (ones < fit))
    features = _columns(packed, varying) if len(varying) <= min(FEATURE_CAP, 4 * fit) else None

    # upper: three random candidates (Clopper-Pearson sum, two codes) share alpha / 2
    randoms = 3 if features is not None else 2
    level_up = alpha / 2 / randoms
    caps = upper_bound(packed, p_bits, np.arange(k), h_s=float(n), alpha=level_up)
    codes_found = _code_bounds(packed, p_bits, fit, features, varying, ones, level_up, parents)
    candidates = {name: v for name, v in caps.details["candidates"].items() if v is not None}
    candidates.update({f"code_{name}": e.value for name, e in codes_found.items()})
    best = min(candidates, key=candidates.get)
    confidence = 1.0 if best in ("h_s", "log2_binomial") else 1.0 - alpha / 2
    upper_details = {
        "candidates": candidates,
        "chosen": best,
        "codes": {name: e.details for name, e in codes_found.items()},
        "fit_draws": fit,
        "test_draws": k - fit,
        "method": "min of H(S), log2 C(p, k), Clopper-Pearson sum of bit entropies and held-out code "
        f"lengths (union bound at alpha / {2 * randoms} each)",
    }
    upper = Estimate(candidates[best], "upper_bound", confidence, k, k, upper_details)

    # lower: per-label Fano for every classic decoder and fixed guess, Barber-Agakov twice
    fixed = {name: np.asarray(g).astype(bool) for name, g in (guesses or {}).items()}
    for name, g in fixed.items():
        if g.shape != labels.shape:
            raise ValueError(f"guesses {name!r} must have the labels' shape {labels.shape}, got {g.shape}")
    errors = _classic_errors(packed, p_bits, y, fit, fixed, budget_bytes, linear=features is not None)
    count = len(errors) + (2 if features is not None else 0)
    level = alpha / 2 / count
    decoders: dict[str, Estimate] = {}
    for name, wrong in errors.items():
        result = _fano_bound(wrong, n, level)
        details = {
            **result,
            "decoder": name,
            "method": "per-label Fano on held-out draws, empirical Bernstein",
        }
        decoders[name] = Estimate(result["bound"], "lower_bound", 1.0 - level, k, k, details)
    if features is not None:
        for name, chain in (("log_loss", False), ("log_loss_chain", True)):
            terms = variational.log_loss_terms(
                features[:fit], y[:fit], features[fit:], y[fit:], chain=chain, test_draws=k - fit, level=level
            )
            bound, how = variational.per_draw_bound(terms.z, n, terms.floor, level)
            details = {
                "decoder": name,
                "method": "Barber-Agakov with a linear-Gaussian decoder"
                + (" along the chain rule" if chain else "")
                + ", held-out draws, empirical Bernstein",
                "mean_term": float(terms.z.mean()),
                "floor": terms.floor,
                "shrinkage": terms.shrinkage,
                "error_rate": float(terms.errors.mean()),
                "test_draws": k - fit,
                "bernstein_weight": how["weight"],
            }
            decoders[name] = Estimate(max(0.0, bound), "lower_bound", 1.0 - level, k, k, details)
    chosen = max(decoders, key=lambda name: decoders[name].value)
    lower_details = {
        **decoders[chosen].details,
        "chosen": chosen,
        "fit_draws": fit,
        "candidates": {name: e.value for name, e in decoders.items()},
        "assumes": "i.i.d. uniform binary label vectors, one mask per draw",
    }
    lower = Estimate(decoders[chosen].value, "lower_bound", 1.0 - alpha / 2, k, k, lower_details)
    return LabelInformation(lower, upper, None, detector, decoders, alpha, fit)


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
    bits_gram: np.ndarray | None = None,
) -> Estimate:
    """T = sum over (bit j, label i) of K phi_ij^2 / (2 ln 2), phi the correlation of m_j and y_i
    across draws (about the summed plug-in I(m_j; y_i) in bits for small dependence), against its
    null with the label vectors permuted across draws. p-value = (1 + #{T_perm >= T}) / (1 +
    n_permutations); the value is T minus the null mean. A detector, not a bound. ``bits_gram``:
    the bits' Gram matrix (sum over bit chunks of Z Z^T) when a pass over the bits already made it."""
    packed = np.asarray(packed, dtype=np.uint8)
    y = np.asarray(labels).astype(np.float64)
    k = len(y)
    # sum_ij phi_ij^2 = ||Yz^T Bz||_F^2 = sum_ab (Bz Bz^T)_ab (Yz Yz^T)_ab with unit-norm centred
    # columns Yz, Bz: two K x K Gram matrices, and each permutation of the draws costs K^2.
    if bits_gram is None:
        bits_gram = np.zeros((k, k))
        step = _chunk(2 * k, budget_bytes)
        for s in range(0, p_bits, step):
            bits_gram += _gram(unpacked(packed, p_bits, s, s + step))
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
