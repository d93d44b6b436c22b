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
