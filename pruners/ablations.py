"""Ablations of Frankle, Dziugaite, Roy & Carbin (ICLR 2021), "Pruning neural networks at
initialization: why are we missing the mark?", applicable to any mask (docs/SCIENCE.md §2).

- shuffle: permute each layer's mask independently; keeps every layer's density.
- reinit: keep the mask, draw fresh initial weights from the same initializer.
- invert: keep the lowest-ranked weights instead of the highest (a true rank inversion, also
  for signed scores). It is a selection option, ``pruner.prune(..., invert=True)``; the
  :func:`invert` wrapper here makes it a pruner of its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

from pruners.base import Pruner
from pruners.masks import MaskSet

Initializer = Callable[[nn.Module, torch.Generator], None]

ABLATIONS: dict[str, str] = {
    "shuffle": "permute each layer's mask at random; keeps per-layer density (Frankle et al. 2021)",
    "reinit": "keep the mask, draw fresh initial weights from the same initializer",
    "invert": "keep the lowest-ranked weights instead of the highest (true rank inversion)",
}


def shuffle(masks: MaskSet, seed: int) -> MaskSet:
    """Each layer's mask permuted uniformly at random with its own draw from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    out = {}
    for name, m in masks.items():
        perm = torch.randperm(m.numel(), generator=generator).to(m.device)
        out[name] = m.reshape(-1)[perm].reshape(m.shape)
    return MaskSet(out)


def default_initializer(model: nn.Module, generator: torch.Generator) -> None:
    """Each module's own ``reset_parameters``, seeded from ``generator``; global RNG restored."""
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    cuda = sorted({p.device.index or 0 for p in model.parameters() if p.is_cuda})
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        for module in model.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()


def reinit(
    model: nn.Module, masks: MaskSet, seed: int, initializer: Initializer = default_initializer
) -> None:
    """Draw new weights for ``model`` with ``initializer`` from ``seed``, then apply ``masks``."""
    initializer(model, torch.Generator().manual_seed(seed))
    masks.apply(model)


@dataclasses.dataclass
class Inverted(Pruner):
    """A pruner that keeps the weights ``base`` would rank lowest."""

    base: Pruner = dataclasses.field(default=None)  # type: ignore[assignment]

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.base.name}+invert"

    @property
    def description(self) -> str:  # type: ignore[override]
        return f"{self.base.name} with its ranking inverted"

    @property
    def uses_data(self) -> bool:  # type: ignore[override]
        return self.base.uses_data

    @property
    def uses_labels(self) -> bool:  # type: ignore[override]
        return self.base.uses_labels

    @property
    def needs_trainer(self) -> bool:  # type: ignore[override]
        return self.base.needs_trainer

    @property
    def batchnorm_mode(self) -> str:
        return self.base.batchnorm_mode

    def settings(self):
        return {**self.base.settings(), "invert": True}

    def work(self, density: float) -> tuple[int, int]:
        return self.base.work(density)

    def prune_network(self, net, densities, *, invert, **kwargs):
        return self.base.prune_network(net, densities, invert=not invert, **kwargs)


def invert(pruner: Pruner) -> Pruner:
    """The invert ablation of ``pruner`` as a pruner of its own."""
    return Inverted(base=pruner)
