"""Plots of a metric against density, one figure per leaderboard task (same grouping as
``noprune.leaderboard.build_tables``): one line per pruner with a shaded ±std band, published
reference numbers as dashed lines of the same colour. Colours are fixed per pruner, so figures
of different tasks compare at a glance.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from pathlib import Path

from noprune.leaderboard import Record, Row, Table, build_tables, density_labels

#: Fixed colour per pruner (matplotlib's tab10); other pruners get one of ``_SPARE`` by name.
COLORS: dict[str, str] = {
    "random": "tab:gray",
    "magnitude": "tab:blue",
    "snip": "tab:orange",
    "grasp": "tab:green",
    "synflow": "tab:red",
    "magnitude_after": "tab:purple",
    "imp": "tab:brown",
}
_SPARE = ("tab:pink", "tab:olive", "tab:cyan", "black", "gold", "navy", "teal", "maroon")
_ABLATION_MARKERS = {"shuffle": "s", "reinit": "^", "invert": "v"}


def pruner_color(pruner: str) -> str:
    """The colour of a pruner in every plot (stable across runs and tasks)."""
    return COLORS.get(pruner) or _SPARE[zlib.crc32(pruner.encode()) % len(_SPARE)]


def plot_metric(records: Iterable[Record], metric: str, out_stem: Path) -> list[Path]:
    """Plot ``metric`` against density for every task; return the PNG and PDF paths written.

    One task writes ``out_stem.png`` and ``out_stem.pdf``; several write
    ``out_stem_<task slug>.png`` and ``.pdf`` each. Nothing is written (and [] returned) when no
    finished run has the metric.
    """
    tables = build_tables(records, metric)
    out_stem = Path(out_stem)
    paths: list[Path] = []
    for table in tables:
        name = out_stem.name if len(tables) == 1 else f"{out_stem.name}_{table.slug}"
        paths += _plot_table(table, out_stem.parent / name)
    return paths


def _style(row: Row) -> tuple[str, str]:
    """(line style, marker) of a row."""
    if row.is_reference:
        return "--", "x"
    if row.ablation:
        return ":", _ABLATION_MARKERS.get(row.ablation, "D")
    if row.scope != "global":
        return "-.", "P"
    return "-", "o"


def _plot_table(table: Table, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    scale = table.scale if table.is_accuracy else 1.0
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    try:
        for row in table.rows:
            xs = [d for d in table.densities if d in row.cells]
            ys = [row.cells[d].mean * scale for d in xs]
            color = pruner_color(row.pruner)
            linestyle, marker = _style(row)
            ax.plot(
                xs,
                ys,
                linestyle=linestyle,
                marker=marker,
                color=color,
                label=row.label,
                alpha=0.75 if row.is_reference else 1.0,
                linewidth=1.2 if row.is_reference else 1.6,
                markersize=5,
                zorder=1.5 if row.is_reference else 2.0,
            )
            if not row.is_reference:
                lo = [row.cells[d].mean * scale - row.cells[d].std * scale for d in xs]
                hi = [row.cells[d].mean * scale + row.cells[d].std * scale for d in xs]
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.invert_xaxis()
        if len(table.densities) <= 10:
            ax.set_xticks(list(table.densities), density_labels(table.densities))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("density (fraction of weights kept)")
        ax.set_ylabel(table.metric + (" (%)" if table.is_accuracy else ""))
        ax.set_title(table.task, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        note = "mean over seeds, band ±1 std" + (
            "\ndashed: published reference" if table.reference_rows else ""
        )
        ax.legend(
            fontsize=8,
            title=note,
            title_fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            alignment="left",
        )
        stem.parent.mkdir(parents=True, exist_ok=True)
        png = stem.parent / f"{stem.name}.png"
        pdf = stem.parent / f"{stem.name}.pdf"
        fig.savefig(png, dpi=150, bbox_inches="tight")
        fig.savefig(pdf, bbox_inches="tight", metadata={"CreationDate": None})
    finally:
        plt.close(fig)
    return [png, pdf]
