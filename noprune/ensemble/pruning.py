"""Pruning K stacked MLPs at once: every registered pruner's own rule, run on the stacked view.

A pruner states its rule once (``pruners``: ``ScoringPruner.score`` over a
``pruners.network.Network``, the IMP and magnitude-after loops); :class:`StackedNetwork` is that
view for a :class:`StackedMLP`, computing each quantity on the stacked tensors: the loss is the
sum of the members' mean losses, so its gradient is every member's own gradient; the all-ones
input is one row per member; member k's uniform draws come from ``torch.Generator(seeds[k])``;
training runs through :func:`fit_ensemble` with member k's data order from ``seeds[k]``.
Selection is the shared ``pruners.selection.select_rows``, which the one-model ``select`` also
runs, per member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import torch

import pruners
from noprune.config import TrainConfig
from noprune.ensemble.stacked import StackedMLP, member_masks
from noprune.ensemble.train import EnsembleData, fit_ensemble, gather, per_example_loss
from pruners.selection import select_rows

Batch = tuple[torch.Tensor, torch.Tensor]
Masks = list[torch.Tensor]


class StackedNetwork:
    """A :class:`StackedMLP` as a ``pruners.network.Network``: tensors [K, ...], masks a list
    of per-layer [K, ...] bool tensors (weights, or weights and biases interleaved with
    ``include_biases``, as ``model.targets`` lists them). ``data`` and ``train`` are what
    :meth:`train` trains on (the pruners that train need them)."""

    def __init__(
        self,
        model: StackedMLP,
        *,
        seeds: Sequence[int],
        include_biases: bool = False,
        data: EnsembleData | None = None,
        train: TrainConfig | None = None,
    ) -> None:
        self.model = model
        self.seeds = [int(s) for s in seeds]
        self.include_biases = include_biases
        self.data = data
        self.config = train
        self.generators = [torch.Generator().manual_seed(s) for s in self.seeds]
        """Member k's draws (``uniform``, and the member views of ``per_member``), from seeds[k],
        one stream kept across calls and copies, as ``ModuleNetwork`` keeps its generator."""

    @property
    def members(self) -> int:
        return self.model.size

    def targets(self) -> list[torch.Tensor]:
        return [t for _, t in self.model.targets(self.include_biases)]

    def dense(self) -> Masks:
        return [torch.ones_like(t, dtype=torch.bool) for t in self.targets()]

    def weights(self) -> list[torch.Tensor]:
        return [t.detach() for t in self.targets()]

    def shapes(self) -> list[torch.Size]:
        return [t.shape[1:] for t in self.targets()]

    def per_member(self, score, masks: Masks, batch: Batch | None) -> list[torch.Tensor]:
        names = [name for name, _ in self.model.targets(self.include_biases)]
        # One module, loaded with each member in turn (building one costs more than most scores);
        # each member's scores are copies, so none is a view of the module the next overwrites.
        module = self.model.member(0)
        per = []
        for k in range(self.model.size):
            self.model.load_member(k, module)
            dense = pruners.MaskSet.dense(module, include_biases=self.include_biases)
            if list(dense) != names:
                raise ValueError(f"member {k}'s prunable tensors {list(dense)} are not the stack's {names}")
            member = pruners.ModuleNetwork(module, dense, generator=self.generators[k])
            mine = pruners.MaskSet(member_masks(masks, names, k))
            scores = score(member, mine, None if batch is None else member_batch(batch, k))
            per.append([s.clone() for s in scores])
        return [torch.stack([p[i] for p in per]) for i in range(len(names))]

    def masked_copy(
        self, masks: Masks, *, dtype: torch.dtype | None = None, train: bool = False
    ) -> StackedNetwork:
        # train/eval mode changes nothing here: the stacked MLP has no BatchNorm or dropout.
        copy = StackedNetwork(
            masked_copy(self.model, masks, dtype), seeds=self.seeds, include_biases=self.include_biases
        )
        copy.generators = self.generators
        return copy

    def loss(self, batch: Batch, temperature: float = 1.0) -> torch.Tensor:
        x, y = batch
        k = self.model.size
        out = self.model(gather(x, None, k)) / temperature
        return per_example_loss(out, gather(y, None, k)).mean(dim=1).sum()

    def absolute_(self) -> None:
        with torch.no_grad():
            for p in self.model.parameters():
                p.abs_()

    def ones_output(self, input_shape: tuple[int, ...] | None) -> torch.Tensor:
        w = self.model.weights[0]
        return self.model(torch.ones(self.model.size, 1, w.shape[2], dtype=w.dtype, device=w.device)).sum()

    def uniform(self) -> list[torch.Tensor]:
        shapes = self.shapes()
        per_member = [
            [torch.rand(shape, generator=generator, dtype=torch.float64) for shape in shapes]
            for generator in self.generators
        ]
        return [torch.stack([m[i] for m in per_member]).to(self.model.device) for i in range(len(shapes))]

    def select(
        self, scores, densities, *, scope, alive=None, invert=False, members=None, counts=None
    ) -> Masks:
        if members is None:
            return select_rows(scores, densities, scope=scope, alive=alive, invert=invert, counts=counts)
        if counts is not None:
            raise ValueError("per-layer counts are given for every member, not for some")
        rows = torch.tensor(list(members), device=scores[0].device)
        picked = select_rows(
            [s[rows] for s in scores], densities, scope=scope, alive=[a[rows] for a in alive], invert=invert
        )
        out = [a.clone() for a in alive]
        for o, p in zip(out, picked, strict=True):
            o[rows] = p
        return out

    def train(
        self,
        masks: Masks,
        steps: int,
        *,
        start: int = 0,
        length: int | None = None,
        members: Sequence[int] | None = None,
    ) -> None:
        """Train the given members (default all). Members that start alike (same seed,
        parameters, training data and mask) train the same network: one of them trains for all
        and each takes its trained weights (a sweep over densities trains each seed's dense
        network once, and imp's rounds until two targets' schedules part). A lone member trains
        beside a copy of itself, so its numbers never depend on its neighbours (batched matmuls
        take another kernel for a single matrix)."""
        if self.data is None or self.config is None:
            raise ValueError("this pruner trains the network: pass data= and train=")
        k = self.model.size
        members = list(range(k)) if members is None else list(members)
        groups: dict[bytes, list[int]] = {}
        for j, key in zip(members, self._fingerprints(masks, members), strict=True):
            groups.setdefault(key, []).append(j)
        leaders = [js[0] for js in groups.values()]
        if len(leaders) == k > 1:
            resume = {"steps": steps, "start": start, "length": length}
            fit_ensemble(self.model, self.data, masks, self.config, seeds=self.seeds, **resume)
            return
        device = self.model.device
        rows = torch.tensor(leaders if len(leaders) > 1 else leaders * 2, device=device)
        sub = self.model.take(rows)
        sub_seeds = [self.seeds[j] for j in rows.tolist()]
        fit_ensemble(
            sub,
            self.data.take(rows),
            [m[rows] for m in masks],
            self.config,
            seeds=sub_seeds,
            steps=steps,
            start=start,
            length=length,
        )
        for i, js in enumerate(groups.values()):
            self.model.put(
                torch.tensor(js, device=device), sub.take(torch.tensor([i] * len(js), device=device))
            )

    def _fingerprints(self, masks: Masks, members: Sequence[int]) -> list[bytes]:
        """A digest per member of everything its training depends on."""
        k = self.model.size
        rows = [
            t.detach().cpu().contiguous().reshape(k, -1).numpy()
            for t in (*self.model.parameters(), self.data.x_train, self.data.y_train, *masks)
            if t.shape[0] == k
        ]
        digests = []
        for j in members:
            h = hashlib.blake2b(str(self.seeds[j]).encode(), digest_size=16)
            for r in rows:
                h.update(r[j].tobytes())
            digests.append(h.digest())
        return digests

    def state(self) -> list[torch.Tensor]:
        return self.model.state()

    def load(self, state: Sequence[torch.Tensor]) -> None:
        self.model.load(state)

    def apply(self, masks: Masks) -> None:
        with torch.no_grad():
            for t, m in zip(self.model.masked_tensors(len(masks)), masks, strict=True):
                t.mul_(m.to(t.dtype))


def member_batch(batch: Batch, k: int) -> Batch:
    """Member k's scoring batch from (x [K or 1, B, ...], y [K or 1, B])."""
    x, y = batch
    return x[k if x.shape[0] > 1 else 0], y[k if y.shape[0] > 1 else 0]


