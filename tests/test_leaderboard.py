"""Leaderboard tables, reference rows, renderers and plots on synthetic records with known values."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import math
import re

import pytest

from noprune.errors import UserError
from noprune.report import references
from noprune.report.leaderboard import FORMATS, Table, build_tables, render
from noprune.report.plots import plot_metric
from noprune.sweep.store import Record
from tests.conftest import md_rows

DENSITIES = (1.0, 0.1, 0.01)
# Dyadic values, so means and stds are exact in floating point.
BASE = {
    "random": {1.0: 0.75, 0.1: 0.5, 0.01: 0.25},
    "snip": {1.0: 0.6875, 0.1: 0.625, 0.01: 0.375},
    "synflow": {1.0: 0.625, 0.1: 0.5625, 0.01: 0.5},
}
OFFSETS = {0: -0.0625, 1: 0.0, 2: 0.0625}  # sample std exactly 0.0625, mean exactly BASE
BEST = {1.0: "random", 0.1: "snip", 0.01: "synflow"}

# The SynFlow paper's Fig. 6 (docs/SCIENCE.md §5), copied independently of noprune.report.references:
# VGG-16-BN / CIFAR-10 at densities 1, 0.1, 0.01 (alpha = 0, 1, 2).
SCIENCE_CIFAR10_VGG16 = {
    "random": {1.0: 93.5, 0.1: 91.1, 0.01: 79.1},
    "magnitude": {1.0: 93.5, 0.1: 93.1, 0.01: 89.8},
    "snip": {1.0: 93.5, 0.1: 92.3, 0.01: 89.1},
    "grasp": {1.0: 93.4, 0.1: 91.8, 0.01: 87.5},
    "synflow": {1.0: 93.5, 0.1: 93.3, 0.01: 90.1},
}


def config(
    pruner: str,
    density: float,
    seed: int,
    *,
    data: str = "cifar10",
    model: str = "vgg16",
    epochs: int = 10,
    ablation: str | None = None,
    scope: str = "global",
    experiment: str = "accuracy",
    **prune: object,
) -> dict:
    return {
        "experiment": experiment,
        "data": data,
        "model": model,
        "seed": seed,
        "prune": {"pruner": pruner, "density": density, "scope": scope, "ablation": ablation, **prune},
        "train": {"optimizer": "sgd", "lr": 0.1, "epochs": epochs, "batch_size": 128},
    }


def record(cfg: dict, value: float | None, status: str = "done", metric: str = "test_accuracy") -> Record:
    metrics = None if value is None else {metric: value, "test_loss": 1.0 - value}
    key = f"{cfg['prune']['pruner']}-{cfg['prune']['density']}-{cfg['seed']}-{status}-{id(cfg)}"
    return Record(key=key, config=cfg, status=status, metrics=metrics)


def grid(**kwargs: object) -> list[Record]:
    """3 seeds x 3 pruners x 3 densities, inserted in a scrambled order."""
    out = []
    for pruner in ("synflow", "random", "snip"):
        for density in (0.01, 1.0, 0.1):
            for seed in (2, 0, 1):
                out.append(
                    record(config(pruner, density, seed, **kwargs), BASE[pruner][density] + OFFSETS[seed])
                )
    return out


def only(tables: list[Table]) -> Table:
    assert len(tables) == 1, [t.title for t in tables]
    return tables[0]


def test_cells_are_exact_means_stds_and_counts() -> None:
    table = only(build_tables(grid()))
    assert table.densities == DENSITIES
    assert [r.label for r in table.measured_rows] == ["random", "snip", "synflow"]
    for row in table.measured_rows:
        assert set(row.cells) == set(DENSITIES)
        for d in DENSITIES:
            cell = row.cells[d]
            assert cell.mean == BASE[row.label][d]
            assert cell.std == 0.0625
            assert cell.n == 3
    assert table.scale == 100.0


def test_single_seed_has_zero_std() -> None:
    table = only(build_tables([record(config("snip", 0.1, 0), 0.5)]))
    cell = table.row("snip").cells[0.1]
    assert (cell.mean, cell.std, cell.n) == (0.5, 0.0, 1)


def test_a_single_seed_shows_its_value_without_a_spread_and_a_column_of_ties_no_bold() -> None:
    records = [
        record(config("snip", 0.1, 0), 0.5, metric="information_lower"),
        record(config("random", 0.1, 0), 0.0, metric="information_lower"),
        record(config("snip", 0.2, 0), 0.0, metric="information_lower"),
        record(config("random", 0.2, 0), 0.0, metric="information_lower"),
    ]
    text = render(build_tables(records, "information_lower"), "md")
    rows = {r[0]: r[1:] for r in md_rows(text)}
    assert rows["snip"] == ["0 (1)", "**0.5 (1)**"]  # at 0.2 both read 0: neither is best
    assert rows["random"] == ["0 (1)", "0 (1)"]
    assert "± 0" not in text and "accuracies in percent" not in text
    assert "accuracies in percent" in render(build_tables(grid()), "md")


def test_best_is_marked_per_column_and_references_never_compete() -> None:
    table = only(build_tables(grid()))
    for d in DENSITIES:
        best = [r.label for r in table.rows if d in r.cells and r.cells[d].best]
        assert best == [BEST[d]]
    assert table.reference_rows  # the published numbers (~90%) beat every measured value (<= 81%)
    assert not any(c.best for r in table.reference_rows for c in r.cells.values())


def test_lower_is_better_for_losses() -> None:
    table = only(build_tables(grid(), metric="test_loss"))
    for d in DENSITIES:
        best = [r.label for r in table.rows if r.cells[d].best]
        assert best == [BEST[d]]  # loss = 1 - accuracy, so the lowest loss is the best accuracy
    assert not table.reference_rows  # references are test accuracies only
    assert table.format_cell(table.row("random"), table.row("random").cells[1.0]) == "0.25 ± 0.0625 (3)"


def test_row_order_fixed_then_alphabetical() -> None:
    pruners = ["zeta", "imp", "synflow", "alpha", "grasp", "magnitude_after", "snip", "magnitude", "random"]
    recs = [record(config(p, 0.1, 0), 0.5) for p in pruners]
    recs.append(record(config("snip", 0.1, 0, ablation="shuffle"), 0.5))
    recs.append(record(config("snip", 0.1, 0, scope="layerwise"), 0.5))
    table = only(build_tables(recs))
    assert [r.label for r in table.measured_rows] == [
        "random",
        "magnitude",
        "snip",
        "snip+shuffle",
        "snip (layerwise)",
        "grasp",
        "synflow",
        "magnitude_after",
        "imp",
        "alpha",
        "zeta",
    ]
    assert [r.label for r in table.reference_rows] == [
        f"ref: {p} (Tanaka et al. 2020)" for p in ("random", "magnitude", "snip", "grasp", "synflow")
    ]
    assert table.rows[-1].is_reference and not table.rows[0].is_reference


def test_failed_pending_and_nonfinite_records_are_ignored() -> None:
    noise = [
        record(config("random", 1.0, 7), 0.0, status="failed"),
        record(config("random", 1.0, 8), 0.0, status="pending"),
        record(config("random", 1.0, 9), 0.0, status="running"),
        record(config("snip", 0.5, 0), 0.0, status="failed"),  # would add a column if counted
        record(config("random", 1.0, 10), math.nan),
        record(config("random", 1.0, 11), math.inf),
        record(config("random", 1.0, 12), None),
        Record("other-metric", config("random", 1.0, 13), "done", {"train_accuracy": 0.0}),
    ]
    assert build_tables(grid() + noise) == build_tables(grid())
    assert build_tables(noise) == []


def test_different_train_epochs_go_to_a_separate_table() -> None:
    odd = record(config("random", 1.0, 0, epochs=99), 0.125)
    tables = build_tables([*grid(), odd])
    assert len(tables) == 2
    main, other = tables
    assert main.extras == (("train.epochs", "10"),) and "train.epochs=10" in main.title
    assert other.extras == (("train.epochs", "99"),) and "train.epochs=99" in other.title
    assert main.row("random").cells[1.0].mean == 0.75 and main.row("random").cells[1.0].n == 3
    assert [r.label for r in other.measured_rows] == ["random"]
    assert other.row("random").cells[1.0].n == 1


def test_experiments_are_separate_tables() -> None:
    tables = build_tables(grid() + grid(experiment="memorise"))
    assert [t.experiment for t in tables] == ["accuracy", "memorise"]
    assert all(t.row("snip").cells[0.1].n == 3 for t in tables)


def test_pruner_hyperparameters_label_rows_not_tables() -> None:
    recs = grid() + [record(config("imp", 0.1, s, rewind_step=100), 0.5) for s in range(3)]
    table = only(build_tables(recs))
    assert [r.label for r in table.measured_rows] == ["random", "snip", "synflow", "imp [rewind_step=100]"]


def test_canonical_configs_pool_with_full_ones() -> None:
    from noprune.config import ExperimentConfig, PruneConfig, canonical

    full = dataclasses.asdict(
        ExperimentConfig(data="cifar10", model="vgg16", seed=0, prune=PruneConfig("snip", 0.1))
    )
    short = canonical(ExperimentConfig(data="cifar10", model="vgg16", seed=1, prune=PruneConfig("snip", 0.1)))
    assert "train" not in short
    table = only(build_tables([record(full, 0.5), record(short, 0.75)]))
    assert table.row("snip").cells[0.1].n == 2


def test_reference_rows_for_cifar10_vgg16() -> None:
    table = only(build_tables(grid()))
    refs = {r.pruner: r for r in table.reference_rows}
    assert set(refs) == set(SCIENCE_CIFAR10_VGG16)
    for pruner, cells in SCIENCE_CIFAR10_VGG16.items():
        row = refs[pruner]
        assert row.label == f"ref: {pruner} (Tanaka et al. 2020)"
        assert set(row.cells) == set(DENSITIES)
        for d, percent in cells.items():
            assert row.cells[d].mean * table.scale == pytest.approx(percent, abs=1e-9)
            assert table.format_cell(row, row.cells[d]) == f"{percent:.1f}"
    assert table.format_cell(refs["synflow"], refs["synflow"].cells[0.01]) == "90.1"
    md = render([table], "md")
    ref_lines = [line for line in md.splitlines() if "ref: " in line]
    assert len(ref_lines) == 5 and not any("**" in line for line in ref_lines)
    assert ["*ref: synflow (Tanaka et al. 2020)*", "93.5", "93.3", "90.1"] in md_rows(md)
    assert references.SOURCE in md


def test_reference_rows_only_where_they_exist() -> None:
    assert not only(build_tables(grid(data="digits", model="vgg16"))).reference_rows
    assert not only(build_tables(grid(data="cifar10", model="mlp:300,100"))).reference_rows
    # no reference density among the table's densities -> no reference rows
    assert not only(build_tables([record(config("snip", 0.5, 0), 0.5)])).reference_rows
    # timm:resnet18 matches the ResNet-18 references; cifar100 has VGG-16 only
    table = only(build_tables(grid(model="timm:resnet18")))
    assert table.row("ref: magnitude (Tanaka et al. 2020)").cells[0.01].mean == pytest.approx(0.10)
    assert not only(build_tables(grid(data="cifar100", model="resnet18"))).reference_rows


def test_reference_density_matches_rounded_suite_density() -> None:
    table = only(build_tables([record(config("synflow", 0.0316227766, 0), 0.5)]))
    assert table.densities == (0.0316227766,)
    assert table.row("ref: synflow (Tanaka et al. 2020)").cells[0.0316227766].mean * 100 == pytest.approx(
        92.1
    )


def test_reference_rows_function() -> None:
    assert references.reference_rows("cifar10", "vgg16")["synflow"][0.01] == 90.1
    assert references.reference_rows("cifar10:noise=0", "vgg16:width=2") == references.reference_rows(
        "cifar10", "vgg16"
    )
    assert references.reference_rows("cifar10", "timm:resnet18") == references.reference_rows(
        "cifar10", "resnet18"
    )
    assert references.reference_rows("cifar100", "vgg16")["synflow"][10**-1.5] == 69.0
    assert references.reference_rows("digits", "vgg16") == {}
    assert references.reference_rows("cifar10", "resnet20") == {}
    rows = references.reference_rows("cifar10", "vgg16")
    rows["synflow"][0.01] = 0.0  # a copy: the module's data is unchanged
    assert references.REFERENCES[("cifar10", "vgg16")]["synflow"][0.01] == 90.1


def test_every_format_renders() -> None:
    tables = build_tables([*grid(), record(config("random", 1.0, 0, epochs=99), 0.125)])
    md = render(tables, "md")
    lines = md.splitlines()
    assert lines[0].startswith("Each cell: mean ± std")
    header = next(i for i, line in enumerate(lines) if line.startswith("| pruner"))
    assert md_rows(lines[header]) == [["pruner \\ density", "1", "0.1", "0.01"]]
    assert re.fullmatch(r"\|:-+\|(-+:\|){3}", lines[header + 1])  # label left, numbers right
    assert ["random", "**75.0 ± 6.2 (3)**", "50.0 ± 6.2 (3)", "25.0 ± 6.2 (3)"] in md_rows(md)
    assert md.count("### ") == 2 and "mean ± std (n seeds)" in md and "test_accuracy" in md

    latex = render(tables, "latex")
    assert latex.count(r"\begin{tabular}") == 2 and latex.count(r"\end{tabular}") == 2
    assert r"\toprule" in latex and r"\bottomrule" in latex
    assert r"\textbf{75.0 $\pm$ 6.2 (3)}" in latex
    assert r"\textit{ref: synflow (Tanaka et al. 2020)}" in latex
    assert r"train.epochs=99" in latex and r"test\_accuracy" in latex

    rows = list(csv.DictReader(io.StringIO(render(tables, "csv"))))
    assert {"task", "pruner", "density", "mean", "std", "n", "is_reference"} <= set(rows[0])
    measured = [r for r in rows if r["is_reference"] == "false"]
    refs = [r for r in rows if r["is_reference"] == "true"]
    assert len(measured) == 9 + 1 and len(refs) == 5 * 3 + 5 * 1  # the epochs=99 table has density 1 only
    snip = next(r for r in measured if r["pruner"] == "snip" and float(r["density"]) == 0.1)
    assert (float(snip["mean"]), float(snip["std"]), int(snip["n"])) == (0.625, 0.0625, 3)
    assert snip["is_best"] == "true"
    ref = next(r for r in refs if r["pruner"].startswith("ref: synflow") and float(r["density"]) == 0.01)
    assert float(ref["mean"]) == pytest.approx(0.901) and ref["std"] == "" and ref["is_best"] == "false"

    page = render(tables, "html")
    assert page.count("<table>") == 2 and page.count("</table>") == 2
    assert "<b>75.0 ± 6.2 (3)</b>" in page and "<i>ref: synflow (Tanaka et al. 2020)</i>" in page
    assert page.count("<h3>") == 2

    rst = render(tables, "rst")  # any other tabulate format; the best cell marked with *
    assert "75.0 ± 6.2 (3) *" in rst and "* = best" in rst

    for fmt in FORMATS:
        assert render([], fmt).strip() != "" or fmt == "csv"


def test_best_is_chosen_on_the_shown_value_and_ties_are_all_bold() -> None:
    # means 0.977 and 0.97700002 show as 97.7 both: both best, as a reader sees them
    records = [record(config("random", 0.5, s), 0.977) for s in range(3)]
    records += [record(config("snip", 0.5, s), 0.97700002) for s in range(3)]
    records += [record(config("imp", 0.5, s), 0.9764) for s in range(3)]
    table = only(build_tables(records))
    assert [r.label for r in table.rows if r.cells[0.5].best] == ["random", "snip"]
    assert ["imp", "97.6 ± 0.0 (3)"] in md_rows(render([table], "md"))


def test_unknown_format_is_a_user_error() -> None:
    with pytest.raises(UserError) as info:
        render(build_tables(grid()), "xlsx")
    assert "\n" not in str(info.value) and "xlsx" in str(info.value) and "md" in str(info.value)


def test_plot_metric_writes_png_and_pdf(tmp_path) -> None:
    paths = plot_metric(grid(), "test_accuracy", tmp_path / "accuracy")
    assert paths == [tmp_path / "accuracy.png", tmp_path / "accuracy.pdf"]
    png, pdf = paths
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert png.stat().st_size > 1000 and pdf.stat().st_size > 1000


def test_plot_metric_one_file_pair_per_task(tmp_path) -> None:
    recs = grid() + grid(data="digits", model="mlp:300,100")
    paths = plot_metric(copy.deepcopy(recs), "test_loss", tmp_path / "sub" / "loss")
    assert len(paths) == 4 and all(p.stat().st_size > 0 for p in paths)
    names = sorted(p.name for p in paths)
    assert names == [  # only what sets the tasks apart: data and model, not the experiment
        "loss_cifar10_vgg16.pdf",
        "loss_cifar10_vgg16.png",
        "loss_digits_mlp_300_100.pdf",
        "loss_digits_mlp_300_100.png",
    ]
    assert plot_metric(recs, "no_such_metric", tmp_path / "none") == []


def test_short_names_keep_only_what_differs_in_safe_characters() -> None:
    from noprune.report.plots import short_names

    tasks = [
        ("noise_correlation", "teacher:n=1000,d=50", "mlp:100,100", "batch_size-64"),
        ("noise_correlation", "teacher:n=1000,d=50", "mlp:100,100", "batch_size-256"),
    ]
    assert short_names(tasks) == ["batch_size-64", "batch_size-256"]
    assert short_names(tasks[:1]) == [""]
    assert short_names([("a", "x=1"), ("a", "x:1")]) == ["x_1_0", "x_1_1"]  # told apart all the same


def test_bands_stay_in_the_metric_range_and_one_density_draws_nothing(tmp_path) -> None:
    from noprune.report.plots import band, metric_range

    assert metric_range("test_accuracy", 100.0) == (0.0, 100.0)
    assert metric_range("memorised_fraction") == (0.0, 1.0)
    assert metric_range("information_lower")[0] == 0.0 and metric_range("corr") == (-math.inf, math.inf)
    assert band([0.9, 0.1], [0.2, 0.3], (0.0, 1.0)) == ([0.7, 0.0], [1.0, pytest.approx(0.4)])
    one = [r for r in grid() if r.config["prune"]["density"] == 0.1]
    assert plot_metric(one, "test_accuracy", tmp_path / "one") == []


def test_rows_of_one_pruner_at_several_settings_get_distinct_shades_of_its_colour() -> None:
    """E2's SynFlow at 2, 3 and 100 rounds: three rows, three shades of SynFlow's colour (the
    last at full colour), every other pruner its own colour, a reference row the plain one."""
    from matplotlib.colors import to_rgb

    from noprune.report.leaderboard import Row
    from noprune.report.plots import pruner_color, row_colors

    rows = [
        Row("imp", "imp", {}),
        *(Row(f"synflow [synflow_rounds={r}]", "synflow", {}) for r in (2, 3, 100)),
        Row("ref: synflow", "synflow", {}, is_reference=True),
    ]
    imp, two, three, hundred, reference = (to_rgb(c) for c in row_colors(rows))
    assert imp == to_rgb(pruner_color("imp"))
    assert hundred == pytest.approx(to_rgb(pruner_color("synflow"))) == reference
    assert len({two, three, hundred}) == 3 and sum(two) > sum(three) > sum(hundred)  # light to full
