"""The mask-information figure: I(mask; data) bounds and p_eff against density, per pruner.

Left: I / nnz, the information per surviving weight: the certified lower bound (solid, markers)
and the band up to the upper bound, both divided by the mean nnz; exact values (data-blind
pruners: exactly 0) are a line with no band. A gap between two pruners is certified where one's
band lies above the other's. Right: p_eff = nnz + I as the band between ``peff_low`` and
``peff_high``, over the surviving-weight count nnz (black, dashed), on log axes. Values are
means over seeds, tasks grouped as in ``noprune.report.leaderboard``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from noprune.report.leaderboard import Table, build_tables
from noprune.report.plots import density_axis, pruner_color, save_figure
from noprune.sweep.store import Record

METRICS = ("information_lower", "information_upper", "peff_low", "peff_high", "nnz")


def figures(records: Iterable[Record], out_dir: Path) -> list[Path]:
    """The mask_information experiment's figure: ``out_dir/information*.png`` and ``.pdf``."""
    return plot_information(records, out_dir / "information")


def plot_information(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """Write ``out_stem.png`` and ``.pdf`` (``out_stem_<task>`` for several tasks); [] when no
    finished run has the information metrics."""
    records = list(records)
    tables = {metric: build_tables(records, metric) for metric in METRICS}
    by_task = [dict(zip(METRICS, group, strict=True)) for group in zip(*tables.values(), strict=False)]
    out_stem = Path(out_stem)
    paths: list[Path] = []
    for group in by_task:
        if len({t.slug for t in group.values()}) != 1:
            continue  # tables of one task line up; anything else is not this figure's
        name = out_stem.name if len(by_task) == 1 else f"{out_stem.name}_{group['nnz'].slug}"
        paths += _plot(group, out_stem.parent / name)
    return paths


def _means(table: Table, label: str) -> tuple[list[float], list[float]]:
    row = table.row(label)
    xs = [d for d in table.densities if d in row.cells]
    return xs, [row.cells[d].mean for d in xs]


def _plot(group: dict[str, Table], stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11.0, 4.5))
    try:
        for row in group["information_lower"].measured_rows:
            color = pruner_color(row.pruner)
            xs, lower = _means(group["information_lower"], row.label)
            _, upper = _means(group["information_upper"], row.label)
            _, count = _means(group["nnz"], row.label)
            low = [v / max(c, 1.0) for v, c in zip(lower, count, strict=True)]
            high = [v / max(c, 1.0) for v, c in zip(upper, count, strict=True)]
            left.fill_between(xs, low, high, color=color, alpha=0.15, linewidth=0)
            left.plot(xs, low, marker="o", markersize=4, color=color, label=row.label)
            xs_p, low_p = _means(group["peff_low"], row.label)
            _, high_p = _means(group["peff_high"], row.label)
            right.fill_between(xs_p, low_p, high_p, color=color, alpha=0.2, linewidth=0)
            right.plot(xs_p, low_p, marker="o", markersize=3, color=color, label=row.label)
        nnz = group["nnz"]
        xs, counts = _means(nnz, nnz.measured_rows[0].label)
        right.plot(xs, counts, linestyle="--", color="black", linewidth=1.0, label="nnz (surviving weights)")
        left.set_ylabel("I(mask; labels | init) / nnz (bits per surviving weight)")
        left.set_title("solid: certified lower bound; band: up to the upper bound", fontsize=9)
        left.set_yscale("symlog", linthresh=1e-3)
        right.set_ylabel("p_eff = nnz + I")
        right.set_yscale("log")
        right.set_title("band: p_eff from the two bounds", fontsize=9)
        for ax in (left, right):
            density_axis(ax, nnz.densities)
            ax.grid(True, which="major", alpha=0.3)
        fig.suptitle(nnz.task, fontsize=10)
        right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
