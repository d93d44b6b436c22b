"""``noprune ingest``: merge the one-JSON-file-per-run outputs of workers into the store.

On a cluster file system without reliable locks, workers write their results as JSON files
(atomically: temporary file, then rename); the driver merges them here. A run already done in
the store is never overwritten, so ingesting twice duplicates nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

from noprune.config import canonical_json, from_dict, run_key
from noprune.errors import UserError
from noprune.sweep.store import Store

REQUIRED = {"key", "experiment", "config", "status"}


def ingest(store: Store, folder: Path, *, suite: str) -> tuple[int, int, list[str]]:
    """Store every result file in ``folder``; return (added, already stored, rejected names)."""
    if not folder.is_dir():
        raise UserError(f"no folder {folder} to ingest; pass the --json-dir a sweep wrote to")
    added, skipped, bad = 0, 0, []
    for path in sorted(folder.glob("*.json")):
        try:
            result = json.loads(path.read_text())
            if not REQUIRED <= set(result) or result["status"] not in ("done", "failed"):
                raise ValueError("missing fields")
            config = from_dict(json.loads(result["config"]))
            if run_key(config) != result["key"] or canonical_json(config) != result["config"]:
                raise ValueError("key does not match config")
        except (ValueError, UserError, TypeError):
            bad.append(path.name)
            continue
        store.add(suite, [(result["key"], result["experiment"], result["config"])])
        if store.record(result):
            added += 1
        else:
            skipped += 1
    return added, skipped, bad
