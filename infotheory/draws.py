"""I(mask; S) when S is uniform over D known draws and each draw was pruned R >= 2 times.

The design of ``noprune mi --draws``: the data variable S takes D values (label draws, data
shards), uniform, so H(S) = log2 D; each draw is pruned R times with independent pruner seeds
(replicates), so the masks of one draw are i.i.d. given the draw. Then

- exact zero: all masks identical -> I = 0 exactly;
- upper bound: min(H(S), log2 C(p, k), sum_j h2(p_j)) (:func:`infotheory.bounds.upper_bound`);
- lower bound: Fano's inequality, I(m; S) >= log2 D - h2(Pe) - Pe log2(D - 1) (Cover & Thomas
  2006, eq. 2.140), for the error Pe of a nearest-centroid decoder of the draw id. The decoder
  is fitted on every mask but the last of each draw and tested on that last mask only (a
  sample split): given the training masks, the D test errors are independent, the d-th with
  mean P(error | S = d), and :func:`infotheory.confidence.chernoff_upper` bounds their average,
  which is Pe under uniform S;
- detector: the per-bit plug-in information against permutations of the draw ids.

Replicates must be independent given the draw: identical copies of one mask, or one pruner
seed shared by the replicates of every draw, make the held-out decoder succeed by construction.
Replicates that are copies (identical masks in at least half of the draws) are refused; a shared
seed cannot be seen in the masks and is the caller's to avoid.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from infotheory.bits import hamming
from infotheory.bounds import fano_bound, upper_bound
from infotheory.confidence import chernoff_upper
from infotheory.detect import permutation_null
from infotheory.entropy import exact_zero
from infotheory.estimate import Estimate


@dataclass(frozen=True)
class DrawInformation:
    """Bounds on I(mask; S) from R replicates of each of D draws; ``lower`` and ``upper`` hold
    jointly with confidence 1 - alpha."""

    lower: Estimate | None
    upper: Estimate
    exact: Estimate | None
    detector: Estimate | None
    alpha: float = 0.05
    notes: list[str] = field(default_factory=list)


def check_replicates(packed: np.ndarray, draws: np.ndarray) -> None:
    """Refuse replicates that are copies: when at least half of the draws (and two or more) hold
    two identical masks. Independent prunings of small masks do coincide now and then (two
    64-bit masks at density 0.05 do with probability 0.0017), so a coincidence in a few draws is
    accepted as the sample it is; copies make every draw coincide."""
    ids = np.unique(draws)
    copied = []
    for d in ids:
        rows = packed[draws == d]
        digests = [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows]
        if len(set(digests)) < len(rows):  # rows are megabytes wide: compare digests, not sort rows
            copied.append(d)
    if len(copied) >= max(2, len(ids) / 2):
        raise ValueError(
            f"{len(copied)} of {len(ids)} draws hold identical masks: replicates of a draw must be prunings "
            "with independent pruner seeds, not copies (a pruner that is deterministic given the data "
            "needs one mask per draw)"
        )


def draw_information(
    packed: np.ndarray,
    p_bits: int,
    draws: np.ndarray,
    *,
    alpha: float = 0.05,
    n_permutations: int = 100,
    seed: int = 0,
) -> DrawInformation:
    """Bounds on I(m; S) for masks ``packed`` [M, ceil(p / 8)] with draw ids ``draws`` [M]
    (integers 0..D-1), S uniform over the D draws (see the module docstring)."""
    packed = np.asarray(packed, dtype=np.uint8)
    _, draws, per_draw = np.unique(np.asarray(draws), return_inverse=True, return_counts=True)
    draws = draws.ravel()
    m, nd = len(packed), len(per_draw)
    h_s = float(np.log2(nd))
    zero = exact_zero(packed, draws)
    if zero is not None:
        return DrawInformation(zero, zero, zero, None, alpha)
    check_replicates(packed, draws)
    upper = upper_bound(packed, p_bits, draws, h_s=h_s, alpha=alpha / 2)
    notes: list[str] = []
    lower = None
    if per_draw.min() < 2:
        notes.append(
            f"{int((per_draw < 2).sum())} of {nd} draws have a single mask, so there is no held-out "
            "replicate of every draw to decode: the lower bound is unavailable (prune each draw again "
            "with other pruner seeds)"
        )
    else:
        last = np.array([np.flatnonzero(draws == d)[-1] for d in range(nd)])
        train = np.setdiff1d(np.arange(m), last)
        # mean centroid: |x| + mean_c |m| - 2 x . mean_c m, i.e. the mean Hamming distance
        distance = hamming(packed[last], packed[train]).astype(np.float64)  # [D, train]
        member = np.zeros((len(train), nd))
        member[np.arange(len(train)), draws[train]] = 1.0
        mean_distance = distance @ member / member.sum(axis=0)
        wrong = mean_distance.argmin(axis=1) != np.arange(nd)
        rate = float(wrong.mean())
        rate_upper = chernoff_upper(rate, nd, alpha / 2)
        details = {
            "method": "Fano, sample split (last replicate of each draw held out), Chernoff-Hoeffding",
            "decoder": "centroid",
            "error_rate": rate,
            "error_rate_upper": rate_upper,
            "point": fano_bound(rate, nd),
            "test_masks": nd,
            "train_masks": len(train),
            "assumes": "S uniform over the draws; replicates independent given the draw",
        }
        lower = Estimate(fano_bound(rate_upper, nd), "lower_bound", 1.0 - alpha / 2, m, nd, details)
    detector = None
    if n_permutations and per_draw.max() >= 2:
        null = permutation_null(packed, p_bits, draws, n_permutations=n_permutations, seed=seed)
        note = f"{null.details['note']}; draw ids permuted across masks"
        detector = Estimate(null.value, "detector", None, m, nd, {**null.details, "note": note})
    elif n_permutations:
        notes.append("the detector needs a draw with 2 or more masks (one mask per draw tells nothing apart)")
    return DrawInformation(lower, upper, None, detector, alpha, notes)
