"""FORCE (de Jorge et al., ICLR 2021, "Progressive Skeletonization", Sec. 4, Eq. 6).

Foresight connection sensitivity: at each step of an exponential schedule, the gradient of the
loss is taken at the network pruned by the current mask, and every weight, pruned or not, is
scored by |theta_0 * dL/dtheta| with its dense initial value theta_0, so a weight pruned at one
step can come back at the next. The official code (naver/force,
``pruning_algos.iterative_pruning`` with ``prune_method=3``, ``mode='exp'``) prunes to
density^(t/T) at step t = 1..T, rebuilds the network from the dense one with the new mask
applied at every step, and ranks all weights; its CIFAR command uses T = 60 and one batch.
Departures: the official ``get_average_gradients`` applies ``F.nll_loss`` to the network's raw
logits (the loss is then minus the mean true-class logit, no softmax) and draws its batch
anew at every step (``next(iter(loader))`` on a shuffled loader). Here the loss is the
cross-entropy the paper's Eq. 6 differentiates, on one batch for all T steps, so that the
mask is a function of that batch (the masks equal the official code's when it is given the
same loss and batch).
"""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner
from pruners.schedules import exponential


@dataclasses.dataclass
class FORCE(ScoringPruner):
    """S(theta) = |theta_0 * dL/dtheta| evaluated at theta_0 * m (de Jorge et al. 2021, Eq. 6),
    over ``rounds`` exponential steps; selection ranks every weight, so pruned ones may return."""

    name = "force"
    description = (
        "foresight connection sensitivity, pruned weights may return, 60 steps (de Jorge et al. 2021)"
    )
    uses_data = True
    order = 2.6
    color = "#AA4499"
    marker = "v"
    rounds: int = 60
    train_mode: bool = True

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)

    def score(self, net, masks, batch):
        copy = net.masked_copy(masks, train=self.train_mode)
        theta = copy.targets()
        grads = torch.autograd.grad(copy.loss(batch), theta)
        return [(w * g).abs() for w, g in zip(net.weights(), grads, strict=True)]

    def prune_network(self, net, densities, *, batch, scope, invert):
        schedules = [self.schedule(d) for d in densities]
        masks = net.dense()
        for step in zip(*schedules, strict=True):  # no ``alive``: every weight competes again
            masks = net.select(self.score(net, masks, batch), step, scope=scope, invert=invert)
        return masks
