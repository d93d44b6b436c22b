"""``runs.csv``: a suite's runs as one flat table, the file ``noprune run`` commits beside each
leaderboard and everything re-renders from when no store is present.

One row per run, one column per value, so ``pandas.read_csv`` or a spreadsheet reads it as it is:

- ``key``, ``status``, ``experiment``, ``error``, ``started``, ``finished`` and the provenance
  (``host``, ``version``, ``git_commit``, ``git_dirty``, ``torch``, ``device``);
- the config, one column per field (``data``, ``model``, ``seed``, ``prune.pruner``,
  ``prune.density``, ``prune.settings.rounds``, ``train.lr``, ...): every field that some run of
  the file sets off its default, each run's value filled in (defaults included), so that grouping
  on a column never drops a run; a pruner setting is empty for the pruners that lack it;
- the metrics, one column per name (``test_accuracy``, ``nnz``, ...; a name that is also a config
  or run column is written ``metrics.NAME``).

A cell holds a string as it is and any other value as JSON (``0.1``, ``true``, ``[60, 120]``,
``{"fc1.weight": 0.5}``, a metric recorded as None ``null``); an empty cell is a missing value.
Reading a file back gives each run's stored config exactly: :func:`read_rows` rebuilds it and
refuses a row whose config no longer hashes to its key. Files of the older layout (``config``
and ``metrics`` as JSON columns) are read too.
"""

from __future__ import annotations

import csv
import json
import sys
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from noprune.config import (
    canonical_json,
    flat_config,
    from_dict,
    is_known_field,
    key_of,
    leaf_type,
    nest,
)
from noprune.errors import UserError
from noprune.paths import replacing
from noprune.sweep.store import PROVENANCE

RUN_COLUMNS = ("key", "status", "experiment", "error", "started", "finished", *PROVENANCE)
#: Always written, whatever their values: what a reader groups runs by.
CORE_FIELDS = ("data", "model", "seed", "prune.pruner", "prune.density")
_NUMERIC = {"started": float, "finished": float, "git_dirty": int}


def write_rows(rows: Iterable[Mapping[str, Any]], path: Path) -> Path:
    """Write store rows (``Store.rows``: config and metrics as JSON text) as a flat runs.csv."""
    rows = list(rows)
    flats = [flat_config(json.loads(r["config"])) for r in rows]
    metrics = [json.loads(r.get("metrics") or "null") or {} for r in rows]
    config_columns = _config_columns(flats)
    taken = {*RUN_COLUMNS, *config_columns}
    metric_names = sorted(set().union(*metrics)) if metrics else []
    metric_columns = {m: _metric_column(m, taken) for m in metric_names}
    header = [*RUN_COLUMNS, *config_columns, *metric_columns.values()]
    with replacing(path, newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row, flat, measured in zip(rows, flats, metrics, strict=True):
            run = {**row, "experiment": flat["experiment"]}
            cells = ["" if run.get(c) is None else str(run[c]) for c in RUN_COLUMNS]
            cells += ["" if flat.get(c) is None else _cell(flat[c]) for c in config_columns]
            cells += [_cell(measured[m]) if m in measured else "" for m in metric_columns]
            writer.writerow(cells)
    return path


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The runs of a runs.csv as the store gives them (``Store.rows``: config as its canonical
    JSON, metrics as JSON, an empty cell as None); one error line for a file that is not one."""
    csv.field_size_limit(sys.maxsize)
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            lines = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        reason = error.strerror if isinstance(error, OSError) else error
        raise UserError(f"{path}: not a readable runs.csv ({reason})") from None
    missing = [c for c in ("key", "status") if c not in header]
    if missing:
        raise UserError(f"{path}: no column {missing[0]!r}; not a runs.csv of noprune run")
    layout = None if "config" in header else _Layout.of(header)
    out = []
    for number, line in enumerate(lines, start=2):
        cells = {k: v if v != "" else None for k, v in line.items() if k is not None}
        try:
            row = cells if layout is None else layout.row(cells)
            for column, kind in _NUMERIC.items():
                if row.get(column) is not None:
                    row[column] = kind(row[column])
            json.loads(row["config"])
        except KeyError as error:
            raise UserError(f"{path}:{number}: no column {error}; not a runs.csv of this noprune") from None
        except (TypeError, ValueError, UserError) as error:
            raise UserError(f"{path}:{number}: not a run of noprune ({error})") from None
        out.append(row)
    return out


@dataclass(frozen=True)
class _Layout:
    """What each column of a flat runs.csv holds: config fields (with whether each is text) and
    metrics (column -> metric name)."""

    config: tuple[tuple[str, bool], ...]
    metrics: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, header: list[str]) -> _Layout:
        config = tuple((c, _is_text_field(c)) for c in header if _is_config_column(c))
        metrics = tuple(
            (c, c.removeprefix("metrics."))
            for c in header
            if c not in RUN_COLUMNS and not _is_config_column(c)
        )
        return cls(config, metrics)

    def row(self, cells: dict[str, str | None]) -> dict[str, Any]:
        """A store row from a flat line: the config rebuilt, checked against the run's key."""
        flat = {c: _value(cells[c], text) for c, text in self.config if cells[c] is not None}
        flat["experiment"] = cells["experiment"]
        text = canonical_json(from_dict(nest(flat)))
        if key_of(text) != cells["key"]:
            raise UserError(f"its config {text} does not give its key {cells['key']}")
        metrics = {name: _value(cells[c], False) for c, name in self.metrics if cells[c] is not None}
        row = {c: cells.get(c) for c in RUN_COLUMNS}
        row["config"] = text
        row["metrics"] = json.dumps(metrics) if metrics or row["status"] == "done" else None
        return row


def _config_columns(flats: list[dict[str, Any]]) -> list[str]:
    """The core fields and every field that some run sets off its default, in field order."""
    wanted = set(CORE_FIELDS)
    baselines: dict[str, dict[str, Any]] = {}
    for flat in flats:
        pruner = flat["prune.pruner"]
        if pruner not in baselines:
            baselines[pruner] = flat_config({"prune": {"pruner": pruner}})
        baseline = baselines[pruner]
        wanted |= {f for f, v in flat.items() if f not in baseline or v != baseline[f]}
    wanted.discard("experiment")  # a run column
    order = list(flat_config({}))
    return sorted(wanted, key=lambda f: (order.index(f) if f in order else len(order), f))


def _metric_column(name: str, taken: set[str]) -> str:
    clash = name in taken or name.startswith("metrics.") or _is_config_column(name)
    return f"metrics.{name}" if clash else name


def _is_config_column(name: str) -> bool:
    return name.startswith("prune.settings.") or is_known_field(name)


def _cell(value: Any) -> str:
    """A config value (None: empty) or a recorded metric (None: ``null``, not recorded: empty)."""
    return value if isinstance(value, str) else json.dumps(value)


def _is_text_field(field: str) -> bool:
    """A config field whose type is a string (kept as written; anything else is JSON)."""
    if field.startswith("prune.settings."):
        return False
    kind = leaf_type(field)
    return kind is str or (typing.get_origin(kind) is not None and str in typing.get_args(kind))


def _value(cell: str | None, text: bool) -> Any:
    if cell is None or text:
        return cell
    try:
        return json.loads(cell)
    except ValueError:
        return cell
