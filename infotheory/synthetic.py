"""Synthetic masks whose information about the data is known exactly, for calibrating the bounds.

Labels designs (one mask per draw of n i.i.d. uniform labels, H(S) = n):

- ``identical``: one fixed mask for every draw (a data-blind pruner): I = 0 exactly;
- ``iid``: i.i.d. Bernoulli(density) bits, independent of the labels: I = 0;
- ``random_pruner``: exactly round(density p) bits kept, a fresh uniform subset per draw from a
  seed independent of the labels (the random pruner with a new seed each time): I = 0;
- ``carrier``: the n labels copied into the first n bits, each flipped with probability q, the
  other bits i.i.d. noise: I = n (1 - h2(q)) (independent binary symmetric channels);
- ``xor``: as ``carrier`` but label i is the parity of bits i and n + i (bit n + i a fair coin):
  each bit alone is independent of every label, the pair carries it, I = n (1 - h2(q));
- ``reused``: ``identical``-style data-blind masks with each label vector used for 4 masks in a
  row (a misuse the estimator must refuse).

Draws design (S uniform over D = 2^b draws, R replicates per draw):

- ``draws_null``: replicates i.i.d. noise independent of the draw: I = 0;
- ``draws_carrier``: the b bits of the draw id copied into the mask, each replicate flipping
  each with probability q, the rest noise: I = b (1 - h2(q));
- ``draws_copies``: R identical copies of a data-blind mask per draw (a misuse to refuse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infotheory.entropy import h2

LABEL_CASES = ("identical", "iid", "random_pruner", "carrier", "xor", "reused")
DRAW_CASES = ("draws_null", "draws_carrier", "draws_copies")


@dataclass(frozen=True)
class Synthetic:
    """Packed masks, what S was for each (``labels`` [K, n] or ``draws`` [M]), the true I(m; S)."""

    packed: np.ndarray
    p: int
    truth: float
    labels: np.ndarray | None = None
    draws: np.ndarray | None = None


def noise_rows(rng: np.random.Generator, rows: int, p: int, density: float) -> np.ndarray:
    """[rows, p] i.i.d. Bernoulli(density) bits, generated as geometric gaps between ones (so 1e7
    bits cost about density x 1e7 draws, not 1e7), returned unpacked as bool."""
    out = np.zeros((rows, p), dtype=bool)
    if density <= 0:
        return out
    expected = density * p
    for r in range(rows):
        gaps = rng.geometric(density, size=int(expected + 6 * np.sqrt(expected) + 16))
        positions = np.cumsum(gaps) - 1
        while positions[-1] < p:  # rare: extend until past the end
            more = np.cumsum(rng.geometric(density, size=len(gaps))) + positions[-1]
            positions = np.concatenate([positions, more])
        out[r, positions[positions < p]] = True
    return out


def labels_case(
    case: str, rng: np.random.Generator, k: int, n: int, p: int, q: float = 0.0, density: float = 0.05
) -> Synthetic:
    """K masks of p bits and K label vectors of n bits for one labels-design ``case``."""
    labels = rng.integers(0, 2, size=(k, n))
    if case == "identical":
        masks = np.repeat(noise_rows(rng, 1, p, density), k, axis=0)
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, labels=labels)
    if case == "reused":
        labels = np.repeat(labels[: (k + 3) // 4], 4, axis=0)[:k]
        masks = np.repeat(noise_rows(rng, (k + 3) // 4, p, density), 4, axis=0)[:k]
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, labels=labels)
    if case == "random_pruner":
        keep = round(density * p)
        masks = np.zeros((k, p), dtype=bool)
        for r in range(k):
            masks[r, rng.choice(p, size=keep, replace=False)] = True
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, labels=labels)
    masks = noise_rows(rng, k, p, density)
    if case == "iid":
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, labels=labels)
    flips = rng.random((k, n)) < q
    truth = n * (1.0 - float(h2(q)))
    if case == "carrier":
        if n > p:
            raise ValueError(f"a carrier of n = {n} labels needs p >= n bits, got p = {p}")
        masks[:, :n] = (labels == 1) ^ flips
    elif case == "xor":
        if 2 * n > p:
            raise ValueError(f"an xor carrier of n = {n} labels needs p >= 2n bits, got p = {p}")
        masks[:, n : 2 * n] = rng.random((k, n)) < 0.5
        masks[:, :n] = (labels == 1) ^ flips ^ masks[:, n : 2 * n]
    else:
        raise ValueError(f"unknown labels case {case!r}; cases: {', '.join(LABEL_CASES)}")
    return Synthetic(np.packbits(masks, axis=1), p, truth, labels=labels)


def draws_case(
    case: str,
    rng: np.random.Generator,
    n_draws: int,
    replicates: int,
    p: int,
    q: float = 0.0,
    density: float = 0.05,
) -> Synthetic:
    """``replicates`` masks for each of ``n_draws`` (a power of 2) draws for one draws-design case."""
    bits = int(np.log2(n_draws))
    if 2**bits != n_draws or bits < 1:
        raise ValueError(f"the draws cases take a power of 2 draws, got {n_draws}")
    draws = np.repeat(np.arange(n_draws), replicates)
    if case == "draws_copies":
        masks = np.repeat(noise_rows(rng, n_draws, p, density), replicates, axis=0)
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, draws=draws)
    masks = noise_rows(rng, len(draws), p, density)
    if case == "draws_null":
        return Synthetic(np.packbits(masks, axis=1), p, 0.0, draws=draws)
    if case != "draws_carrier":
        raise ValueError(f"unknown draws case {case!r}; cases: {', '.join(DRAW_CASES)}")
    code = (draws[:, None] >> np.arange(bits)[None, :]) & 1
    masks[:, :bits] = code.astype(bool) ^ (rng.random((len(draws), bits)) < q)
    return Synthetic(np.packbits(masks, axis=1), p, bits * (1.0 - float(h2(q))), draws=draws)
