"""Fixtures of the speed benchmarks: the device (each case measures the matmul peak beside itself).

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
