"""SynFlow (Tanaka, Kunin, Yamins & Ganguli, NeurIPS 2020): iterative synaptic flow, data-free."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner
from pruners.schedules import exponential
from pruners.scoring import params_of, scoring_copy


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
    rounds: int = 100
    input_shape: tuple[int, ...] | None = None

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)

    def score(self, model, masks, batch, generator):
        if self.input_shape is None and batch is None:
            raise ValueError("synflow needs the input shape: pass input_shape= or a batch")
        shape = tuple(self.input_shape or batch[0].shape[1:])
        net = scoring_copy(model, masks, dtype=torch.float64).eval()
        with torch.no_grad():
            for tensor in net.state_dict().values():
                if tensor.is_floating_point():
                    tensor.abs_()
        params = params_of(net, masks)
        ones = torch.ones((1, *shape), dtype=torch.float64, device=params[0].device)
        grads = torch.autograd.grad(net(ones).sum(), params)
        return {n: (p.detach() * g).abs() for n, p, g in zip(masks, params, grads, strict=True)}
