"""infotheory: estimators of I(mask; data) over bit-packed masks (numpy and scipy only, no torch).

Implements the estimators of SCIENCE.md §4 over packed masks ([num_masks, ceil(p / 8)] uint8)
and the draw ids / labels each mask came from. Every estimator returns an :class:`Estimate`
saying what kind of number it is (exact, lower_bound, upper_bound, detector, point), at what
confidence, and from how many masks and draws.
"""

from infotheory.bits import hamming, pack, popcount, unpack
from infotheory.bounds import (
    barber_agakov_lower_bound,
    clopper_pearson,
    fano_lower_bound,
    log2_binomial,
    per_label_fano_lower_bound,
    upper_bound,
)
from infotheory.decoders import group_folds, logistic_probe_cv, nearest_centroid_cv
from infotheory.detect import permutation_null
from infotheory.entropy import (
    exact_zero,
    h2,
    mask_histogram_information,
    miller_madow_entropy,
    plugin_entropy,
)
from infotheory.estimate import Estimate, bit_counts, bootstrap_draws
from infotheory.labels import LabelInformation, label_detector, label_information
from infotheory.peff import EffectiveParameters, bits_per_weight, effective_parameters

__all__ = [
    "EffectiveParameters",
    "Estimate",
    "LabelInformation",
    "barber_agakov_lower_bound",
    "bit_counts",
    "bits_per_weight",
    "bootstrap_draws",
    "clopper_pearson",
    "effective_parameters",
    "exact_zero",
    "fano_lower_bound",
    "group_folds",
    "h2",
    "hamming",
    "label_detector",
    "label_information",
    "log2_binomial",
    "logistic_probe_cv",
    "mask_histogram_information",
    "miller_madow_entropy",
    "nearest_centroid_cv",
    "pack",
    "per_label_fano_lower_bound",
    "permutation_null",
    "plugin_entropy",
    "popcount",
    "unpack",
    "upper_bound",
]
