"""Runs as a pandas DataFrame, for analysis beside the leaderboards.

    import noprune
    runs = noprune.load_runs("results/quick/runs.csv")          # or a store: runs/noprune.sqlite
    runs.groupby(["prune.pruner", "prune.density"])["test_accuracy"].mean()

One row per run. Columns: ``key``, ``status``, ``error``, ``started``, ``finished`` and the
provenance (``host``, ``version``, ``git_commit``, ``git_dirty``, ``torch``, ``device``); the
config flattened with every default filled in (``noprune.config.flat_config``: ``experiment``,
``data``, ``model``, ``seed``, ``prune.pruner``, ``prune.density``, ``prune.settings.rounds``,
``train.lr``, ...), so runs group by what they computed however their suite wrote them; and the
metrics under their own names (``test_accuracy``, ``nnz``, ...; nested ones dotted:
``per_layer_density.fc1.weight``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from noprune.config import flat_config
from noprune.errors import UserError
from noprune.sweep.runs_csv import read_rows
from noprune.sweep.store import PROVENANCE, Store

if TYPE_CHECKING:
    import pandas

RUN_COLUMNS = ("key", "status", "error", "started", "finished", *PROVENANCE)


def load_runs(source: str | os.PathLike, suite: str | None = None) -> pandas.DataFrame:
    """The runs of a store (``.sqlite``, optionally one ``suite``'s) or of a ``runs.csv``."""
    import pandas

    path = Path(source)
    if path.suffix == ".csv":
        rows = read_rows(path)
        if suite is not None:
            raise UserError(f"{path} holds one suite's runs; pass suite=None")
    else:
        with Store.read(path) as store:
            rows = store.rows(suite)
    if not rows:
        return pandas.DataFrame(columns=list(RUN_COLUMNS))
    try:
        configs = [flat_config(json.loads(r["config"])) for r in rows]
        metrics = [json.loads(r["metrics"]) if r.get("metrics") else {} for r in rows]
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: a run's config or metrics cannot be read ({error})") from None
    run = pandas.DataFrame([{c: r.get(c) for c in RUN_COLUMNS} for r in rows])
    config = pandas.DataFrame(configs)
    measured = pandas.json_normalize(metrics)
    clash = set(measured.columns) & (set(config.columns) | set(run.columns))
    measured = measured.rename(columns={c: f"metrics.{c}" for c in clash})
    return pandas.concat([run, config, measured], axis=1)
