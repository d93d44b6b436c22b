"""SynFlow (Tanaka, Kunin, Yamins & Ganguli, NeurIPS 2020): iterative synaptic flow, data-free."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import torch

from pruners.base import ScoringPruner
from pruners.schedules import exponential


@dataclasses.dataclass
class SynFlow(ScoringPruner):
    """Score |theta * dR/dtheta| with R = 1^T (prod_l |W_l|) 1 (SynFlow Eq. 2, Alg. 1).

    Every parameter and buffer is replaced by its absolute value, the all-ones input is fed
    through the network in eval mode, and R is the sum of the outputs. Computed in float64:
    R is a product over layers and overflows or underflows float32 on deep networks. Pruned to
    density^(k/n) at round k of n = ``rounds`` (exponential schedule), each round scoring the
    currently masked network; the last round lands exactly on the target. No data is used;
    only the input shape, taken from ``input_shape`` or from the batch's shape.
    """

    name = "synflow"
    description = "iterative synaptic flow, 100 rounds, float64, data-free (Tanaka et al. 2020)"
    uses_data = False
    order = 4
    color = "#CC3311"
    marker = "X"
    legacy_settings: ClassVar[dict[str, str]] = {"rounds": "synflow_rounds"}
    rounds: int = 100
    input_shape: tuple[int, ...] | None = None

    batchnorm_mode = "eval"  # R is computed on the absolute network in eval mode

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"synflow needs at least one round, got rounds = {self.rounds}")
        if self.input_shape is not None and (not self.input_shape or min(self.input_shape) < 1):
            raise ValueError(f"synflow's input_shape needs positive sizes, got {list(self.input_shape)}")

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)

    def score(self, net, masks, batch):
        shape = self.input_shape or (None if batch is None else tuple(batch[0].shape[1:]))
        copy = net.masked_copy(masks, dtype=torch.float64)
        copy.absolute_()
        theta = copy.targets()
        grads = torch.autograd.grad(copy.ones_output(shape), theta)
        return [(t.detach() * g).abs() for t, g in zip(theta, grads, strict=True)]
