"""FORCE (de Jorge et al., ICLR 2021): the score at the pruned network with the dense initial
weights, every weight ranked again at each exponential step, so pruned weights can return."""

from __future__ import annotations

import copy
import itertools

import torch

import pruners
from tests.conftest import tiny_mlp


def by_hand(model, batch, density: float, rounds: int) -> list[pruners.MaskSet]:
    """Each step's mask: |theta_0 * dL/dtheta| at theta_0 * m, top round(d_t N) of all weights."""
    dense = pruners.MaskSet.dense(model)
    params = dict(model.named_parameters())
    masks, out = dense, []
    for t in range(1, rounds + 1):
        net = copy.deepcopy(model)
        masks.zero_(net)
        theta = [dict(net.named_parameters())[n] for n in dense]
        loss = torch.nn.functional.cross_entropy(net(batch[0]), batch[1])
        grads = torch.autograd.grad(loss, theta)
        scores = {n: (params[n].detach() * g).abs() for n, g in zip(dense, grads, strict=True)}
        masks = pruners.select(scores, density ** (t / rounds) if t < rounds else density)
        out.append(masks)
    return out


def test_force_matches_a_step_by_step_computation_and_revives_pruned_weights(batch) -> None:
    model, density, rounds = tiny_mlp(0), 0.05, 10
    steps = by_hand(model, batch, density, rounds)
    masks = pruners.get("force", rounds=rounds).prune(copy.deepcopy(model), density, batch=batch)
    assert masks == steps[-1] and masks.nnz == round(density * masks.numel)
    revived = sum(
        int((~before[n] & after[n]).sum()) for before, after in itertools.pairwise(steps) for n in before
    )
    assert revived > 0  # the defining difference from iterative SNIP
    iter_snip = pruners.get("iter_snip", rounds=rounds).prune(copy.deepcopy(model), density, batch=batch)
    assert masks != iter_snip


def test_force_with_one_step_is_snip(batch) -> None:
    model = tiny_mlp(1)
    one = pruners.get("force", rounds=1).prune(copy.deepcopy(model), 0.1, batch=batch)
    assert one == pruners.get("snip").prune(copy.deepcopy(model), 0.1, batch=batch)
