"""pruners.connected: the kept weights on an input-to-output path (effective density)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import pruners
from noprune.models import build_model
from pruners import MaskSet, connected
from pruners.synflow import SynFlow


def tiny_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))


def reachable(masks: MaskSet) -> MaskSet:
    """Brute force for a chain of Linear layers: forward reach from the inputs, backward from the outputs."""
    layers = [masks[n].double() for n in masks]
    forward = [torch.ones(layers[0].shape[1], dtype=torch.float64)]
    for m in layers:
        forward.append((m @ forward[-1] > 0).double())
    backward = [torch.ones(layers[-1].shape[0], dtype=torch.float64)]
    for m in reversed(layers):
        backward.append((m.t() @ backward[-1] > 0).double())
    backward.reverse()
    return MaskSet(
        {n: masks[n] & (backward[i + 1][:, None] * forward[i][None, :] > 0) for i, n in enumerate(masks)}
    )


def test_dead_ends_on_either_side_are_not_connected() -> None:
    model = tiny_mlp()
    masks = MaskSet(
        {
            "0.weight": torch.tensor([[1, 1, 0], [0, 0, 0]]),  # hidden unit 1 gets no input
            "2.weight": torch.tensor([[1, 1], [1, 0]]),  # second-layer unit 1 reaches no output
            "4.weight": torch.tensor([[1, 0]]),
        }
    )
    on_paths = connected(model, masks, (3,))
    assert on_paths["0.weight"].tolist() == [[True, True, False], [False, False, False]]
    assert on_paths["2.weight"].tolist() == [[True, False], [False, False]]
    assert on_paths["4.weight"].tolist() == [[True, False]]
    assert on_paths.nnz == 4 and masks.nnz == 6


@pytest.mark.parametrize("density", [0.5, 0.05, 0.01, 0.003])
def test_agrees_with_brute_force_reachability_on_random_masks(density: float) -> None:
    model = build_model("mlp:200,200", (784,), 10, seed=0, init="pytorch")
    batch = (torch.zeros(2, 784), torch.zeros(2, dtype=torch.long))
    for seed in range(3):
        masks = pruners.get("random").prune(model, density, batch=batch, seed=seed, apply=False)
        assert connected(model, masks, (784,)) == reachable(masks)


def test_layer_collapse_leaves_nothing_connected_and_synflow_100_rounds_avoids_it() -> None:
    """The E2 network at density 0.003: one-round SynFlow cuts every path; 100 rounds keep them."""
    model = build_model("mlp:200,200", (784,), 10, seed=0, init="pytorch")
    one = SynFlow(rounds=1, input_shape=(784,)).prune(model, 0.003, apply=False)
    assert one.nnz == 596 and connected(model, one, (784,)).nnz == 0
    hundred = SynFlow(input_shape=(784,)).prune(model, 0.003, apply=False)
    assert connected(model, hundred, (784,)).nnz > 0.95 * 596


@pytest.mark.parametrize(
    ("spec", "shape"), [("cnn", (1, 28, 28)), ("vgg11", (3, 32, 32)), ("resnet20", (3, 32, 32))]
)
def test_every_weight_of_a_dense_network_is_connected_through_pooling_and_batchnorm(spec, shape) -> None:
    model = build_model(spec, shape, 10, seed=0)
    dense = MaskSet.dense(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert connected(model, dense, shape) == dense
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # model untouched


def test_a_kept_bias_counts_when_its_unit_reaches_the_output() -> None:
    model = tiny_mlp()
    masks = MaskSet.dense(model, include_biases=True)
    masks = MaskSet({**masks, "4.weight": torch.tensor([[1, 0]])})  # second-layer unit 1 cut off
    on_paths = connected(model, masks, (3,))
    assert on_paths["2.bias"].tolist() == [True, False]
    assert on_paths["0.bias"].tolist() == [True, True]
