"""K MLPs as one tensor program: weights stacked to [K, out, in], forward by batched matmul.

Member k of a :class:`StackedMLP` is exactly the ``noprune.models.MLP`` whose parameters are
slice k of the stacks (same layer names: ``fc1.weight``, ..., ``out.weight``), so masks, scores
and results convert one-to-one between the ensemble and the single-model path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from noprune.models.mlp import MLP


@dataclass
class StackedMLP:
    """Stacked parameters of K ReLU MLPs of the same widths.

    ``weights[l]`` is [K, out_l, in_l]; ``biases[l]`` is [K, out_l] or None (bias-free).
    ``names[l]`` is the single-model parameter name of layer l's weight.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor | None]
    names: list[str]

    @classmethod
    def from_models(cls, models: Sequence[nn.Module]) -> StackedMLP:
        """Stack the parameters of K ``noprune.models.MLP`` (or any Linear/ReLU stack)."""
        linears = [[(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)] for model in models]
        names = [f"{n}.weight" for n, _ in linears[0]]
        weights = [torch.stack([ls[i][1].weight.detach() for ls in linears]) for i in range(len(names))]
        has_bias = linears[0][0][1].bias is not None
        biases = [
            torch.stack([ls[i][1].bias.detach() for ls in linears]) if has_bias else None
            for i in range(len(names))
        ]
        return cls(weights, biases, names)

    @property
    def size(self) -> int:
        """K, the number of members."""
        return self.weights[0].shape[0]

    @property
    def widths(self) -> tuple[int, ...]:
        return tuple(w.shape[1] for w in self.weights[:-1])

    @property
    def device(self) -> torch.device:
        return self.weights[0].device

    def parameters(self) -> list[torch.Tensor]:
        return [*self.weights, *(b for b in self.biases if b is not None)]

    def targets(self, include_biases: bool = False) -> list[tuple[str, torch.Tensor]]:
        """(name, stacked tensor) of what pruning covers, in the single-model order: each layer's
        weight, then (``include_biases``) its bias, as ``pruners.prunable_parameters`` orders them."""
        out = []
        for name, w, b in zip(self.names, self.weights, self.biases, strict=True):
            out.append((name, w))
            if include_biases and b is not None:
                out.append((name.removesuffix("weight") + "bias", b))
        return out

    def masked_tensors(self, n_masks: int) -> list[torch.Tensor]:
        """The tensors ``n_masks`` masks cover: the weights, or weights and biases interleaved."""
        for include_biases in (False, True):
            tensors = [t for _, t in self.targets(include_biases)]
            if len(tensors) == n_masks:
                return tensors
        raise ValueError(f"{n_masks} masks fit neither the weights nor the weights and biases")

    def requires_grad_(self, flag: bool = True) -> StackedMLP:
        for p in self.parameters():
            p.requires_grad_(flag)
        return self

    def clone(self, dtype: torch.dtype | None = None) -> StackedMLP:
        def copy(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.detach().clone().to(dtype or t.dtype)

        return StackedMLP([copy(w) for w in self.weights], [copy(b) for b in self.biases], list(self.names))

    def to(self, device: torch.device | str) -> StackedMLP:
        return StackedMLP(
            [w.to(device) for w in self.weights],
            [None if b is None else b.to(device) for b in self.biases],
            list(self.names),
        )

    def forward(self, x: torch.Tensor, inputs: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Outputs [K, B, out] for inputs [K, B, ...] (flattened per example). With ``inputs``,
        each layer's input (the previous ReLU output) is appended to it, for a backward pass."""
        h = x.flatten(2) if x.dim() > 3 else x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            if inputs is not None:
                inputs.append(h)
            h = (
                torch.bmm(h, w.transpose(1, 2))
                if b is None
                else torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
            )
            if i < last:
                h = h.relu_()  # in place: baddbmm's backward needs its inputs, not its output
        return h

    __call__ = forward

    def member(self, k: int) -> MLP:
        """Member k as a standalone ``noprune.models.MLP`` with a copy of its parameters."""
        w0 = self.weights[0]
        with torch.device("meta"):  # no initialisation: every parameter is copied in below
            model = MLP(w0.shape[2], self.widths, self.weights[-1].shape[1], bias=self.biases[0] is not None)
        return self.load_member(k, model.to_empty(device=self.device))

    def load_member(self, k: int, model: MLP) -> MLP:
        """``model`` (a :meth:`member` of this ensemble) made member k again: its parameters
        copied in, every one requiring grad, in train mode, as :meth:`member` builds it."""
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, w, b in zip(self.names, self.weights, self.biases, strict=True):
                params[name].copy_(w[k])
                if b is not None:
                    params[name.replace(".weight", ".bias")].copy_(b[k])
        for p in params.values():
            p.requires_grad_(True)
            p.grad = None
        return model.train()

    def take(self, members: torch.Tensor) -> StackedMLP:
        """A new ensemble of the given members (copies of their parameters)."""
        return StackedMLP(
            [w[members] for w in self.weights],
            [None if b is None else b[members] for b in self.biases],
            list(self.names),
        )

    def block(self, start: int, stop: int) -> StackedMLP:
        """Members ``start:stop`` as views of these stacks: training the block trains them here."""
        return StackedMLP(
            [w[start:stop] for w in self.weights],
            [None if b is None else b[start:stop] for b in self.biases],
            list(self.names),
        )

    def put(self, members: torch.Tensor, other: StackedMLP) -> None:
        """Write ``other``'s parameters back into the given members."""
        with torch.no_grad():
            for p, q in zip(self.parameters(), other.parameters(), strict=True):
                p[members] = q

    def state(self) -> list[torch.Tensor]:
        """A copy of every stacked tensor, for rewinding."""
        return [p.detach().clone() for p in self.parameters()]

    def load(self, state: Sequence[torch.Tensor]) -> None:
        with torch.no_grad():
            for p, s in zip(self.parameters(), state, strict=True):
                p.copy_(s)


def stacked_masks_of(
    masks: Sequence[dict[str, torch.Tensor]] | None, model: StackedMLP
) -> list[torch.Tensor]:
    """Per-layer [K, out, in] bool masks from K per-member {name: mask} mappings (None: dense)."""
    if masks is None:
        return [torch.ones_like(w, dtype=torch.bool) for w in model.weights]
    return [torch.stack([m[name].to(model.device) for m in masks]) for name in model.names]


def member_masks(masks: Sequence[torch.Tensor], names: Sequence[str], k: int) -> dict[str, torch.Tensor]:
    """Member k's {name: mask}, in the single-model parameter order."""
    return {name: m[k] for name, m in zip(names, masks, strict=True)}
