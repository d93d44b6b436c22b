"""The E1 figure (paper Fig. 1a): fraction of points memorised against sparsity, one line per
pruner (mean over seeds, ±std band), with the paper's readings as crosses of the same colour.

Sparsity (1 - density) runs on a linear axis, as in the paper (0.90-0.99 for the
``e1-memorization`` suite). Runs are the ``memorization`` experiment's; tasks (data, model,
training) are grouped as the leaderboard groups them, one figure each.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from noprune.leaderboard import Record, Table, build_tables
from noprune.plots import legend_right, plot_tables, pruner_color, save_figure

METRIC = "memorised_fraction"

PAPER_FIG1A: dict[str, tuple[tuple[float, float], ...]] = {
    "imp": ((0.90, 1.0), (0.955, 1.0), (0.975, 1.0), (0.993, 0.25)),
    "synflow": ((0.90, 1.0), (0.96, 1.0), (0.99, 0.1)),
    "snip": ((0.90, 0.965), (0.955, 0.6), (0.99, 0.0)),
    "grasp": ((0.90, 0.965), (0.955, 0.6), (0.99, 0.0)),
    "random": ((0.90, 0.5), (0.97, 0.0), (0.99, 0.0)),
}
"""(sparsity, fraction memorised) read off the paper's Fig. 1a (SCIENCE.md E1: "IMP ~1.0 up to
0.975 and ~0.25 at 0.993; SynFlow ~1.0 to 0.96 and ~0.1 at 0.99; SNIP and GraSP ~0.93-1.0 at
0.90, ~0.6 at 0.955, ~0 by 0.99; random ~0.5 at 0.90 and ~0 by 0.97"); approximate readings."""


def plot_memorization(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """Write ``out_stem.png`` and ``.pdf`` (``out_stem_<task>`` for several tasks); [] when no
    finished ``memorization`` run is among ``records``."""
    runs = [r for r in records if r.config.get("experiment") == "memorization"]
    return plot_tables(build_tables(runs, METRIC), out_stem, _figure)


def _figure(table: Table, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    try:
        low, high = min(1.0 - d for d in table.densities), max(1.0 - d for d in table.densities)
        for row in table.measured_rows:
            densities = sorted((d for d in table.densities if d in row.cells), reverse=True)
            xs = [1.0 - d for d in densities]
            mean = [row.cells[d].mean for d in densities]
            std = [row.cells[d].std for d in densities]
            color = pruner_color(row.pruner)
            ax.plot(xs, mean, "-o", color=color, label=row.label, linewidth=1.6, markersize=4, zorder=2)
            lo = [m - s for m, s in zip(mean, std, strict=True)]
            hi = [m + s for m, s in zip(mean, std, strict=True)]
            ax.fill_between(xs, lo, hi, color=color, alpha=0.12, linewidth=0)
            paper = [(s, v) for s, v in PAPER_FIG1A.get(row.label, ()) if low - 1e-9 <= s <= high + 1e-9]
            if paper:
                ax.plot(*zip(*paper, strict=True), "x--", color=color, alpha=0.7, linewidth=0.9, zorder=1.5)
        ax.set_xlabel("sparsity (fraction of weights pruned)")
        ax.set_ylabel("fraction of points memorised")
        ax.set_ylim(-0.05, 1.05)
        ax.set_title(table.task, fontsize=10)
        ax.grid(True, alpha=0.3)
        note = "mean over seeds, band ±1 std\ndashed x: paper's Fig. 1a (read off)"
        legend_right(ax, note)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
