"""The ``exact_label_information`` experiment: I(mask; labels | init) computed exactly on real
networks, by pruning on every label vector, and the coverage of the information bounds on it.

The design is ``mask_information``'s (docs/SCIENCE.md E6 and section 4): the inputs x (the
first n = ``info.points`` training inputs of ``data``) and the init (from ``seed``) are fixed,
and the data variable S is the label vector y in {0, 1}^n, i.i.d. uniform, so H(S) = n bits.
For n <= :data:`MAX_LABEL_BITS` every one of the 2^n label vectors can be pruned on (label
vector s holds the n bits of the integer s, point i's label being bit i: y_i = (s >> i) & 1),
and I(M; S) needs no bound at all.

Truth table. The pruner may be random given the labels: it then runs under R =
``info.replicates`` pruner seeds, seed r = ``seed`` + r (r = 0 is the seed ``mask_information``
prunes with), the seed uniform over the R. Each of the 2^n x R prunings gives a mask m(s, r);
masks are told apart by a BLAKE2b hash of their packed bits (:class:`MaskIndex`, 128-bit
digests: a collision among the <= 2^20 masks here has probability below 2^-88). Then

    I(M; S) = H(M) - H(M | S),
    H(M) = -sum_m P(m) log2 P(m),          P(m) = #{(s, r): m(s, r) = m} / (2^n R),
    H(M | S) = 2^-n sum_s H(m(s, .)),      the entropy of label vector s's R masks

(Cover & Thomas 2006, eq. 2.43 and 2.10). Both terms are exact, not estimates: S is uniform
over the 2^n vectors and the seed uniform over the R seeds by construction, so the counts give
the probabilities exactly; only the floating-point sum of p log2 p rounds. A pruner that is
deterministic given (init, x, y) has H(M | S) = 0 (measured, not assumed, when R >= 2) and
I = H(M); a label-blind one (random, magnitude, ...) has m(s, r) independent of s, so
H(M) = H(M | S) and I = 0 exactly. I <= min(n, H(M)).

The scoring batch. ``mask_information`` scores on all n points, its batch the same for every
pruner seed, so there the seed could only matter through the pruner's own randomness. Here the
batch may depend on the seed: with 2 ``prune.batch_per_class`` < n (the size of noprune's
class-balanced scoring batch of two classes, ``pipeline.scoring_batch``) the pruner seed r draws
k = 2 ``prune.batch_per_class`` of the n points uniformly without replacement
(:func:`scoring_points`), and the pruner sees only those k points and their labels; otherwise
(the default, 10 per class, for every n <= 16) it sees all n points, as in
``mask_information``. The subset is drawn from the seed alone, not class-balanced: balancing
would choose the points by their labels. Drawn so, the mask is a function of (r, y restricted
to the subset), so each seed needs only 2^k prunings, looked up for the 2^n label vectors, and
snip on a random half (k = n / 2) is a pruner random given the labels: H(M | S) > 0 and
0 < I < n. The subset goes to the pruning functions of ``mask_information``
(:func:`~noprune.experiments.label_design.prune_as_ensemble` for MLPs, 2^k label vectors
per seed in chunks of :data:`CHUNK` ensemble members;
:func:`~noprune.experiments.label_design.prune_one_by_one` for other models, the CNN) as the
design's inputs, x[subset], with label vectors over the subset; nothing else changes.

Coverage. Each of ``info.repetitions`` repetitions draws F + T label vectors i.i.d. uniformly
(with replacement) from the 2^n, each with a pruner seed drawn uniformly from the R, looks
their masks up in the table (nothing is pruned again), and bounds I from them with
``infotheory.label_information`` (the first F = ``info.fit_draws`` of the ``info.draws`` draws,
by default half, fit the decoders; the T others are the test draws) at confidence
1 - ``info.alpha``. Repeated label vectors are expected at small n (2^n draws of n bits) and are
legitimate here: they are independent draws that happened to coincide. Per case: the truth,
the mean lower and upper bound, coverage (the fraction of repetitions with lower <= truth <=
upper; the bounds promise >= 1 - alpha), the fraction with a positive lower bound, and the
seconds per repetition. ``info.repetitions`` = 0 computes the truth table only.

Measured (digits, seed 0, snip, CPU): on mlp:32,32 (3,136 weights) at n = 16, 65,533 distinct
masks of 65,536 at density 0.02 (truth 15.9999 bits), 52,963 at 0.005 (15.26 bits), 3,033 at
0.001 (3 weights kept: 8.16 bits); on a seed-drawn half (k = 8 of 16 points, R = 4) every mask
is distinct, so H(M) = log2(4 x 2^8) = 10, H(M | S) = 2 and I = k = 8 bits exactly; the CNN at
n = 10 and 0.02 gives 1,024 distinct masks, 10 bits. Pruning the same label vector alone or in
chunks of other sizes gave the same masks (no rounding that depends on the ensemble), so the
table is a function of (s, r).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from noprune.config import ExperimentConfig
from noprune.data.base import make_generator
from noprune.errors import UserError
from noprune.experiments.label_design import Design, batched, design, prune_as_ensemble, prune_one_by_one
from noprune.lazy import lazy
from noprune.pipeline import check_config

infotheory = lazy("infotheory")

NAME = "exact_label_information"

MAX_LABEL_BITS = 16
"""The largest n enumerated: the 2^16 snip prunings of mlp:32,32 took 9 to 58 s on two shared
cores (CPU), the CNN cnn:8,16,32's 2^10, one network at a time, 36 s."""

