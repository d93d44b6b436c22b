"""GraSP (Wang, Zhang & Grosse, ICLR 2020): preserve gradient flow, S = -theta * (H g)."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner


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
    order = 3
    color = "#117733"
    marker = "P"
    temperature: float = 200.0
    train_mode: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.temperature < float("inf"):
            raise ValueError(f"grasp needs a finite temperature > 0, got {self.temperature}")

    def score(self, net, masks, batch):
        copy = net.masked_copy(masks, train=self.train_mode)
        theta = copy.targets()
        g_stop = torch.autograd.grad(copy.loss(batch, self.temperature), theta)
        g = torch.autograd.grad(copy.loss(batch, self.temperature), theta, create_graph=True)
        g_dot = sum((gi * si).sum() for gi, si in zip(g, g_stop, strict=True))
        hg = torch.autograd.grad(g_dot, theta)
        return [t.detach() * h for t, h in zip(theta, hg, strict=True)]
