"""Exact top-k selection against the stable sort it replaced, side by side in one run.

``pruners.selection.top_k_rows`` (a linear-time cut, ties filled by index) must give the
masks the stable sort gives, bit for bit, at a fraction of its time. Sizes: LeNet-300-100
(266,200 weights in its two hidden layers and output: the 271k of the issue's count with
biases) and VGG-16 (14.7M). Scores are float64 with ties (rounded to 3 decimals), a tenth of
the weights already pruned, density 0.1. Run with

    .venv/bin/python -m pytest benchmarks/test_selection_speed.py --benchmark-only -s
"""

from __future__ import annotations

import time

import pytest
import torch

from pruners.selection import top_k_rows


def stable_sort_top_k_rows(scores, alive, counts):
    """The selection before: one stable sort of the row, pruned entries last."""
    key = scores.masked_fill(~alive, float("-inf"))
    order = torch.sort(key, dim=1, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    ranks.scatter_(1, order, torch.arange(scores.shape[1]).expand_as(order))
    return ranks < counts[:, None]


@pytest.mark.parametrize("weights", [271_000, 14_700_000], ids=["lenet-300-100", "vgg16"])
def test_selection_against_the_stable_sort(benchmark, weights):
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(1, weights, generator=g, dtype=torch.float64).mul_(1000).round_().div_(1000)
    alive = torch.rand(1, weights, generator=g) > 0.1
    counts = torch.tensor([round(0.1 * weights)])
    start = time.perf_counter()
    reference = stable_sort_top_k_rows(scores, alive, counts)
    baseline = time.perf_counter() - start
    fast = benchmark.pedantic(top_k_rows, args=(scores, alive, counts), rounds=3, warmup_rounds=1)
    assert torch.equal(fast, reference)
    seconds = benchmark.stats.stats.mean
    benchmark.extra_info.update(
        {"seconds": seconds, "stable_sort_seconds": baseline, "speedup": baseline / seconds}
    )
    print(
        f"\n{weights:,} weights: stable sort {baseline:.3f} s, linear-time cut {seconds:.3f} s, "
        f"{baseline / seconds:.1f}x"
    )