CHUNK = 1024
"""Label vectors pruned as one ensemble (MLPs)."""

DIGEST_BYTES = 16
"""BLAKE2b digest size of a mask's hash (128 bits)."""


def check(config: ExperimentConfig) -> None:
    check_config(config)
    n, info = config.info.points, config.info
    if not 1 <= n <= MAX_LABEL_BITS:
        raise UserError(
            f"{NAME} enumerates the 2^n label vectors: info.points must be in 1..{MAX_LABEL_BITS}, got {n}"
        )
    if config.prune.ablation not in (None, "invert"):
        raise UserError(f"{NAME} supports the ablation invert only, not {config.prune.ablation!r}")
    if info.replicates < 1 or info.repetitions < 0 or config.prune.batch_per_class < 1:
        raise UserError(
            f"{NAME} needs info.replicates >= 1, info.repetitions >= 0 and prune.batch_per_class >= 1"
        )
    if info.repetitions and not 1 <= fit_draws(config) < info.draws:
        raise UserError(f"{NAME} needs 1 <= info.fit_draws < info.draws for the coverage")


def fit_draws(config: ExperimentConfig) -> int:
    """F, the first of the ``info.draws`` draws, on which the decoders fit: ``info.fit_draws``, or
    ``infotheory.labels.default_fit`` when 0 (as in ``mask_information``)."""
    return config.info.fit_draws or infotheory.labels.default_fit(config.info.draws)


def label_vectors(n: int) -> np.ndarray:
    """All 2^n label vectors [2^n, n] uint8, row s holding the bits of s: y_i = (s >> i) & 1."""
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(np.uint8)


def subset_index(n: int, points: np.ndarray) -> np.ndarray:
    """For every label vector s of n bits, the index of its restriction to ``points`` (sorted
    point indices) among the label vectors of len(points) bits: sum_j y_{points[j]} 2^j."""
    s = np.arange(2**n)
    return sum(((s >> int(i)) & 1) << j for j, i in enumerate(points)) if len(points) else np.zeros_like(s)


