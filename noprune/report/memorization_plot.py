"""The E1 and E2 figures (paper Fig. 1a, 1b): fraction of points memorised (Fig. 1a) and train
accuracy (Fig. 1b) against sparsity, one line per pruner (mean over seeds, ±std band).

The paper's readings are drawn as crosses of the pruner's colour only on the data they were
read from: Fig. 1a's on the E1 Gaussian points (``gaussian`` data), Fig. 1b's on FashionMNIST
with input noise of variance 3; a figure of other data (digits, say) has none. Sparsity
(1 - density) runs on a linear axis, as in the paper. Runs are the ``memorization``
experiment's; tasks (data, model, training) are grouped as the leaderboard groups them, one
figure each.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from noprune.config import flat_config
from noprune.data import parse_data_spec
from noprune.report.leaderboard import Table, build_tables, pruner_label
from noprune.report.plots import (
    FAMILY_NOTE,
    band,
    legend_right,
    metric_range,
    plain_label,
    plot_tables,
    pruner_color,
    pruner_line,
    pruner_marker,
    row_colors,
    save_figure,
    task_stems,
)
from noprune.sweep.store import Record

if TYPE_CHECKING:
    from noprune.report.dense_equivalent import DenseCurve
from pruners import display_rank

Readings = dict[str, tuple[tuple[float, float], ...]]

PAPER_FIG1A: dict[str, tuple[tuple[float, float], ...]] = {
    "imp": ((0.90, 1.0), (0.955, 1.0), (0.975, 1.0), (0.993, 0.25)),
    "synflow": ((0.90, 1.0), (0.96, 1.0), (0.99, 0.1)),
    "snip": ((0.90, 0.965), (0.955, 0.6), (0.99, 0.0)),
    "grasp": ((0.90, 0.965), (0.955, 0.6), (0.99, 0.0)),
    "random": ((0.90, 0.5), (0.97, 0.0), (0.99, 0.0)),
}
"""(sparsity, fraction memorised) read off the paper's Fig. 1a (docs/SCIENCE.md E1: "IMP ~1.0 up to
0.975 and ~0.25 at 0.993; SynFlow ~1.0 to 0.96 and ~0.1 at 0.99; SNIP and GraSP ~0.93-1.0 at
0.90, ~0.6 at 0.955, ~0 by 0.99; random ~0.5 at 0.90 and ~0 by 0.97"); approximate readings."""

PAPER_FIG1B: Readings = {
    "imp": ((0.97, 0.70), (0.997, 0.59)),
    "magnitude_after": ((0.97, 0.69), (0.997, 0.41)),
    "snip": ((0.97, 0.635), (0.997, 0.16)),
    "random": ((0.97, 0.635), (0.997, 0.16)),
    "synflow": ((0.97, 0.635), (0.997, 0.16)),
    "grasp": ((0.97, 0.56), (0.997, 0.10)),
}
"""(sparsity, train accuracy) at the ends of the paper's Fig. 1b, noisy FashionMNIST (docs/SCIENCE.md E2:
"IMP ~70% -> ~59%, magnitude_after ~69% -> ~41%, SNIP, random, SynFlow ~62-65% -> ~12-20%, GraSP
~56% -> ~10%" over sparsity 0.970-0.997; the ranges' midpoints); approximate readings."""


@dataclass(frozen=True)
class Figure:
    """One figure per task: ``metric`` against sparsity, with ``readings`` on the data they hold."""

    metric: str
    stem: str
    ylabel: str
    readings: Readings
    source: str
    holds: Callable[[str], bool]
    """Whether the readings were taken on this data spec."""


def _is_e1_data(spec: str) -> bool:
    """The E1 points: Gaussian, n = 30 in d = 30 (the ``gaussian`` defaults)."""
    name, options = parse_data_spec(spec)
    return name == "gaussian" and options.get("n", 30) == 30 and options.get("d", 30) == 30


def _is_e2_fashionmnist(spec: str) -> bool:
    """All of FashionMNIST's training set with input noise of variance 3, nothing else."""
    name, options = parse_data_spec(spec)
    noise = options.pop("input_noise", 0.0)
    return name == "fashionmnist" and noise == 3.0 and options in ({}, {"n_train": 0})


FIGURES = (
    Figure(
        "memorised_fraction",
        "memorised_vs_sparsity",
        "fraction of points memorised",
        PAPER_FIG1A,
        "Fig. 1a",
        _is_e1_data,
    ),
    Figure(
        "train_accuracy",
        "train_accuracy_vs_sparsity",
        "train accuracy (%)",
        PAPER_FIG1B,
        "Fig. 1b",
        _is_e2_fashionmnist,
    ),
)


def plot_memorization(records: Iterable[Record], out_dir: Path) -> list[Path]:
    """Write ``out_dir/memorised_vs_sparsity.png`` and ``train_accuracy_vs_sparsity.png`` (and
    PDFs; ``..._<task>`` for several tasks) and, where there are dense runs of several widths,
    ``dense_curve.png`` (:func:`plot_dense_curves`); [] when no finished ``memorization`` run is
    among ``records``."""
    runs = [r for r in records if r.config.get("experiment") == "memorization"]
    paths: list[Path] = []
    for figure in FIGURES:
        paths += plot_tables(
            build_tables(runs, figure.metric), Path(out_dir) / figure.stem, partial(_figure, figure)
        )
    return paths + plot_dense_curves(runs, Path(out_dir) / "dense_curve")


