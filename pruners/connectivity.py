"""Which kept weights lie on a path from the input to the output (effective sparsity).

A kept weight that no input reaches, or that reaches no output, cannot change what the network
computes from its input: it is dead weight that the density still counts. Vysogorets & Kempe
(JMLR 2023, "Connectivity matters") call the fraction of weights on some input-to-output path
the *effective* density. At extreme sparsity the two part ways: a one-round SynFlow mask at
density 0.003 on a 784-200-200-10 MLP keeps 596 weights and none of them on a path (layer
collapse), while one-shot magnitude pruning after training keeps a few hundred dead ends.

The count uses SynFlow's device (Tanaka et al. 2020, Eq. 2): with every kept weight set to 1,
every pruned one to 0, biases and running means to 0 and every other tensor to its absolute
value, the summed output on an all-ones input counts the paths, and its derivative with respect
to a weight counts the paths through it. A weight is on a path iff that derivative is positive.
Max pooling routes the derivative to one element of each window, so it is replaced by average
pooling of the same window, which keeps every path. Exact for networks of Linear and Conv
layers, ReLU, pooling, BatchNorm and residual sums; a network that takes a max, a min or a sign
in its forward pass elsewhere may be under-counted.
"""

from __future__ import annotations

import torch
from torch import nn

from pruners.masks import MaskSet
from pruners.scoring import params_of, scoring_copy

_AVERAGE_OF = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}


def _average_pooling(net: nn.Module) -> None:
    """Replace every max pooling module of ``net`` by average pooling over the same window."""
    for name, child in net.named_children():
        kind = _AVERAGE_OF.get(type(child))
        if kind is None:
            _average_pooling(child)
        elif set(child.dilation if isinstance(child.dilation, tuple) else (child.dilation,)) != {1}:
            raise ValueError(f"{name}: dilated max pooling has no average-pooling equivalent")
        else:
            setattr(
                net, name, kind(child.kernel_size, child.stride, child.padding, ceil_mode=child.ceil_mode)
            )


def connected(model: nn.Module, masks: MaskSet, input_shape: tuple[int, ...]) -> MaskSet:
    """The kept entries of ``masks`` that lie on at least one input-to-output path of ``model``.

    ``input_shape`` is one input's shape (no batch dimension). The result is a MaskSet over the
    same parameters, a subset of ``masks``; its ``nnz`` is the effective count and its
    ``density`` the effective density. The model is not modified. A kept bias counts as
    connected when its unit reaches the output.
    """
    net = scoring_copy(model, masks, dtype=torch.float64).eval()
    _average_pooling(net)
    with torch.no_grad():
        for name, tensor in net.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith(("bias", "running_mean")):  # additive terms: flow that no input sent
                tensor.zero_()
            elif name in masks:
                tensor.copy_(masks[name])
            else:
                tensor.abs_()
    params = params_of(net, masks)
    ones = torch.ones((1, *input_shape), dtype=torch.float64, device=params[0].device)
    grads = torch.autograd.grad(net(ones).sum(), params, allow_unused=True)
    return MaskSet(
        {
            n: masks[n] & (g > 0).to(masks[n].device) if g is not None else torch.zeros_like(masks[n])
            for n, g in zip(masks, grads, strict=True)
        }
    )
