"""The quick benchmark: every pruner at a few densities on the embedded digits data set.

Until the runner (typed configs, a results store, executors) lands, ``noprune run quick`` runs
this grid in one process and prints a table of realised density, accuracy and scoring time.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

import pruners
from noprune.pipeline import PruneRequest, run_prune
from noprune.training import TrainConfig

QUICK_SUITES: dict[str, dict[str, Any]] = {
    "quick": {
        "model": "lenet_300_100",
        "data": "digits",
        "densities": (0.5, 0.1, 0.02),
        "train": TrainConfig(optimizer="sgd", lr=0.05, momentum=0.9, epochs=20, batch_size=64),
        "pretrain_epochs": 10,
    }
}

COLUMNS = ("pruner", "target", "density", "train acc", "test acc", "scoring s", "collapsed")


def run_quick(suite: str, *, device: str = "auto", seeds: int = 1) -> list[dict[str, Any]]:
    """Prune and train every (pruner, density, seed) of the suite; print one row per cell."""
    spec = QUICK_SUITES[suite]
    names = list(pruners.PRUNERS)
    print(
        f"suite {suite}: {spec['model']} on {spec['data']}; pruners {', '.join(names)}; densities "
        f"{', '.join(f'{d:g}' for d in spec['densities'])}; {seeds} seed(s); "
        f"{spec['train'].epochs} epochs of {spec['train'].optimizer}"
    )
    print(" | ".join(f"{c:>15}" if c == "pruner" else f"{c:>10}" for c in COLUMNS))
    start = time.perf_counter()
    rows = []
    for name in names:
        for density in spec["densities"]:
            reports = []
            for seed in range(seeds):
                request = PruneRequest(
                    pruner=name,
                    model=spec["model"],
                    data=spec["data"],
                    density=density,
                    seed=seed,
                    pretrain_epochs=spec["pretrain_epochs"],
                    device=device,
                    train=dataclasses.replace(spec["train"], seed=seed),
                )
                reports.append(run_prune(request).report)
            rows.append(summarise(name, density, reports))
            print(format_row(rows[-1]), flush=True)
    print(f"{len(rows) * seeds} prune-and-train runs in {time.perf_counter() - start:.1f} s")
    return rows


def summarise(name: str, density: float, reports: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(key: str, inner: str | None = None) -> float:
        return statistics.fmean(r[inner][key] if inner else r[key] for r in reports)

    return {
        "pruner": name,
        "target": density,
        "density": mean("density"),
        "train acc": mean("train_accuracy", "training"),
        "test acc": mean("test_accuracy", "training"),
        "scoring s": mean("scoring_seconds"),
        "collapsed": sum(len(r["collapsed_layers"]) for r in reports),
    }


def format_row(row: dict[str, Any]) -> str:
    cells = [f"{row['pruner']:>15}", f"{row['target']:>10g}", f"{row['density']:>10.5f}"]
    cells += [f"{row[k]:>10.4f}" for k in ("train acc", "test acc")]
    cells += [f"{row['scoring s']:>10.3f}", f"{row['collapsed']:>10d}"]
    return " | ".join(cells)
