"""Leaderboard tables from stored results: one table per task, pruners as rows, densities as columns.

A cell is the mean, the sample standard deviation (ddof=1; 0 for a single seed) and the number
of seeds n of one metric over the runs that differ only in their seed. Published numbers
(``noprune.report.references``, docs/SCIENCE.md section 5) are added as labelled reference rows below the
measured ones; they are never pooled with measurements and never compete for "best".

Grouping (what counts as one task): (experiment, data spec, model spec) plus every other config
field that varies across the runs of that task, except the seeds (``seed``, ``train.seed``) and
the row and column fields (``prune.pruner``, ``prune.ablation``, ``prune.scope``,
``prune.density``). Varying ``prune.*`` settings (``batch_per_class``, ``pretrain_epochs``,
``rewind_step``) are pruner hyperparameters: they split rows, e.g. ``imp [rewind_step=100]``,
not tables. Everything else that varies (``train.epochs``, ``train.lr``, ...) splits tables, and
the value is shown in the title, so runs with different budgets are never pooled silently.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tabulate import tabulate, tabulate_formats

import pruners
from noprune.config import flat_config, pruner_settings
from noprune.errors import UnknownNameError
from noprune.report import references
from noprune.sweep.store import Record

#: Relative tolerance under which two densities are the same column (10**-1.5 == 0.0316227766).
DENSITY_RTOL = 1e-6

_TASK_FIELDS = ("experiment", "data", "model")
_ROW_FIELDS = ("prune.pruner", "prune.ablation", "prune.scope")
#: Sample sizes and settings of an estimate (label draws, fit draws, the mask code's parents):
#: where they differ between pruners they are named in the row, so pruners share a table.
_SAMPLE_FIELDS = ("info.draws", "info.fit_draws", "info.parents")
_COLUMN_FIELD = "prune.density"
_MISSING = "–"
_NOTE = (
    "Each cell: mean ± std over seeds (sample std, ddof=1) and the number of seeds n in "
    "parentheses (one seed: its value and (1)){percent}; bold = best measured mean per density as "
    "shown (lowest for losses and times, highest otherwise; means that read the same are all bold, "
    "none where every row reads the same); columns are densities (fraction of weights kept); rows "
    "starting with 'ref:' are published numbers, not measured here, and never compete."
)


@dataclass(frozen=True)
class Cell:
    """One table cell in the metric's own units (accuracies as stored, e.g. fractions)."""

    mean: float
    std: float
    n: int
    best: bool = False


@dataclass(frozen=True)
class Row:
    """One row: a pruner label and its cells keyed by the table's column densities."""

    label: str
    pruner: str
    cells: dict[float, Cell]
    is_reference: bool = False
    ablation: str | None = None
    scope: str = "global"


@dataclass(frozen=True)
class Table:
    """One task's leaderboard. ``scale`` multiplies values for display (100 for accuracies stored
    as fractions, else 1); ``extras`` are the config fields that set this table apart."""

    experiment: str
    data: str
    model: str
    extras: tuple[tuple[str, str], ...]
    metric: str
    densities: tuple[float, ...]
    rows: tuple[Row, ...]
    scale: float = 1.0
    reference_source: str | None = None

    @property
    def task(self) -> str:
        text = f"{self.data} / {self.model}, experiment {self.experiment}"
        if self.extras:
            text += " [" + ", ".join(f"{k}={v}" for k, v in self.extras) + "]"
        return text

    @property
    def is_accuracy(self) -> bool:
        return is_accuracy_metric(self.metric)

    @property
    def title(self) -> str:
        unit = " (%)" if self.is_accuracy else ""
        return f"{self.task} — {self.metric}{unit}: mean ± std (n seeds)"

    @property
    def slug(self) -> str:
        """A file-name-safe name of the task."""
        parts = [self.experiment, self.data, self.model, *(f"{k}-{v}" for k, v in self.extras)]
        return re.sub(r"[^A-Za-z0-9.=-]+", "_", "_".join(parts)).strip("_")

    @property
    def measured_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if not r.is_reference)

    @property
    def reference_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.is_reference)

    def row(self, label: str) -> Row:
        """The row with this label (KeyError if absent)."""
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(label)

    def format_cell(self, row: Row, cell: Cell) -> str:
        """The displayed text: ``91.2 ± 0.4 (3)`` for accuracies, 4 significant digits otherwise;
        reference cells show the published mean only."""
        mean, std = shown(cell.mean, self.metric, self.scale), shown(cell.std, self.metric, self.scale)
        if row.is_reference:
            return mean
        return f"{mean} ({cell.n})" if cell.n == 1 else f"{mean} ± {std} ({cell.n})"


