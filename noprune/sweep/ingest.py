"""``noprune ingest``: merge the one-JSON-file-per-run outputs of workers into the store, or
a suite's committed ``runs.csv`` (what ``noprune run`` exports) back into a store.

On a cluster file system without reliable locks, workers write their results as JSON files
(atomically: temporary file, then rename); the driver merges them here. A run already done in
the store is never overwritten, so ingesting twice duplicates nothing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from noprune.config import canonical_json, from_dict, run_key
from noprune.errors import UserError
from noprune.sweep.store import PROVENANCE, Store

REQUIRED = {"key", "experiment", "config", "status"}


def ingest(store: Store, source: Path, *, suite: str) -> tuple[int, int, list[str]]:
    """Store every result in ``source`` (a folder of result files or a runs.csv); return
    (added, already stored, rejected names)."""
    if source.is_file() and source.suffix == ".csv":
        results = csv_results(source)
    elif source.is_dir():
        results = folder_results(source)
    else:
        raise UserError(f"no folder or runs.csv {source} to ingest; pass the --json-dir a sweep wrote to")
    added, skipped, bad = 0, 0, []
    for name, result in results:
        try:
            check_result(result)
        except (ValueError, UserError, TypeError, KeyError):
            bad.append(name)
            continue
        store.add(suite, [(result["key"], result["experiment"], result["config"])])
        if store.record(result):
            added += 1
        else:
            skipped += 1
    return added, skipped, bad


def check_result(result: object) -> None:
    """A result must carry its key, experiment, config and a final status, and its key must be
    the key of its config."""
    if (
        not isinstance(result, dict)
        or not REQUIRED <= set(result)
        or result["status"] not in ("done", "failed")
    ):
        raise ValueError("missing fields")
    config = from_dict(json.loads(result["config"]))
    if run_key(config) != result["key"] or canonical_json(config) != result["config"]:
        raise ValueError("key does not match config")


def folder_results(folder: Path) -> Iterator[tuple[str, object]]:
    for path in sorted(folder.glob("*.json")):
        try:
            yield path.name, json.loads(path.read_text())
        except ValueError:
            yield path.name, None


def csv_results(path: Path) -> Iterator[tuple[str, object]]:
    """The rows of a runs.csv as results: metrics parsed, provenance regrouped."""
    with path.open(newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            name = f"{path.name}:{line}"
            try:
                result = {k: row[k] for k in ("key", "status", "experiment", "config")}
                result["metrics"] = json.loads(row["metrics"]) if row.get("metrics") else None
                result["error"] = row.get("error") or None
                result["started"] = float(row["started"]) if row.get("started") else None
                result["finished"] = float(row["finished"]) if row.get("finished") else None
                provenance = {k: row.get(k) or None for k in PROVENANCE}
                if provenance["git_dirty"] is not None:
                    provenance["git_dirty"] = int(provenance["git_dirty"])
                result["provenance"] = provenance
            except (KeyError, ValueError):
                result = None
            yield name, result
