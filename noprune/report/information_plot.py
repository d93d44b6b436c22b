"""The mask-information figure (E6): I(mask; data) per surviving weight and p_eff's certified
excess over nnz, per pruner and density.

At each density the pruners stand side by side. Left: I / nnz, the information per surviving
weight, as its interval: a marker at the certified lower bound and a bar up to the upper bound,
both divided by the mean nnz; an exact value (the data-blind pruners: exactly 0) is a square
with no bar. One pruner carries certifiably more than another where its marker lies above the
other's bar. Right: p_eff - nnz >= the certified lower bound on I, in bits (p_eff = nnz + I),
one bar per pruner: where p_eff leaves nnz, and by how much. Values are means over seeds, tasks
grouped as in ``noprune.report.leaderboard``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from noprune.report.leaderboard import Table, build_tables, density_labels
from noprune.report.plots import pruner_color, save_figure, task_parts, task_stems
from noprune.sweep.store import Record

METRICS = ("information_lower", "information_upper", "peff_low", "peff_high", "nnz")


def figures(records: Iterable[Record], out_dir: Path) -> list[Path]:
    """The mask_information experiment's figure: ``out_dir/information*.png`` and ``.pdf``."""
    return plot_information(records, out_dir / "information")


def plot_information(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """Write ``out_stem.png`` and ``.pdf`` (``out_stem_<what sets a task apart>`` for several
    tasks); [] when no finished run has the information metrics."""
    records = list(records)
    tables = {metric: build_tables(records, metric) for metric in METRICS}
    groups = [dict(zip(METRICS, group, strict=True)) for group in zip(*tables.values(), strict=False)]
    groups = [g for g in groups if len({t.slug for t in g.values()}) == 1]  # one task's tables only
    paths: list[Path] = []
    for group, stem in zip(groups, task_stems(out_stem, [task_parts(g["nnz"]) for g in groups]), strict=True):
        paths += _plot(group, stem)
    return paths


def _intervals(group: dict[str, Table], label: str) -> dict[float, tuple[float, float, float]]:
    """density -> (lower, upper, nnz), means over seeds."""
    cells = {m: group[m].row(label).cells for m in ("information_lower", "information_upper", "nnz")}
    return {
        d: (cells["information_lower"][d].mean, cells["information_upper"][d].mean, cells["nnz"][d].mean)
        for d in group["nnz"].densities
        if all(d in c for c in cells.values())
    }


def _plot(group: dict[str, Table], stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    densities = group["nnz"].densities
    rows = group["information_lower"].measured_rows
    width = 0.8 / max(len(rows), 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12.0, 4.8))
    try:
        for i, row in enumerate(rows):
            color = pruner_color(row.pruner)
            values = _intervals(group, row.label)
            offset = (i - (len(rows) - 1) / 2) * width
            xs = [densities.index(d) + offset for d in values]
            low = [lo / max(n, 1.0) for lo, _, n in values.values()]
            high = [hi / max(n, 1.0) for _, hi, n in values.values()]
            exact = [lo == hi for lo, hi in zip(low, high, strict=True)]
            left.vlines(xs, low, high, color=color, linewidth=2.0, alpha=0.6)
            left.scatter(xs, low, color=color, s=16, marker="o", zorder=3, label=row.label, edgecolors="none")
            squares = [(x, v) for x, v, e in zip(xs, low, exact, strict=True) if e]
            if squares:
                left.scatter(*zip(*squares, strict=True), color=color, s=18, marker="s", zorder=3)
            right.bar(xs, [lo for lo, _, _ in values.values()], width=width, color=color)
        left.set_ylabel("I(mask; labels | init) / nnz (bits per surviving weight)")
        left.set_title("marker: certified lower bound; bar: up to the upper bound; square: exact", fontsize=9)
        left.set_yscale("symlog", linthresh=1e-4)
        left.set_ylim(bottom=0)
        right.set_ylabel("p_eff - nnz >= certified bits of I")
        right.set_title("p_eff = nnz + I: its certified excess over nnz", fontsize=9)
        for ax in (left, right):
            ax.set_xticks(range(len(densities)), density_labels(densities))
            ax.set_xlabel("density (fraction of weights kept)")
            ax.grid(True, axis="y", which="major", alpha=0.3)
        fig.suptitle(group["nnz"].task, fontsize=10)
        left.legend(fontsize=8, loc="upper left", bbox_to_anchor=(2.25, 1.0), frameon=False, markerscale=1.5)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
