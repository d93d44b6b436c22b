"""NTK-SAP (Wang, Li & Sun, ICLR 2023, "NTK-SAP: Improving neural network pruning by aligning
training dynamics"), data-free.

The saliency of the mask m is the change of the trace of the network's analytic NTK, estimated
by the finite difference of the outputs under a weight perturbation (Sec. 4, Eq. 9-11):
S(m) = | d/dm sum_r || f(X_r; m * theta_r) - f(X_r; m * (theta_r + eps * delta_r)) ||^2 |,
with X_r ~ N(0, I) inputs of the data's shape, delta_r ~ N(0, I), and weights theta_r drawn
afresh from the initialization for every draw r ("new input, new weights"), so the mask is
scored for the architecture, not for one draw of its weights. The official code (YiteWang/NTK-SAP,
``Pruners/pruners.py`` class ``NTKSAP``): weights re-drawn Kaiming-normal (fan_in) before each
batch, biases kept; BatchNorm's statistics taken from the unperturbed network on that batch, in
train mode with momentum 1, then both networks run in eval mode with them; the squared L2 norm of
the logit difference summed over the batch, no 1/eps^2; the signed gradient summed over the draws
and its absolute value taken at the end; T = 20 exponential rounds and R = 5 draws per round, eps
= 0.01, in its CIFAR-10 command (``scripts/run.sh``). Here the inputs have the scoring batch's
shape; its values and labels are never read.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.func import functional_call

from pruners.base import ScoringPruner
from pruners.schedules import exponential


@dataclasses.dataclass
class NTKSAP(ScoringPruner):
    """|dS/dm| of the finite-difference NTK trace S over ``draws`` re-drawn networks per round
    (Wang et al. 2023, Eq. 11), ``rounds`` exponential rounds, perturbation ``epsilon``."""

    name = "ntksap"
    description = "finite-difference NTK trace, random inputs, re-drawn weights, data-free (Wang et al. 2023)"
    uses_data = False
    order = 4.5
    color = "#44AA99"
    marker = "*"
    rounds: int = 20
    draws: int = 5
    epsilon: float = 0.01

    batchnorm_mode = "train"  # statistics from a train-mode pass, then eval with them

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.draws < 1 or not self.epsilon > 0:
            raise ValueError(f"ntksap needs rounds >= 1, draws >= 1, epsilon > 0; got {self}")

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)

    def work(self, density: float) -> tuple[int, int]:
        """Each round scores ``draws`` re-drawn networks (a finite-difference pair each)."""
        return 0, self.rounds * self.draws

    def score(self, net, masks, batch):
        if batch is None:
            raise ValueError(
                "ntksap draws random inputs of the data's shape: pass a batch (its values are unused)"
            )
        return net.per_member(self.member_score, masks, batch)

    def member_score(self, net, masks, batch):
        model = net.masked_copy(masks).model
        shape = tuple(batch[0].shape)
        gen = net.generator
        names = list(masks)
        keep = [masks[n].to(torch.get_default_dtype()) for n in names]
        m = [k.clone().requires_grad_(True) for k in keep]
        total = [torch.zeros_like(k) for k in keep]
        params = dict(model.named_parameters())
        device = next(model.parameters()).device
        for _ in range(self.draws):
            theta = [redrawn(params[n], gen).to(device) for n in names]
            x = torch.randn(shape, generator=gen).to(device)
            delta = [torch.randn(t.shape, generator=gen).to(device) for t in theta]
            calibrate_batchnorm(model, {n: k * t for n, k, t in zip(names, keep, theta, strict=True)}, x)
            plain = {n: mi * t for n, mi, t in zip(names, m, theta, strict=True)}
            noisy = {
                n: mi * (t + self.epsilon * d) for n, mi, t, d in zip(names, m, theta, delta, strict=True)
            }
            difference = functional_call(model, plain, (x,)) - functional_call(model, noisy, (x,))
            grads = torch.autograd.grad(difference.pow(2).sum(), m)
            total = [s + g for s, g in zip(total, grads, strict=True)]
        return [s.abs() * k for s, k in zip(total, keep, strict=True)]


def redrawn(weight: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A fresh draw of a weight from the Kaiming-normal initialization, N(0, 2 / fan_in); a
    one-dimensional tensor (a bias) keeps its value, as the official code keeps biases."""
    if weight.dim() < 2:
        return weight.detach().clone()
    fan_in = weight[0].numel()
    return torch.randn(weight.shape, generator=generator) * (2.0 / fan_in) ** 0.5


def calibrate_batchnorm(model: nn.Module, weights: dict[str, torch.Tensor], x: torch.Tensor) -> None:
    """Set every BatchNorm's running statistics to those of ``x`` through ``model`` with
    ``weights`` (a train-mode pass with momentum 1), then leave the model in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if norms:
        saved = [bn.momentum for bn in norms]
        for bn in norms:
            bn.reset_running_stats()
            bn.momentum = 1.0
        model.train()
        with torch.no_grad():
            functional_call(model, weights, (x,))
        for bn, momentum in zip(norms, saved, strict=True):
            bn.momentum = momentum
    model.eval()
