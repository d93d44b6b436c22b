"""GraSP (Wang, Zhang & Grosse, ICLR 2020): preserve gradient flow, S = -theta * (H g)."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner
from pruners.scoring import batch_loss, on_device, params_of, scoring_copy


@dataclasses.dataclass
class GraSP(ScoringPruner):
    """GraSP Eq. 8: S(-theta) = -theta * (H g) with g = dL/dtheta and H the Hessian of L.

    GraSP removes the weights with the *highest* S, so it keeps the lowest. This class returns
    the keep-score -S = theta * (H g), so shared top-k selection keeps the right end (a known
    trap in public code is pruning the wrong end). The logits are divided by ``temperature``
    (200 in the paper) for both g and H g. H g is the gradient of g_stop . g, by double
    backward; H is restricted to the prunable weights, as in the reference implementation.
    """

    name = "grasp"
    description = "gradient-flow preservation, keeps the lowest -theta*Hg (Wang et al. 2020)"
    uses_data = True
    temperature: float = 200.0
    train_mode: bool = True

    def score(self, model, masks, batch, generator):
        net = scoring_copy(model, masks).train(self.train_mode)
        x, y = on_device(batch, net)
        params = params_of(net, masks)
        g_stop = torch.autograd.grad(batch_loss(net(x) / self.temperature, y), params)
        g = torch.autograd.grad(batch_loss(net(x) / self.temperature, y), params, create_graph=True)
        g_dot = sum((gi * si).sum() for gi, si in zip(g, g_stop, strict=True))
        hg = torch.autograd.grad(g_dot, params)
        return {n: p.detach() * h for n, p, h in zip(masks, params, hg, strict=True)}
