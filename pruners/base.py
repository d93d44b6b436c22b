"""The pruner contract.

A scoring pruner implements one method, ``score``; selection (exact top-k, scope, tie-break)
and the schedule (one-shot or iterative) are shared (JaxPruner's rule; Synaptic-Flow's
``score``/``mask`` split). Every rule is written once over a :class:`~pruners.network.Network`,
so the same code prunes one model and a stack of K models (``noprune.ensemble``).
Training-based pruners receive a trainer callable so that this package never imports a
training loop.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from pruners.masks import MaskSet
from pruners.network import ModuleNetwork, Network
from pruners.schedules import one_shot
from pruners.selection import SCOPES, check_density

Batch = tuple[torch.Tensor, torch.Tensor]
Scores = list[torch.Tensor]
Trainer = Callable[..., None]
"""``train(model, masks, steps)``: train ``model`` in place for ``steps`` optimizer steps with
the pruned weights held at zero. IMP rewinding to step k > 0 also passes ``start`` and
``length``: ``train(model, masks, k, length=T)`` runs steps 0 to k of a T-step run,
``train(model, masks, T - k, start=k)`` steps k to T, with the data order and learning-rate
schedule of that run. The caller owns the data, optimizer and seeds."""


#: The families figures tell apart: random masks (no score), masks found at initialization,
#: masks found by training.
FAMILIES = ("random baseline", "at initialization", "after training")


@dataclasses.dataclass
class Pruner(ABC):
    """Base of every pruner. Subclasses are dataclasses whose fields are their settings."""

    name: ClassVar[str]
    description: ClassVar[str]
    uses_data: ClassVar[bool]
    uses_labels: ClassVar[bool] = True
    """Whether a pruner that uses data reads the labels of its batch, not only the inputs (PX
    reads only the inputs: where only the labels vary, its mask does not)."""
    needs_trainer: ClassVar[bool] = False
    order: ClassVar[float] = 100.0
    """Where the pruner's rows go in tables and legends (lower first; the built-ins 0 to 6)."""
    color: ClassVar[str | None] = None
    """Its colour in every figure (a matplotlib colour); None: one picked from its name. The
    built-ins' colours are all different (Paul Tol's qualitative schemes and greys)."""
    marker: ClassVar[str] = "o"
    """Its matplotlib marker; with the colour, no two built-ins look alike."""
    family: ClassVar[str] = "at initialization"
    """Which of FAMILIES it belongs to; figures draw each family in its own line style."""
    scopes: ClassVar[tuple[str, ...]] = SCOPES
    """The scopes the pruner's selection runs in; ("global",) for the methods that set every
    layer's density themselves (ERK, smart ratio, PHEW)."""
    legacy_settings: ClassVar[dict[str, str]] = {}
    """{setting: the config field it was stored under before pruner settings existed}, so that
    stored run keys stay valid (SynFlow's ``rounds`` was ``prune.synflow_rounds``)."""

    @property
    def batchnorm_mode(self) -> str:
        """The BatchNorm mode the pruner runs the network in: "train", "eval", or "n/a" when it
        never runs it (reports)."""
        if self.needs_trainer:
            return "train"
        train_mode = getattr(self, "train_mode", None)
        return "n/a" if train_mode is None else ("train" if train_mode else "eval")

    def work(self, density: float) -> tuple[int, int]:
        """(trainings, scoring passes) the pruner runs to reach ``density``: what a scheduler
        needs to put long jobs first. One scoring pass unless a subclass says otherwise."""
        return 0, 1

    def settings(self) -> dict[str, Any]:
        """The pruner's settings, for reports."""
        return dataclasses.asdict(self)

    def prune(
        self,
        model: nn.Module,
        density: float,
        *,
        batch: Batch | None = None,
        scope: str = "global",
        seed: int = 0,
        trainer: Trainer | None = None,
        exclude: tuple[str, ...] = (),
        invert: bool = False,
        apply: bool = True,
        include_biases: bool = False,
    ) -> MaskSet:
        """Prune ``model`` to ``density`` and return the masks, applied to ``model`` if ``apply``.

        On return ``model`` holds the weights the mask applies to: the initial weights for
        pruners at initialization, the trained weights for magnitude_after, the rewind-point
        weights for imp; with ``apply=False`` the pruned entries keep their values (what the
        shuffle ablation needs). ``invert`` keeps the lowest-ranked weights (the invert
        ablation). ``exclude`` names layers to leave dense; ``include_biases`` makes the biases of
        Linear and Conv layers prunable too (docs/SCIENCE.md §2: never, unless asked).
        """
        density = check_density(density)
        self.check(batch=batch, trainer=trainer, scope=scope)
        dense = MaskSet.dense(model, exclude, include_biases=include_biases)
        net = ModuleNetwork(model, dense, seed=seed, trainer=trainer)
        masks = self.prune_network(net, [density], batch=batch, scope=scope, invert=invert)
        if apply:
            masks.apply(model)
        return masks

    def check(self, *, batch: Batch | None, trainer: object, scope: str) -> None:
        """What every path checks before pruning: the scope, and the batch or trainer the pruner
        needs."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
        if scope not in self.scopes:
            raise ValueError(f"pruner {self.name} sets each layer's density itself: scope must be global")
        if self.uses_data and batch is None and not self.needs_trainer:
            raise ValueError(f"pruner {self.name} scores on data: pass batch=(x, y)")
        if self.needs_trainer and trainer is None:
            raise ValueError(
                f"pruner {self.name} trains the network: pass trainer=train(model, masks, steps) "
                "(an ensemble: data= and train=)"
            )

    @abstractmethod
    def prune_network(
        self, net: Network, densities: Sequence[float], *, batch: Batch | None, scope: str, invert: bool
    ) -> Any:
        """The pruner's rule on a :class:`~pruners.network.Network` of K members, member k pruned
        to ``densities[k]``; returns the view's masks. Written once for one model and for a
        stack of them (``noprune.ensemble``)."""


@dataclasses.dataclass
class ScoringPruner(Pruner):
    """A pruner defined by a score; keeps the highest scores over ``rounds`` rounds.

    The schedule is one-shot unless a subclass overrides :meth:`schedule`; every round scores
    the network with the current mask applied.
    """

    def schedule(self, density: float) -> list[float]:
        """Densities of the successive rounds; the last is the target."""
        return one_shot(density)

    @abstractmethod
    def score(self, net: Network, masks: Any, batch: Batch | None) -> Scores:
        """Scores for each prunable tensor of ``net`` under ``masks`` (higher = keep), in the
        order of ``net.weights()``.

        Must not change ``net``: score a ``net.masked_copy(masks)`` where scoring needs to alter it.
        """

    def work(self, density: float) -> tuple[int, int]:
        return 0, len(self.schedule(density))

    def scores(
        self, model: nn.Module, masks: MaskSet | None = None, batch: Batch | None = None, *, seed: int = 0
    ) -> dict[str, torch.Tensor]:
        """:meth:`score` of one model under ``masks`` (default: dense), by parameter name."""
        masks = MaskSet.dense(model) if masks is None else masks
        return dict(zip(masks, self.score(ModuleNetwork(model, masks, seed=seed), masks, batch), strict=True))

    def prune_network(self, net, densities, *, batch, scope, invert):
        schedules = [self.schedule(d) for d in densities]
        if len({len(s) for s in schedules}) != 1:
            raise ValueError(f"{self.name}: members' schedules differ in length; prune them apart")
        masks = net.dense()
        for step in zip(*schedules, strict=True):
            masks = net.select(self.score(net, masks, batch), step, scope=scope, alive=masks, invert=invert)
        return masks
