"""The ``Dataset`` container and the seeded helpers every data module uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import torch

from noprune.errors import UserError

TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split held in memory as tensors.

    ``y`` holds int64 class indices [N] for classification and float32 targets [N, outputs]
    for regression; ``num_classes`` is the number of network outputs in both cases.
    ``extras`` holds per-example side information (e.g. the teacher's label noise).
    Equality and hashing are by identity (tensors have no truth value).
    """

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int
    task: str
    extras: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError(f"data set {self.name}: inputs and labels differ in length")

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, ``x_train.shape[1:]``."""
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(self.x_train.shape[0])


def make_generator(seed: int, tag: str) -> torch.Generator:
    """A CPU generator seeded from (seed, tag), so independent draws use independent streams.

    The derivation hashes the pair with SHA-256, so it is stable across runs and platforms.
    """
    digest = hashlib.sha256(f"{int(seed)}/{tag}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def require(condition: bool, message: str) -> None:
    """Raise ``UserError(message)`` unless ``condition`` holds."""
    if not condition:
        raise UserError(message)


def random_labels(n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` i.i.d. uniform labels in {0, 1} (the paper's +-1), int64."""
    return torch.randint(0, 2, (n,), generator=generator, dtype=torch.int64)
