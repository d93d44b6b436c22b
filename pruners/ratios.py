"""Random masks with chosen layerwise densities: the baselines every pruning-at-initialization
method must beat (Su et al., NeurIPS 2020; Frankle, Dziugaite, Roy & Carbin, ICLR 2021: random
masks with good layer ratios match most methods).

Each method sets the density of every layer; the layer's weights are then kept uniformly at
random, exactly ``apportion``-ed counts that add up to round(density * N) (docs/SCIENCE.md §2).
The methods' own allocations (scope does not apply to them):

- ``uniform``: the same density in every layer.
- ``erk`` (Evci et al., ICML 2020, RigL, Sec. 3; google-research/rigl ``sparse_utils.
  get_sparsities_erdos_renyi``): density_l = eps * ((sum of the layer's dimensions) / (product
  of them))^power, eps solved for the total, and the layers that would exceed 1 made dense
  and eps solved again.
- ``smart_ratio`` (Su et al. 2020, Sec. 5; JingtongSu/sanity-checking-pruning
  ``pruner/SmartRatio.py``): of the L prunable tensors, the classifier (the last) keeps 30%;
  tensor j = 0 .. L-2 keeps density proportional to (L - j)^2 + (L - j), with L counting every
  tensor, the classifier included, as the official code does (``form="vgg"``: divided by
  (j + 1)^2 as well, the official code's form for every architecture but ResNet). Where a
  density would exceed 1 the layer is made dense and its excess passed on to the next layers in
  order, as far as they have room (:func:`pass_on`, the official overflow loop).
  Departures: the official code gives every ``nn.Linear`` 30% and cannot run a network whose
  linear layers hold most weights (an MLP: every layer would keep 30% whatever the target);
  here only the last tensor is the classifier and the rest follow the decay, and its 30% is
  capped at the target count. The official counts are each truncated with ``int()`` (a few
  weights under the target: 81,261 of 81,269 on ResNet-20 at 0.3); here they are apportioned to
  exactly round(density * N). Layers it would leave over 1 after its loop stops are clamped there
  (their excess lost); the decay is monotone, so only leading layers overflow and this does not
  arise on its networks.
- ``random_like``: the per-layer densities of another pruner's mask (``like``), weights random
  within each layer: the layerwise shuffle of Frankle et al. 2021 as a pruner.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

from pruners.base import Pruner
from pruners.selection import apportion, keep_count


def water_fill(raw: Sequence[float], sizes: Sequence[int], total: float) -> list[float]:
    """Densities min(1, eps * raw_l) with eps such that sum_l density_l * n_l = ``total``: the
    layers at 1 are made dense and eps is solved again over the others (RigL's ERK loop)."""
    dense: set[int] = set()
    while True:
        free = [i for i in range(len(raw)) if i not in dense]
        budget = total - sum(sizes[i] for i in dense)
        weight = sum(raw[i] * sizes[i] for i in free)
        if not free or weight <= 0:
            return [1.0 if i in dense else 0.0 for i in range(len(raw))]
        eps = budget / weight
        over = [i for i in free if eps * raw[i] > 1.0]
        if not over:
            return [1.0 if i in dense else eps * raw[i] for i in range(len(raw))]
        top = max(raw[i] for i in over)
        dense.update(i for i in free if raw[i] == top)


@dataclasses.dataclass
class LayerRatio(Pruner):
    """A random mask whose layer densities the method sets (:meth:`layer_densities`)."""

    uses_data = False
    scopes = ("global",)

    def layer_densities(self, shapes: Sequence[tuple[int, ...]], density: float) -> list[float]:
        """The density of each prunable tensor at overall ``density``."""
        raise NotImplementedError

    def counts(self, shapes: Sequence[tuple[int, ...]], density: float) -> list[int]:
        """Exact keep counts per layer: the densities apportioned to round(density * N)."""
        sizes = [math.prod(s) for s in shapes]
        quotas = [d * n for d, n in zip(self.layer_densities(shapes, density), sizes, strict=True)]
        return apportion(quotas, keep_count(density, sum(sizes)), sizes)

    def prune_network(self, net, densities, *, batch, scope, invert):
        shapes = [tuple(s) for s in net.shapes()]
        counts = [self.counts(shapes, d) for d in densities]
        return net.select(net.uniform(), densities, scope="layerwise", counts=counts, invert=invert)


@dataclasses.dataclass
class Uniform(LayerRatio):
    """Every layer at the target density, weights kept at random."""

    name = "uniform"
    description = "random, the same density in every layer (data-blind baseline)"
    scopes = ("global", "layerwise")  # the same masks in either: every layer at the density
    order = 0.1
    color = "#BBBBBB"
    marker = "s"
    family = "random baseline"

    def layer_densities(self, shapes, density):
        return [density] * len(shapes)


@dataclasses.dataclass
class ERK(LayerRatio):
    """Erdos-Renyi-Kernel densities eps * (sum(shape) / prod(shape))^power (Evci et al. 2020,
    Sec. 3), random within each layer; ``power`` 0 is uniform."""

    name = "erk"
    description = "random with Erdos-Renyi-Kernel layer densities (Evci et al. 2020)"
    order = 0.2
    color = "#997700"
    marker = "^"
    family = "random baseline"
    power: float = 1.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.power) and self.power >= 0.0):  # RigL's erk_power_scale: 0 to 1
            raise ValueError(f"erk's power must be finite and at least 0 (0 is uniform), got {self.power}")

    def layer_densities(self, shapes, density):
        sizes = [math.prod(s) for s in shapes]
        raw = [(sum(s) / math.prod(s)) ** self.power for s in shapes]
        return water_fill(raw, sizes, density * sum(sizes))


