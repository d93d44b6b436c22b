"""Sweeps: a suite (TOML) expands into a grid of configs; the runner skips keys already done,
runs the rest on an executor, and stores each result as it arrives.

Suite files live in ``noprune/suites/NAME.toml`` (or any path)::

    name = "quick"
    description = "..."
    [fixed]                 # values for every run (nested tables or dotted keys)
    data = "digits"
    train.epochs = 20
    [grid]                  # the cartesian product of these lists
    "prune.pruner" = ["random", "snip"]
    "prune.density" = [0.1, 0.01]
    seed = [0, 1, 2]        # or seed = {range = [0, 250]}: Python's range(0, 250)

``[[grid]]`` tables instead of one ``[grid]`` give the union of their cartesian products
(configs deduplicated), for a setting that only some runs vary, e.g. a SynFlow variant::

    [[grid]]
    "prune.pruner" = ["imp", "snip", "synflow"]
    seed = [0, 1, 2]
    [[grid]]
    "prune.pruner" = ["synflow"]
    "prune.settings.rounds" = [2]
    seed = [0, 1, 2]

Interrupting a sweep at any moment loses no stored result and duplicates none: results are
committed one at a time, keys are primary keys, a done run is never overwritten, and runs a
killed driver left marked running are pending again at the next start.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pruners
from noprune.config import (
    ExperimentConfig,
    canonical,
    canonical_json,
    flatten,
    from_dict,
    is_known_field,
    known_fields,
    nest,
    run_key,
)
from noprune.errors import UserError
from noprune.experiments import batch_key, ensemble_limit
from noprune.paths import SUITES_DIR
from noprune.sweep.store import Store
from noprune.sweep.worker import execute, execute_batch, result_record

log = logging.getLogger(__name__)

SUITE_KEYS = {"name", "description", "fixed", "grid", "notes", "metrics"}
SUITE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    fixed: dict[str, Any]
    grids: tuple[dict[str, list[Any]], ...]
    path: Path
    metrics: tuple[str, ...] = ("test_accuracy",)
    notes: str = ""


def available_suites() -> list[str]:
    return sorted(p.stem for p in SUITES_DIR.glob("*.toml"))


def load_suite(name_or_path: str) -> Suite:
    """A suite by name (``noprune/suites/NAME.toml``) or by path, validated."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = SUITES_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise UserError(
                f"unknown suite {name_or_path!r}; choose one of: {', '.join(available_suites())}, "
                "or pass the path of a .toml file"
            )
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"no suite file at {path}") from None
    except OSError as error:  # a folder of that name, no permission
        raise UserError(f"cannot read the suite file {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"suite file {path} is malformed: {error}") from None
    unknown = set(data) - SUITE_KEYS
    if unknown:
        raise UserError(
            f"suite file {path} has unknown keys {sorted(unknown)}; allowed: {sorted(SUITE_KEYS)}"
        )
    fixed, grids = data.get("fixed", {}), data.get("grid", {})
    if isinstance(grids, dict):
        grids = [grids]
    if not isinstance(fixed, dict) or not grids or not all(isinstance(g, dict) for g in grids):
        raise UserError(f"suite file {path}: [fixed] must be a table, and [grid] a table or [[grid]] tables")
    if not all(grids):
        raise UserError(f"suite file {path}: every [grid] needs at least one field to vary")
    fields = set(known_fields())
    fixed = flatten(fixed)
    grids = [
        dict(_grid_axis(path, key, values, fields) for key, values in flatten(grid).items()) for grid in grids
    ]
    for key in [*fixed, *(key for grid in grids for key in grid)]:
        if not is_known_field(key):
            raise UserError(f"suite file {path}: unknown config field {key!r}")
    both = sorted({key for grid in grids for key in grid} & set(fixed))
    if both:
        raise UserError(
            f"suite file {path}: {both[0]!r} is in [fixed] and in a [grid]; give it in one place "
            "(a field that differs between grids goes in each grid)"
        )
    for key, values in (item for grid in grids for item in grid.items()):
        if not isinstance(values, list) or not values:
            raise UserError(f"suite file {path}: grid field {key!r} must be a non-empty list")
    metrics = data.get("metrics", ["test_accuracy"])
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise UserError(f"suite file {path}: metrics must be a non-empty list of metric names")
    for key in ("description", "notes"):
        if not isinstance(data.get(key, ""), str):
            raise UserError(f"suite file {path}: {key} must be text, got {data[key]!r}")
    name, description = data.get("name", path.stem), str(data.get("description", ""))
    check_suite_name(name, f"suite file {path}: name")
    return Suite(name, description, fixed, tuple(grids), path, tuple(metrics), str(data.get("notes", "")))


def check_suite_name(name: object, where: str) -> None:
    """A suite name names its results folder: letters, digits, '-' and '_', nothing else."""
    if not isinstance(name, str) or not SUITE_NAME.fullmatch(name):
        raise UserError(
            f"{where} {name!r} must be letters, digits, '-' and '_', starting with a letter or digit "
            "(it names the suite's results folder)"
        )


def _grid_axis(path: Path, key: str, values: Any, fields: set[str]) -> tuple[str, Any]:
    """A grid axis; ``field = {range = [start, stop]}`` (or ``[start, stop, step]``) stands for
    the list of Python's ``range(start, stop[, step])``."""
    if not key.endswith(".range") or key in fields:
        return key, values
    field = key.removesuffix(".range")
    ints = isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
    if not ints or not 2 <= len(values) <= 3 or values[2:] == [0] or not range(*values):
        raise UserError(
            f"suite file {path}: {field} = {{range = ...}} takes [start, stop] or [start, stop, step] "
            f"integers making a non-empty range, got {values!r}"
        )
    return field, list(range(*values))


def expand(suite: Suite, overrides: dict[str, Any] | None = None) -> list[ExperimentConfig]:
    """The suite's configs, grid after grid in grid order, without duplicates; ``overrides``
    (from ``--set``) replace fixed values and collapse grid axes to one value."""
    overrides = overrides or {}
    configs: dict[str, ExperimentConfig] = {}
    for full_grid in suite.grids:
        grid = {k: v for k, v in full_grid.items() if k not in overrides}
        for combination in itertools.product(*grid.values()):
            flat = {**suite.fixed, **dict(zip(grid, combination, strict=True)), **overrides}
            config = from_dict(nest(flat))
            configs.setdefault(run_key(config), config)
    return list(configs.values())


def plan_jobs(
    configs: list[ExperimentConfig],
    batch: int,
    limit: Callable[[ExperimentConfig], int | None] | None = None,
) -> list[list[ExperimentConfig]]:
    """Jobs for the executor: batchable configs grouped by batch key in chunks of at most
    ``batch``, or of ``limit(first config of the group)`` where that is smaller (the memory
    cap, ``noprune.experiments.ensemble_limit``), chunk sizes balanced within a group; every
    other config alone. A chunk holds consecutive configs of its group, so a grid whose seeds
    vary fastest gives ensembles of one density (whose members tend to stop training at
    similar times); except for the pruners that train before they prune (imp,
    magnitude_after), whose groups are ordered by seed: an ensemble trains a network once for
    all the densities of its seed that it holds (``noprune.ensemble.pruning.after_training``),
    so one-density chunks would train every seed once per density (E2's imp at 10 seeds in
    chunks of one density: 190-220 s of pruning per FashionMNIST network, against 58 s at 3
    seeds with all four densities in one ensemble)."""
    groups: dict[str, list[ExperimentConfig]] = {}
    jobs: list[list[ExperimentConfig]] = []
    for config in configs:
        key = batch_key(config) if batch > 1 else None
        if key is None:
            jobs.append([config])
        else:
            groups.setdefault(key, []).append(config)
    for members in groups.values():
        prune = members[0].prune
        if pruners.get(prune.pruner, **prune.pruner_settings()).needs_trainer:
            members = sorted(members, key=lambda c: c.seed)  # a seed's densities in one ensemble
        cap = limit(members[0]) if limit is not None else None
        count = -(-len(members) // min(batch, cap or batch))
        bounds = [len(members) * i // count for i in range(count + 1)]
        jobs += [members[bounds[i] : bounds[i + 1]] for i in range(count)]
    return jobs


SCORING_EPOCHS = 0.5
"""A scoring pass costs about half an epoch of training: SynFlow's 100 passes on the quick
suite's LeNet-300-100 ensembles took 9.5 s beside the 3.3 s of their 20 epochs."""


def expected_cost(config: ExperimentConfig) -> float:
    """The work of one config in epochs of training: its training after pruning, each training
    its pruner runs (``prune.pretrain_epochs`` long) and each scoring pass (``Pruner.work``)."""
    prune = config.prune
    trainings, passes = pruners.get(prune.pruner, **prune.pruner_settings()).work(prune.density)
    return max(config.train.epochs, 1) + trainings * prune.pretrain_epochs + passes * SCORING_EPOCHS


def longest_first(jobs: list[list[ExperimentConfig]]) -> list[list[ExperimentConfig]]:
    """Jobs by expected cost, longest first (an ensemble costs what its longest member costs;
    the larger of two equal jobs first), so no long job starts last while the other workers
    idle. Replaying the job times of the committed results/quick/runs.csv on 2 workers: 61.0 s
    in grid order, 56.2 s longest first, 55.1 s if the work split evenly."""
    return sorted(jobs, key=lambda job: (max(map(expected_cost, job)), len(job)), reverse=True)


@dataclass
class SweepSummary:
    total: int
    skipped: int
    done: int
    failed: int
    seconds: float


def run_sweep(
    suite: Suite,
    configs: list[ExperimentConfig],
    store: Store,
    *,
    executor: Any,
    device: str = "auto",
    data_root: str | None = None,
    out_dir: str | None = None,
    progress: bool = True,
    batch: int = 32,
    when_idle: Callable[[], None] | None = None,
) -> SweepSummary:
    """Run every config of ``configs`` not yet done in ``store``; store results as they come.

    ``when_idle`` runs once, in a thread of the driver, as soon as fewer jobs are left than the
    executor has workers: a core is idle from then on, and what comes after the sweep (the
    leaderboard's imports) can get ready on it.

    ``store`` must be locked by the caller. ``executor`` has the shape of
    ``noprune.sweep.executors.Executor``. Configs that an experiment can batch (same batch key: MLPs
    differing in seed and density) go to the workers in ensembles of up to ``batch`` members;
    ``batch=1`` runs one network per job.
    """
    from tqdm import tqdm

    start = time.perf_counter()
    keyed = {run_key(c): c for c in configs}
    store.add(suite.name, [(k, c.experiment, canonical_json(c)) for k, c in keyed.items()], exact=True)
    statuses = store.statuses(keyed)
    todo = [k for k in keyed if statuses.get(k) != "done"]
    done = failed = 0
    futures: dict[Any, list[str]] = {}
    limit = functools.partial(ensemble_limit, data_root=data_root)
    for chunk in longest_first(plan_jobs([keyed[k] for k in todo], batch, limit)):
        payloads = [
            {"config": canonical(c), "device": device, "data_root": data_root, "out_dir": out_dir}
            for c in chunk
        ]
        if len(chunk) == 1 and batch_key(chunk[0]) is None:
            futures[executor.submit(execute, payloads[0])] = [run_key(chunk[0])]
        else:
            futures[executor.submit(execute_batch, payloads)] = [run_key(c) for c in chunk]
    store.mark_running(todo, time.time())
    bar = tqdm(
        total=len(todo), desc=suite.name, unit="run", disable=True if not progress else None, leave=True
    )
    left = len(futures)
    try:
        for future in executor.as_completed(list(futures)):
            left -= 1
            if when_idle is not None and left < getattr(executor, "workers", 1):
                threading.Thread(target=when_idle, name="when-idle", daemon=True).start()
                when_idle = None
            keys = futures[future]
            try:
                outcome = future.result()
                results = outcome if isinstance(outcome, list) else [outcome]
            except Exception as error:  # the worker itself died (not the experiment)
                failure = RuntimeError(f"worker failed: {type(error).__name__}: {error}")
                results = [result_record(keyed[key], failure) for key in keys]
            for result in results:
                store.record(result)
                done += result["status"] == "done"
                failed += result["status"] == "failed"
                c = keyed[result["key"]]
                log.debug(
                    f"{result['status']} {result['key']}: {c.experiment} {c.prune.pruner} density "
                    f"{c.prune.density:g} seed {c.seed} on {c.model} / {c.data}"
                )
            bar.update(len(results))
            bar.set_postfix(failed=failed, refresh=False)
    finally:
        bar.close()
    return SweepSummary(len(keyed), len(keyed) - len(todo), done, failed, time.perf_counter() - start)
