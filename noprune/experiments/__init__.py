"""Experiments: pure functions ``run(config, device=, data_root=) -> metrics`` in a registry.

A metrics dict is JSON-able. Seeds come from the config; the device and the data folder are
execution details, not part of the config or its key. An experiment that trains small networks
may also offer ``run_batch(configs, ...)``: the runner then hands it compatible configs (equal
``batch_key``) together, and it trains them as one ensemble (``noprune.ensemble``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from noprune.config import ExperimentConfig
from noprune.data import check_data_spec, load_dataset
from noprune.errors import UnknownNameError, UserError
from noprune.experiments import (
    accuracy,
    calibration,
    exact_labels,
    exact_toy,
    mask_information,
    memorization,
    noise_correlation,
    robustness,
)
from noprune.pipeline import check_config
from noprune.report import calibration_report, information_plot, memorization_plot, trace_plot
from noprune.sweep.store import Record

Metrics = dict[str, Any]


Figure = Callable[[list[Record], Path], list[Path]]
"""``figure(records, out_dir)``: write the experiment's own figures (PNG and PDF) into
``out_dir`` from its records and return their paths ([] when none applies)."""


@dataclass(frozen=True)
class Experiment:
    """An experiment's entry: ``run``, and optionally ``batch_key`` and ``run_batch`` (one
    ensemble for compatible configs), ``figures`` it adds to results/SUITE/ beside the
    metric plots, and ``table`` ((records, suite, command) -> leaderboard.md) replacing the pruner x density
    leaderboard where its runs are not pruners at densities."""

    run: Callable[..., Metrics]
    description: str
    batch_key: Callable[[ExperimentConfig], str | None] | None = None
    run_batch: Callable[..., list[Metrics | Exception]] | None = None
    figures: tuple[Figure, ...] = ()
    table: Callable[[list[Record], str, str], str] | None = None
    own_data: bool = False
    """``data`` names a case of the experiment's own (synthetic masks), not a data set."""


EXPERIMENTS: dict[str, Experiment] = {
    "accuracy": Experiment(
        accuracy.run,
        "prune, train, record accuracy, loss, realised density and times",
        accuracy.batch_key,
        accuracy.run_batch,
    ),
    "mask_information": Experiment(
        mask_information.run,
        "I(mask; labels | init) over label draws: exact zero, bounds, detector, p_eff (E6)",
        mask_information.batch_key,
        mask_information.run_batch,
        figures=(information_plot.figures,),
    ),
    "information_calibration": Experiment(
        calibration.run,
        "the information bounds on synthetic masks of known information: coverage, false positives",
        figures=(calibration_report.figures,),
        table=calibration_report.leaderboard,
        own_data=True,
    ),
    "exact_label_information": Experiment(
        exact_labels.run,
        "exact I(mask; labels | init) of a real network over all 2^n label vectors; the bounds' coverage",
    ),
    "exact_toy_information": Experiment(
        exact_toy.run,
        "exact I(m; D | init) of the 21-parameter toy over all 1792 data sets, and plug-in (E4)",
    ),
    "memorization": Experiment(
        memorization.run,
        "prune, train until every point is memorised or the budget ends, record the fraction memorised (E1)",
        memorization.batch_key,
        memorization.run_batch,
        figures=(memorization_plot.plot_memorization,),
    ),
    "robustness": Experiment(
        robustness.run,
        "prune, train to interpolation, record Lipschitz lower bounds and the spectral-norm upper bound (E5)",
        robustness.batch_key,
        robustness.run_batch,
    ),
    "noise_correlation": Experiment(
        noise_correlation.run,
        "IMP rounds with corr(f, label noise) every epoch: rise within a round, drop at each prune (E3)",
        noise_correlation.batch_key,
        noise_correlation.run_batch,
        figures=(trace_plot.figures,),
    ),
}


def check_run(config: ExperimentConfig) -> None:
    """Everything about a run that can be checked before it starts (its experiment, its data
    spec unless the experiment reads its own cases, and :func:`noprune.pipeline.check_config`):
    one :class:`UserError` line, before a sweep stores anything or ingest takes a result."""
    experiment = get_experiment(config.experiment)
    if not experiment.own_data:
        check_data_spec(config.data)
    check_config(config)


def get_experiment(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise UnknownNameError("experiment", name, list(EXPERIMENTS)) from None


def run_experiment(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> Metrics:
    return get_experiment(config.experiment).run(config, device=device, data_root=data_root)


def batch_key(config: ExperimentConfig) -> str | None:
    """Configs with the same non-None key can run together as one ensemble."""
    experiment = EXPERIMENTS.get(config.experiment)
    if experiment is None or experiment.batch_key is None:
        return None
    key = experiment.batch_key(config)
    return None if key is None else f"{config.experiment}/{key}"


ENSEMBLE_DATA_BYTES = 2**30
"""Most bytes of data (training and test tensors of all members) one ensemble stacks. Every
member has its own copy (its own noise, labels or draw), and a worker holds about three times
that at its peak (the loaded sets beside their stack, full-data passes): 12 FashionMNIST
members (219 MB each) ran at 8.6 GB per worker, and 32, the runner's default batch, were killed
for memory on a 24 GB machine with two workers. 1 GiB gives FashionMNIST ensembles of 4: eight
runs (random pruner, one epoch, serial executor) peaked at 2.7 GB in two ensembles of 4 and at
4.3 GB in one of 8. Small data sets (E1's 30 points, digits) are not limited by it."""


def ensemble_limit(config: ExperimentConfig, data_root: str | None) -> int | None:
    """How many configs of ``config``'s batch key one ensemble may hold so that their stacked
    data stays within :data:`ENSEMBLE_DATA_BYTES` (at least 1), or None when the data cannot be
    loaded here: the runs then report why."""
    size = member_bytes(config.data, data_root)
    return None if size is None else max(1, ENSEMBLE_DATA_BYTES // size)


@functools.cache
def member_bytes(data: str, data_root: str | None) -> int | None:
    """Bytes of one member's training and test tensors for the data spec ``data`` (the spec
    fixes the sizes, so seed 0 stands for every seed), or None when it cannot be loaded. Cached:
    a sweep asks once per batch-key group, and loading FashionMNIST takes seconds."""
    try:
        loaded = load_dataset(data, seed=0, root=data_root)
    except UserError:
        return None
    return sum(t.nbytes for t in (loaded.x_train, loaded.y_train, loaded.x_test, loaded.y_test))


def run_experiment_batch(
    configs: Sequence[ExperimentConfig], *, device: torch.device, data_root: str | None
) -> list[Metrics | Exception]:
    """Metrics (or the exception that member raised) for configs of one batch key."""
    return get_experiment(configs[0].experiment).run_batch(configs, device=device, data_root=data_root)
