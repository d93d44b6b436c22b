"""The ensemble engine: K small masked MLPs trained and pruned as one batched tensor program.

The paper's experiments train thousands of tiny networks (250 seeds per point in E1, 32,000
data draws in E4); a Python loop over one model at a time spends its time in overhead. Here the
members' weights are stacked ([K, out, in]) and every step is a handful of batched matmuls.
Member k computes what the single-model path (``pruners`` + ``noprune.training``) computes for
it, within float tolerance (tests/test_ensemble.py).
"""

from noprune.ensemble.pruning import StackedNetwork, masked_copy, prune_ensemble
from noprune.ensemble.stacked import StackedMLP, member_masks, stacked_masks_of
from noprune.ensemble.train import (
    CHECK_EVERY,
    MEMORISED,
    EnsembleData,
    EnsembleResult,
    FitLog,
    StopRule,
    fit_ensemble,
    measure,
    memorisation_stop,
    train_ensemble,
)

__all__ = [
    "CHECK_EVERY",
    "MEMORISED",
    "EnsembleData",
    "EnsembleResult",
    "FitLog",
    "StackedMLP",
    "StackedNetwork",
    "StopRule",
    "fit_ensemble",
    "masked_copy",
    "measure",
    "member_masks",
    "memorisation_stop",
    "prune_ensemble",
    "stacked_masks_of",
    "train_ensemble",
]
