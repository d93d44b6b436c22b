"""infotheory: estimators of I(mask; data) over bit-packed masks (numpy and scipy only, no torch).

Packed masks are [num_masks, ceil(p / 8)] uint8 rows; each estimator also takes what the data
variable S was for each mask (a label vector, or a draw id). Every estimator returns an
:class:`Estimate` saying what kind of number it is (exact, lower_bound, upper_bound, detector,
point), at what confidence, and from how many masks and draws. Lower bounds count errors only
on draws that no decoder was fitted on, and bound their mean with inequalities for bounded
variables (:mod:`infotheory.confidence`).
"""

from infotheory.bits import hamming, pack, popcount, unpack
from infotheory.bounds import clopper_pearson, fano_bound, log2_binomial, upper_bound
from infotheory.confidence import bernstein_upper, chernoff_upper
from infotheory.detect import permutation_null
from infotheory.draws import DrawInformation, check_replicates, draw_information
from infotheory.entropy import (
    exact_zero,
    h2,
    mask_histogram_information,
    miller_madow_entropy,
    plugin_entropy,
    replicate_spread,
)
from infotheory.estimate import Estimate, bit_counts, bootstrap_draws
from infotheory.labels import (
    LabelInformation,
    check_label_rows,
    check_mask_order,
    label_detector,
    label_information,
)
from infotheory.peff import EffectiveParameters, bits_per_weight, effective_parameters

__all__ = [
    "DrawInformation",
    "EffectiveParameters",
    "Estimate",
    "LabelInformation",
    "bernstein_upper",
    "bit_counts",
    "bits_per_weight",
    "bootstrap_draws",
    "check_label_rows",
    "check_mask_order",
    "check_replicates",
    "chernoff_upper",
    "clopper_pearson",
    "draw_information",
    "effective_parameters",
    "exact_zero",
    "fano_bound",
    "h2",
    "hamming",
    "label_detector",
    "label_information",
    "log2_binomial",
    "mask_histogram_information",
    "miller_madow_entropy",
    "pack",
    "permutation_null",
    "plugin_entropy",
    "popcount",
    "replicate_spread",
    "unpack",
    "upper_bound",
]