def shown(value: float, metric: str, scale: float) -> str:
    """A value as a table shows it: accuracies in percent to 0.1, anything else to 4 significant
    digits. Best cells are chosen on this text, so two cells that read the same are both best."""
    return f"{value * scale:.1f}" if is_accuracy_metric(metric) else f"{value:.4g}"


def is_accuracy_metric(metric: str) -> bool:
    return "accuracy" in metric.lower()


def lower_is_better(metric: str) -> bool:
    """Losses, errors and times are better when lower; everything else when higher."""
    m = metric.lower()
    return any(word in m for word in ("loss", "seconds", "error"))


def pruner_label(
    pruner: str, ablation: str | None = None, scope: str = "global", note: Sequence[tuple[str, Any]] = ()
) -> str:
    """``snip``, ``snip+shuffle``, ``snip (layerwise)``, ``snip+shuffle (layerwise)``, and with
    ``note`` (config field, value) pairs ``synflow [rounds=3]``."""
    label = pruner + (f"+{ablation}" if ablation else "")
    if scope and scope != "global":
        label += f" ({scope})"
    if note:
        label += " [" + ", ".join(f"{f.rpartition('.')[2]}={v}" for f, v in note) + "]"
    return label


def reference_label(pruner: str) -> str:
    return f"ref: {pruner} ({references.CITATION})"


# ----------------------------------------------------------------------------------------------
# building


