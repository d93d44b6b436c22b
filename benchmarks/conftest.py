"""Fixtures of the speed benchmarks: the device and the matmul peak, measured once a session.

The device is ``$NOPRUNE_BENCH_DEVICE`` (auto, cpu or cuda; default auto).
"""

from __future__ import annotations

import os

import pytest
import torch

from noprune.ensemble import bench


@pytest.fixture(scope="session")
def device() -> torch.device:
    return bench.resolve(os.environ.get("NOPRUNE_BENCH_DEVICE", "auto"))


@pytest.fixture(scope="session")
def peak(device: torch.device) -> float:
    """GFLOP/s of a 2048 x 2048 float32 matmul on ``device`` (median, after warm-up)."""
    return bench.peak_gflops(device)
