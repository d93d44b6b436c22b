"""Pruning K stacked MLPs at once: the scores of random, magnitude, snip, grasp and synflow for
all members in one pass, and batched magnitude_after and imp (train, prune, rewind rounds).

Each score is the one-model definition of ``pruners`` (SNIP: |theta * dL/dtheta|; GraSP: the
keep-score theta * Hg with logits / T; SynFlow: |theta * dR/dtheta| on absolute weights in
float64), computed on the stacked network: members are independent, so the gradient of the sum
of member losses is every member's own gradient. Selection and schedules are the shared ones
of ``pruners.selection`` and ``pruners.schedules``, applied per member.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from noprune.ensemble.stacked import StackedMLP
from noprune.ensemble.train import EnsembleData, fit_ensemble, gather, per_example_loss
from noprune.training import TrainConfig
from pruners.schedules import exponential, iterative
from pruners.selection import check_density, select_rows

BATCHED = ("random", "magnitude", "snip", "grasp", "synflow", "magnitude_after", "imp")
SHARES_TRAINING = ("magnitude_after", "imp")
"""Pruners that train before they prune: members of one seed at several densities share that
training within an ensemble (:func:`after_training`)."""
Batch = tuple[torch.Tensor, torch.Tensor]


def _loss(model: StackedMLP, batch: Batch, temperature: float = 1.0) -> torch.Tensor:
    x, y = batch
    k = model.size
    return per_example_loss(model(gather(x, None, k)) / temperature, gather(y, None, k)).mean(dim=1).sum()


def _tensors(model: StackedMLP, include_biases: bool) -> list[torch.Tensor]:
    return [t for _, t in model.targets(include_biases)]


def random_scores(
    model: StackedMLP, seeds: Sequence[int], include_biases: bool = False
) -> list[torch.Tensor]:
    """Member k's scores from ``torch.Generator(seeds[k])``, drawn as the one-model pruner does."""
    shapes = [t.shape[1:] for t in _tensors(model, include_biases)]
    per_member = []
    for seed in seeds:
        generator = torch.Generator().manual_seed(int(seed))
        per_member.append([torch.rand(shape, generator=generator, dtype=torch.float64) for shape in shapes])
    return [torch.stack([m[i] for m in per_member]).to(model.device) for i in range(len(shapes))]


def magnitude_scores(model: StackedMLP, include_biases: bool = False) -> list[torch.Tensor]:
    return [t.detach().abs() for t in _tensors(model, include_biases)]


def snip_scores(
    model: StackedMLP, masks: Sequence[torch.Tensor], batch: Batch, include_biases: bool = False
) -> list[torch.Tensor]:
    net = masked_copy(model, masks)
    ts = _tensors(net, include_biases)
    grads = torch.autograd.grad(_loss(net, batch), ts)
    return [(t.detach() * g).abs() for t, g in zip(ts, grads, strict=True)]


def grasp_scores(
    model: StackedMLP,
    masks: Sequence[torch.Tensor],
    batch: Batch,
    temperature: float = 200.0,
    include_biases: bool = False,
) -> list[torch.Tensor]:
    net = masked_copy(model, masks)
    ts = _tensors(net, include_biases)
    g_stop = torch.autograd.grad(_loss(net, batch, temperature), ts)
    g = torch.autograd.grad(_loss(net, batch, temperature), ts, create_graph=True)
    hg = torch.autograd.grad(sum((a * b).sum() for a, b in zip(g, g_stop, strict=True)), ts)
    return [t.detach() * h for t, h in zip(ts, hg, strict=True)]


def synflow_scores(
    model: StackedMLP, masks: Sequence[torch.Tensor], include_biases: bool = False
) -> list[torch.Tensor]:
    net = masked_copy(model, masks, dtype=torch.float64)
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    ts = _tensors(net, include_biases)
    ones = torch.ones(net.size, 1, net.weights[0].shape[2], dtype=torch.float64, device=net.device)
    grads = torch.autograd.grad(net(ones).sum(), ts)
    return [(t.detach() * g).abs() for t, g in zip(ts, grads, strict=True)]


def masked_copy(
    model: StackedMLP, masks: Sequence[torch.Tensor], dtype: torch.dtype | None = None
) -> StackedMLP:
    net = model.clone(dtype)
    with torch.no_grad():
        for t, m in zip(net.masked_tensors(len(masks)), masks, strict=True):
            t.mul_(m.to(t.dtype))
    return net.requires_grad_(True)