def build_tables(records: Iterable[Record], metric: str = "test_accuracy") -> list[Table]:
    """One table per task from the records with status "done" and a finite ``metric``."""
    groups: dict[tuple[str, str, str], list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for record in records:
        if record.status != "done" or not record.metrics:
            continue
        value = record.metrics.get(metric)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            continue
        flat = flat_config(record.config)
        task = tuple(str(flat.get(f, "")) for f in _TASK_FIELDS)
        groups[task].append((flat, float(value)))  # type: ignore[index]

    keyed: list[tuple[tuple[Any, ...], Table]] = []
    for (experiment, data, model), points in groups.items():
        keyed.extend(_task_tables(experiment, data, model, points, metric))
    keyed.sort(key=lambda kt: kt[0])
    return [table for _, table in keyed]


def _task_tables(
    experiment: str, data: str, model: str, points: list[tuple[dict[str, Any], float]], metric: str
) -> list[tuple[tuple[Any, ...], Table]]:
    fields = sorted(set().union(*(flat.keys() for flat, _ in points)))
    skip = {*_TASK_FIELDS, *_ROW_FIELDS, _COLUMN_FIELD}
    varying = [
        f
        for f in fields
        if f not in skip
        and f.rpartition(".")[2] != "seed"
        and len({_norm(flat.get(f)) for flat, _ in points}) > 1
    ]
    row_fields = [f for f in varying if f.startswith("prune.") or f in _SAMPLE_FIELDS]
    split_fields = [f for f in varying if f not in row_fields]

    # A pruner hyperparameter is named in a row label where it differs from the most common value
    # or where the same pruner ran with several values.
    modal = {f: Counter(_norm(flat.get(f)) for flat, _ in points).most_common(1)[0][0] for f in row_fields}
    per_label: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for flat, _ in points:
        for f in row_fields:
            per_label[_base_label(flat)][f].add(_norm(flat.get(f)))

    def off(flat: dict[str, Any], f: str) -> bool:
        """Off the usual value: a pruner setting off the pruner's default, any other field off
        its most common value."""
        if f.startswith("prune.settings."):
            return _norm(flat.get(f)) != _norm(setting_default(str(flat.get("prune.pruner")), f))
        return _norm(flat.get(f)) != modal[f]

    def annotation(flat: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
        seen = per_label[_base_label(flat)]
        return tuple((f, flat.get(f)) for f in row_fields if off(flat, f) or len(seen[f]) > 1)

    splits: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for flat, value in points:
        splits[_norm([flat.get(f) for f in split_fields])].append((flat, value))

    out = []
    for split_points in splits.values():
        first = split_points[0][0]
        extras_raw = [(f, first.get(f)) for f in split_fields]
        extras = tuple((f, _show(v)) for f, v in extras_raw)
        table = _make_table(experiment, data, model, extras, split_points, metric, annotation)
        sort_key = (experiment, data, model, tuple(sortable(v) for _, v in extras_raw))
        out.append((sort_key, table))
    return out


def _make_table(
    experiment: str,
    data: str,
    model: str,
    extras: tuple[tuple[str, str], ...],
    points: list[tuple[dict[str, Any], float]],
    metric: str,
    annotation: Callable[[dict[str, Any]], tuple[tuple[str, Any], ...]],
) -> Table:
    densities = _cluster([float(flat.get(_COLUMN_FIELD, 1.0)) for flat, _ in points])

    values: dict[tuple[Any, ...], dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for flat, value in points:
        pruner = str(flat.get("prune.pruner"))
        ablation = flat.get("prune.ablation") or None
        scope = str(flat.get("prune.scope") or "global")
        note = annotation(flat)
        row_key = (
            pruners.display_rank(pruner),
            pruner,
            scope != "global",
            scope,
            ablation or "",
            tuple((f, sortable(v)) for f, v in note),
            tuple((f, _show(v)) for f, v in note),
            ablation,
        )
        column = _column(float(flat.get(_COLUMN_FIELD, 1.0)), densities)
        values[row_key][column].append(value)

    all_values = [v for _, v in points]
    scale = 100.0 if is_accuracy_metric(metric) and all(0.0 <= v <= 1.0 for v in all_values) else 1.0

    stats: dict[tuple[Any, ...], dict[float, tuple[float, float, int]]] = {}
    for row_key, by_density in values.items():
        stats[row_key] = {
            d: (statistics.fmean(vs), statistics.stdev(vs) if len(vs) > 1 else 0.0, len(vs))
            for d, vs in by_density.items()
        }

    def displayed(mean: float) -> float:
        return float(shown(mean, metric, scale))

    pick = min if lower_is_better(metric) else max
    shown_means = {d: [displayed(s[d][0]) for s in stats.values() if d in s] for d in densities}
    best = {d: pick(ms) if len(set(ms)) > 1 else None for d, ms in shown_means.items()}  # all tie: none

    rows: list[Row] = []
    for row_key in sorted(stats):
        _, pruner, _, scope, _, _, note, ablation = row_key
        label = pruner_label(pruner, ablation, scope, note)
        cells = {d: Cell(m, s, n, best=displayed(m) == best[d]) for d, (m, s, n) in stats[row_key].items()}
        rows.append(Row(label, pruner, cells, ablation=ablation, scope=scope))

    ref_rows = _reference_rows(data, model, metric, densities, scale)
    return Table(
        experiment=experiment,
        data=data,
        model=model,
        extras=extras,
        metric=metric,
        densities=densities,
        rows=tuple(rows + ref_rows),
        scale=scale,
        reference_source=references.SOURCE if ref_rows else None,
    )


def _reference_rows(
    data: str, model: str, metric: str, densities: tuple[float, ...], scale: float
) -> list[Row]:
    """Published test accuracies for this task at the table's densities (none for other metrics)."""
    if not is_accuracy_metric(metric) or "train" in metric.lower():
        return []
    rows = []
    published = references.reference_rows(data, model)
    for pruner in sorted(published, key=pruners.display_rank):
        cells = {}
        for d in densities:
            for ref_d, percent in published[pruner].items():
                if math.isclose(d, ref_d, rel_tol=DENSITY_RTOL):
                    cells[d] = Cell(percent / scale, math.nan, references.SEEDS)
        if cells:
            rows.append(Row(reference_label(pruner), pruner, cells, is_reference=True))
    return rows


def setting_default(pruner: str, field: str) -> Any:
    """The default of ``prune.settings.NAME`` for ``pruner`` (as JSON gives it back)."""
    default = (
        pruner_settings(pruner).get(field.removeprefix("prune.settings."))
        if pruner in pruners.PRUNERS
        else None
    )
    return list(default) if isinstance(default, tuple) else default


def _base_label(flat: dict[str, Any]) -> str:
    return pruner_label(
        str(flat.get("prune.pruner")),
        flat.get("prune.ablation") or None,
        str(flat.get("prune.scope") or "global"),
    )


def _norm(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else _norm(value)


def sortable(value: Any) -> tuple[int, float, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, _norm(value))


def _cluster(densities: list[float]) -> tuple[float, ...]:
    """Distinct densities, descending, merging those equal within ``DENSITY_RTOL``."""
    out: list[float] = []
    for d in sorted(densities, reverse=True):
        if not out or not math.isclose(d, out[-1], rel_tol=DENSITY_RTOL):
            out.append(d)
    return tuple(out)


def _column(density: float, columns: tuple[float, ...]) -> float:
    return next(c for c in columns if math.isclose(density, c, rel_tol=DENSITY_RTOL))


def density_labels(densities: Sequence[float]) -> list[str]:
    """Short column headers (3 significant digits, more where needed to tell columns apart)."""
    for digits in range(3, 18):
        labels = [f"{d:.{digits}g}" for d in densities]
        if len(set(labels)) == len(labels):
            return labels
    return [repr(d) for d in densities]


# ----------------------------------------------------------------------------------------------
# rendering (tabulate draws the grids; this module says what goes in the cells)


@dataclass(frozen=True)
class Style:
    """How one output format marks up a cell: tabulate's ``tablefmt``, the best measured cell,
    a reference row's label, text escaping, and a table's title line."""

    tablefmt: str
    bold: str = "{} *"
    italic: str = "{}"
    escape: Callable[[str], str] = str
    title: str = "{}"
    note: str = "{}"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "±": r"$\pm$",
    "—": "---",
    "–": "--",
}


def _tex(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)


#: Our names for the three formats we mark up ourselves; any other of ``tabulate_formats`` is
#: passed through (the best cell then marked with a trailing ``*``).
STYLES: dict[str, Style] = {
    "md": Style("pipe", "**{}**", "*{}*", _md, "### {}", "{}"),
    # latex_raw takes our escaping and markup as they are; its \hline rules become booktabs'.
    "latex": Style("latex_raw", r"\textbf{{{}}}", r"\textit{{{}}}", _tex, "% {}", "% {}"),
    "html": Style("unsafehtml", "<b>{}</b>", "<i>{}</i>", html.escape, "<h3>{}</h3>", "<p>{}</p>"),
}
FORMATS: tuple[str, ...] = (
    "md",
    "latex",
    "csv",
    "html",
    *(f for f in tabulate_formats if f not in ("html", "latex")),
)


def render(tables: Sequence[Table], fmt: str) -> str:
    """The tables as ``md`` (GitHub markdown), ``latex`` (booktabs: needs ``\\usepackage{booktabs}``),
    ``html``, ``csv`` (long form, stored units) or any other of tabulate's formats."""
    if fmt == "csv":
        return _render_csv(tables)
    if fmt not in FORMATS:
        raise UnknownNameError("leaderboard format", fmt, FORMATS)
    style = STYLES.get(fmt) or Style(fmt)
    percent = any(t.scale == 100.0 for t in tables)
    note = _NOTE.format(percent="; accuracies in percent" if percent else "")
    note = note if fmt in STYLES else note.replace("bold =", "* =")
    if fmt == "latex":
        note += " Needs \\usepackage{booktabs}."
    out = [style.note.format(style.escape(note) if fmt != "latex" else note), ""]
    if not tables:
        out.append(style.note.format("No finished runs to show."))
    for table in tables:
        out += [style.title.format(style.escape(table.title)), "", _grid(table, style), ""]
        if table.reference_source:
            out += [style.note.format(style.escape(f"Reference rows: {table.reference_source}.")), ""]
    return "\n".join(out).rstrip() + "\n"


def _grid(table: Table, style: Style) -> str:
    """One table's grid: a row per pruner, a column per density, the best measured cells (by
    displayed value, ties all marked) in bold, reference rows in italics."""
    body = []
    for row in table.rows:
        cells = [
            style.italic.format(style.escape(row.label)) if row.is_reference else style.escape(row.label)
        ]
        for d in table.densities:
            cell = row.cells.get(d)
            text = _MISSING if cell is None else style.escape(table.format_cell(row, cell))
            cells.append(style.bold.format(text) if cell and cell.best and not row.is_reference else text)
        body.append(cells)
    headers = [style.escape("pruner \\ density"), *density_labels(table.densities)]
    grid = tabulate(
        body,
        headers,
        tablefmt=style.tablefmt,
        colalign=("left", *("right" for _ in table.densities)),
        disable_numparse=True,
    )
    if style.tablefmt == "latex_raw":
        for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
            grid = grid.replace(r"\hline", rule, 1)
    return grid


def _render_csv(tables: Sequence[Table]) -> str:
    """Long form, in the metric's stored units (accuracies as stored, not percent)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["task", "metric", "pruner", "density", "mean", "std", "n", "is_reference", "is_best"])
    for table in tables:
        for row in table.rows:
            for d in table.densities:
                cell = row.cells.get(d)
                if cell is None:
                    continue
                writer.writerow(
                    [
                        table.task,
                        table.metric,
                        row.label,
                        repr(d),
                        repr(cell.mean),
                        "" if math.isnan(cell.std) else repr(cell.std),
                        cell.n,
                        "true" if row.is_reference else "false",
                        "true" if cell.best and not row.is_reference else "false",
                    ]
                )
    return buffer.getvalue()
