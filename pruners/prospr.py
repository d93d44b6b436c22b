"""ProsPr (Alizadeh, Tailor, Zintgraf, van Amersfoort, Farquhar, Lane & Gal, ICLR 2022,
"Prospect Pruning: Finding Trainable Weights at Initialization using Meta-Gradients").

A weight's saliency is the meta-gradient of the loss after M steps of training with respect to
its mask (Sec. 3, Eq. 3-5): with w_0 = c * theta_0 and c = 1, w_{i+1} = w_i - lr * dL(w_i)/dw_i
for i < M, the score is |dL(w_M)/dc|, differentiated through all M steps (second order). The
official code (mil-ad/prospr, ``prospr/prospr.py``: ``prune`` and ``compute_meta_grads``): one
shot, global; plain SGD in the inner loop on every parameter (biases and BatchNorm too, only the
Linear and Conv weights scored), no weight decay, BatchNorm in train mode; the CLI defaults are
M = 3 steps, lr 0.1, momentum 0, and the same batch for the inner steps and the meta-loss
(``--new-data-in-inner`` off). Here momentum, when set, is differentiated through every step
(the official code detaches the first buffer; with its default momentum 0 the two agree).
"""

from __future__ import annotations

import dataclasses

import torch
from torch.func import functional_call

from pruners.base import ScoringPruner
from pruners.scoring import batch_loss, on_device


@dataclasses.dataclass
class ProsPr(ScoringPruner):
    """|dL(w_M)/dc| through ``steps`` SGD steps of learning rate ``lr`` from w_0 = c * theta_0
    (Alizadeh et al. 2022, Eq. 5)."""

    name = "prospr"
    description = (
        "meta-gradient of the loss after 3 SGD steps with respect to the mask (Alizadeh et al. 2022)"
    )
    uses_data = True
    order = 2.8
    color = "#332288"
    marker = "D"
    steps: int = 3
    lr: float = 0.1
    momentum: float = 0.0
    train_mode: bool = True

    def __post_init__(self) -> None:
        if self.steps < 0 or not self.lr > 0 or not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"prospr needs steps >= 0, lr > 0, 0 <= momentum < 1; got {self}")

    def score(self, net, masks, batch):
        return net.per_member(self.member_score, masks, batch)

    def member_score(self, net, masks, batch):
        model = net.masked_copy(masks, train=self.train_mode).model
        x, y = on_device(batch, model)
        theta = {n: p.detach() for n, p in model.named_parameters()}
        c = {n: torch.ones_like(theta[n], requires_grad=True) for n in masks}
        w = {n: c[n] * t if n in c else t.clone().requires_grad_(True) for n, t in theta.items()}
        buffers: dict[str, torch.Tensor] = {}
        for _ in range(self.steps):
            loss = batch_loss(functional_call(model, w, (x,)), y)
            grads = dict(zip(w, torch.autograd.grad(loss, list(w.values()), create_graph=True), strict=True))
            for n, g in grads.items():
                buffers[n] = g if n not in buffers or not self.momentum else self.momentum * buffers[n] + g
            w = {n: w[n] - self.lr * buffers[n] for n in w}
        meta = batch_loss(functional_call(model, w, (x,)), y)
        grads = torch.autograd.grad(meta, [c[n] for n in masks])
        return [g.abs() for g in grads]