def masked_copy(
    model: StackedMLP, masks: Sequence[torch.Tensor], dtype: torch.dtype | None = None
) -> StackedMLP:
    net = model.clone(dtype)
    with torch.no_grad():
        for t, m in zip(net.masked_tensors(len(masks)), masks, strict=True):
            t.mul_(m.to(t.dtype))
    return net.requires_grad_(True)


def prune_ensemble(
    pruner: pruners.Pruner | str,
    model: StackedMLP,
    densities: float | Sequence[float],
    *,
    seeds: Sequence[int],
    batch: Batch | None = None,
    scope: str = "global",
    invert: bool = False,
    data: EnsembleData | None = None,
    train: TrainConfig | None = None,
    include_biases: bool = False,
    **settings: object,
) -> Masks:
    """Masks [K, out, in] per layer for every member, as ``pruner.prune`` gives each member alone.

    ``pruner``: a pruner, or a registered name with its ``settings`` (``pruners.get``).
    ``batch``: (x [K or 1, B, ...], y [K or 1, B]) for the pruners that score on data. ``data``
    and ``train`` for the pruners that train (magnitude_after and imp, ``train_steps`` and
    ``rewind_step`` among their settings), through :func:`fit_ensemble` with member k's data
    order from ``seeds[k]``. On return ``model`` holds the weights the masks apply to, pruned
    entries zeroed. With ``include_biases`` the masks cover weights and biases, interleaved per
    layer as ``model.targets(True)`` lists them (``pruners``' ``include_biases``).
    """
    if isinstance(pruner, str):
        pruner = pruners.get(pruner, **settings)
    k = model.size
    densities = (
        [pruners.check_density(densities)] * k if isinstance(densities, float | int) else list(densities)
    )
    densities = [pruners.check_density(d) for d in densities]
    if len(densities) != k or len(seeds) != k:
        raise ValueError(
            f"need one density per member and one seed per member: {k} members, {len(densities)} densities, "
            f"{len(seeds)} seeds"
        )
    pruner.check(
        batch=batch, trainer=(data, train) if data is not None and train is not None else None, scope=scope
    )
    net = StackedNetwork(model, seeds=seeds, include_biases=include_biases, data=data, train=train)
    masks = pruner.prune_network(net, densities, batch=batch, scope=scope, invert=invert)
    net.apply(masks)
    return masks
