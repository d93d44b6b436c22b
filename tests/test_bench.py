"""The arithmetic of `noprune bench`'s rows: speedup, fraction of the peak and the ceiling that
the peak puts on any speedup of the same matmul work."""

from __future__ import annotations

import pytest

from noprune.ensemble import bench
from tests.conftest import has_row


def workload(case: str, flops: float | None) -> bench.Workload:
    def nothing(*_: object) -> None:
        return None

    return bench.Workload(
        case=case,
        title="t",
        k=8,
        loop_members=2,
        flops=flops,
        detail="d",
        setup=tuple,
        ensemble=nothing,
        member_setup=lambda i: (),
        member=nothing,
        warm=nothing,
    )


def test_row_sets_speed_against_the_peak_and_the_ceiling() -> None:
    # 60 GFLOP of matmuls: the ensemble takes 0.5 s (120 GFLOP/s), the loop 2 s (30 GFLOP/s),
    # the peak is 150 GFLOP/s: 4x measured, 80% of the peak, at most 5x at 100% of it.
    r = bench.row(workload("c", 60e9), 0.5, 2.0, 150.0, "cpu", 0.5)
    assert r["speedup"] == pytest.approx(4.0)
    assert r["gflops"] == pytest.approx(120.0)
    assert r["fraction_of_peak"] == pytest.approx(0.8)
    assert r["loop_gflops"] == pytest.approx(30.0)
    assert r["speedup_ceiling"] == pytest.approx(5.0)
    assert r["met"] is True  # case c: >= 3x and >= 40% of the peak
    assert "scaled by K/m" in r["note"]
    slow = bench.row(workload("c", 60e9), 0.8, 2.0, 150.0, "cpu")
    assert slow["speedup"] == pytest.approx(2.5) and slow["met"] is False
    table = bench.format_table([r])
    assert has_row(table, "c", "8", "0.500", "2.00", "4.0x", "120.0", "150.0", "80%", "30", "5x")


def test_row_without_flops_has_no_rates() -> None:
    r = bench.row(workload("d:grasp", None), 1.0, 3.0, 150.0, "cpu")
    assert r["speedup"] == pytest.approx(3.0)
    assert r["gflops"] is None and r["loop_gflops"] is None and r["speedup_ceiling"] is None
    assert r["met"] is None
    assert has_row(bench.format_table([r]), "d:grasp", "8", "1.000", "3.00", "3.0x", "-", "150.0", *["-"] * 5)
