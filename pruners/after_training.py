"""Pruners that look at trained weights: magnitude after training and the lottery ticket (IMP).

Both receive a trainer callable, ``train(model, masks, steps, start=0)``, so this package never owns a
training loop. Their masks carry information about the data (No Free Prune, §4): the trained
weights the ranking reads depend on the training set.
"""

from __future__ import annotations

import dataclasses

from pruners.base import Pruner, Scores
from pruners.network import Network
from pruners.schedules import iterative


def magnitudes(net: Network) -> Scores:
    """abs(theta) of the prunable weights of ``net``."""
    return [w.abs() for w in net.weights()]


@dataclasses.dataclass
class MagnitudeAfter(Pruner):
    """Train dense for ``train_steps``, keep the largest abs(trained weights).

    On return the model holds the trained weights with the mask applied, so training it
    further fine-tunes the survivors from their trained values (Han et al. 2015).
    """

    name = "magnitude_after"
    description = "largest |theta| after dense training, then fine-tune from trained values"
    uses_data = True
    order = 5
    color = "#882255"
    marker = "d"
    family = "after training"
    needs_trainer = True
    train_steps: int = 1000

    def work(self, density: float) -> tuple[int, int]:
        return 1, 1

    def prune_network(self, net, densities, *, batch, scope, invert):
        net.train(net.dense(), self.train_steps)
        return net.select(magnitudes(net), densities, scope=scope, invert=invert)


@dataclasses.dataclass
class IMP(Pruner):
    """Iterative magnitude pruning with rewinding (Frankle & Carbin 2019; Frankle et al. 2020).

    Train the network from step ``rewind_step`` to step ``train_steps`` (the data order and the
    learning-rate schedule resume at step ``rewind_step``, as in Frankle et al. 2020 and
    open_lth), prune ``rate`` (20%) of the surviving weights by trained magnitude (global by
    default), rewind the survivors, and every other parameter and buffer, to their values at
    step ``rewind_step`` (0: the initialization), and repeat until the target density. The last
    round lands exactly on the target. On return the model holds the rewind-point weights with
    the final mask applied: the lottery ticket, ready to be trained.

    On a network of several members, member k follows its own schedule to ``densities[k]``;
    in round r only the members whose schedule has a round r train and prune.
    """

    name = "imp"
    description = "lottery ticket: train, prune 20% of survivors, rewind to step k, repeat"
    uses_data = True
    order = 6
    color = "#0077BB"
    marker = "o"
    family = "after training"
    needs_trainer = True
    train_steps: int = 1000
    rewind_step: int = 0
    rate: float = 0.2

    def __post_init__(self) -> None:
        if not 0 <= self.rewind_step < self.train_steps:
            raise ValueError(
                f"imp needs 0 <= rewind_step < train_steps, got rewind_step {self.rewind_step} and "
                f"train_steps {self.train_steps} (in a config: prune.rewind_step, and "
                "prune.pretrain_epochs x steps per epoch)"
            )
        if not 0.0 < self.rate < 1.0:
            raise ValueError(f"imp prunes a fraction 0 < rate < 1 of the survivors a round, got {self.rate}")

    def work(self, density: float) -> tuple[int, int]:
        rounds = len(iterative(density, self.rate))
        return rounds, rounds

    def prune_network(self, net, densities, *, batch, scope, invert):
        masks = net.dense()
        if self.rewind_step:  # the first k steps of a run of train_steps
            net.train(masks, self.rewind_step, length=self.train_steps)
        rewind_point = net.state()
        schedules = [iterative(d, self.rate) for d in densities]
        for r in range(max(len(s) for s in schedules)):
            members = [k for k, s in enumerate(schedules) if len(s) > r]
            net.apply(masks)
            net.train(masks, self.train_steps - self.rewind_step, start=self.rewind_step, members=members)
            step = [schedules[k][r] for k in members]
            scores = magnitudes(net)
            masks = net.select(scores, step, scope=scope, alive=masks, invert=invert, members=members)
            net.load(rewind_point)
        return masks
