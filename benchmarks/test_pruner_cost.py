"""Each pruner's cost per mask, as a multiple of one training step, on the quick suite's model.

The quick suite's LeNet-300-100 on digits (64-300-100-10, 50,200 prunable weights) at its
kaiming-normal init, its class-balanced scoring batch (10 per class), density 0.1, one model
(not an ensemble). The baseline, timed in the same run, is one SGD step
(momentum 0.9) on a batch of 64, the quick suite's training step. imp and magnitude_after
train 10 epochs per round as in the quick suite. Run with

    .venv/bin/python -m pytest benchmarks/test_pruner_cost.py --benchmark-only -s
"""

from __future__ import annotations

import copy
import dataclasses
import time

import pytest
import torch

import pruners
from noprune.config import from_dict
from noprune.data import load_dataset
from noprune.models import build_model
from noprune.pipeline import make_pruner, pretraining, scoring_batch
from noprune.training import make_trainer

CONFIG = from_dict(
    {
        "data": "digits",
        "model": "lenet_300_100",
        "prune": {"density": 0.1, "pretrain_epochs": 10},
        "train": {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "epochs": 20, "batch_size": 64},
    }
)


def one_step_seconds(model: torch.nn.Module, data, repeats: int = 200) -> float:
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = data.x_train[:64], data.y_train[:64]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@pytest.mark.parametrize("name", list(pruners.PRUNERS))
def test_cost_per_mask_in_training_steps(benchmark, name):
    data = load_dataset("digits", seed=0)
    model = build_model("lenet_300_100", data.input_shape, data.num_classes, seed=0)
    config = dataclasses.replace(CONFIG, prune=dataclasses.replace(CONFIG.prune, pruner=name))
    pruner = make_pruner(config, data)
    batch = scoring_batch(config, data)
    trainer = make_trainer(data, pretraining(config), seed=0) if pruner.needs_trainer else None
    before = one_step_seconds(copy.deepcopy(model), data)

    def prune() -> None:
        pruner.prune(copy.deepcopy(model), 0.1, batch=batch, trainer=trainer)

    rounds = 1 if pruner.needs_trainer else 3
    benchmark.pedantic(prune, rounds=rounds, warmup_rounds=0 if pruner.needs_trainer else 1)
    seconds = benchmark.stats.stats.median
    # The step is timed on both sides of the pruner, so a change of clock or load in between
    # shows as a gap between the two and the ratio uses their mean.
    after = one_step_seconds(copy.deepcopy(model), data)
    step = (before + after) / 2
    benchmark.extra_info.update({"seconds": seconds, "step_seconds": step, "steps": seconds / step})
    print(
        f"\n{name:>16}: {seconds:8.3f} s per mask = {seconds / step:9.0f} training steps"
        f" ({before * 1e3:.2f} ms before, {after * 1e3:.2f} ms after)"
    )