def _figure(figure: Figure, table: Table, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scale = table.scale
    readings = figure.readings if figure.holds(table.data) else {}
    fig, ax = plt.subplots(figsize=(7.0, 4.5))
    try:
        low, high = min(1.0 - d for d in table.densities), max(1.0 - d for d in table.densities)
        drawn: set[str] = set()
        rows = table.measured_rows
        for row, color in zip(rows, row_colors(rows), strict=True):  # settings: shades of one colour
            densities = sorted((d for d in table.densities if d in row.cells), reverse=True)
            xs = [1.0 - d for d in densities]
            mean = [row.cells[d].mean * scale for d in densities]
            std = [row.cells[d].std * scale for d in densities]
            key = plain_label(row)
            style, width = pruner_line(row.pruner)
            marker = pruner_marker(row.pruner)
            ax.plot(xs, mean, style, marker=marker, color=color, label=row.label, linewidth=width, ms=5)
            lo, hi = band(mean, std, metric_range(figure.metric, scale))
            ax.fill_between(xs, lo, hi, color=color, alpha=0.12, linewidth=0)
            paper = [(s, v * scale) for s, v in readings.get(key, ()) if low - 1e-9 <= s <= high + 1e-9]
            if paper and key not in drawn:
                drawn.add(key)
                base = pruner_color(row.pruner)
                ax.plot(*zip(*paper, strict=True), "x:", color=base, alpha=0.7, linewidth=0.9, zorder=1.5)
        ax.set_xlabel("sparsity (fraction of weights pruned)")
        ax.set_ylabel(figure.ylabel)
        ax.set_ylim(-0.05 * scale, 1.05 * scale)
        ax.set_title(table.task, fontsize=10)
        ax.grid(True, alpha=0.3)
        note = f"mean over seeds, band ±1 std\n{FAMILY_NOTE}"
        if readings:
            note += f"\ndotted x: paper's {figure.source} (read off)"
        legend_right(ax, note)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)


def plot_dense_curves(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """E7's figure: the dense curve (weights -> fraction memorised: each width's mean ± std over
    seeds, and the monotone fit the report inverts) with each sparse network placed on it by its
    dense-equivalent count: an open marker at its nnz, a filled one at the dense count that
    memorises as much, joined by a line whose length is what the mask is worth in weights.
    One figure per dense curve (data and training), ``out_stem`` or ``out_stem_<part>``; []
    without dense runs of two widths or more."""
    from noprune.report.dense_equivalent import METRIC, dense_curves, match_key  # scikit-learn: here only

    records = [r for r in records if r.config.get("experiment") == "memorization" and r.status == "done"]
    curves = dense_curves(records)
    sparse: dict[str, dict[tuple[str, str, float], list[tuple[float, float]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for record in records:
        metrics = record.metrics or {}
        flat = flat_config(record.config)
        if METRIC in metrics and "nnz" in metrics and float(flat["prune.density"]) < 1.0:
            key = match_key(record.config)
            label = pruner_label(str(flat["prune.pruner"]), flat.get("prune.ablation") or None)
            point = (float(metrics["nnz"]), float(metrics[METRIC]))
            sparse[key][(str(flat["prune.pruner"]), label, float(flat["prune.density"]))].append(point)
    keys = sorted(curves)
    stems = task_stems(out_stem, [tuple(f"{k}-{v}" for k, v in json.loads(key).items()) for key in keys])
    paths: list[Path] = []
    for key, stem in zip(keys, stems, strict=True):
        paths += _dense_figure(curves[key], sparse.get(key, {}), json.loads(key), stem)
    return paths


def _dense_figure(
    curve: DenseCurve,
    sparse: dict[tuple[str, str, float], list[tuple[float, float]]],
    match: dict[str, object],
    stem: Path,
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.0, 5.0))
    try:
        lo, hi = band(curve.means, curve.stds, metric_range("memorised_fraction"))
        ax.fill_between(curve.params, lo, hi, color="black", alpha=0.1, linewidth=0)
        ax.plot(
            curve.params,
            curve.means,
            "o",
            color="black",
            markersize=4,
            label=f"dense (mean ± std; {curve.runs:,} runs, every suite's)",
        )
        ax.plot(curve.params, curve.fraction, "-", color="black", linewidth=1.4, label="dense, monotone fit")
        seen: set[str] = set()
        for (pruner, label, _density), points in sorted(
            sparse.items(), key=lambda kv: (display_rank(kv[0][0]), kv[0])
        ):
            nnz = statistics.fmean(p for p, _ in points)
            fraction = statistics.fmean(f for _, f in points)
            relation, params = curve.equivalent(fraction)
            color = pruner_color(pruner)
            name = None if label in seen else label
            seen.add(label)
            ax.plot([nnz], [fraction], "o", markerfacecolor="none", color=color, markersize=5)
            if relation in ("=", "≥"):
                ax.plot([nnz, params], [fraction, fraction], "-", color=color, linewidth=0.8, alpha=0.6)
                ax.plot([params], [fraction], "o", color=color, markersize=5, label=name)
            elif name:
                ax.plot([], [], "o", color=color, markersize=5, label=name)
        ax.set_xscale("log")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("weights (dense: all; sparse: open = nnz, filled = dense-equivalent count)")
        ax.set_ylabel("fraction of points memorised")
        data = match.get("data", "")
        ax.set_title(
            f"E7: each sparse network at the dense width that memorises as much ({data} data)", fontsize=10
        )
        ax.grid(True, which="major", alpha=0.3)
        note = (
            "means over seeds; a line joins a sparse\nnetwork's nnz to its dense-equivalent count;"
            "\nan open marker alone memorises less than\nthe narrowest dense network (no equivalent)"
        )
        legend_right(ax, note)
        return save_figure(fig, stem)
    finally:
        plt.close(fig)
