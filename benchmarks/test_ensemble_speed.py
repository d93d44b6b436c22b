"""The ensemble engine against a one-model-at-a-time loop of the same work (noprune.ensemble.bench).

Each case runs through ``bench.measure``, the one definition ``noprune bench`` runs too: the
matmul peak right before the case, the ensemble side timed by ``torch.utils.benchmark.Timer``,
one pass of the loop side on m members scaled to K. pytest-benchmark records the case's wall
time; speedup, achieved GFLOP/s and fraction of the peak go to ``extra_info`` and are printed.
Nothing is asserted about speed, which depends on the machine. Run with

    .venv/bin/python -m pytest benchmarks/ --benchmark-only -s
"""

from __future__ import annotations

import pytest
import torch

from noprune.ensemble import bench


def measure(benchmark, w: bench.Workload, device: torch.device) -> dict:
    row = benchmark.pedantic(bench.measure, args=(w, device), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in row.items() if k not in ("title", "device")})
    print()
    print(bench.format_table([row]))
    return row


def test_e1_shape(benchmark, device):
    """(a) K = 250 MLPs 30-100-100-2, n = 30 Gaussian points each, full batch, 200 steps."""
    measure(benchmark, bench.workload_a(device), device)


def test_e4_shape(benchmark, device):
    """(b) K = 32,000 copies of one 21-parameter 3-4-1 MLP, own +-1 labels, 200 steps."""
    measure(benchmark, bench.workload_b(device), device)


def test_digits_mlp(benchmark, device):
    """(c) K = 64 digits MLPs 64-300-100-10, minibatch 128, 2 epochs."""
    measure(benchmark, bench.workload_c(device), device)


@pytest.mark.parametrize("name", bench.SCORERS)
def test_batched_scores(benchmark, device, name):
    """(d) snip, grasp and synflow (100 rounds) masks of K = 32 digits MLPs."""
    (w,) = bench.workloads_d(device, names=[name])
    measure(benchmark, w, device)
