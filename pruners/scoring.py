"""Helpers shared by the scoring pruners: the loss on a batch and a side-effect-free copy."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from pruners.masks import MaskSet


def batch_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for class indices, mean squared error for real-valued targets."""
    if target.is_floating_point():
        return F.mse_loss(output, target.reshape(output.shape).to(output.dtype))
    return F.cross_entropy(output, target)


def scoring_copy(model: nn.Module, masks: MaskSet, dtype: torch.dtype | None = None) -> nn.Module:
    """A copy of ``model`` with ``masks`` applied, for scoring without touching the original.

    Scoring in train mode updates BatchNorm running statistics and leaves gradients behind;
    doing it on a copy keeps the caller's model exactly as it was.
    """
    net = copy.deepcopy(model)
    MaskSet.release(net)
    if dtype is not None:
        net = net.to(dtype)
    masks.zero_(net)
    net.zero_grad(set_to_none=True)
    return net


def on_device(
    batch: tuple[torch.Tensor, torch.Tensor], model: nn.Module
) -> tuple[torch.Tensor, torch.Tensor]:
    """Move a batch to the device of the model's parameters."""
    device = next(model.parameters()).device
    return batch[0].to(device), batch[1].to(device)


def params_of(net: nn.Module, masks: MaskSet) -> list[nn.Parameter]:
    """The parameters of ``net`` that ``masks`` covers, in mask order."""
    params = dict(net.named_parameters())
    return [params[n] for n in masks]