def prune_ensemble(
    name: str,
    model: StackedMLP,
    densities: float | Sequence[float],
    *,
    seeds: Sequence[int],
    batch: Batch | None = None,
    scope: str = "global",
    invert: bool = False,
    data: EnsembleData | None = None,
    train: TrainConfig | None = None,
    train_steps: int = 1000,
    rewind_step: int = 0,
    synflow_rounds: int = 100,
    imp_rate: float = 0.2,
    include_biases: bool = False,
) -> list[torch.Tensor]:
    """Masks [K, out, in] per layer for every member, as ``pruners.get(name)`` would give.

    ``batch``: (x [K or 1, B, ...], y [K or 1, B]) for snip and grasp. ``data`` and ``train``
    (with ``train_steps``, ``rewind_step``) for magnitude_after and imp, whose training runs
    through :func:`fit_ensemble` with member k's data order from ``seeds[k]``. On return
    ``model`` holds the weights the masks apply to, pruned entries zeroed. With
    ``include_biases`` the masks cover weights and biases, interleaved per layer as
    ``model.targets(True)`` lists them (``pruners``' ``include_biases``).
    """
    if name not in BATCHED:
        raise KeyError(f"no batched pruner {name!r}; batched: {', '.join(BATCHED)}")
    k = model.size
    densities = [check_density(densities)] * k if isinstance(densities, float | int) else list(densities)
    if len(densities) != k or len(seeds) != k:
        raise ValueError(
            f"need one density per member and one seed per member: {k} members, {len(densities)} densities, "
            f"{len(seeds)} seeds"
        )
    ib = include_biases
    dense = [torch.ones_like(t, dtype=torch.bool) for t in _tensors(model, ib)]
    if name in ("snip", "grasp") and batch is None:
        raise ValueError(f"pruner {name} scores on data: pass batch=(x, y)")
    if name in ("imp", "magnitude_after"):
        if data is None or train is None:
            raise ValueError(f"pruner {name} trains the network: pass data= and train=")
        masks = after_training(
            name, model, densities, seeds, scope, invert, data, train, train_steps, rewind_step, imp_rate, ib
        )
    elif name == "synflow":
        masks = dense
        schedules = [exponential(d, synflow_rounds) for d in densities]
        for r in range(synflow_rounds):
            masks = select_rows(
                synflow_scores(model, masks, ib),
                [s[r] for s in schedules],
                scope=scope,
                alive=masks,
                invert=invert,
            )
    else:
        scores = {
            "random": lambda: random_scores(model, seeds, ib),
            "magnitude": lambda: magnitude_scores(model, ib),
            "snip": lambda: snip_scores(model, dense, batch, include_biases=ib),
            "grasp": lambda: grasp_scores(model, dense, batch, include_biases=ib),
        }[name]()
        masks = select_rows(scores, densities, scope=scope, invert=invert)
    with torch.no_grad():
        for t, m in zip(model.masked_tensors(len(masks)), masks, strict=True):
            t.mul_(m.to(t.dtype))
    return masks


def _identical_members(state: Sequence[torch.Tensor], data: EnsembleData, seeds: Sequence[int]) -> list[int]:
    """For each member, the first member with the same seed, parameters and training data."""
    rows = [t for t in (*state, data.x_train, data.y_train) if t.shape[0] == len(seeds)]

    def same(j: int, k: int) -> bool:
        return seeds[j] == seeds[k] and all(torch.equal(t[j], t[k]) for t in rows)

    origin: list[int] = []
    for k in range(len(seeds)):
        origin.append(next((j for j in sorted(set(origin)) if same(j, k)), k))
    return origin


def after_training(
    name: str,
    model: StackedMLP,
    densities: list[float],
    seeds: Sequence[int],
    scope: str,
    invert: bool,
    data: EnsembleData,
    train: TrainConfig,
    train_steps: int,
    rewind_step: int,
    rate: float = 0.2,
    include_biases: bool = False,
) -> list[torch.Tensor]:
    """magnitude_after (train dense, rank trained magnitudes) or imp (rounds of train, prune 20%
    of survivors, rewind to step ``rewind_step``), as ``pruners.after_training`` defines them."""
    masks = [torch.ones_like(t, dtype=torch.bool) for t in _tensors(model, include_biases)]
    if name == "magnitude_after":
        # Members that start alike (same seed, init and data) train the same dense network: one
        # of them trains for all, and every member takes its trained weights (a sweep over
        # densities trains each seed once).
        origin = _identical_members(model.state(), data, seeds)
        leaders = sorted(set(origin))
        if len(leaders) == len(origin):
            fit_ensemble(model, data, None, train, seeds=seeds, steps=train_steps)
        else:
            device = model.device
            members = torch.tensor(leaders if len(leaders) > 1 else leaders * 2, device=device)
            sub = model.take(members)
            sub_seeds = [seeds[k] for k in members.tolist()]
            fit_ensemble(sub, data.take(members), None, train, seeds=sub_seeds, steps=train_steps)
            trained = sub.take(torch.tensor([leaders.index(o) for o in origin], device=device))
            model.put(torch.arange(len(origin), device=device), trained)
        return select_rows(magnitude_scores(model, include_biases), densities, scope=scope, invert=invert)
    if not 0 <= rewind_step < train_steps:
        raise ValueError("imp needs 0 <= rewind_step < train_steps")
    if rewind_step:
        fit_ensemble(model, data, None, train, seeds=seeds, steps=rewind_step)
    rewind_point = model.state()
    schedules = [iterative(d, rate) for d in densities]
    origin = _identical_members(rewind_point, data, seeds)
    for r in range(max(len(s) for s in schedules)):
        # Members that start alike (same seed, init and data) and have pruned to the same
        # densities so far hold the same mask: one of them trains and prunes for all (an imp
        # sweep over densities shares its early rounds). Only members whose schedule has a round
        # r train in it; a lone member trains beside a copy of itself, so its numbers never
        # depend on its neighbours (batched matmuls take another kernel for a single matrix).
        groups: dict[tuple, list[int]] = {}
        for k, s in enumerate(schedules):
            if len(s) > r:
                groups.setdefault((origin[k], tuple(s[: r + 1])), []).append(k)
        leaders = [ks[0] for ks in groups.values()]
        members = torch.tensor(leaders if len(leaders) > 1 else leaders * 2, device=model.device)
        sub = model.take(members)
        sub_masks = [m[members] for m in masks]
        fit_ensemble(
            sub,
            data.take(members),
            sub_masks,
            train,
            seeds=[seeds[k] for k in members.tolist()],
            steps=train_steps - rewind_step,
        )
        pruned = select_rows(
            magnitude_scores(sub, include_biases),
            [schedules[k][r] for k in members.tolist()],
            scope=scope,
            alive=sub_masks,
            invert=invert,
        )
        for i, ks in enumerate(groups.values()):
            for m, p in zip(masks, pruned, strict=True):
                m[ks] = p[i]
        model.load(rewind_point)
    return masks
