"""The E3 figure (paper Figs. 2-3): corr with the label noise against epoch through IMP rounds.

Left: corr every epoch, mean over seeds with a ±std band, one line per setting (e.g. per
learning rate or gradient-noise level); each round starts at the corr of the rewound, pruned
network, so the drop at a prune is a vertical segment; dashed vertical lines mark the prunes and
the top axis gives each round's density. Right: per round, the peak corr (filled) and the corr
right after the prune (open) against the round's density, with the collapse threshold (half the
noise power, ``noise_correlation.HALF``) dotted.

Runs are those whose metrics hold a ``corr`` trace (the ``noise_correlation`` experiment). Runs
that differ only in their seed make one line; of the fields that vary between lines, the one
with the most values labels the lines and the others (if any) split panels, one row each.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from noprune.config import flat_config
from noprune.report.plots import save_figure
from noprune.sweep.store import Record

HALF = 0.5  # as noprune.experiments.noise_correlation.HALF (not imported: it pulls in torch)
TICKS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001)
FEW_ROUND_TICKS = (1.0, 0.8, 0.64, 0.5)
NAMES = {
    "train.lr": "lr",
    "train.gradient_noise": "gradient noise σ",
    "train.batch_size": "batch",
    "prune.pretrain_epochs": "epochs/round",
}


@dataclasses.dataclass
class Line:
    """The runs of one setting (all seeds)."""

    settings: dict[str, Any]
    runs: list[dict[str, Any]]

    def stack(self, name: str) -> np.ndarray:
        """[seeds, ...] of one list metric (runs whose list length differs from the first's dropped)."""
        rows = [r[name] for r in self.runs]
        rows = [row for row in rows if len(row) == len(rows[0])]
        return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)

    @property
    def epochs(self) -> list[int]:
        return list(self.runs[0]["epochs_per_round"])

    def trace(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Epochs and mean and std over seeds of corr, each round starting at its rewind point."""
        corr, start = self.stack("corr"), self.stack("corr_start")
        xs, columns, offset = [], [], 0
        for r, e in enumerate(self.epochs):
            xs += [offset, *range(offset + 1, offset + e + 1)]
            columns += [start[:, r : r + 1], corr[:, offset : offset + e]]
            offset += e
        values = np.concatenate(columns, axis=1)
        std = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
        return np.array(xs), values.mean(axis=0), std


def lines_of(records: Iterable[Record]) -> list[Line]:
    """Finished runs with a corr trace, grouped by everything but the seed."""
    groups: dict[str, Line] = {}
    for record in records:
        m = record.metrics
        if record.status != "done" or not m or not isinstance(m.get("corr"), list) or "corr_start" not in m:
            continue
        flat = flat_config(record.config)
        flat.pop("seed", None)
        key = repr(sorted((k, repr(v)) for k, v in flat.items()))
        groups.setdefault(key, Line(flat, [])).runs.append(m)
    return list(groups.values())


def _label(field: str, value: Any) -> str:
    text = f"{value:g}" if isinstance(value, float) else f"{value}"
    return f"{NAMES.get(field, field)} = {text}"


def _split(lines: Sequence[Line]) -> tuple[str | None, dict[tuple[Any, ...], list[Line]], list[str]]:
    """The line field, the panels (by the other varying fields) and those other fields."""
    fields = sorted({f for line in lines for f in line.settings})
    varying = [f for f in fields if len({repr(line.settings.get(f)) for line in lines}) > 1]
    if not varying:
        return None, {(): list(lines)}, []
    line_field = max(varying, key=lambda f: (len({repr(x.settings.get(f)) for x in lines}), f == "train.lr"))
    others = [f for f in varying if f != line_field]
    panels: dict[tuple[Any, ...], list[Line]] = defaultdict(list)
    for line in lines:
        panels[tuple(line.settings.get(f) for f in others)].append(line)
    for members in panels.values():
        members.sort(key=lambda x: x.settings.get(line_field))
    return line_field, dict(sorted(panels.items(), key=lambda kv: repr(kv[0]))), others


def figures(records: Iterable[Record], out_dir: Path) -> list[Path]:
    """The noise_correlation experiment's figure: ``out_dir/corr_trace*.png`` and ``.pdf``."""
    return plot_traces(records, out_dir / "corr_trace")


def plot_traces(records: Iterable[Record], out_stem: Path) -> list[Path]:
    """Write ``out_stem.png`` and ``.pdf``; [] when no finished run has a corr trace."""
    lines = lines_of(records)
    if not lines:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    line_field, panels, others = _split(lines)
    fig, axes = plt.subplots(
        len(panels),
        2,
        figsize=(14.0, 3.8 * len(panels)),
        gridspec_kw={"width_ratios": [3.2, 1.0]},
        squeeze=False,
    )
    out_stem = Path(out_stem)
    try:
        for (values, members), (left, right) in zip(panels.items(), axes, strict=True):
            colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(members)))
            epochs = members[0].epochs
            power = float(np.mean([r["noise_power"] for line in members for r in line.runs]))
            for line, color in zip(members, colors, strict=True):
                n = len(line.runs)
                label = _label(line_field, line.settings[line_field]) if line_field else "mean over seeds"
                xs, mean, std = line.trace()
                left.plot(xs, mean, color=color, linewidth=1.2, label=f"{label} (n={n})")
                left.fill_between(xs, mean - std, mean + std, color=color, alpha=0.15, linewidth=0)
                density = line.stack("density").mean(axis=0)
                peak = line.stack("peak_corr").mean(axis=0)
                right.plot(density, peak, marker="o", color=color, markersize=4)
                after = line.stack("corr_after_prune")
                if after.shape[1]:
                    right.plot(
                        density[1:],
                        after.mean(axis=0),
                        marker="o",
                        markerfacecolor="none",
                        linestyle=":",
                        color=color,
                        markersize=4,
                    )
            bounds = np.cumsum([0, *epochs])
            for x in bounds[1:-1]:
                left.axvline(x, color="gray", linestyle="--", linewidth=0.7, alpha=0.7)
            top = left.secondary_xaxis("top")
            densities = members[0].stack("density").mean(axis=0)
            top.set_xticks((bounds[:-1] + bounds[1:]) / 2, [f"{d:.2g}" for d in densities], fontsize=7)
            top.set_xlabel("density of the round (fraction of weights kept)", fontsize=8)
            left.axhline(0.0, color="black", linewidth=0.6)
            left.set_xlim(0, bounds[-1])
            left.set_xlabel("epoch (dashed: prune 20% of survivors, rewind to init)")
            left.set_ylabel("corr = (1/n) Σ (f(x_i) − mean f) z_i")
            title = ", ".join(_label(f, v) for f, v in zip(others, values, strict=True))
            if title:
                left.set_title(title, fontsize=9)
            longest = max(len(text) for text in left.get_legend_handles_labels()[1])
            left.legend(
                fontsize=8,
                loc="upper left",
                bbox_to_anchor=(0.0, -0.2),
                ncol=min(len(members), 5 if longest <= 22 else 3),  # no wider than the axes
                frameon=False,
            )
            left.grid(True, alpha=0.3)
            right.axhline(HALF * power, color="black", linestyle=":", linewidth=0.8)
            right.set_xscale("log")
            low = float(np.min(densities))
            ticks = FEW_ROUND_TICKS if low >= 0.5 else TICKS
            right.set_xticks([t for t in ticks if low * 0.9 <= t <= 1.0], minor=False)
            right.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            right.xaxis.set_minor_formatter(NullFormatter())
            right.invert_xaxis()
            right.set_xlabel("density")
            right.set_ylabel("corr per round")
            right.set_title("filled: peak; open: right after the prune", fontsize=8)
            right.grid(True, which="both", alpha=0.3)
        first = lines[0].settings
        fig.suptitle(f"{first['data']} / {first['model']}, experiment {first['experiment']}", fontsize=10)
        fig.tight_layout()
        return save_figure(fig, out_stem)
    finally:
        plt.close(fig)
