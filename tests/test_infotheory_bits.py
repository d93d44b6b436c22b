"""Bit-packed mask utilities of infotheory, against naive computations."""

from __future__ import annotations

import numpy as np

import infotheory


def test_pack_unpack_popcount_and_hamming_against_naive():
    rng = np.random.default_rng(0)
    masks = rng.random((7, 1003)) < 0.3
    packed = infotheory.pack(masks)
    assert packed.shape == (7, 126) and packed.dtype == np.uint8
    assert (infotheory.unpack(packed, 1003) == masks).all()
    assert (infotheory.popcount(packed) == masks.sum(axis=1)).all()
    naive = (masks[:, None, :] != masks[None, :, :]).sum(axis=-1)
    assert (infotheory.hamming(packed, packed) == naive).all()
    assert (infotheory.hamming(packed, packed, budget_bytes=7 * 7 * 3) == naive).all()  # many chunks


def test_hamming_of_64_masks_of_ten_million_bits_fits_in_memory():
    rng = np.random.default_rng(1)
    packed = rng.integers(0, 256, size=(64, 10_000_000 // 8), dtype=np.uint8)
    d = infotheory.hamming(packed[:4], packed)
    assert d.shape == (4, 64) and (d[np.arange(4), np.arange(4)] == 0).all()
    assert abs(d[0, 5] - 5_000_000) < 20_000  # independent uniform bits differ half the time
