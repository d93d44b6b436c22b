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
from scipy import stats
from scipy.linalg import blas

from infotheory.bounds import fano_bound, upper_bound
from infotheory.confidence import bernstein_upper
from infotheory.detect import permutation_estimate
from infotheory.entropy import exact_zero
from infotheory.estimate import Estimate

SCREEN_BITS = 32
"""Bits kept per label by the screened decoders (the largest |correlation| with the label on
the training draws)."""

PAIR_CANDIDATES = 256
"""Bits among which the pair decoder searches (the most variable on the first training draws):
its cost is n x PAIR_CANDIDATES^2 x K per refit."""

REPEAT_REFUSAL = 1e-6
"""Label rows that repeat more often than i.i.d. uniform draws would with this probability are
refused (the design needs independent draws; a label vector used for several masks is not)."""


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


# -- the design's checks -----------------------------------------------------------------------
def check_label_rows(labels: np.ndarray) -> None:
    """Refuse label rows that repeat more than independent uniform draws plausibly would.

    Colliding pairs of rows among K uniform vectors of n bits number about Poisson(C(K, 2) / 2^n)
    when that mean is small; a count whose Poisson tail is below :data:`REPEAT_REFUSAL` means a
    label vector was reused (several masks pruned on one draw), which breaks the independence of
    draws the held-out bound rests on. With C(K, 2) / 2^n > 1 (few labels: n < 2 log2 K, about)
    repeats are expected and reuse cannot be told from chance; nothing is refused then.
    """
    k, n = labels.shape
    expected = math.comb(k, 2) * 2.0 ** (-n)
    if expected > 1.0:
        return
    _, counts = np.unique(labels, axis=0, return_counts=True)
    pairs = int(sum(math.comb(int(c), 2) for c in counts))
    if pairs and stats.poisson.sf(pairs - 1, expected) < REPEAT_REFUSAL:
        raise ValueError(
            f"{int((counts > 1).sum())} label vectors repeat ({pairs} pairs of identical rows; i.i.d. "
            f"uniform labels of n = {n} bits would give {expected:.2g}): give one mask per independent "
            "label draw"
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
    """What one pass over the bits gives every decoder: the K x K overlaps X X^T, per stage the
    SCREEN_BITS bits most correlated with each label on that stage's training draws, and the
    most variable bits of the first training segment (the pair decoder's candidates)."""

    gram: np.ndarray
    detector_gram: np.ndarray | None  # sum over chunks of Z Z^T, Z the centred unit-norm bits
    screened: np.ndarray  # [stages, n, SCREEN_BITS] bit indices, best first
    candidates: np.ndarray  # [<= PAIR_CANDIDATES] bit indices


def _one_pass(
    packed: np.ndarray, p_bits: int, signs: np.ndarray, edges: np.ndarray, budget: int, detector: bool
) -> _Pass:
    """Stage b trains on the rows before edges[b + 1]. The screening score of bit j for label i
    is |cov(m_j, y_i)| / sd(m_j) on the stage's rows (the correlation up to the label's own sd,
    which does not change the ranking within a label)."""
    k, n = signs.shape
    stages = len(edges) - 2
    s = min(SCREEN_BITS, p_bits)
    gram = np.zeros((k, k))
    detector_gram = np.zeros((k, k)) if detector else None
    best_score = np.full((stages, n, s), -1.0, dtype=np.float32)
    best_index = np.zeros((stages, n, s), dtype=np.int64)
    variance = np.zeros(p_bits, dtype=np.float32)
    signs32 = signs.astype(np.float32)
    sizes = edges[1 : stages + 1].astype(np.float32)
    ybar = np.stack([signs32[: edges[b + 1]].mean(axis=0) for b in range(stages)])  # [stages, n]
    step = _chunk(k + n, budget)
    for start in range(0, p_bits, step):
        bits = unpacked(packed, p_bits, start, start + step)  # [k, w]
        w = bits.shape[1]
        gram += blas.ssyrk(1.0, bits)  # upper triangle of bits bits^T (float32 counts are exact)
        if detector_gram is not None:
            detector_gram += _gram(bits)
        label_sum = np.zeros((n, w), dtype=np.float32)
        ones = np.zeros(w, dtype=np.float32)
        for b in range(stages):
            rows = slice(edges[b], edges[b + 1])
            label_sum += signs32[rows].T @ bits[rows]
            ones += bits[rows].sum(axis=0)
            xbar = ones / sizes[b]
            xsd = np.sqrt(np.maximum(xbar * (1.0 - xbar), 0.0))
            if b == 0:
                variance[start : start + w] = xsd**2
            inv = np.divide(1.0, xsd, out=np.zeros_like(xsd), where=xsd > 0) / sizes[b]
            score = label_sum - np.multiply.outer(ybar[b] * sizes[b], xbar)
            np.abs(score, out=score)
            score *= inv
            _merge_top(best_score[b], best_index[b], score, start)
    gram = np.triu(gram) + np.triu(gram, 1).T
    order = np.argsort(-best_score, axis=2, kind="stable")
    screened = np.take_along_axis(best_index, order, axis=2)
    m = min(PAIR_CANDIDATES, p_bits)
    candidates = np.sort(np.argpartition(-variance, m - 1)[:m]) if m < p_bits else np.arange(p_bits)
    return _Pass(gram, detector_gram, screened, candidates)


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


def _centroid(gram: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per label, the class whose training masks are nearer in mean Hamming distance,
    |x| + mean_c |m| - 2 mean_c x . m (ties -> 0; an empty class is never guessed). Mean, not
    majority, centroids: at low density the majority of every class is the empty mask."""
    sizes = np.diag(gram)
    dists = []
    for member in (1.0 - y[train], y[train]):  # class 0, class 1: [train, n] indicators
        count = member.sum(axis=0)
        mean_size = sizes[train] @ member / np.maximum(count, 1)
        mean_overlap = gram[np.ix_(test, train)] @ member / np.maximum(count, 1)
        dist = sizes[test][:, None] + mean_size[None, :] - 2 * mean_overlap
        dist[:, count == 0] = np.inf
        dists.append(dist)
    return dists[1] < dists[0]


def _ridge(gram: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per label, ridge regression of 2 y_i - 1 on all the mask bits, centred on the training
    draws and solved in its dual through the Gram matrix (cost K^2 p whatever p); the ridge is the
    mean squared norm of the centred training masks, a scale-free choice. Guess 1 when positive."""
    signs = 2.0 * y - 1.0
    tt, vt = gram[np.ix_(train, train)], gram[np.ix_(test, train)]
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


# -- the bound -----------------------------------------------------------------------------------
def prequential_edges(k: int) -> np.ndarray:
    """Segment edges of the K (shuffled) draws: [0, b/2) trains only, [b/2, b) is guessed only to
    choose decoders, and [b, K) is guessed in 3 blocks, each by decoders fitted on every draw
    before it (b = K / 4). The bound counts the 3K/4 draws of those blocks."""
    burn = max(2, round(k / 4))
    edges = [0, burn // 2, burn]
    step = max(1, math.ceil((k - burn) / 3))
    edges += [*range(burn + step, k, step), k]
    return np.unique(np.array(edges, dtype=np.int64))


SELECTION_POOLING = 10.0
"""Weight of a decoder's mean error count over all labels in the per-label choice of decoder:
a label's own count decides only where it departs from the decoder's record elsewhere by more
than this many times the gap between decoders. On 256 SNIP masks of digits (n = 100) pooling 1,
10 and 100 certified 5.67, 6.44 and 6.54 bits (ridge alone: 6.54); on carrier masks at K = 64 it
raised the certified share from 0.43 to 0.55 of the truth."""


def _leaders(tally: np.ndarray) -> np.ndarray:
    """Per label, the decoder with the fewest errors so far ([decoders, n] counts), each label's
    count pooled with :data:`SELECTION_POOLING` times the decoder's mean count over all labels (a
    label seen on few draws leans on how the decoder does elsewhere); ties go to the first."""
    return np.argmin(tally + SELECTION_POOLING * tally.mean(axis=1, keepdims=True), axis=0)


def _prequential_bound(wrong: np.ndarray, test: np.ndarray, n: int, level: float) -> dict[str, float]:
    """Bound from the per-draw error fractions of the counted draws, in the order guessed."""
    per_draw = wrong[test].mean(axis=1)
    upper, how = bernstein_upper(per_draw, level)
    return {
        "error_rate": float(per_draw.mean()),
        "error_rate_upper": upper,
        "point": n * fano_bound(float(per_draw.mean()), 2),  # n (1 - h2(Pbar)), Pbar at most 1/2
        "bound": n * fano_bound(upper, 2),
        "test_draws": len(test),
        "bernstein_weight": how["weight"],
    }


def label_information(
    packed: np.ndarray,
    p_bits: int,
    labels: np.ndarray,
    *,
    alpha: float = 0.05,
    guesses: dict[str, np.ndarray] | None = None,
    seed: int = 0,
    n_permutations: int = 1000,
    budget_bytes: int = 1 << 27,
) -> LabelInformation:
    """Bounds on I(m; y) from one mask per draw of i.i.d. uniform binary labels y in {0, 1}^n.

    ``packed``: [K, ceil(p / 8)] masks, row k pruned on label vector ``labels[k]`` ([K, n]).
    ``guesses``: {name: [K, n] predicted labels} of decoders fixed before seeing the labels (e.g.
    the masked network at init).

    Lower bound, valid under any dependence between decoders and draws: the draws are taken in a
    seeded random order and cut by :func:`prequential_edges`. Every draw of a block is guessed by
    decoders fitted on the draws before the block only (screened bits, one best bit, pairs of
    bits, mean centroid, ridge on all bits, and the fixed ``guesses``); per label, the decoder
    used in a block is the one with the fewest errors on the blocks before it (follow the
    leader), so the choice never sees the draws it is scored on. A counted draw's error fraction
    then has conditional mean Pbar_b (the block's decoder's mean error) given all earlier draws,
    and :func:`infotheory.confidence.bernstein_upper` bounds the weighted mean of the Pbar_b at
    level alpha / 2; n (1 - h2(.)) is convex and decreasing, so I >= n (1 - h2(that bound)).
    The upper bound takes the other alpha / 2: jointly 1 - alpha. ``decoders`` reports each
    decoder alone (each valid at alpha / 2 by itself, not jointly with the others).
    """
    packed = np.asarray(packed, dtype=np.uint8)
    labels = np.asarray(labels)
    if labels.ndim != 2 or len(labels) != len(packed):
        raise ValueError(f"labels must be [K, n] with K = {len(packed)} masks, got shape {labels.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("labels must be binary (0 or 1): the bounds assume i.i.d. uniform binary labels")
    check_label_rows(labels)
    k, n = labels.shape
    zero = exact_zero(packed, np.arange(k))
    if zero is not None:
        return LabelInformation(zero, zero, zero, None, {}, alpha)
    upper = upper_bound(packed, p_bits, np.arange(k), h_s=float(n), alpha=alpha / 2)
    if k < 8:
        detector = label_detector(packed, p_bits, labels, n_permutations, seed) if n_permutations else None
        note = f"the held-out lower bound needs at least 8 draws, got {k}"
        lower = Estimate(0.0, "lower_bound", 1.0, k, k, {"decoder": "none", "note": note})
        return LabelInformation(lower, upper, None, detector, {}, alpha)
    order = np.random.default_rng(seed).permutation(k)
    y = labels[order].astype(np.float64)
    rows = packed[order]
    edges = prequential_edges(k)
    sweep = _one_pass(rows, p_bits, 2.0 * y - 1.0, edges, budget_bytes, detector=n_permutations > 0)
    detector = None
    if sweep.detector_gram is not None:  # the same pass gave the detector's Gram, in draw order
        back = np.argsort(order)
        gram = sweep.detector_gram[np.ix_(back, back)]
        detector = label_detector(packed, p_bits, labels, n_permutations, seed, bits_gram=gram)
    screened_bits = _columns(rows, sweep.screened)  # [K, stages, n, s]
    candidate_bits = _columns(rows, sweep.candidates)  # [K, M]
    fixed = {name: np.asarray(g)[order].astype(bool) for name, g in (guesses or {}).items()}
    for name, g in fixed.items():
        if g.shape != labels.shape:
            raise ValueError(f"guesses {name!r} must have the labels' shape {labels.shape}, got {g.shape}")
    names = ["bit", "screened", "pairs", "centroid", "ridge", *fixed]  # simplest first: it wins ties
    wrong = {name: np.zeros((k, n)) for name in names}
    chosen = np.zeros((k, n))
    tally = {name: np.zeros(n) for name in names}  # errors on the blocks guessed so far
    for b in range(len(edges) - 2):
        train, test = np.arange(edges[b + 1]), np.arange(edges[b + 1], edges[b + 2])
        truth = y[test] > 0.5
        bits_b = screened_bits[:, b]  # [K, n, s]
        guess = {
            "screened": _screened(bits_b, y, train, test),
            "bit": _cell_majority(bits_b[train, :, 0], y[train], bits_b[test, :, 0]),
            "pairs": _pairs(candidate_bits, y, train, test),
            "centroid": _centroid(sweep.gram, y, train, test),
            "ridge": _ridge(sweep.gram, y, train, test),
            **{name: g[test] for name, g in fixed.items()},
        }
        errors = {name: (g != truth).astype(np.float64) for name, g in guess.items()}
        leader = _leaders(np.stack([tally[name] for name in names]))
        chosen[test] = np.stack([errors[name] for name in names])[leader, :, np.arange(n)].T
        for name in names:
            wrong[name][test] = errors[name]
            tally[name] += errors[name].sum(axis=0)
    counted = np.arange(edges[2], k)
    level = alpha / 2
    decoders = {}
    for name in names:
        result = _prequential_bound(wrong[name], counted, n, level)
        details = {**result, "decoder": name, "method": "prequential per-label Fano, empirical Bernstein"}
        decoders[name] = Estimate(result["bound"], "lower_bound", 1.0 - level, k, k, details)
    result = _prequential_bound(chosen, counted, n, level)
    picked = {name: int((leader == i).sum()) for i, name in enumerate(names)}
    details = {
        **result,
        "decoder": "selected",
        "method": "prequential per-label Fano, empirical Bernstein (Waudby-Smith & Ramdas 2023)",
        "labels_per_decoder_last_block": picked,
        "assumes": "i.i.d. uniform binary label vectors, one mask per draw",
    }
    lower = Estimate(result["bound"], "lower_bound", 1.0 - level, k, k, details)
    return LabelInformation(lower, upper, None, detector, decoders, alpha)


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
