"""The information bounds at the largest scale the suite promises: 256 masks of 1e7 bits.

pytest-benchmark times ``infotheory.label_information`` (bounds only, no detector) on carrier
masks with n = 100 labels (one round: it takes a minute on 2 cores). The baseline, timed in the
same run, is one pass that only unpacks the bits to float32 and multiplies them by the labels
(the least any decoder that reads every bit must do); the ratio of the two goes to
``extra_info`` and is printed. Run with

    .venv/bin/python -m pytest benchmarks/test_information_speed.py --benchmark-only -s
"""

from __future__ import annotations

import time

import numpy as np

from infotheory import label_information, synthetic
from infotheory.labels import unpacked


def test_bounds_for_256_masks_of_ten_million_bits(benchmark):
    rng = np.random.default_rng(0)
    data = synthetic.labels_case("carrier", rng, 256, 100, 10_000_000, q=0.1)
    start = time.perf_counter()
    signs = 2.0 * data.labels.astype(np.float32) - 1.0
    for s in range(0, data.p, 1 << 16):
        signs.T @ unpacked(data.packed, data.p, s, s + (1 << 16))
    baseline = time.perf_counter() - start
    result = benchmark.pedantic(
        label_information, args=(data.packed, data.p, data.labels), kwargs={"n_permutations": 0}, rounds=1
    )
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        {"seconds": seconds, "baseline_seconds": baseline, "ratio_to_one_pass": seconds / baseline}
    )
    ratio = seconds / baseline
    print(f"\n256 masks x 1e7 bits: {seconds:.1f} s, one read-and-multiply pass {baseline:.1f} s")
    print(f"ratio {ratio:.1f}x; lower bound {result.lower.value:.1f} of {data.truth:.1f} bits")
    assert result.lower.value <= data.truth


def test_bounds_for_4096_snip_masks_of_a_digits_mlp(benchmark):
    """The promise of ``noprune mi``: 4096 SNIP masks (MLP 64-32-32-2, 3,136 weights, density 0.1,
    n = 1000 digits, one fixed init, i.i.d. uniform labels) bounded, every model fitted, in under
    2 minutes on 2 cores. Baseline in the same run: the caps alone (H(S), log2 C(p, k) and the
    Clopper-Pearson sum of bit entropies, one pass over the bits)."""
    import copy

    import torch

    import pruners
    from infotheory import pack, upper_bound
    from noprune.data import load_dataset
    from noprune.models import build_model

    x = load_dataset("digits", seed=0).x_train[:1000]
    init = build_model("mlp:32,32", (1, 8, 8), 2, seed=0)
    labels = np.random.default_rng(2026).integers(0, 2, size=(4096, 1000))
    snip = pruners.get("snip")
    rows = []
    for y in labels:
        masks = snip.prune(copy.deepcopy(init), 0.1, batch=(x, torch.as_tensor(y)), seed=0)
        rows.append(torch.cat([m.reshape(-1) for m in masks.values()]).numpy())
    packed, p = pack(np.stack(rows)), len(rows[0])
    start = time.perf_counter()
    upper_bound(packed, p, np.arange(len(packed)), h_s=1000.0)
    baseline = time.perf_counter() - start
    result = benchmark.pedantic(
        label_information, args=(packed, p, labels), kwargs={"n_permutations": 0}, rounds=1
    )
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update({"seconds": seconds, "baseline_seconds": baseline})
    ratio = seconds / baseline
    print(f"\n4096 SNIP masks x {p} bits: {seconds:.1f} s (caps alone {baseline:.2f} s, {ratio:.0f}x)")
    print(f"I in [{result.lower.value:.2f}, {result.upper.value:.2f}] bits")
    assert seconds < 120 and result.lower.value >= 10 and result.upper.value <= 300
