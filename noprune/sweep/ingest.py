"""``noprune ingest``: merge the one-JSON-file-per-run outputs of workers into the store, or
a suite's committed ``runs.csv`` (what ``noprune run`` exports) back into a store.

On a cluster file system without reliable locks, workers write their results as JSON files
(atomically: temporary file, then rename); the driver merges them here. A run already done in
the store is never overwritten, so ingesting twice duplicates nothing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

from noprune.config import canonical_json, from_dict, run_key
from noprune.errors import UserError
from noprune.sweep.runs_csv import read_rows
from noprune.sweep.store import PROVENANCE, Store

FIELDS: dict[str, tuple[type, ...]] = {  # a result's fields and the JSON types each may take
    "key": (str,),
    "experiment": (str,),
    "config": (str,),
    "status": (str,),
    "metrics": (dict, type(None)),
    "error": (str, type(None)),
    "started": (int, float, type(None)),
    "finished": (int, float, type(None)),
    "provenance": (dict,),
}
REQUIRED = ("key", "experiment", "config", "status")
TEXT_METRICS = frozenset({"collapsed_layers", "refusal"})
"""Metrics that hold text (layer names, a refusal message); besides them only ``*_method``
metrics (the name of the estimator chosen) may; every other metric is numeric."""
PROVENANCE_TYPES = (str, int, type(None))


def load_results(source: Path) -> list[dict]:
    """Every result in ``source`` (a folder of result files or a runs.csv), each checked; the
    first malformed one stops the ingest with one line naming its file and field, before
    anything is written."""
    if source.is_file() and source.suffix == ".csv":
        results = csv_results(source)
    elif source.is_dir():
        results = folder_results(source)
    else:
        raise UserError(f"no folder or runs.csv {source} to ingest; pass the --json-dir a sweep wrote to")
    checked = []
    for name, result in results:
        check_result(name, result)
        checked.append(result)
    if not checked:
        raise UserError(f"no result files in {source} to ingest (*.json files a sweep's --json-dir holds)")
    return checked


def ingest(store: Store, results: list[dict], *, suite: str) -> tuple[int, int]:
    """Store checked ``results`` (from :func:`load_results`) under ``suite``; return (added,
    already stored). A run already done is never overwritten."""
    added = skipped = 0
    for result in results:
        store.add(suite, [(result["key"], result["experiment"], result["config"])])
        if store.record(result):
            added += 1
        else:
            skipped += 1
    return added, skipped


def check_result(name: str, result: object) -> None:
    """A result carries its key, experiment, config and a final status, each field of its JSON
    type, and its key is the key of its config; else one :class:`UserError` line."""
    if not isinstance(result, dict):
        raise UserError(f"{name}: not a noprune result (a JSON object with key, config, status, metrics)")
    for field in REQUIRED:
        if field not in result:
            raise UserError(f"{name}: not a noprune result: no field {field!r}")
    for field, types in FIELDS.items():
        value = result.get(field, {} if field == "provenance" else None)
        if not isinstance(value, types) or isinstance(value, bool):
            kinds = " or ".join(dict.fromkeys("null" if t is type(None) else JSON_NAMES[t] for t in types))
            raise UserError(f"{name}: field {field!r} must be {kinds}, got {type(value).__name__}")
    if result["status"] not in ("done", "failed"):
        raise UserError(f"{name}: field 'status' must be done or failed, got {result['status']!r}")
    if result["status"] == "done" and not result.get("metrics"):
        raise UserError(f"{name}: a done result needs its field 'metrics'")
    for metric, value in (result.get("metrics") or {}).items():
        if not _metric_value(value, text=metric in TEXT_METRICS or metric.endswith("_method")):
            raise UserError(
                f"{name}: metric {metric!r} is {value!r}; a metric is a finite number, true/false, "
                "null, a list or table of those (text only in names and messages: "
                f"{', '.join(sorted(TEXT_METRICS))}, *_method)"
            )
    for field, value in result.get("provenance", {}).items():
        if field not in PROVENANCE or not isinstance(value, PROVENANCE_TYPES):
            raise UserError(f"{name}: field 'provenance.{field}' is not a provenance field of a run")
    try:
        data = json.loads(result["config"])
        if not isinstance(data, dict):
            raise ValueError(f"a JSON {type(data).__name__}, not an object")
        config = from_dict(data)
        from noprune.experiments import check_run  # the experiments import the store

        check_run(config)
    except (ValueError, TypeError, KeyError, RecursionError, UserError) as error:
        raise UserError(f"{name}: field 'config' is not a run's config ({error})") from None
    for field in ("started", "finished"):
        if result.get(field) is not None and not math.isfinite(result[field]):
            raise UserError(f"{name}: field {field!r} must be a time in seconds, got {result[field]}")
    if run_key(config) != result["key"] or canonical_json(config) != result["config"]:
        raise UserError(f"{name}: field 'key' is not the key of its config (or the config is not canonical)")
    if result["experiment"] != config.experiment:
        raise UserError(
            f"{name}: field 'experiment' is {result['experiment']!r}, its config's is {config.experiment!r}"
        )


def _metric_value(value: object, *, text: bool = False, nested: bool = False) -> bool:
    """A value a run's metric may take: a finite number, true/false, null, one list or one
    {name: value} table of those, or (where ``text``) a string."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, str):
        return text
    if isinstance(value, int | float):
        return math.isfinite(value)
    if isinstance(value, list) and not nested:
        return all(_metric_value(v, text=text, nested=True) for v in value)
    if isinstance(value, dict) and not nested:  # per layer: {name: value}
        return all(_metric_value(v, text=text, nested=True) for v in value.values())
    return False


JSON_NAMES = {str: "a string", dict: "an object", int: "a number", float: "a number"}


def folder_results(folder: Path) -> Iterator[tuple[str, object]]:
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("."):  # a worker's temporary file, never renamed into place
            continue
        try:
            yield str(path), json.loads(path.read_text())
        except (ValueError, OSError) as error:
            raise UserError(f"{path}: not a JSON file ({error})") from None
        except RecursionError:
            raise UserError(f"{path}: not a noprune result (nested too deeply to read)") from None


def csv_results(path: Path) -> Iterator[tuple[str, object]]:
    """The rows of a runs.csv as results: metrics parsed, provenance regrouped."""
    for line, row in enumerate(read_rows(path), start=2):
        missing = [k for k in ("experiment", "config") if row.get(k) is None]
        if missing:
            raise UserError(f"{path}:{line}: no {missing[0]!r}; not a runs.csv this version of noprune reads")
        result: dict = {
            k: row.get(k) for k in ("key", "status", "experiment", "config", "error", "started", "finished")
        }
        try:
            result["metrics"] = json.loads(row["metrics"]) if row.get("metrics") else None
        except (ValueError, RecursionError):
            raise UserError(f"{path}:{line}: its metrics are not a JSON object") from None
        result["provenance"] = {k: row.get(k) for k in PROVENANCE}
        yield f"{path}:{line}", result
