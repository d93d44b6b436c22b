"""The ``information_calibration`` experiment: the bounds of ``infotheory`` on synthetic masks
whose information is known exactly (``infotheory.synthetic``), repeated to measure coverage.

``data`` names the case: ``"masks:case=carrier,n=100,q=0.1,p=1000"`` (labels design: K =
``info.draws`` label vectors of n labels) or ``"masks:case=draws_null,n=16,p=64"`` (draws
design: n draws, ``info.replicates`` masks each). Each of ``info.repetitions`` repetitions
draws the case afresh from the seed and repetition index and computes the bounds at
confidence 1 - ``info.alpha``. Per case: the truth, mean lower and upper bound, the fraction
of repetitions whose interval [lower, upper] holds the truth (coverage), the fraction where the
lower bound is positive and the detector fires (p < 0.05), which are false-positive rates
where the truth is 0, the fraction refused as misuse, and the seconds per repetition.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from noprune.config import ExperimentConfig
from noprune.data.base import make_generator
from noprune.data.masks import Case, parse_case
from noprune.errors import UserError
from noprune.lazy import lazy

infotheory = lazy("infotheory")
synthetic = lazy("infotheory.synthetic")

NAME = "information_calibration"
DETECTOR_LEVEL = 0.05


def one_repetition(case: Case, config: ExperimentConfig, rng: np.random.Generator) -> dict[str, float]:
    """The bounds on one fresh draw of ``case``: truth, lower, upper, detector p-value."""
    alpha = config.info.alpha
    if case.case in synthetic.DRAW_CASES:
        data = synthetic.draws_case(
            case.case, rng, case.n, config.info.replicates, case.p, case.q, case.density
        )
        info = infotheory.draw_information(
            data.packed, data.p, data.draws, alpha=alpha, n_permutations=case.permutations, seed=0
        )
        lower = 0.0 if info.lower is None else info.lower.value
    else:
        data = synthetic.labels_case(case.case, rng, config.info.draws, case.n, case.p, case.q, case.density)
        info = infotheory.label_information(
            data.packed, data.p, data.labels, alpha=alpha, n_permutations=case.permutations, seed=0
        )
        lower = info.lower.value
    p_value = None if info.detector is None else info.detector.details["p_value"]
    return {"truth": data.truth, "lower": lower, "upper": info.upper.value, "p_value": p_value}


def run(config: ExperimentConfig, *, device: torch.device, data_root: str | None) -> dict[str, Any]:
    del device, data_root  # numpy only; the masks are generated
    case = parse_case(config.data)
    reps = config.info.repetitions
    if reps < 1 or config.info.draws < 2 or config.info.replicates < 2:
        raise UserError(f"{NAME} needs info.repetitions >= 1, info.draws >= 2 and info.replicates >= 2")
    seed = int(torch.randint(2**62, (1,), generator=make_generator(config.seed, NAME)).item())
    results, refused, message = [], 0, ""
    start = time.perf_counter()
    for r in range(reps):
        rng = np.random.default_rng([seed, r])
        try:
            results.append(one_repetition(case, config, rng))
        except ValueError as error:  # misuse refused by the estimator
            refused, message = refused + 1, str(error)
    seconds = (time.perf_counter() - start) / reps
    out: dict[str, Any] = {"repetitions": reps, "refused": refused / reps, "seconds": seconds}
    if refused:
        out["refusal"] = message
    if not results:
        return out
    truth = np.array([x["truth"] for x in results])
    lower = np.array([x["lower"] for x in results])
    upper = np.array([x["upper"] for x in results])
    p_values = [x["p_value"] for x in results if x["p_value"] is not None]
    out.update(
        {
            "truth": float(truth.mean()),
            "lower_mean": float(lower.mean()),
            "lower_min": float(lower.min()),
            "upper_mean": float(upper.mean()),
            "lower_share": float(lower.mean() / truth.mean()) if truth.mean() > 0 else None,
            "coverage": float(((lower <= truth + 1e-9) & (truth <= upper + 1e-9)).mean()),
            "lower_positive": float((lower > 0).mean()),
            "detector_fires": float(np.mean(np.array(p_values) < DETECTOR_LEVEL)) if p_values else None,
            "alpha": config.info.alpha,
        }
    )
    return out
