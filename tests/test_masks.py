"""MaskSet: exact counts, collapse, keeping pruned weights at zero, bits, safetensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import infotheory
import pruners
from pruners import MaskSet
from tests.conftest import tiny_mlp


def random_masks(model: nn.Module, density: float = 0.3, seed: int = 0) -> MaskSet:
    return pruners.get("random").prune(model, density, seed=seed, apply=False)


def test_counts_overall_and_per_layer():
    masks = MaskSet({"a": torch.tensor([[True, False], [True, True]]), "b": torch.zeros(3, dtype=torch.bool)})
    assert (masks.nnz, masks.numel) == (3, 7)
    assert masks.density == pytest.approx(3 / 7)
    assert {n: (s.nnz, s.numel) for n, s in masks.per_layer().items()} == {"a": (3, 4), "b": (0, 3)}
    assert masks.collapsed() == ["b"]


def test_parameter_order_is_the_module_order():
    model = tiny_mlp(0)
    assert list(MaskSet.dense(model)) == ["1.weight", "3.weight", "5.weight"]


def test_save_and_load_round_trip_is_identical(tmp_path):
    masks = random_masks(tiny_mlp(0))
    path = tmp_path / "masks.safetensors"
    masks.save(path, metadata={"pruner": "random"})
    loaded = MaskSet.load(path)
    assert loaded == masks
    assert list(loaded) == list(masks)
    assert all(m.dtype == torch.bool for m in loaded.values())


def test_loading_a_foreign_safetensors_file_is_refused(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": torch.ones(2)}, str(path))
    with pytest.raises(ValueError, match="not a noprune mask file"):
        MaskSet.load(path)


def test_packbits_round_trip_and_agrees_with_infotheory():
    masks = random_masks(tiny_mlp(0), density=0.27)
    bits = masks.packbits()
    assert bits.dtype == np.uint8 and bits.shape == (int(np.ceil(masks.numel / 8)),)
    shapes = {n: tuple(m.shape) for n, m in masks.items()}
    assert MaskSet.unpackbits(bits, shapes) == masks
    assert int(infotheory.popcount(bits[None])[0]) == masks.nnz


def test_apply_keeps_pruned_weights_zero_under_sgd_momentum_and_weight_decay():
    model = tiny_mlp(0)
    masks = random_masks(model, 0.2)
    masks.apply(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-2)
    x, y = torch.randn(16, 20), torch.arange(16) % 4
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    for _ in range(5):  # no zero_() call: the gradient hooks alone must hold the zeros
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    params = dict(model.named_parameters())
    for n, keep in masks.items():
        assert (params[n][~keep] == 0).all()
        assert not torch.equal(params[n][keep], start[n][keep])


def test_applying_a_new_mask_replaces_the_old_hooks():
    model = tiny_mlp(0)
    nothing = MaskSet({n: torch.zeros_like(m) for n, m in MaskSet.dense(model).items()})
    everything = MaskSet.dense(model)
    nothing.apply(model)
    with torch.no_grad():
        for p, fresh in zip(model.parameters(), tiny_mlp(1).parameters(), strict=True):
            p.copy_(fresh)
    everything.apply(model)
    nn.functional.cross_entropy(model(torch.randn(8, 20)), torch.arange(8) % 4).backward()
    # Stacked hooks would still multiply every gradient by the all-False mask.
    assert all(p.grad.abs().sum() > 0 for n, p in model.named_parameters() if n in everything)
    MaskSet.release(model)
    model.zero_grad()
    nothing.zero_(model)
    assert all((p == 0).all() for n, p in model.named_parameters() if n in nothing)


def test_masks_and_models_must_match():
    masks = random_masks(tiny_mlp(0))
    with pytest.raises(ValueError, match="shape"):
        masks.apply(tiny_mlp(0, widths=(8, 16)))
    with pytest.raises(KeyError):
        masks.apply(nn.Sequential(nn.Linear(2, 2)))