def pass_on(raw: Sequence[float], sizes: Sequence[int], total: float) -> list[float]:
    """Densities eps * raw_l with eps such that sum_l density_l * n_l = ``total``; then, in layer
    order, a layer over 1 is made dense and its excess weights go to the layers after it, each
    taking as many as it has room for (SmartRatio's overflow loop)."""
    eps = total / sum(r * n for r, n in zip(raw, sizes, strict=True))
    out, excess = [], 0.0
    for r, n in zip(raw, sizes, strict=True):
        density = eps * r
        if density >= 1.0:
            excess += (density - 1.0) * n
            out.append(1.0)
        else:
            taken = min((1.0 - density) * n, excess)
            excess -= taken
            out.append(density + taken / n)
    return out


@dataclasses.dataclass
class SmartRatio(LayerRatio):
    """Smart ratio (Su et al. 2020, Sec. 5): the classifier (the last prunable tensor) keeps
    ``classifier_density``; tensor j of the L others density proportional to (L - j)^2 + (L - j)
    (``form="vgg"``: also divided by (j + 1)^2, the official code's form for VGG), L counting the
    classifier too; overflow passed on to the next layers (:func:`pass_on`)."""

    name = "smart_ratio"
    description = "random with quadratically decaying layer densities, classifier 30% (Su et al. 2020)"
    order = 0.3
    color = "#994455"
    marker = "v"
    family = "random baseline"
    classifier_density: float = 0.3
    form: str = "resnet"

    def __post_init__(self) -> None:
        if self.form not in ("resnet", "vgg"):
            raise ValueError(f"smart_ratio: form must be 'resnet' or 'vgg', got {self.form!r}")
        if not 0.0 < self.classifier_density <= 1.0:
            raise ValueError(
                f"smart_ratio: classifier_density must be in (0, 1], got {self.classifier_density}"
            )

    def layer_densities(self, shapes, density):
        sizes = [math.prod(s) for s in shapes]
        total = density * sum(sizes)
        if len(shapes) == 1:
            return [density]
        last = min(self.classifier_density * sizes[-1], total)
        n = len(shapes)
        raw = [((n - j) ** 2 + (n - j)) / ((j + 1) ** 2 if self.form == "vgg" else 1) for j in range(n - 1)]
        return [*pass_on(raw, sizes[:-1], total - last), last / sizes[-1]]


@dataclasses.dataclass
class RandomLike(Pruner):
    """Random weights with the per-layer counts of the mask ``like`` finds (Frankle et al. 2021's
    layerwise shuffle). ``train_steps`` and ``rewind_step`` go to ``like`` when it trains."""

    name = "random_like"
    description = (
        "random within each layer, with the layer densities of another pruner's mask (Frankle et al. 2021)"
    )
    order = 6.5
    color = "#6699CC"
    marker = "D"
    family = "random baseline"
    like: str = "synflow"
    train_steps: int = 0
    rewind_step: int = 0

    def base(self) -> Pruner:
        from pruners.registry import PRUNERS

        if self.like not in PRUNERS or self.like == self.name:
            raise ValueError(f"random_like: like must name another pruner, got {self.like!r}")
        cls = PRUNERS[self.like]
        fields = {f.name for f in dataclasses.fields(cls)}
        passed = {"train_steps": self.train_steps, "rewind_step": self.rewind_step}
        return cls(**{k: v for k, v in passed.items() if k in fields})

    def __post_init__(self) -> None:
        self.base()

    @property
    def uses_data(self) -> bool:  # type: ignore[override]
        return self.base().uses_data

    @property
    def uses_labels(self) -> bool:  # type: ignore[override]
        return self.base().uses_labels

    @property
    def needs_trainer(self) -> bool:  # type: ignore[override]
        return self.base().needs_trainer

    @property
    def batchnorm_mode(self) -> str:
        return self.base().batchnorm_mode

    def work(self, density: float) -> tuple[int, int]:
        return self.base().work(density)

    def prune_network(self, net, densities, *, batch, scope, invert):
        state = net.state()
        masks = self.base().prune_network(net, densities, batch=batch, scope=scope, invert=invert)
        net.load(state)  # the weights at initialization, whatever ``like`` trained
        counts = layer_counts_of(net, masks)
        return net.select(net.uniform(), densities, scope="layerwise", counts=counts)


def layer_counts_of(net, masks) -> list[list[int]]:
    """Per member, the number of weights each layer of ``masks`` keeps (a MaskSet of one
    model, or per-layer [K, ...] masks of a stack)."""
    if isinstance(masks, Mapping):
        return [[int(m.sum()) for m in masks.values()]]
    return [[int(m[j].sum()) for m in masks] for j in range(net.members)]
