"""Pruners that look at trained weights: magnitude after training and the lottery ticket (IMP).

Both receive a trainer callable, ``train(model, masks, steps)``, so this package never owns a
training loop. Their masks carry information about the data (No Free Prune, §4): the trained
weights the ranking reads depend on the training set.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from pruners.base import Pruner
from pruners.masks import MaskSet
from pruners.schedules import iterative
from pruners.selection import select


def magnitudes(model: nn.Module, masks: MaskSet) -> dict[str, torch.Tensor]:
    """abs(theta) of the weights ``masks`` covers."""
    params = dict(model.named_parameters())
    return {n: params[n].detach().abs() for n in masks}


@dataclasses.dataclass
class MagnitudeAfter(Pruner):
    """Train dense for ``train_steps``, keep the largest abs(trained weights).

    On return the model holds the trained weights with the mask applied, so training it
    further fine-tunes the survivors from their trained values (Han et al. 2015).
    """

    name = "magnitude_after"
    description = "largest |theta| after dense training, then fine-tune from trained values"
    uses_data = True
    needs_trainer = True
    train_steps: int = 1000

    def _prune(self, model, density, *, batch, scope, seed, trainer, dense, invert) -> MaskSet:
        trainer(model, dense, self.train_steps)
        return select(magnitudes(model, dense), density, scope=scope, invert=invert)


@dataclasses.dataclass
class IMP(Pruner):
    """Iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020).

    Train the network from step ``rewind_step`` for ``train_steps - rewind_step`` steps, prune
    ``rate`` (20%) of the surviving weights by trained magnitude (global by default), rewind
    the survivors, and every other parameter and buffer, to their values at step
    ``rewind_step`` (0: the initialization), and repeat until the target density. The last
    round lands exactly on the target. On return the model holds the rewind-point weights with
    the final mask applied: the lottery ticket, ready to be trained.
    """

    name = "imp"
    description = "lottery ticket: train, prune 20% of survivors, rewind to step k, repeat"
    uses_data = True
    needs_trainer = True
    train_steps: int = 1000
    rewind_step: int = 0
    rate: float = 0.2

    def _prune(self, model, density, *, batch, scope, seed, trainer, dense, invert) -> MaskSet:
        if not 0 <= self.rewind_step < self.train_steps:
            raise ValueError("imp needs 0 <= rewind_step < train_steps")
        masks = dense
        if self.rewind_step:
            trainer(model, masks, self.rewind_step)
        rewind_point = {k: v.detach().clone() for k, v in model.state_dict().items()}
        for step_density in iterative(density, self.rate):
            masks.apply(model)
            trainer(model, masks, self.train_steps - self.rewind_step)
            masks = select(magnitudes(model, masks), step_density, scope=scope, alive=masks, invert=invert)
            model.load_state_dict(rewind_point)
        return masks