def scoring_points(config: ExperimentConfig, r: int) -> np.ndarray:
    """The points pruner seed ``seed + r`` scores on, sorted: all n when 2 ``batch_per_class``
    >= n, else 2 ``batch_per_class`` of them drawn uniformly without replacement from that seed
    alone (never from the labels)."""
    n, k = config.info.points, 2 * config.prune.batch_per_class
    if k >= n:
        return np.arange(n)
    generator = make_generator(config.seed + r, f"{NAME}/scoring_points")
    return np.sort(torch.randperm(n, generator=generator)[:k].numpy())


class MaskIndex:
    """Distinct masks by the BLAKE2b hash of their packed bits: :meth:`add` gives each mask the
    index of its class, in order of first sight, and keeps one packed copy per class."""

    def __init__(self) -> None:
        self.ids: dict[bytes, int] = {}
        self.rows: list[np.ndarray] = []

    def add(self, packed: np.ndarray) -> np.ndarray:
        """The ids [K] of packed masks [K, bytes]."""
        out = np.empty(len(packed), dtype=np.int64)
        for i, row in enumerate(np.ascontiguousarray(packed)):
            digest = hashlib.blake2b(row.tobytes(), digest_size=DIGEST_BYTES).digest()
            found = self.ids.get(digest)
            if found is None:
                found = self.ids[digest] = len(self.rows)
                self.rows.append(row.copy())
            out[i] = found
        return out

    def packed(self, width: int) -> np.ndarray:
        """The distinct masks [D, width] packed, row d the mask of id d."""
        return np.stack(self.rows) if self.rows else np.zeros((0, width), dtype=np.uint8)


def exact_information(ids: np.ndarray) -> dict[str, float]:
    """I(M; S) = H(M) - H(M | S) of a truth table ``ids`` [S values, R seeds] of mask ids, S
    uniform over the rows and the seed uniform over the columns (module docstring): H(M) from the
    histogram of all entries, H(M | S) the mean over rows of the entropy of a row's entries."""
    ids = np.asarray(ids)
    if ids.ndim != 2 or ids.size == 0:
        raise ValueError(
            f"the truth table must be [label vectors, seeds] and not empty, got shape {ids.shape}"
        )
    h_m = infotheory.plugin_entropy(ids.ravel())  # the table's histogram is the exact law of M
    h_given = float(np.mean([infotheory.plugin_entropy(row) for row in ids])) if ids.shape[1] > 1 else 0.0
    return {"entropy_masks": h_m, "entropy_given_labels": h_given, "information": max(h_m - h_given, 0.0)}


@dataclass
class TruthTable:
    """The masks of every (label vector, pruner seed): ``ids`` [2^n, R] into ``masks`` [D, bytes]
    packed, of ``p`` bits each; ``points`` the scoring points of each seed."""

    ids: np.ndarray
    masks: np.ndarray
    p: int
    points: list[np.ndarray]
    seconds: float

    @property
    def n(self) -> int:
        return int(self.ids.shape[0]).bit_length() - 1

    def metrics(self) -> dict[str, Any]:
        exact = exact_information(self.ids)
        counts = np.bincount(self.ids.ravel(), minlength=len(self.masks))
        nnz = infotheory.popcount(self.masks)
        mean_nnz = float((counts * nnz).sum() / counts.sum())
        return {
            "truth": exact["information"],
            "entropy_masks": exact["entropy_masks"],
            "entropy_given_labels": exact["entropy_given_labels"],
            "label_bits": self.n,
            "label_vectors": int(self.ids.shape[0]),
            "replicates": int(self.ids.shape[1]),
            "scoring_points": len(self.points[0]),
            "distinct_masks": len(self.masks),
            "params": self.p,
            "nnz": mean_nnz,
            "nnz_min": int(nnz.min()),
            "nnz_max": int(nnz.max()),
            "density": mean_nnz / self.p,
            "table_seconds": self.seconds,
        }


