"""The combined report (issue 6): per data set and model, per pruner and density, the numbers
that give p_eff its meaning side by side: nnz, the bounds on I(mask; data), p_eff, the kept
weights on an input-to-output path, the dense-equivalent parameter count, the fraction memorised
and the Lipschitz bounds.

It reads the ``runs.csv`` files that ``noprune run`` commits under ``results/SUITE/`` (every run
with its config and metrics), so the report is rebuilt from committed results alone. Runs of
different experiments are joined on (data, model, pruner, ablation, scope, density and the
:data:`VARIANT_FIELDS` off their defaults); each cell is the mean over the seeds of the done
runs, with the number of runs in parentheses where it is more than one. The dense-equivalent
column (E7) reads each row's mean fraction memorised off the curve of dense ``memorization``
runs with the same data and training (``noprune.report.dense_equivalent``).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from tabulate import tabulate

import pruners
from noprune.config import flat_config, flat_defaults, pruner_settings
from noprune.errors import UserError
from noprune.paths import write_text
from noprune.report.dense_equivalent import METRIC, DenseCurve, dense_curves, match_key
from noprune.report.leaderboard import (
    Record,
    density_labels,
    pruner_label,
    sortable,
)
from noprune.sweep.runs_csv import read_rows


@dataclass(frozen=True)
class Column:
    experiment: str
    metric: str
    header: str
    digits: int = 2


COLUMNS: tuple[Column, ...] = (
    Column("mask_information", "information_lower", "I ≥ (bits)"),
    Column("mask_information", "information_upper", "I ≤ (bits)"),
    Column("mask_information", "peff_low", "p_eff ≥", 0),
    Column("mask_information", "peff_high", "p_eff ≤", 0),
    Column("memorization", "effective_nnz", "nnz on a path", 0),
    Column("memorization", "memorised_fraction", "memorised"),
    Column("robustness", "interpolated", "interpolated"),
    Column("robustness", "grad_norm_train_max", "Lip ≥ (max ‖∇f‖, train)"),
    Column("robustness", "adversarial_max", "Lip ≥ (adversarial)"),
    Column("robustness", "spectral_product", "Lip ≤ (∏ ‖W‖₂)", 1),
    Column("robustness", "robustness_scale_nnz", "√(nd/nnz)"),
)
#: nnz is taken from whichever experiment recorded it first, in this order.
NNZ_SOURCES = ("mask_information", "memorization", "robustness", "accuracy")
DENSE_HEADER = "dense-equivalent (E7)"


def read_runs(paths: Iterable[Path]) -> list[Record]:
    """Records from ``runs.csv`` files (``noprune.sweep.runs_csv``)."""
    return [Record.from_row(row) for path in paths for row in read_rows(path)]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


class RowKey(NamedTuple):
    """A report row: the pruner, its label (with its settings off the defaults), those settings
    as (field, sortable value) pairs, and the density."""

    pruner: str
    label: str
    settings: tuple[Any, ...]
    density: float


VARIANT_FIELDS = ("init", "prune.biases")
"""Config fields that change what a pruner's mask is, besides the pruner's own settings
(``prune.settings.NAME``): runs that differ in one of them are different rows (``synflow
[rounds=3]``), never averaged together."""


def variant_note(flat: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """(field, value) of the :data:`VARIANT_FIELDS` and the pruner's settings that are off their
    defaults (``pruner_label``'s note), from a :func:`noprune.config.flat_config`."""
    defaults = flat_defaults()
    own = pruner_settings(str(flat["prune.pruner"])) if flat["prune.pruner"] in pruners.PRUNERS else {}
    fields = [*VARIANT_FIELDS, *sorted(f for f in flat if f.startswith("prune.settings."))]
    return tuple(
        (field, flat.get(field))
        for field in fields
        if flat.get(field) != _listed(defaults.get(field, own.get(field.removeprefix("prune.settings."))))
    )


def _listed(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _row_of(flat: dict[str, Any]) -> tuple[tuple[str, str], RowKey]:
    """A run's (data, model) task and its report row, from its flat config."""
    pruner = str(flat["prune.pruner"])
    note = variant_note(flat)
    label = pruner_label(pruner, flat.get("prune.ablation") or None, str(flat["prune.scope"]), note)
    settings = tuple((f, sortable(v)) for f, v in note)
    row = RowKey(pruner, label, settings, round(float(flat["prune.density"]), 9))
    return (str(flat["data"]), str(flat["model"])), row


def build_report(records: Iterable[Record], columns: Sequence[Column] = COLUMNS) -> str:
    """Markdown: one table per (data, model) with at least one column present."""
    # (data, model) -> row -> (experiment, metric) -> values
    cells: dict[tuple[str, str], dict[RowKey, dict[tuple[str, str], list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    wanted = {(c.experiment, c.metric) for c in columns} | {(e, "nnz") for e in NNZ_SOURCES}
    records = list({r.key: r for r in records}.values())  # a run shared by two suites counts once
    curves = dense_curves(records)
    # (data, model) -> row -> dense curve key -> memorised fractions, for the E7 column
    memorised: dict[tuple[str, str], dict[RowKey, dict[str, list[float]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    done = [r for r in records if r.status == "done" and r.metrics]
    flats = [flat_config(record.config) for record in done]
    keyed = [(record, flat, *_row_of(flat)) for record, flat in zip(done, flats, strict=True)]
    # bounds from designs of different sizes are not averaged: each row keeps those of its largest
    most_draws: dict[tuple[tuple[str, str], RowKey], int] = defaultdict(int)
    for _, flat, task, row in keyed:
        if flat["experiment"] == "mask_information":
            most_draws[task, row] = max(most_draws[task, row], int(flat["info.draws"]))
    for record, flat, task, row in keyed:
        experiment = str(flat["experiment"])
        if experiment == "mask_information" and int(flat["info.draws"]) < most_draws[task, row]:
            continue
        # a network that did not interpolate is often constant: its Lipschitz bounds say nothing
        fitted = experiment != "robustness" or record.metrics.get("interpolated") == 1.0
        for metric, value in record.metrics.items():
            number = _number(value)
            if (experiment, metric) in wanted and number is not None and (fitted or metric == "interpolated"):
                cells[task][row][(experiment, metric)].append(number)
        key = match_key(record.config)
        if key in curves and _number(record.metrics.get(METRIC)) is not None:
            memorised[task][row][key].append(float(record.metrics[METRIC]))
    sections = []
    for task, rows in sorted(cells.items()):
        present = [c for c in columns if any((c.experiment, c.metric) in v for v in rows.values())]
        dense = {row: _dense_equivalent(curves, by_key) for row, by_key in memorised[task].items()}
        if not present:
            continue
        sections.append(_table(*task, rows, present, dense))
    if not sections:
        return "No runs with report columns.\n"
    note = (
        "Each cell: mean over seeds (number of runs in parentheses when more than one); Lipschitz "
        "bounds over the runs that interpolated only (the interpolated column: the fraction that "
        "did). I bounds hold jointly at the confidence stated in each suite's leaderboard; "
        "p_eff = nnz + I (bits, informal form); where suites bounded I at one row with different "
        "numbers of label draws, the bounds of the most draws are shown. Columns come from different "
        "experiments (and so different suites), joined on data, model, pruner and density.\n"
    )
    return note + "\n" + "\n".join(sections)


def _table(
    data: str,
    model: str,
    rows: dict[RowKey, dict[tuple[str, str], list[float]]],
    columns: Sequence[Column],
    dense: dict[RowKey, str],
) -> str:
    def order(row: RowKey) -> tuple[Any, ...]:
        # settings compare as values (rounds=2 before rounds=10)
        return pruners.display_rank(row.pruner), row.label.partition(" [")[0], row.settings, -row.density

    headers = ["pruner", "density", "nnz", *(c.header for c in columns), *([DENSE_HEADER] if dense else [])]
    body = []
    for row in sorted(rows, key=order):
        values = rows[row]
        nnz = next((values[(e, "nnz")] for e in NNZ_SOURCES if (e, "nnz") in values), None)
        shown = [_cell(nnz, 0)] + [_cell(values.get((c.experiment, c.metric)), c.digits) for c in columns]
        shown += [dense.get(row, "–")] if dense else []
        body.append([row.label, density_labels([row.density])[0], *shown])
    align = ["left"] + ["right"] * (len(headers) - 1)
    grid = tabulate(body, headers, tablefmt="pipe", colalign=align, disable_numparse=True)
    lines = [f"### {data} / {model}", "", grid]
    return "\n".join(lines) + "\n"


def _dense_equivalent(curves: dict[str, DenseCurve], by_key: dict[str, list[float]]) -> str:
    """The dense parameter count memorising the row's mean fraction (E7), read off the curve
    of dense runs with the same data and training; "< n" / "> n" outside the measured widths."""
    key, fractions = next(iter(by_key.items()))
    relation, params = curves[key].equivalent(statistics.fmean(fractions))
    return f"{params:.0f}" if relation == "=" else f"{relation} {params:.0f}"


def _cell(values: list[float] | None, digits: int) -> str:
    if not values:
        return "–"
    text = f"{statistics.fmean(values):.{digits}f}"
    return text if len(values) == 1 else f"{text} ({len(values)})"


def write_report(results_dir: Path, out: Path | None = None) -> Path:
    """Build the report from every ``results_dir/*/runs.csv`` and write it (default
    ``results_dir/report.md``), with E7's figure beside it where the runs hold a dense curve
    (``dense_equivalent.png``: the sparse networks placed on the dense curve)."""
    from noprune.report.memorization_plot import plot_dense_curves

    paths = sorted(Path(results_dir).glob("*/runs.csv"))
    if not paths:
        raise UserError(f"no runs.csv under {results_dir}/*/ (run a suite with noprune run first)")
    out = out or Path(results_dir) / "report.md"
    suites = ", ".join(f"`{p.parent.name}`" for p in paths)
    records = read_runs(paths)
    body = build_report(records)
    out.parent.mkdir(parents=True, exist_ok=True)
    figures = [p for p in plot_dense_curves(records, out.parent / "dense_equivalent") if p.suffix == ".png"]
    links = "".join(f"![E7: sparse networks on the dense curve]({p.name})\n\n" for p in figures)
    write_text(
        out,
        f"# Report: nnz, I(mask; data), p_eff, memorisation and Lipschitz side by side\n\n"
        f"Produced by `noprune report` from the committed runs of the suites {suites}.\n\n{links}{body}",
    )
    return out
