"""SNIP (Lee, Ajanthan & Torr, ICLR 2019): connection sensitivity |theta * dL/dtheta|."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner


@dataclasses.dataclass
class SNIP(ScoringPruner):
    """Score S = |theta * dL/dtheta| (SNIP Eq. 6 up to normalisation, which does not change ranks).

    The loss is taken on the one batch the caller passes (noprune draws it class-balanced, 10
    examples per class by default). ``train_mode`` sets BatchNorm's mode while scoring (SNIP's
    reference code scores in train mode); scoring runs on a copy, so running statistics of the
    caller's model are not touched.
    """

    name = "snip"
    description = "connection sensitivity |theta * dL/dtheta| on one batch (Lee et al. 2019)"
    uses_data = True
    order = 2
    color = "#EE7733"
    marker = "s"
    train_mode: bool = True

    def score(self, net, masks, batch):
        copy = net.masked_copy(masks, train=self.train_mode)
        theta = copy.targets()
        grads = torch.autograd.grad(copy.loss(batch), theta)
        return [(t.detach() * g).abs() for t, g in zip(theta, grads, strict=True)]
