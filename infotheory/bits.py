"""Bit-packed masks: one bit per prunable weight, rows of uint8 (numpy's packbits order)."""

from __future__ import annotations

import numpy as np

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def pack(masks: np.ndarray) -> np.ndarray:
    """[num_masks, p] booleans -> [num_masks, ceil(p / 8)] uint8."""
    return np.packbits(np.asarray(masks, dtype=bool), axis=1)


def unpack(packed: np.ndarray, p: int) -> np.ndarray:
    """Inverse of :func:`pack` for masks of ``p`` bits."""
    return np.unpackbits(np.asarray(packed, dtype=np.uint8), axis=1, count=p).astype(bool)


def popcount(packed: np.ndarray) -> np.ndarray:
    """Number of kept weights in each packed mask (row)."""
    return _POPCOUNT[np.asarray(packed, dtype=np.uint8)].sum(axis=-1, dtype=np.int64)


def hamming(a: np.ndarray, b: np.ndarray, budget_bytes: int = 1 << 26) -> np.ndarray:
    """Hamming distances between every row of ``a`` and every row of ``b`` -> [len(a), len(b)].

    Works through the columns in chunks whose pairwise XOR fits in ``budget_bytes``, so 64
    masks of 1e7 bits need about 64 MB at once.
    """
    a = np.asarray(a, dtype=np.uint8)
    b = np.asarray(b, dtype=np.uint8)
    out = np.zeros((a.shape[0], b.shape[0]), dtype=np.int64)
    chunk_bytes = max(1, budget_bytes // max(1, a.shape[0] * b.shape[0]))
    for start in range(0, a.shape[1], chunk_bytes):
        xa = a[:, None, start : start + chunk_bytes]
        xb = b[None, :, start : start + chunk_bytes]
        out += _POPCOUNT[np.bitwise_xor(xa, xb)].sum(axis=-1, dtype=np.int64)
    return out
