"""Figures a reader takes in at a glance: every pruner its own colour and marker (a line style
per family), axis labels in words with units, density ticks that do not print over each other.
Each committed figure kind is drawn from its committed runs and its axes inspected."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib
import pytest
from matplotlib import pyplot

import pruners
from noprune.report import information_plot, memorization_plot, plots
from noprune.report.leaderboard import build_tables
from noprune.sweep.runs_csv import read_rows
from noprune.sweep.store import Record

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[1]


def committed(suite: str) -> list[Record]:
    return [Record.from_row(row) for row in read_rows(ROOT / "results" / suite / "runs.csv")]


@pytest.fixture
def drawn(monkeypatch) -> list:
    """The figures the plot functions save, kept open instead of written."""
    figures: list = []

    def keep(fig, stem):
        figures.append(fig)
        return [Path(f"{stem}.png")]

    for module in (plots, memorization_plot, information_plot):
        monkeypatch.setattr(module, "save_figure", keep)
    monkeypatch.setattr(pyplot, "close", lambda fig: None)
    return figures


def test_every_builtin_pruner_has_its_own_colour_and_marker_and_a_family() -> None:
    styles = {name: (cls.color, cls.marker) for name, cls in pruners.PRUNERS.items()}
    assert len(set(styles.values())) == len(styles) >= 17
    assert len({color for color, _ in styles.values()}) == len(styles)  # the colour alone tells them apart
    assert {cls.family for cls in pruners.PRUNERS.values()} == set(pruners.FAMILIES)


def lines_of(ax) -> dict[str, tuple]:
    """{legend label: (colour, marker, line style)} of the lines drawn on ``ax``."""
    return {
        line.get_label(): (line.get_color(), line.get_marker(), line.get_linestyle())
        for line in ax.get_lines()
        if not line.get_label().startswith("_")
    }


def visible_ticks(ax) -> list[float]:
    return [t.get_position()[0] for t in ax.get_xticklabels() if t.get_text()]


def test_the_accuracy_figure_of_quick_reads_at_a_glance(drawn) -> None:
    records = committed("quick")
    plots.plot_metric(records, "test_accuracy", Path("x"))
    (fig,) = drawn
    ax = fig.axes[0]
    lines = lines_of(ax)
    names = {r.config.get("prune", {}).get("pruner", "random") for r in records}
    assert set(lines) == names and len(names) == 16
    assert len(set(lines.values())) == len(lines)  # no two look alike
    assert lines["imp"][2] == "-" and lines["random"][2] == "--"  # after training solid, random dashed
    assert ax.get_ylabel() == "test accuracy (%)"
    assert ax.get_xlabel() == "density (fraction of weights kept)"


def test_density_labels_that_would_print_over_each_other_are_left_out() -> None:
    """E1's densities: 0.025 sits 0.08 decades from 0.03 and printed over it ("0.030.025")."""
    densities = [0.1, 0.07, 0.045, 0.03, 0.025, 0.02, 0.015, 0.01, 0.007]
    labels = plots.spaced_labels(densities)
    assert labels == ["0.1", "0.07", "0.045", "0.03", "", "0.02", "0.015", "0.01", "0.007"]


def test_the_memorisation_figures_label_their_axes_and_space_their_ticks(drawn) -> None:
    """E2 on noisy digits (the same figures as E1's, from 640 runs instead of 31,500)."""
    records = committed("e2-noisy-digits")
    plots.plot_metric(records, "memorised_fraction", Path("x"))
    memorization_plot.plot_memorization(records, Path("out"))
    by_density = drawn[0].axes[0]
    assert by_density.get_ylabel() == "fraction of random labels memorised"
    ticks = visible_ticks(by_density)
    assert len(ticks) == 4 and min(abs(math.log10(a / b)) for a, b in itertools.pairwise(ticks)) >= 0.1
    for fig in drawn[1:3]:  # against sparsity, with the paper's readings
        ax = fig.axes[0]
        assert ax.get_xlabel() == "sparsity (fraction of weights pruned)" and ax.get_ylabel()
        lines = lines_of(ax)
        assert len(set(lines.values())) == len(lines) >= 14


def test_the_information_figure_names_every_pruner_on_its_own_row(drawn) -> None:
    records = [r for r in committed("mi-certified") if r.status == "done"]
    information_plot.figures(records, Path("out"))
    assert drawn
    ax = drawn[0].axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert {label.split(" [")[0] for label in labels} == {"snip", "imp", "force", "magnitude_after"}
    assert len(labels) == len(set(labels))
    assert "bits" in drawn[0].axes[0].get_xlabel() or "bit" in "".join(a.get_xlabel() for a in drawn[0].axes)


def test_table_metric_labels_are_words_not_field_names() -> None:
    tables = build_tables(committed("e2-noisy-digits"), "train_accuracy")
    assert tables and plots.metric_label("train_accuracy", True) == "train accuracy (%)"
    assert plots.metric_label("some_new_metric") == "some new metric"
