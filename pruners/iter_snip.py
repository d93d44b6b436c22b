"""Iterative SNIP (de Jorge et al., ICLR 2021, "Progressive Skeletonization", Sec. 4).

SNIP's connection sensitivity recomputed on the network pruned so far, over an exponential
schedule of ``rounds`` steps, so that weights whose importance only shows once others are gone
can survive. The official code (naver/force, ``pruning_algos.iterative_pruning`` with
``prune_method=1``, ``mode='exp'``) prunes to density^(t/T) at step t = 1..T and scores
|theta * dL/dtheta| of the masked network, pruned weights never coming back (FORCE, its sibling,
lets them); its CIFAR command uses T = 60 steps and one batch.
"""

from __future__ import annotations

import dataclasses

from pruners.schedules import exponential
from pruners.snip import SNIP


@dataclasses.dataclass
class IterSNIP(SNIP):
    """SNIP's score (:class:`~pruners.snip.SNIP`) on the masked network at every step of the
    exponential schedule density^(t/T), t = 1..``rounds`` (de Jorge et al. 2021, Eq. 5 with the
    schedule of their Sec. 4.1); each step scores the network as the previous one left it."""

    name = "iter_snip"
    description = "SNIP recomputed on the masked network over 60 exponential steps (de Jorge et al. 2021)"
    order = 2.5
    color = "#CC6677"
    marker = "^"
    rounds: int = 60

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)
