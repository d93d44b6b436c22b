"""The ensemble engine against a one-model-at-a-time loop of the same work (noprune.ensemble.bench).

pytest-benchmark times the ensemble side (3 rounds, each on a fresh copy of the members);
the loop side is timed in the same test, on m members and scaled to K. Speedup, achieved
GFLOP/s and fraction of the matmul peak go to ``extra_info`` and are printed; nothing is
asserted about speed, which depends on the machine. Run with

    .venv/bin/python -m pytest benchmarks/ --benchmark-only -s
"""

from __future__ import annotations

import time

import pytest
import torch

from noprune.ensemble import bench


def measure(benchmark, w: bench.Workload, device: torch.device, peak: float) -> dict:
    w.warm()
    seconds: list[float] = []

    def ensemble(*args) -> None:
        bench.sync(device)
        start = time.perf_counter()
        w.ensemble(*args)
        bench.sync(device)
        seconds.append(time.perf_counter() - start)

    benchmark.pedantic(ensemble, setup=lambda: (w.setup(), {}), rounds=3, iterations=1)
    loop_seconds, measured = bench.time_loop(w, device)
    ensemble_seconds = sorted(seconds)[len(seconds) // 2]
    row = bench.row(w, ensemble_seconds, loop_seconds, peak, device, measured)
    benchmark.extra_info.update(
        {
            "K": w.k,
            "ensemble_seconds": ensemble_seconds,
            "loop_seconds": loop_seconds,
            "loop_members": w.loop_members,
            "speedup": row["speedup"],
            "gflops": row["gflops"],
            "peak_gflops": peak,
            "fraction_of_peak": row["fraction_of_peak"],
            "loop_gflops": row["loop_gflops"],
            "speedup_ceiling": row["speedup_ceiling"],
            "note": row["note"],
        }
    )
    print()
    print(bench.format_table([row]))
    return row


def test_e1_shape(benchmark, device, peak):
    """(a) K = 250 MLPs 30-100-100-2, n = 30 Gaussian points each, full batch, 200 steps."""
    measure(benchmark, bench.workload_a(device), device, peak)


def test_e4_shape(benchmark, device, peak):
    """(b) K = 32,000 copies of one 21-parameter 3-4-1 MLP, own +-1 labels, 200 steps."""
    measure(benchmark, bench.workload_b(device), device, peak)


def test_digits_mlp(benchmark, device, peak):
    """(c) K = 64 digits MLPs 64-300-100-10, minibatch 128, 2 epochs."""
    measure(benchmark, bench.workload_c(device), device, peak)


@pytest.mark.parametrize("name", bench.SCORERS)
def test_batched_scores(benchmark, device, peak, name):
    """(d) snip, grasp and synflow (100 rounds) masks of K = 32 digits MLPs."""
    (w,) = bench.workloads_d(device, names=[name])
    measure(benchmark, w, device, peak)