def prune_all(
    config: ExperimentConfig, plan: Design, draws: Iterable[int], device: torch.device
) -> np.ndarray:
    """The masks [len(draws), p] bool of ``plan``'s label vectors ``draws`` at the config's
    density, through the pruning of ``mask_information``."""
    prune = prune_as_ensemble if batched(config) else prune_one_by_one
    return prune(config, plan, [config.prune.density], list(draws), device).bits[0]


def truth_table(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> TruthTable:
    """Prune on every label vector under every pruner seed (module docstring)."""
    check(config)
    start = time.perf_counter()
    n = config.info.points
    base = design(config, data_root)  # the first n inputs and the init of the config's seed
    index, columns, subsets, p = MaskIndex(), [], [], 0
    for r in range(config.info.replicates):
        points = scoring_points(config, r)
        k = len(points)
        vectors = torch.from_numpy(label_vectors(k).astype(np.int64))
        data = dataclasses.replace(base.data, x_train=base.x[points], y_train=vectors[0])
        plan = Design(data, vectors, base.init)
        seeded = dataclasses.replace(config, seed=config.seed + r)  # the pruner seed; the init is plan's
        ids = np.empty(2**k, dtype=np.int64)
        for first in range(0, 2**k, CHUNK):
            draws = range(first, min(first + CHUNK, 2**k))
            bits = prune_all(seeded, plan, draws, device)
            p = bits.shape[1]
            ids[first : first + len(draws)] = index.add(infotheory.pack(bits))
        columns.append(ids[subset_index(n, points)])
        subsets.append(points)
    ids = np.stack(columns, axis=1)
    return TruthTable(ids, index.packed((p + 7) // 8), p, subsets, time.perf_counter() - start)


def coverage(config: ExperimentConfig, table: TruthTable) -> dict[str, Any]:
    """The bounds of ``infotheory.label_information`` on ``info.repetitions`` fresh sets of
    F + T draws looked up in ``table``, against its truth (module docstring)."""
    reps, alpha = config.info.repetitions, config.info.alpha
    f = fit_draws(config)
    t = config.info.draws - f
    truth = exact_information(table.ids)["information"]
    vectors = label_vectors(table.n)
    seed = int(torch.randint(2**62, (1,), generator=make_generator(config.seed, f"{NAME}/coverage")).item())
    lower, upper, exact = np.zeros(reps), np.zeros(reps), np.zeros(reps, dtype=bool)
    start = time.perf_counter()
    for rep in range(reps):
        rng = np.random.default_rng([seed, rep])
        s = rng.integers(len(vectors), size=f + t)
        r = rng.integers(table.ids.shape[1], size=f + t)
        result = infotheory.label_information(
            table.masks[table.ids[s, r]],
            table.p,
            vectors[s],
            fit=f,
            alpha=alpha,
            seed=rep,
            n_permutations=0,
        )
        lower[rep], upper[rep], exact[rep] = result.lower.value, result.upper.value, result.exact is not None
    seconds = time.perf_counter() - start
    return {
        "repetitions": reps,
        "fit_draws": f,
        "test_draws": t,
        "alpha": alpha,
        "lower_mean": float(lower.mean()),
        "lower_min": float(lower.min()),
        "upper_mean": float(upper.mean()),
        "lower_share": float(lower.mean() / truth) if truth > 0 else None,
        "coverage": float(((lower <= truth + 1e-9) & (truth <= upper + 1e-9)).mean()),
        "lower_positive": float((lower > 0).mean()),
        "exact_zero_share": float(exact.mean()),
        "seconds": seconds / reps,
        "coverage_seconds": seconds,
    }


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    """The truth table's exact I(M; S) and, for ``info.repetitions`` > 0, the bounds' coverage."""
    table = truth_table(config, device=device, data_root=data_root)
    out = table.metrics()
    out["information_ceiling"] = min(float(table.n), math.log2(max(len(table.masks), 1)))
    if config.info.repetitions:
        out.update(coverage(config, table))
    return out
