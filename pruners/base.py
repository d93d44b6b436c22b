"""The pruner contract.

A scoring pruner implements one method, ``score``; selection (exact top-k, scope, tie-break)
and the schedule (one-shot or iterative) are shared (JaxPruner's rule; Synaptic-Flow's
``score``/``mask`` split). Training-based pruners receive a trainer callable so that this
package never imports a training loop.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from pruners.masks import MaskSet
from pruners.schedules import one_shot
from pruners.selection import SCOPES, check_density, select

Batch = tuple[torch.Tensor, torch.Tensor]
Scores = dict[str, torch.Tensor]
Trainer = Callable[[nn.Module, MaskSet, int], None]
"""``train(model, masks, steps)``: train ``model`` in place for ``steps`` optimizer steps with
the pruned weights held at zero. The caller owns the data, optimizer and seeds."""


@dataclasses.dataclass
class Pruner(ABC):
    """Base of every pruner. Subclasses are dataclasses whose fields are their settings."""

    name: ClassVar[str]
    description: ClassVar[str]
    uses_data: ClassVar[bool]
    needs_trainer: ClassVar[bool] = False

    def settings(self) -> dict[str, Any]:
        """The pruner's settings, for reports."""
        return dataclasses.asdict(self)

    def prune(
        self,
        model: nn.Module,
        density: float,
        *,
        batch: Batch | None = None,
        scope: str = "global",
        seed: int = 0,
        trainer: Trainer | None = None,
        exclude: tuple[str, ...] = (),
        invert: bool = False,
        apply: bool = True,
        include_biases: bool = False,
    ) -> MaskSet:
        """Prune ``model`` to ``density`` and return the masks, applied to ``model`` if ``apply``.

        On return ``model`` holds the weights the mask applies to: the initial weights for
        pruners at initialization, the trained weights for magnitude_after, the rewind-point
        weights for imp; with ``apply=False`` the pruned entries keep their values (what the
        shuffle ablation needs). ``invert`` keeps the lowest-ranked weights (the invert
        ablation). ``exclude`` names layers to leave dense; ``include_biases`` makes the biases of
        Linear and Conv layers prunable too (SCIENCE.md §2: never, unless asked).
        """
        density = check_density(density)
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if self.uses_data and batch is None and not self.needs_trainer:
            raise ValueError(f"pruner {self.name} scores on data: pass batch=(x, y)")
        if self.needs_trainer and trainer is None:
            raise ValueError(
                f"pruner {self.name} trains the network: pass trainer=train(model, masks, steps)"
            )
        masks = self._prune(
            model,
            density,
            batch=batch,
            scope=scope,
            seed=seed,
            trainer=trainer,
            dense=MaskSet.dense(model, exclude, include_biases=include_biases),
            invert=invert,
        )
        if apply:
            masks.apply(model)
        return masks

    @abstractmethod
    def _prune(
        self,
        model: nn.Module,
        density: float,
        *,
        batch: Batch | None,
        scope: str,
        seed: int,
        trainer: Trainer | None,
        dense: MaskSet,
        invert: bool,
    ) -> MaskSet: ...


@dataclasses.dataclass
class ScoringPruner(Pruner):
    """A pruner defined by a score; keeps the highest scores over ``rounds`` rounds.

    The schedule is one-shot unless a subclass overrides :meth:`schedule`; every round scores
    the network with the current mask applied.
    """

    def schedule(self, density: float) -> list[float]:
        """Densities of the successive rounds; the last is the target."""
        return one_shot(density)

    @abstractmethod
    def score(
        self, model: nn.Module, masks: MaskSet, batch: Batch | None, generator: torch.Generator
    ) -> Scores:
        """Scores for each prunable weight of ``model`` under ``masks`` (higher = keep).

        Must not change ``model``: work on a copy where scoring needs to alter it.
        """

    def _prune(self, model, density, *, batch, scope, seed, trainer, dense, invert) -> MaskSet:
        masks = dense
        generator = torch.Generator().manual_seed(seed)
        for step_density in self.schedule(density):
            scores = self.score(model, masks, batch, generator)
            masks = select(scores, step_density, scope=scope, alive=masks, invert=invert)
        return masks
