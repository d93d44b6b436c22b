"""The mask-information figure (E6): the certified interval of I(mask; data) per surviving
weight, per pruner and density.

One panel per density, one row per pruner (its name on the left; rows in the leaderboard's
order, colours as in every plot). Each row is the interval of I / nnz: a dot at the certified
lower bound and a line up to the upper bound, both divided by the mean nnz; an exact value (the
label-blind pruners: exactly 0) is a square with no line. One pruner carries certifiably more
information per weight than another where its dot lies right of the other's line's end. The
scale is linear near 0 and logarithmic above (symlog), so that 0, a few hundredths and the
counting caps of several bits per weight all read. The panel title gives the density and the
mean nnz; p_eff = nnz + I is the same interval shifted by nnz (the leaderboard's peff_low and
peff_high). Values are means over seeds, tasks grouped as in ``noprune.report.leaderboard``.
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
    intervals = {row.label: _intervals(group, row.label) for row in rows}
    top = max([hi / max(n, 1.0) for v in intervals.values() for _, hi, n in v.values()] + [1.0])
    fig, axes = plt.subplots(
        1,
        len(densities),
        figsize=(max(7.0, 2.6 * len(densities) + 2.0), 0.28 * len(rows) + 1.6),
        sharey=True,
        squeeze=False,
    )
    try:
        for ax, density in zip(axes[0], densities, strict=True):
            nnz = []
            for y, row in enumerate(rows):
                if density not in intervals[row.label]:
                    continue
                lower, upper, n = intervals[row.label][density]
                nnz.append(n)
                low, high = lower / max(n, 1.0), upper / max(n, 1.0)
                color = pruner_color(row.pruner)
                if low == high:
                    ax.scatter([low], [y], color=color, s=22, marker="s", zorder=3)
                else:
                    ax.hlines(y, low, high, color=color, linewidth=2.2, alpha=0.7)
                    ax.scatter([low], [y], color=color, s=22, marker="o", zorder=3)
            size = f", nnz {sum(nnz) / len(nnz):.0f}" if nnz else ""
            ax.set_title(f"density {density_labels([density])[0]}{size}", fontsize=9)
            ax.set_xscale("symlog", linthresh=0.01, linscale=0.5)
            ax.set_xlim(-0.002, top * 1.5)
            ax.grid(True, axis="x", which="major", alpha=0.3)
            ax.set_xlabel("bits per surviving weight")
        axes[0][0].set_yticks(range(len(rows)), [row.label for row in rows], fontsize=8)
        axes[0][0].invert_yaxis()
        fig.suptitle(
            f"{group['nnz'].task}\nI(mask; labels | init) / nnz, certified interval "
            "(dot: lower bound, line: up to the upper bound, square: exact)",
            fontsize=10,
        )
        fig.tight_layout()
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
