"""Plots of a metric against density, one figure per leaderboard task (same grouping as
``noprune.report.leaderboard.build_tables``): one line per pruner with a shaded ±std band, published
reference numbers as dashed lines of the same colour. Colours are fixed per pruner, so figures
of different tasks compare at a glance.

Experiments in ``COUNT_AXIS`` (the exact toy of docs/SCIENCE.md E4) are plotted against the number of
pruned weights on a linear axis instead, as the paper's Fig. 4.
"""

from __future__ import annotations

import math
import re
import statistics
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pruners
from noprune.config import flat_config
from noprune.paths import replacing
from noprune.report import references
from noprune.report.leaderboard import (
    Record,
    Row,
    Table,
    build_tables,
    density_labels,
    pruner_label,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours for pruners that name none (``Pruner.color``), picked by name.
_SPARE = ("tab:pink", "tab:olive", "tab:cyan", "black", "gold", "navy", "teal", "maroon")
_ABLATION_MARKERS = {"shuffle": "s", "reinit": "^", "invert": "v"}
#: Experiments plotted against ``metrics["pruned"]`` (weights pruned) instead of density.
COUNT_AXIS: tuple[str, ...] = ("exact_toy_information",)


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write ``stem.png`` (150 dpi) and ``stem.pdf`` (no creation date, so reruns give the same
    file) and return both paths."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = stem.parent / f"{stem.name}.png", stem.parent / f"{stem.name}.pdf"
    with replacing(png, binary=True) as handle:
        fig.savefig(handle, format="png", dpi=150, bbox_inches="tight")
    with replacing(pdf, binary=True) as handle:
        fig.savefig(handle, format="pdf", bbox_inches="tight", metadata={"CreationDate": None})
    return [png, pdf]


def legend_right(ax: Axes, title: str) -> None:
    """The legend outside the axes on the right, ``title`` as a small note above it."""
    ax.legend(
        fontsize=8,
        title=title,
        title_fontsize=7,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        alignment="left",
    )


def pruner_color(pruner: str) -> str:
    """The colour of a pruner in every plot (its class's ``color``; stable across runs and tasks)."""
    cls = pruners.PRUNERS.get(pruner)
    return (cls.color if cls is not None else None) or _SPARE[zlib.crc32(pruner.encode()) % len(_SPARE)]


#: (line style, width) of each family of pruners: random masks dashed, masks found by training thick.
FAMILY_LINES = {"random baseline": ("--", 1.2), "at initialization": ("-", 1.5), "after training": ("-", 2.6)}
FAMILY_NOTE = "dashed: random baselines; thick: found by training"


def pruner_marker(pruner: str) -> str:
    """The marker of a pruner in every plot (its class's ``marker``)."""
    cls = pruners.PRUNERS.get(pruner)
    return cls.marker if cls is not None else "o"


def pruner_line(pruner: str) -> tuple[str, float]:
    """(line style, width) of a pruner: its family's (:data:`FAMILY_LINES`)."""
    cls = pruners.PRUNERS.get(pruner)
    return FAMILY_LINES.get(cls.family if cls is not None else "", ("-", 1.5))


def plain_label(row: Row) -> str:
    """The row's label without its settings (``synflow [rounds=3]`` -> ``synflow``): the
    key of the paper's readings and of the colour family."""
    return pruner_label(row.pruner, row.ablation, row.scope)


def shade(color: str, i: int, n: int) -> tuple[float, float, float]:
    """Variant i of n (1-based) of ``color``: mixed with white from 70% (i = 1) to none (i = n)."""
    from matplotlib.colors import to_rgb

    white = 0.7 * (n - i) / (n - 1)
    r, g, b = to_rgb(color)
    return (r + (1 - r) * white, g + (1 - g) * white, b + (1 - b) * white)


def row_colors(rows: Sequence[Row]) -> list[str | tuple[float, float, float]]:
    """Each row's colour: its pruner's; rows of one pruner at several settings (SynFlow's rounds)
    get shades of it, light to full in row order. Reference rows take the plain colour and do
    not count as settings."""
    variants = Counter(plain_label(r) for r in rows if not r.is_reference)
    seen: Counter[str] = Counter()
    colors: list[str | tuple[float, float, float]] = []
    for row in rows:
        key = plain_label(row)
        color = pruner_color(row.pruner)
        if not row.is_reference and variants[key] > 1:
            seen[key] += 1
            colors.append(shade(color, seen[key], variants[key]))
        else:
            colors.append(color)
    return colors


def plot_metric(records: Iterable[Record], metric: str, out_stem: Path) -> list[Path]:
    """Plot ``metric`` against density for every task; return the PNG and PDF paths written.

    One task writes ``out_stem.png`` and ``out_stem.pdf``; several write
    ``out_stem_<task slug>.png`` and ``.pdf`` each. Nothing is written (and [] returned) when no
    finished run has the metric. Runs all of a ``COUNT_AXIS`` experiment go to
    :func:`plot_against_pruned`.
    """
    records = list(records)
    if records and all(r.config.get("experiment") in COUNT_AXIS for r in records):
        return plot_against_pruned(records, metric, out_stem)
    return plot_tables(build_tables(records, metric), out_stem, _plot_table)


def plot_tables(
    tables: Sequence[Table], out_stem: Path, draw: Callable[[Table, Path], list[Path]]
) -> list[Path]:
    """``draw`` each table with more than one density (a single point says nothing against
    density) to ``out_stem`` (one table) or ``out_stem_<what sets it apart>`` (several:
    :func:`short_names`)."""
    out_stem = Path(out_stem)
    tables = [t for t in tables if len(t.densities) > 1]
    paths: list[Path] = []
    for table, stem in zip(tables, task_stems(out_stem, [task_parts(t) for t in tables]), strict=True):
        paths += draw(table, stem)
    return paths


def task_parts(table: Table) -> tuple[str, ...]:
    """What names a table's task: experiment, data, model and each extra field's value."""
    extras = (f"{field.rpartition('.')[2]}-{value}" for field, value in table.extras)
    return (table.experiment, table.data, table.model, *extras)


def short_names(tasks: Sequence[tuple[str, ...]]) -> list[str]:
    """File-name parts for several tasks: only the parts that differ between them (``mlp_32_32``,
    ``batch_size-64``), in letters, digits, ``.`` and ``-`` joined by ``_``; '' for one task."""
    if len(tasks) <= 1:
        return [""] * len(tasks)
    width = max(map(len, tasks))
    padded = [(*t, *[""] * (width - len(t))) for t in tasks]
    varying = [i for i in range(width) if len({t[i] for t in padded}) > 1]
    names = [
        re.sub(r"[^A-Za-z0-9.-]+", "_", "_".join(t[i] for i in varying if t[i])).strip("_") for t in padded
    ]
    if len(set(names)) < len(names):  # parts that differ only in characters a file name drops
        names = [f"{name}_{i}" for i, name in enumerate(names)]
    return names


def task_stems(out_stem: Path, tasks: Sequence[tuple[str, ...]]) -> list[Path]:
    """One figure's file stem per task: ``out_stem`` for one, ``out_stem_<part>`` for several
    (:func:`short_names`)."""
    out_stem = Path(out_stem)
    return [out_stem.parent / (f"{out_stem.name}_{p}" if p else out_stem.name) for p in short_names(tasks)]


def metric_range(metric: str, scale: float = 1.0) -> tuple[float, float]:
    """The values ``metric`` can take (``scale``: 100 for accuracies shown in percent), so that a
    ±std band is not drawn where no value can lie: accuracies, fractions, densities,
    probabilities and coverages in [0, 1]; counts, bits, times, norms and losses at least 0."""
    m = metric.lower()
    if any(
        w in m for w in ("accuracy", "fraction", "density", "p_value", "coverage", "interpolated", "share")
    ):
        return 0.0, 1.0 * scale
    if any(
        w in m
        for w in ("information", "peff", "nnz", "seconds", "steps", "norm", "loss", "epochs", "spectral")
    ):
        return 0.0, math.inf
    return -math.inf, math.inf


def band(
    mean: Sequence[float], std: Sequence[float], limits: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """mean ± std, clipped to ``limits`` (:func:`metric_range`)."""
    lo = [max(m - s, limits[0]) for m, s in zip(mean, std, strict=True)]
    hi = [min(m + s, limits[1]) for m, s in zip(mean, std, strict=True)]
    return lo, hi


def _style(row: Row) -> tuple[str, str, float]:
    """(line style, marker, line width) of a row: its pruner's (family line, own marker);
    published references dotted with crosses, ablations and per-layer scopes dash-dotted."""
    linestyle, width = pruner_line(row.pruner)
    if row.is_reference:
        return ":", "x", 1.2
    if row.ablation:
        return "-.", _ABLATION_MARKERS.get(row.ablation, "D"), width
    if row.scope != "global":
        return "-.", "P", width
    return linestyle, pruner_marker(row.pruner), width


def _plot_table(table: Table, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = table.scale if table.is_accuracy else 1.0
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    try:
        for row, color in zip(table.rows, row_colors(table.rows), strict=True):
            xs = [d for d in table.densities if d in row.cells]
            ys = [row.cells[d].mean * scale for d in xs]
            linestyle, marker, width = _style(row)
            ax.plot(
                xs,
                ys,
                linestyle=linestyle,
                marker=marker,
                color=color,
                label=row.label,
                alpha=0.75 if row.is_reference else 1.0,
                linewidth=width,
                markersize=6,
                zorder=1.5 if row.is_reference else 2.0,
            )
            if not row.is_reference:
                std = [row.cells[d].std * scale for d in xs]
                lo, hi = band(ys, std, metric_range(table.metric, scale))
                ax.fill_between(xs, lo, hi, color=color, alpha=0.15, linewidth=0)
        density_axis(ax, table.densities)
        ax.set_ylabel(metric_label(table.metric, table.is_accuracy))
        ax.set_title(table.task, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        note = f"mean over seeds, band ±1 std\n{FAMILY_NOTE}" + (
            "\ndotted: published reference" if table.reference_rows else ""
        )
        legend_right(ax, note)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)


#: Axis labels of the metrics the suites plot, in words and units; others: the name, spaced.
METRIC_LABELS = {
    "test_accuracy": "test accuracy (%)",
    "train_accuracy": "train accuracy (%)",
    "memorised_fraction": "fraction of random labels memorised",
    "effective_density": "effective density (weights on an input-output path)",
    "information_lower": "I(mask; labels), certified lower bound (bits)",
    "information_upper": "I(mask; labels), certified upper bound (bits)",
}


def metric_label(metric: str, percent: bool = False) -> str:
    """A metric's axis label: words and unit, not its field name."""
    return METRIC_LABELS.get(metric) or metric.replace("_", " ") + (" (%)" if percent else "")


def spaced_labels(densities: Sequence[float], apart: float = 0.1) -> list[str]:
    """The density labels, with '' for a density closer than ``apart`` decades (a factor 1.26)
    to the last one labelled: 0.03 and 0.025 would print over each other."""
    labels, last = [], None
    for density, label in zip(densities, density_labels(densities), strict=True):
        near = last is not None and abs(math.log10(density / last)) < apart
        labels.append("" if near else label)
        last = last if near else density
    return labels


def density_axis(ax: Axes, densities: Sequence[float]) -> None:
    """Density on a log axis, falling to the right, ticked at the measured densities (up to 10)."""
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.invert_xaxis()
    if len(densities) <= 10:
        ax.set_xticks(list(densities), spaced_labels(densities))
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("density (fraction of weights kept)")


def plot_against_pruned(records: Iterable[Record], metric: str, out_stem: Path) -> list[Path]:
    """``metric`` against the number of pruned weights (linear axis), one line per pruner (mean
    over seeds), one figure per task (experiment, data, model), named as :func:`plot_metric`: the
    paper's Fig. 4 (docs/SCIENCE.md E4). For information metrics (in bits) it adds the ceiling
    min(H(D), log2 C(p, kept)) and, as bars at the right, the paper's peak readings."""
    # task -> (pruner, label) -> pruned -> values; task -> pruned -> ceiling
    lines: dict[tuple[str, str, str], dict[tuple[str, str], dict[int, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    ceilings: dict[tuple[str, str, str], dict[int, float]] = defaultdict(dict)
    for record in records:
        metrics = record.metrics or {}
        value = metrics.get(metric)
        if record.status != "done" or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if not math.isfinite(value) or "pruned" not in metrics:
            continue
        flat = flat_config(record.config)
        task = (str(flat["experiment"]), str(flat["data"]), str(flat["model"]))
        pruner = str(flat["prune.pruner"])
        label = pruner_label(pruner, flat.get("prune.ablation") or None, str(flat["prune.scope"]))
        lines[task][(pruner, label)][int(metrics["pruned"])].append(float(value))
        if "information_ceiling" in metrics:
            ceilings[task][int(metrics["pruned"])] = float(metrics["information_ceiling"])
    paths: list[Path] = []
    tasks = sorted(lines)
    for task, stem in zip(tasks, task_stems(out_stem, tasks), strict=True):
        rows = lines[task]
        title = f"{task[1]} / {task[2]}, experiment {task[0]}"
        paths += _plot_counts(title, rows, ceilings[task], metric, stem)
    return paths


def _plot_counts(
    title: str,
    rows: dict[tuple[str, str], dict[int, list[float]]],
    ceiling: dict[int, float],
    metric: str,
    stem: Path,
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bits = metric.startswith("information")
    order = sorted(
        rows,
        key=lambda pl: (pruners.display_rank(pl[0]), pl[1]),
    )
    right = max(max(by_count) for by_count in rows.values())
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    try:
        if bits and ceiling:
            xs = sorted(ceiling)
            ax.plot(
                xs,
                [ceiling[x] for x in xs],
                color="lightgray",
                linewidth=2.5,
                zorder=1.0,
                label="ceiling min(H(D), log2 C(p, kept))",
            )
        marks = 0
        for pruner, label in order:
            by_count = rows[(pruner, label)]
            xs = sorted(by_count)
            color = pruner_color(pruner)
            peak = references.E4_PEAK_BITS.get(pruner) if bits and label == pruner else None
            if peak is not None:
                lo, hi = peak
                label += f" (paper peak {lo:g}–{hi:g} bits)" if hi > lo else f" (paper peak {lo:g} bits)"
                marks += 1
                ax.vlines(right + 0.6 + 0.35 * marks, lo, hi, color=color, linewidth=4, alpha=0.6)
                ax.plot([right + 0.6 + 0.35 * marks], [(lo + hi) / 2], marker="<", color=color, markersize=4)
            ax.plot(
                xs,
                [statistics.fmean(by_count[x]) for x in xs],
                marker="o",
                markersize=4,
                linewidth=1.6,
                color=color,
                label=label,
                zorder=2.0,
            )
        ax.set_xlim(-0.5, right + 1.0 + 0.35 * marks)
        ax.set_xticks(range(0, right + 1, 2 if right > 12 else 1))
        ax.set_xlabel("weights pruned")
        ax.set_ylabel(metric + (" (bits)" if bits else ""))
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
        note = "mean over seeds" + (
            f"\nbars at the right: peak readings of {references.E4_CITATION}" if marks else ""
        )
        legend_right(ax, note)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
