"""infotheory: estimators of I(mask; data) over bit-packed masks (numpy only, no torch).

This package grows into the estimators of SCIENCE.md §4; for now it holds the bit-packed mask
utilities that every estimator stands on.
"""

from infotheory.bits import hamming, pack, popcount, unpack

__all__ = ["hamming", "pack", "popcount", "unpack"]
