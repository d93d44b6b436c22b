"""What a pruner's rule sees: a network of K >= 1 members, one model or a stack of them.

A pruner states its rule once, over the quantities this view computes (the prunable weights, a
masked copy, the loss on a batch and its gradients, the all-ones output of the absolute
network, seeded uniform draws, training, rewinding). :class:`ModuleNetwork`, here, is one
``nn.Module`` (one member, masks as a :class:`~pruners.masks.MaskSet`); ``noprune.ensemble``
supplies the stacked view of K MLPs whose tensors are [K, ...] and whose masks are per-layer
[K, ...] tensors. Each view computes those quantities for its own representation, so a rule
written once gives the same masks on both paths (tests/test_ensemble.py checks every
registered pruner). Members are independent: a view's loss is the sum of its members' mean
losses, so its gradient is every member's own gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import torch
from torch import nn

from pruners.masks import MaskSet
from pruners.scoring import batch_loss, on_device, params_of, scoring_copy
from pruners.selection import select

Batch = tuple[torch.Tensor, torch.Tensor]


class Network(Protocol):
    """The view a pruner's rule works on. ``Masks`` are the view's own mask type (a MaskSet for
    one model, a list of [K, ...] bool tensors for a stack); rules pass them through untouched."""

    @property
    def members(self) -> int:
        """K, the number of independent networks."""

    def dense(self) -> Any:
        """Masks keeping every prunable entry."""

    def weights(self) -> list[torch.Tensor]:
        """The prunable tensors, in the fixed parameter order, as they are (detached)."""

    def shapes(self) -> list[torch.Size]:
        """One member's shape of each prunable tensor (out, in, kernel...)."""

    def per_member(
        self,
        score: Callable[[ModuleNetwork, MaskSet, Batch | None], list[torch.Tensor]],
        masks: Any,
        batch: Batch | None,
    ) -> list[torch.Tensor]:
        """``score`` run on each member as a :class:`ModuleNetwork` (an ``nn.Module`` with its
        MaskSet, its batch and its own seeded generator, kept across calls), the results in this
        view's layout. For rules defined on a module's forward pass (PX rewires its
        activations, NTK-SAP and ProsPr call it with other weights): the stacked view runs them
        member by member, with the same numbers as one model alone."""

    def masked_copy(self, masks: Any, *, dtype: torch.dtype | None = None, train: bool = False) -> Network:
        """A copy with ``masks`` applied, in train or eval mode, for scoring without side effects."""

    def targets(self) -> list[torch.Tensor]:
        """The prunable tensors of this (copied) network as autograd leaves."""

    def loss(self, batch: Batch, temperature: float = 1.0) -> torch.Tensor:
        """Sum over members of each member's mean loss on its batch, logits divided by
        ``temperature``."""

    def absolute_(self) -> None:
        """Replace every floating parameter and buffer by its absolute value, in place."""

    def ones_output(self, input_shape: tuple[int, ...] | None) -> torch.Tensor:
        """Sum of the outputs on one all-ones input per member, in the network's dtype."""

    def uniform(self) -> list[torch.Tensor]:
        """I.i.d. U[0, 1) float64 draws shaped like the prunable tensors, member k's from its
        own seeded generator."""

    def select(
        self,
        scores: Sequence[torch.Tensor],
        densities: Sequence[float],
        *,
        scope: str,
        alive: Any = None,
        invert: bool = False,
        members: Sequence[int] | None = None,
        counts: Sequence[Sequence[int]] | None = None,
    ) -> Any:
        """Exact top-k per member (``pruners.selection``); with ``members``, only those
        members' masks change (one density each), the others keep ``alive``'s; with ``counts``,
        member k keeps exactly ``counts[k][l]`` in layer l."""

    def train(
        self,
        masks: Any,
        steps: int,
        *,
        start: int = 0,
        length: int | None = None,
        members: Sequence[int] | None = None,
    ) -> None:
        """Train (the given members) in place for ``steps`` optimizer steps with ``masks`` held
        at zero: steps ``start`` to ``start + steps`` of a run of ``length`` steps (default
        ``start + steps``), data order and learning-rate schedule as in that run."""

    def state(self) -> Any:
        """A copy of every parameter and buffer, for rewinding."""

    def load(self, state: Any) -> None:
        """Restore a :meth:`state`."""

    def apply(self, masks: Any) -> None:
        """Zero the pruned entries in place."""


class ModuleNetwork:
    """One ``nn.Module`` as a :class:`Network` of one member."""

    members = 1

    def __init__(
        self,
        model: nn.Module,
        dense: MaskSet,
        *,
        seed: int = 0,
        trainer: Any = None,
        generator: torch.Generator | None = None,
    ) -> None:
        self.model = model
        self._dense = dense
        self.trainer = trainer
        self.generator = generator if generator is not None else torch.Generator().manual_seed(seed)

    def dense(self) -> MaskSet:
        return self._dense

    def _params(self) -> list[nn.Parameter]:
        return params_of(self.model, self._dense)

    def weights(self) -> list[torch.Tensor]:
        return [p.detach() for p in self._params()]

    def shapes(self) -> list[torch.Size]:
        return [p.shape for p in self._params()]

    def per_member(self, score, masks: MaskSet, batch: Batch | None) -> list[torch.Tensor]:
        return score(self, masks, batch)

    def masked_copy(
        self, masks: MaskSet, *, dtype: torch.dtype | None = None, train: bool = False
    ) -> ModuleNetwork:
        net = scoring_copy(self.model, masks, dtype).train(train)
        return ModuleNetwork(net, self._dense, generator=self.generator)

    def targets(self) -> list[torch.Tensor]:
        return self._params()

    def loss(self, batch: Batch, temperature: float = 1.0) -> torch.Tensor:
        x, y = on_device(batch, self.model)
        out = self.model(x)
        return batch_loss(out if temperature == 1.0 else out / temperature, y)

    def absolute_(self) -> None:
        with torch.no_grad():
            for tensor in self.model.state_dict().values():
                if tensor.is_floating_point():
                    tensor.abs_()

    def ones_output(self, input_shape: tuple[int, ...] | None) -> torch.Tensor:
        if input_shape is None:
            raise ValueError("this score needs the input shape: pass input_shape= or a batch")
        p = self._params()[0]
        return self.model(torch.ones((1, *input_shape), dtype=p.dtype, device=p.device)).sum()

    def uniform(self) -> list[torch.Tensor]:
        return [
            torch.rand(p.shape, generator=self.generator, dtype=torch.float64).to(p.device)
            for p in self._params()
        ]

    def select(
        self, scores, densities, *, scope, alive=None, invert=False, members=None, counts=None
    ) -> MaskSet:
        (density,) = densities
        named = dict(zip(self._dense, scores, strict=True))
        return select(named, density, scope=scope, alive=alive, invert=invert, counts=counts)

    def train(self, masks: MaskSet, steps: int, *, start: int = 0, length=None, members=None) -> None:
        resume = {k: v for k, v in (("start", start), ("length", length)) if v}
        self.trainer(self.model, masks, steps, **resume)  # a plain trainer(model, masks, steps) too

    def state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.model.state_dict().items()}

    def load(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)

    def apply(self, masks: MaskSet) -> None:
        masks.apply(self.model)
