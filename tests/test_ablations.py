"""The ablations of Frankle et al. 2021: shuffle, reinit, invert (docs/SCIENCE.md §2)."""

from __future__ import annotations

import copy

import torch

import pruners
from pruners import MaskSet
from tests.conftest import make_batch, tiny_mlp


def test_shuffle_keeps_every_layer_count_and_moves_the_positions():
    masks = pruners.get("magnitude").prune(tiny_mlp(0), 0.1, apply=False)
    shuffled = pruners.shuffle(masks, seed=0)
    assert {n: s.nnz for n, s in shuffled.per_layer().items()} == {
        n: s.nnz for n, s in masks.per_layer().items()
    }
    for name in masks:  # the mask is really rewritten (a known trap: shuffling a copy)
        assert not torch.equal(shuffled[name], masks[name])
    assert pruners.shuffle(masks, seed=0) == shuffled
    assert pruners.shuffle(masks, seed=1) != shuffled


def test_shuffled_mask_applies_to_the_unpruned_initial_weights():
    model = tiny_mlp(0)
    init = {n: p.detach().clone() for n, p in model.named_parameters()}
    masks = pruners.get("magnitude").prune(model, 0.1, apply=False)
    shuffled = pruners.shuffle(masks, seed=0)
    shuffled.apply(model)
    for n, p in model.named_parameters():
        if n in shuffled:
            assert torch.equal(p.detach(), init[n] * shuffled[n])
            assert (p[shuffled[n]] != 0).all()  # kept weights have their initial, nonzero values


def test_reinit_keeps_the_mask_and_draws_new_weights():
    model = tiny_mlp(0)
    masks = pruners.get("magnitude").prune(model, 0.2)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    state = torch.get_rng_state()
    pruners.reinit(model, masks, seed=5)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is untouched
    params = dict(model.named_parameters())
    for n, keep in masks.items():
        assert (params[n][~keep] == 0).all()
        assert (params[n][keep] != before[n][keep]).all()
        # same initializer (nn.Linear's own): the spread of fresh weights matches its bound
        bound = 1.0 / params[n].shape[1] ** 0.5
        assert params[n][keep].abs().max() <= bound
    again = tiny_mlp(0)
    masks.apply(again)
    pruners.reinit(again, masks, seed=5)
    assert all(torch.equal(p, params[n]) for n, p in again.named_parameters())


def test_reinit_with_the_suites_initializer():
    from noprune.models import build_model, initialize

    model = build_model("mlp:512,32", (1, 8, 8), 10, seed=0)
    masks = pruners.get("random").prune(model, 0.5, seed=0)
    before = model.fc1.weight.detach().clone()
    pruners.reinit(model, masks, seed=1, initializer=initialize)
    kept = model.fc1.weight[masks["fc1.weight"]]
    assert abs(kept.std().item() - (2 / 64) ** 0.5) < 0.01  # kaiming normal, fan_in 64
    assert (model.fc1.weight[~masks["fc1.weight"]] == 0).all()
    assert not torch.equal(model.fc1.weight, before)


def test_invert_keeps_the_lowest_magnitudes():
    model = tiny_mlp(0)
    init = {n: p.detach().abs().clone() for n, p in model.named_parameters()}
    masks = pruners.invert(pruners.get("magnitude")).prune(copy.deepcopy(model), 0.1)
    kept = torch.cat([init[n][m] for n, m in masks.items()])
    dropped = torch.cat([init[n][~m] for n, m in masks.items()])
    assert kept.max() <= dropped.min()
    assert masks.nnz == round(0.1 * masks.numel)
    assert masks == pruners.get("magnitude").prune(copy.deepcopy(model), 0.1, invert=True)


def test_invert_of_grasp_keeps_the_highest_s_a_true_rank_inversion():
    model = tiny_mlp(0)
    batch = make_batch(0)
    grasp = pruners.get("grasp")
    keep_score = grasp.scores(model, MaskSet.dense(model), batch)  # = -S
    s = torch.cat([-keep_score[n].reshape(-1) for n in keep_score])
    assert (s > 0).any() and (s < 0).any()  # signed scores: 1/score would not be an inversion
    masks = pruners.invert(grasp).prune(copy.deepcopy(model), 0.1, batch=batch)
    flat = torch.cat([masks[n].reshape(-1) for n in masks])
    assert s[flat].min() >= s[~flat].max()  # inverted GraSP keeps the highest S


def test_invert_of_imp_keeps_the_smallest_trained_weights():
    from tests.conftest import sgd_trainer

    batch = make_batch(0)
    inv = pruners.invert(pruners.get("imp", train_steps=3))
    assert inv.name == "imp+invert" and inv.needs_trainer and inv.settings()["invert"]
    masks = inv.prune(tiny_mlp(0), 0.3, trainer=sgd_trainer(batch))
    assert masks.nnz == round(0.3 * masks.numel)
    assert masks != pruners.get("imp", train_steps=3).prune(tiny_mlp(0), 0.3, trainer=sgd_trainer(batch))
