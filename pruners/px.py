"""PX, Path eXclusion (Iurada, Ciccone & Tommasi, CVPR 2024, "Finding Lottery Tickets in Vision
Models via Data-driven Spectral Foresight Pruning"), data-driven.

PX keeps the weights that preserve the trace of the path kernel of the network on the data,
an upper bound on the NTK's (Sec. 3-4): the path activation matrix, estimated by a copy of the
network whose weights are replaced by the mask and whose ReLUs are replaced by the 0/1 gates
the real network opens on the data, fed x^2; and the path values, estimated by a linear copy
(ReLUs removed) with every weight squared, fed ones. With z1 the first's output and z2 the
second's, R = sum(z1 * z2) and a weight's score is |dR/d(theta^2)| * theta^2 (Eq. 9), over 100
exponential rounds with no revival. The official code (iurada/px-ntk-pruning, ``lib/pruners.py``
class ``PX``, at its latest commit): the gates from the masked network in eval mode; both copies
in train mode (BatchNorm on batch statistics, its parameters left as they are); the biases of
the first copy set to 1 and those of the second squared; the classifier ("fc") left at its real
values in both, its score |dR/dtheta| * theta^2; no use of the labels but to draw a
class-balanced batch; 100 rounds (``launch_scripts/cifar10.sh``). Max-pooling is not gated.
Departures: the official code picks what to leave alone by name (every state entry whose name
holds "bn" or "fc"), so the BatchNorm of a ResNet's projection shortcut (``shortcut.1``, no
"bn" in its name) is treated as a weight: squared in the second copy, its weight and bias set to
1 in the first. Here every BatchNorm is left as it is, by type, so on ResNets with projection
shortcuts the two rank differently; elsewhere they agree. The classifier is the last Linear or
Conv module, and the scoring batch is the one the caller draws (noprune: class-balanced).
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.func import functional_call
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from pruners.base import ScoringPruner
from pruners.params import PRUNABLE_TYPES
from pruners.schedules import exponential
from pruners.scoring import on_device

RELUS = {torch.relu, torch.relu_, F.relu, torch.Tensor.relu, torch.Tensor.relu_}


class ReLUs(TorchFunctionMode):
    """Every ReLU call of a forward pass, whichever way it is written (``nn.ReLU``, ``F.relu``,
    ``torch.relu``, in place or not): ``record`` notes each one's gate 1[x > 0] in order,
    ``gate`` multiplies its input by the recorded gates in that order, ``linear`` passes its
    input through."""

    def __init__(self, mode: str, gates: list[torch.Tensor] | None = None) -> None:
        super().__init__()
        self.mode = mode
        self.gates = gates if gates is not None else []
        self.used = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func not in RELUS:
            return func(*args, **kwargs)
        x = args[0]
        if self.mode == "record":
            self.gates.append(x.detach() > 0)
            return func(*args, **kwargs)
        if self.mode == "linear":
            return x
        gate = self.gates[self.used]
        self.used += 1
        return x * gate.to(x.dtype)


def classifier_names(model: nn.Module) -> set[str]:
    """The parameter names of the last Linear or Conv module (the classifier)."""
    last = [name for name, m in model.named_modules() if isinstance(m, PRUNABLE_TYPES)][-1]
    return {f"{last}.{n}" if last else n for n, _ in model.get_submodule(last).named_parameters()}


def norm_names(model: nn.Module) -> set[str]:
    """The parameter names of the normalization layers, which PX leaves as they are."""
    norms = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)
    return {
        f"{name}.{n}" if name else n
        for name, m in model.named_modules()
        if isinstance(m, norms)
        for n, _ in m.named_parameters(recurse=False)
    }


@dataclasses.dataclass
class PX(ScoringPruner):
    """|dR/d(theta^2)| * theta^2 with R = sum(z1 * z2) the path-kernel trace estimate on the
    batch (Iurada et al. 2024, Eq. 9), over ``rounds`` exponential rounds."""

    name = "px"
    description = (
        "path eXclusion: path-kernel trace on the data's ReLU gates, 100 rounds (Iurada et al. 2024)"
    )
    uses_data = True
    uses_labels = False  # the gates and the path values come from the inputs alone
    order = 4.6
    color = "#DDCC77"
    marker = "h"
    rounds: int = 100

    batchnorm_mode = "train"  # both estimator copies; the gates come from eval mode

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise ValueError(f"px needs at least one round, got rounds = {self.rounds}")

    def schedule(self, density: float) -> list[float]:
        return exponential(density, self.rounds)

    def score(self, net, masks, batch):
        return net.per_member(self.member_score, masks, batch)

    def member_score(self, net, masks, batch):
        # The masked network and the two estimators are ``net.model`` run on other parameter
        # values (functional_call), each run with its own copy of the buffers and in its own
        # mode, the model's mode restored after: nothing of ``net`` changes, nothing is copied.
        model = net.model
        x, _ = on_device(batch, model)
        keep = set(classifier_names(model)) | norm_names(model)
        params = {name: p.detach() for name, p in model.named_parameters()}

        def run(values: dict[str, torch.Tensor], inputs: torch.Tensor, *, train: bool) -> torch.Tensor:
            buffers = {name: b.clone() for name, b in model.named_buffers()}
            mode = model.training
            if mode != train:  # a walk over every module: only where the mode changes
                model.train(train)
            try:
                return functional_call(model, {**values, **buffers}, (inputs,))
            finally:
                if mode != train:
                    model.train(mode)

        real = {name: p * masks[name] if name in masks else p for name, p in params.items()}
        record = ReLUs("record")
        with torch.no_grad(), record:  # the gates the masked network opens, in eval mode
            run(real, x, train=False)
        # The path activation matrix estimator: weights replaced by the mask, the data's gates.
        activation = {
            name: real[name]
            if name in keep
            else masks[name].to(p.dtype)
            if name in masks
            else torch.ones_like(p)
            for name, p in params.items()
        }
        with torch.no_grad(), ReLUs("gate", record.gates):
            z1 = run(activation, x.pow(2), train=True)
        # The path kernel estimator: linear, every weight squared.
        kernel = {
            name: (real[name] if name in keep else real[name].pow(2)).requires_grad_() for name in params
        }
        with ReLUs("linear"):
            z2 = run(kernel, torch.ones_like(x), train=True)
        grads = torch.autograd.grad((z1 * z2).sum(), [kernel[n] for n in masks])
        theta = net.weights()
        return [g.abs() * t.pow(2) * masks[n] for n, g, t in zip(masks, grads, theta, strict=True)]
