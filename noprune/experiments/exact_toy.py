"""The ``exact_toy_information`` experiment (docs/SCIENCE.md E4, paper Fig. 4): how many bits about
the data a mask of the 21-parameter toy network carries, I(m; D | init), computed exactly.

The paper fixes the init, draws the data D (6 of the 8 vertices of {+-1}^3 with labels +-1
independent of x) 32,000 times, prunes for each draw, and takes the plug-in entropy of the mask
histogram: for a pruner that is deterministic given (init, D), I(m; D | init) = H(m | init)
(docs/SCIENCE.md section 1).

D takes only M = C(8, 6) * 2^6 = 1792 values, and ``toy`` draws each with probability 1 / M
(``noprune.data.synthetic.toy_datasets``). Every pruner here is deterministic given (init, D),
and with full-batch training the order of the points does not matter (up to float rounding in
the summed loss; we use one canonical order, points by vertex index). So each distinct data set
is trained and pruned once, as one member of an ensemble that shares the single init:

- ``information_exact`` = H(m) with D uniform over the M data sets: the exact I(m; D | init),
  no sampling at all;
- ``information_plugin`` (and ``information_miller_madow``): the paper's protocol. ``info.draws``
  data-set indices are drawn uniformly from a seeded generator and the plug-in entropy is taken
  over the histogram of their masks. The masks are the ones pruning those draws would give
  (looked up, not recomputed), so this is exactly what training ``draws`` networks gives, at
  M = 1792 trainings instead of 32,000 (about 18x cheaper).

"Up to float rounding" is measured: pruning 1000 draws of ``toy`` in their random point order
gives the mask of the canonical order for all of them with snip and grasp, for all but 1 with
magnitude_after (9 of 21 kept) and all but 5 with imp (5 kept), after 2000 steps: near-ties in
the trained magnitudes that the summation order decides. That noise (H(m | D) > 0 in the
sampled protocol) is an artefact of rounding, absent here.

What imp and magnitude_after train: ``config.train``'s optimizer for ``prune.pretrain_epochs``
epochs, one full-batch step each (as in the ``accuracy`` experiment, ``pipeline.make_pruner``).
Nothing is trained after pruning: only the mask matters here.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.data import load_dataset, synthetic
from noprune.data.base import make_generator
from noprune.ensemble import EnsembleData, StackedMLP
from noprune.errors import UserError
from noprune.experiments.shared import MLP_MODELS
from noprune.lazy import lazy
from noprune.models import build_model
from noprune.pipeline import check_config, prune_stacked
from noprune.specs import options_of, parse_kwargs, split_spec
from pruners.selection import keep_count

infotheory = lazy("infotheory")

NAME = "exact_toy_information"


def toy_options(spec: str) -> dict[str, Any]:
    """The options (n, d, classification) of a ``toy`` data spec; UserError for anything else."""
    name, rest = split_spec(spec)
    if name != "toy":
        raise UserError(f'{NAME} enumerates the toy data set (data = "toy" or "toy:n=..,d=.."), got {spec!r}')
    return parse_kwargs(rest, options_of(synthetic.toy, exclude=("seed",)), what="data set toy")


def check(config: ExperimentConfig, n_train: int) -> None:
    """What E4 needs beyond ``check_config``: an MLP, a batched pruner, full-batch training."""
    check_config(config)
    prune = config.prune
    if prune.ablation not in (None, "invert"):
        raise UserError(f"{NAME} takes no ablation but invert, got {prune.ablation!r}")
    if split_spec(config.model)[0] not in MLP_MODELS:
        raise UserError(f"{NAME} needs an MLP model (one of {', '.join(MLP_MODELS)}), got {config.model!r}")
    if 0 < config.train.batch_size < n_train:
        # With minibatches the order of the points would matter: the mask would not be a
        # function of the data set alone, and enumerating the sets would not be exact.
        raise UserError(
            f"{NAME} trains full batch (train.batch_size = 0 or >= {n_train}), got {config.train.batch_size}"
        )
    if config.info.draws < 1:
        raise UserError(f"info.draws must be >= 1, got {config.info.draws}")


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    """Exact and sampled I(m; D | init) of one pruner at one density over every toy data set."""
    del data_root  # the toy data are enumerated, not read
    start = time.perf_counter()
    options = toy_options(config.data)
    sample = load_dataset(config.data, seed=config.seed)  # one draw: n, input shape, outputs
    check(config, sample.n_train)
    prune = config.prune
    x, y = synthetic.toy_datasets(**options)
    m = len(x)
    init = build_model(
        config.model, sample.input_shape, sample.num_classes, seed=config.seed, init=config.init
    )
    model = StackedMLP.from_models([init] * m).to(device)  # one init shared by all members
    x, y = x.to(device), y.to(device)
    masks = prune_stacked(
        config,
        sample,
        model,
        prune.density,
        seeds=[config.seed] * m,
        batch=(x, y),  # snip and grasp score on the member's whole training set
        ensemble=EnsembleData(x, y),
    )
    bits = torch.cat([mask.reshape(m, -1) for mask in masks], dim=1).cpu().numpy()
    p = bits.shape[1]
    kept = keep_count(prune.density, p)
    if not (bits.sum(axis=1) == kept).all():
        raise RuntimeError(f"masks do not keep exactly {kept} of {p} weights")
    packed = infotheory.pack(bits)
    # The paper's protocol: draw D (an index into the M equally likely sets) info.draws times.
    generator = make_generator(config.seed, f"{NAME}/draws")
    drawn = packed[torch.randint(m, (config.info.draws,), generator=generator).numpy()]
    return {
        "information_exact": infotheory.plugin_entropy(packed),  # H(m) with D uniform over the M sets
        "information_plugin": infotheory.plugin_entropy(drawn),
        "information_miller_madow": float(infotheory.miller_madow_entropy(drawn)),
        "information_ceiling": min(math.log2(m), math.log2(math.comb(p, kept))),
        "distinct_masks": len(infotheory.entropy.symbol_counts(packed)),
        "data_sets": m,
        "data_entropy": math.log2(m),
        "draws": config.info.draws,
        "kept": kept,
        "pruned": p - kept,
        "params": p,
        "nnz": kept,
        "density": kept / p,
        "seconds": time.perf_counter() - start,
    }
