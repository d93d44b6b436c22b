"""SNIP (Lee, Ajanthan & Torr, ICLR 2019): connection sensitivity |theta * dL/dtheta|."""

from __future__ import annotations

import dataclasses

import torch

from pruners.base import ScoringPruner
from pruners.scoring import batch_loss, on_device, params_of, scoring_copy


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
    train_mode: bool = True

    def score(self, model, masks, batch, generator):
        net = scoring_copy(model, masks).train(self.train_mode)
        x, y = on_device(batch, net)
        params = params_of(net, masks)
        grads = torch.autograd.grad(batch_loss(net(x), y), params)
        return {n: (p.detach() * g).abs() for n, p, g in zip(masks, params, grads, strict=True)}
