"""Shared fixtures: tiny models, batches and a trainer, all seeded, all CPU."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
import torch
from torch import nn

import pruners


@pytest.fixture(scope="module")
def one_thread() -> Iterator[None]:
    """One torch thread for a module: tiny (batched) matmuls gain nothing from a second thread,
    and on busy shared cores its spin-waits make them tens of times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_mlp(seed: int = 0, widths: tuple[int, ...] = (32, 16), d: int = 20, classes: int = 4) -> nn.Module:
    """A small ReLU MLP with biases, seeded; N = 20*32 + 32*16 + 16*4 = 1216 prunable weights."""
    generator = torch.Generator().manual_seed(seed)
    layers: list[nn.Module] = [nn.Flatten()]
    sizes = (d, *widths)
    for a, b in itertools.pairwise(sizes):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(sizes[-1], classes))
    model = nn.Sequential(*layers)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * (2.0 / p.shape[-1]) ** 0.5)
    return model


def tiny_cnn(seed: int = 0) -> nn.Module:
    """Conv + BatchNorm + Linear, to check scoring modes and buffers."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3),
    )


def make_batch(seed: int, n: int = 40, d: int = 20, classes: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=generator)
    y = torch.arange(n) % classes
    return x, y[torch.randperm(n, generator=generator)]


def sgd_trainer(batch: tuple[torch.Tensor, torch.Tensor], lr: float = 0.1) -> pruners.Trainer:
    """Full-batch SGD with momentum and weight decay; the trainer callable pruners receive."""
    x, y = batch

    def train(model: nn.Module, masks: pruners.MaskSet, steps: int, **resume: int) -> None:
        masks.apply(model)  # full batch at a constant lr: ``start`` and ``length`` change nothing
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=1e-4)
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    return train


@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    return make_batch(0)


@pytest.fixture
def trainer(batch) -> pruners.Trainer:
    return sgd_trainer(batch)


def pruner_for_tests(name: str) -> pruners.Pruner:
    """Every pruner with settings small enough for unit tests (synflow keeps its 100 rounds)."""
    if name == "imp":
        return pruners.get("imp", train_steps=4)
    if name == "magnitude_after":
        return pruners.get("magnitude_after", train_steps=4)
    return pruners.get(name)


def md_rows(markdown: str) -> list[list[str]]:
    """The cells of every markdown table row in ``markdown`` (header included), padding stripped."""
    return [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in markdown.splitlines()
        if line.startswith("| ")
    ]


def has_row(markdown: str, *cells: str) -> bool:
    """Whether a markdown table row in ``markdown`` starts with these cells."""
    return any(row[: len(cells)] == list(cells) for row in md_rows(markdown))
