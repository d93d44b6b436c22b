"""Dense-equivalent parameter counts (docs/SCIENCE.md E7).

Dense networks of increasing width, trained as the sparse ones are, give a curve
parameters -> fraction of random labels memorised. The curve is made monotone (isotonic
regression, non-decreasing in the parameter count) and inverted by linear interpolation in log
parameters: a sparse network's dense-equivalent count is the dense parameter count that
memorises the same fraction. Where the fraction lies outside the dense curve's range, only a
bound is known (``below`` or ``above`` the measured widths), and it is reported as such.

The dense runs are the ``memorization`` runs at density 1.0 (``noprune/suites/e7-dense.toml``);
a sparse run is compared only with dense runs on the same data and the same training settings.
"""

from __future__ import annotations

import json
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression

from noprune.config import flat_config
from noprune.sweep.store import Record

METRIC = "memorised_fraction"
#: config fields that must agree between a sparse run and the dense curve it is read off
MATCH = ("experiment", "data", "train.")


@dataclass(frozen=True)
class DenseCurve:
    """Monotone fraction memorised against dense parameter count (sorted by count), fitted to
    each width's mean (``means``; ``stds`` over its seeds, 0 for one)."""

    params: tuple[float, ...]
    fraction: tuple[float, ...]
    runs: int
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()

    def equivalent(self, fraction: float) -> tuple[str, float]:
        """("=", p) with p the dense count memorising ``fraction``; ("<", smallest) or (">",
        largest) when the fraction is outside what the measured widths reach; ("≥", p) at the
        curve's top value, reached from p on (a plateau does not pin one count)."""
        xs, ys = np.log(np.asarray(self.params)), np.asarray(self.fraction)
        if fraction < ys[0]:
            return "<", self.params[0]
        if fraction > ys[-1]:
            return ">", self.params[-1]
        if fraction == ys[-1]:  # the curve's plateau: every count from its start memorises as much
            return "≥", self.params[int(np.searchsorted(ys, fraction, side="left"))]
        # the first count at which the monotone curve reaches the fraction (flat parts: the left end)
        i = int(np.searchsorted(ys, fraction, side="left"))
        if i == 0 or ys[i] == fraction:
            return "=", float(math.exp(xs[i]))
        t = (fraction - ys[i - 1]) / (ys[i] - ys[i - 1])
        return "=", float(math.exp(xs[i - 1] + t * (xs[i] - xs[i - 1])))


def match_key(config: dict) -> str:
    flat = flat_config(config)
    return json.dumps({k: v for k, v in sorted(flat.items()) if k.startswith(MATCH)}, default=str)


def dense_curves(records: Iterable[Record]) -> dict[str, DenseCurve]:
    """One curve per (experiment, data, training settings) from the done dense runs."""
    points: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        metrics = record.metrics or {}
        density = float(flat_config(record.config)["prune.density"])
        if record.status != "done" or density != 1.0 or METRIC not in metrics or "numel" not in metrics:
            continue
        points[match_key(record.config)][float(metrics["numel"])].append(float(metrics[METRIC]))
    curves = {}
    for key, by_params in points.items():
        if len(by_params) < 2:
            continue
        params = sorted(by_params)
        means = [statistics.fmean(by_params[p]) for p in params]
        stds = [statistics.stdev(by_params[p]) if len(by_params[p]) > 1 else 0.0 for p in params]
        fitted = IsotonicRegression(increasing=True).fit_transform(np.log(params), means)
        runs = sum(len(v) for v in by_params.values())
        curves[key] = DenseCurve(
            tuple(params), tuple(float(f) for f in fitted), runs, tuple(means), tuple(stds)
        )
    return curves
