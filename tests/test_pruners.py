"""Each pruner as its paper defines it: exact counts, determinism, data (in)dependence, and the
score of each checked against an independent computation (docs/SCIENCE.md §2)."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn
from torch.func import functional_call

import pruners
from pruners import MaskSet, select
from tests.conftest import make_batch, pruner_for_tests, sgd_trainer, tiny_cnn, tiny_mlp

ALL = list(pruners.PRUNERS)
DATA_BLIND = [name for name in ALL if not pruners.get(name).uses_data]


def prune(name, model, density, batch, scope="global", seed=0, **kwargs):
    return pruner_for_tests(name).prune(
        model, density, batch=batch, scope=scope, seed=seed, trainer=sgd_trainer(batch), **kwargs
    )


def test_registry_holds_the_seven_pruners_of_no_free_prune_with_descriptions():
    seven = ["random", "magnitude", "snip", "grasp", "synflow", "magnitude_after", "imp"]
    assert [name for name in ALL if name in seven] == seven  # in this display order; others may join
    assert all(len(text) > 10 for text in pruners.available().values())
    with pytest.raises(KeyError, match="unknown pruner"):
        pruners.get("obd")


@pytest.mark.parametrize("density", [0.5, 0.1, 0.01])
@pytest.mark.parametrize("scope", ["global", "layerwise"])
@pytest.mark.parametrize("name", ALL)
def test_exact_count_no_nan_and_bit_identical_per_seed(name, scope, density, batch):
    model = tiny_mlp(0)
    if scope not in pruners.PRUNERS[name].scopes:  # it sets each layer's density itself
        with pytest.raises(ValueError, match="scope must be global"):
            prune(name, copy.deepcopy(model), density, batch, scope)
        return
    first = prune(name, copy.deepcopy(model), density, batch, scope)
    second = prune(name, copy.deepcopy(model), density, batch, scope)
    assert first.nnz == round(density * first.numel)
    assert first == second
    if scope == "layerwise":
        for stats in first.per_layer().values():
            assert abs(stats.nnz - density * stats.numel) <= 1


@pytest.mark.parametrize("name", ALL)
def test_prunes_a_conv_batchnorm_network_without_touching_its_buffers(name):
    model = tiny_cnn(0)
    g = torch.Generator().manual_seed(1)
    batch = torch.randn(12, 1, 6, 6, generator=g), torch.arange(12) % 3
    buffers = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    pruner = pruner_for_tests(name)

    def conv_trainer(m, masks, steps):
        masks.apply(m)
        opt = torch.optim.SGD(m.parameters(), lr=0.05)
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(m(batch[0]), batch[1]).backward()
            opt.step()

    masks = pruner.prune(model, 0.2, batch=batch, seed=0, trainer=conv_trainer)
    assert masks.nnz == round(0.2 * masks.numel)
    assert list(masks) == ["0.weight", "5.weight"]
    if not pruner.needs_trainer:  # scoring runs on a copy: BatchNorm statistics unchanged
        for k, v in buffers.items():
            assert torch.equal(model.state_dict()[k], v)


def test_random_depends_on_the_seed():
    model = tiny_mlp(0)
    a = pruners.get("random").prune(copy.deepcopy(model), 0.1, seed=0)
    b = pruners.get("random").prune(copy.deepcopy(model), 0.1, seed=1)
    assert a != b


@pytest.mark.parametrize("name", DATA_BLIND)
def test_data_blind_pruners_give_the_same_mask_whatever_the_data(name):
    model = tiny_mlp(0)
    x2, y2 = make_batch(seed=7)
    x3 = torch.randn_like(x2) * 100.0
    masks = [
        pruners.get(name).prune(copy.deepcopy(model), 0.05, batch=b, seed=3)
        for b in (make_batch(0), (x2, y2), (x3, (y2 + 1) % 4))
    ]
    assert masks[0] == masks[1] == masks[2]


@pytest.mark.parametrize("name", ["snip", "grasp"])
def test_data_dependent_pruners_do_depend_on_the_data(name):
    model = tiny_mlp(0)
    a = pruners.get(name).prune(copy.deepcopy(model), 0.05, batch=make_batch(0), seed=0)
    b = pruners.get(name).prune(copy.deepcopy(model), 0.05, batch=make_batch(5), seed=0)
    assert a != b


def test_pruning_leaves_pruned_weights_zero_and_the_rest_unchanged(batch):
    model = tiny_mlp(0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    masks = pruners.get("snip").prune(model, 0.1, batch=batch)
    params = dict(model.named_parameters())
    for name, keep in masks.items():
        assert torch.equal(params[name][keep], before[name][keep])
        assert (params[name][~keep] == 0).all()


def flat_prunable(model: nn.Module, masks: MaskSet) -> torch.Tensor:
    params = dict(model.named_parameters())
    return torch.cat([params[n].detach().reshape(-1) for n in masks])


def loss_of_flat(model: nn.Module, names: list[str], x, y, temperature: float = 1.0):
    """L(w) with the prunable weights given as one flat vector (biases held fixed)."""
    base = {n: p.detach() for n, p in model.named_parameters()}
    shapes = [base[n].shape for n in names]

    def loss(w: torch.Tensor) -> torch.Tensor:
        params, start = dict(base), 0
        for n, s in zip(names, shapes, strict=True):
            params[n] = w[start : start + s.numel()].reshape(s)
            start += s.numel()
        return nn.functional.cross_entropy(functional_call(model, params, (x,)) / temperature, y)

    return loss


def test_snip_matches_an_independent_computation_of_abs_theta_times_gradient(batch):
    model = tiny_mlp(0)
    dense = MaskSet.dense(model)
    names = list(dense)
    w = flat_prunable(model, dense).clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_of_flat(model, names, *batch)(w), w)
    expected = (w.detach() * g).abs()
    scores = pruners.get("snip").scores(model, dense, batch)
    assert torch.allclose(torch.cat([scores[n].reshape(-1) for n in names]), expected, atol=1e-7)
    masks = pruners.get("snip").prune(copy.deepcopy(model), 0.1, batch=batch)
    flat_mask = torch.cat([masks[n].reshape(-1) for n in names])
    assert expected[flat_mask].min() >= expected[~flat_mask].max()


def test_grasp_keeps_the_lowest_minus_theta_hg_with_an_explicit_hessian():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 6), nn.ReLU(), nn.Linear(6, 3)).double()
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(9, 5, generator=g, dtype=torch.float64), torch.arange(9) % 3
    dense = MaskSet.dense(model)
    names = list(dense)
    w = flat_prunable(model, dense).clone()
    loss = loss_of_flat(model, names, x, y, temperature=200.0)
    grad = torch.autograd.functional.jacobian(loss, w)
    hessian = torch.autograd.functional.hessian(loss, w)
    s = -w * (hessian @ grad)  # GraSP Eq. 8: S(-theta) = -theta ⊙ Hg
    assert s.abs().max() > 0 and (s > 0).any() and (s < 0).any()
    keep_score = pruners.get("grasp").scores(model, dense, (x, y))
    assert torch.allclose(torch.cat([keep_score[n].reshape(-1) for n in names]), -s, rtol=1e-6, atol=1e-18)
    masks = pruners.get("grasp").prune(copy.deepcopy(model), 0.3, batch=(x, y))
    flat_mask = torch.cat([masks[n].reshape(-1) for n in names])
    k = round(0.3 * w.numel())
    expected = torch.zeros_like(flat_mask)
    expected[torch.sort(s, stable=True).indices[:k]] = True  # the k lowest S are kept
    assert torch.equal(flat_mask, expected)
    assert s[flat_mask].max() <= s[~flat_mask].min()


def test_synflow_single_round_matches_the_closed_form_for_a_linear_network():
    # R = 1^T |W2| |W1| 1, so dR/d|W1|_ij = sum_k |W2|_ki and dR/d|W2|_ki = sum_j |W1|_ij.
    model = nn.Sequential(nn.Linear(4, 3, bias=False), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        model[0].weight.copy_(
            torch.tensor([[1.0, -2.0, 0.5, 0.0], [3.0, 1.0, -1.0, 2.0], [-0.5, 0.5, 1.0, 1.0]])
        )
        model[1].weight.copy_(torch.tensor([[2.0, -1.0, 0.0], [1.0, 1.0, -3.0]]))
    w1, w2 = model[0].weight.abs(), model[1].weight.abs()
    dense = MaskSet.dense(model)
    synflow = pruners.get("synflow", rounds=1, input_shape=(4,))
    scores = synflow.scores(model, dense, None)
    assert scores["0.weight"].dtype == torch.float64
    assert torch.allclose(scores["0.weight"], (w1 * w2.sum(0)[:, None]).double())
    assert torch.allclose(scores["1.weight"], (w2 * w1.sum(1)[None, :]).double())


def test_synflow_runs_in_float64_where_float32_overflows():
    depth, width = 40, 16
    layers = []
    for _ in range(depth):
        layer = nn.Linear(width, width, bias=False)
        nn.init.constant_(layer.weight, 10.0)  # R ~ (10 * 16)^40 = 1e88: inf in float32
        layers.append(layer)
    model = nn.Sequential(*layers)
    with torch.no_grad():
        r32 = model(torch.ones(1, width)).sum()
    assert torch.isinf(r32)
    masks = pruners.get("synflow", rounds=10).prune(model, 0.1, batch=(torch.ones(2, width), torch.zeros(2)))
    assert masks.nnz == round(0.1 * masks.numel)
    scores = pruners.get("synflow").scores(model, MaskSet.dense(model), (torch.ones(1, width), None))
    assert all(torch.isfinite(s).all() for s in scores.values())


def test_synflow_scores_every_round_of_its_100_round_schedule(monkeypatch, batch):
    synflow = pruners.get("synflow")
    densities = []
    original = pruners.select

    def spy(scores, density, **kwargs):
        densities.append(density)
        return original(scores, density, **kwargs)

    monkeypatch.setattr("pruners.network.select", spy)
    masks = synflow.prune(tiny_mlp(0), 0.01, batch=batch)
    assert len(densities) == 100 and densities[-1] == 0.01
    assert masks.nnz == round(0.01 * masks.numel)


def test_synflow_scores_in_eval_mode():
    model = tiny_cnn(0)
    with torch.no_grad():
        model[1].running_mean.fill_(5.0)  # eval mode reads these; train mode would not
    shape_batch = (torch.zeros(1, 1, 6, 6), None)
    a = pruners.get("synflow", rounds=1).scores(model, MaskSet.dense(model), shape_batch)
    with torch.no_grad():
        model[1].running_mean.fill_(-5.0)
    b = pruners.get("synflow", rounds=1).scores(model, MaskSet.dense(model), shape_batch)
    assert torch.equal(a["0.weight"], b["0.weight"])  # abs() of buffers: +-5 alike in eval mode
    assert model[1].running_mean[0] == -5.0 and model.training


def test_imp_rewinds_survivors_to_step_k_every_round_and_keeps_pruned_at_zero(batch):
    model = tiny_mlp(0)
    base = sgd_trainer(batch)
    calls: list[dict] = []
    rewind: dict[str, torch.Tensor] = {}

    def trainer(m, masks, steps, start=0, length=None):
        params = {n: p.detach().clone() for n, p in m.named_parameters()}
        calls.append({"steps": steps, "nnz": masks.nnz, "start": start, "length": length})
        if len(calls) == 1:  # the first call trains to the rewind step k, dense
            assert steps == 3 and masks.nnz == masks.numel
        else:  # every later call starts from theta_k on the survivors, zero elsewhere
            for n, p in params.items():
                expected = rewind[n] * masks[n] if n in masks else rewind[n]
                assert torch.equal(p, expected), n
        base(m, masks, steps)
        for n, keep in masks.items():
            assert (dict(m.named_parameters())[n][~keep] == 0).all()
        if len(calls) == 1:
            rewind.update({n: p.detach().clone() for n, p in m.named_parameters()})

    imp = pruners.get("imp", train_steps=10, rewind_step=3)
    masks = imp.prune(model, 0.05, trainer=trainer)
    rounds = len(pruners.iterative(0.05, 0.2))
    assert [c["steps"] for c in calls] == [3] + [7] * rounds
    # Steps 0-3 of a 10-step run, then every round resumes that run at step 3.
    assert [(c["start"], c["length"]) for c in calls] == [(0, 10)] + [(3, None)] * rounds
    nnz = [c["nnz"] for c in calls[1:]] + [masks.nnz]
    n = masks.numel
    assert nnz == [n] + [round(d * n) for d in pruners.iterative(0.05, 0.2)]
    for a, b in itertools.pairwise(nnz):
        assert b >= round(0.8 * a) - 1  # at most 20% of the survivors per round
    for name, p in model.named_parameters():  # the ticket: theta_k on the final mask
        expected = rewind[name] * masks[name] if name in masks else rewind[name]
        assert torch.equal(p.detach(), expected)


def test_imp_keeps_pruned_weights_zero_through_real_training_with_the_noprune_loop():
    from noprune.config import TrainConfig
    from noprune.data import load_dataset
    from noprune.training import make_trainer

    data = load_dataset("gaussian:n=30,d=20", seed=0)
    model = tiny_mlp(0, classes=2)
    config = TrainConfig(optimizer="adam", lr=1e-2, weight_decay=1e-3, batch_size=8)
    seen = []

    def trainer(m, masks, steps):
        make_trainer(data, config)(m, masks, steps)
        params = dict(m.named_parameters())
        seen.append(all((params[n][~k] == 0).all() for n, k in masks.items()))

    pruners.get("imp", train_steps=20).prune(model, 0.2, trainer=trainer)
    assert len(seen) == len(pruners.iterative(0.2, 0.2)) and all(seen)


def test_magnitude_after_ranks_trained_weights_and_fine_tunes_from_them(batch):
    model = tiny_mlp(0)
    trained = copy.deepcopy(model)
    sgd_trainer(batch)(trained, MaskSet.dense(trained), 6)
    masks = pruners.get("magnitude_after", train_steps=6).prune(model, 0.1, trainer=sgd_trainer(batch))
    params, trained_params = dict(model.named_parameters()), dict(trained.named_parameters())
    expected = select({n: trained_params[n].detach().abs() for n in masks}, 0.1)
    assert masks == expected
    for name, p in params.items():  # model now holds the trained values, masked: fine-tuning starts here
        keep = masks[name] if name in masks else torch.ones_like(p, dtype=torch.bool)
        assert torch.equal(p.detach(), trained_params[name].detach() * keep)
    init = dict(tiny_mlp(0).named_parameters())
    assert not torch.equal(params["1.weight"], init["1.weight"] * masks["1.weight"])


def test_training_pruners_require_a_trainer_and_scoring_pruners_a_batch():
    with pytest.raises(ValueError, match="trainer"):
        pruners.get("imp").prune(tiny_mlp(0), 0.5)
    with pytest.raises(ValueError, match="batch"):
        pruners.get("snip").prune(tiny_mlp(0), 0.5)
    with pytest.raises(ValueError, match="input shape"):
        pruners.get("synflow").prune(tiny_mlp(0), 0.5)


def test_exclude_leaves_named_layers_dense(batch):
    model = tiny_mlp(0)
    masks = pruners.get("magnitude").prune(model, 0.1, exclude=("5",))
    assert list(masks) == ["1.weight", "3.weight"]
    with pytest.raises(ValueError, match="not in the model"):
        pruners.get("magnitude").prune(tiny_mlp(0), 0.1, exclude=("fc9",))


@pytest.mark.parametrize("name", ALL)
def test_biases_are_pruned_only_when_asked_and_counts_stay_exact(name, batch):
    model = tiny_mlp(0)
    masks = pruner_for_tests(name).prune(
        model, 0.3, batch=batch, seed=0, trainer=sgd_trainer(batch), include_biases=True
    )
    assert list(masks) == ["1.weight", "1.bias", "3.weight", "3.bias", "5.weight", "5.bias"]
    assert masks.numel == 1216 + 32 + 16 + 4 and masks.nnz == round(0.3 * masks.numel)
    params = dict(model.named_parameters())
    for n, keep in masks.items():
        assert (params[n][~keep] == 0).all()
    assert "1.bias" not in pruner_for_tests(name).prune(
        tiny_mlp(0), 0.3, batch=batch, seed=0, trainer=sgd_trainer(batch)
    )


def test_the_21_parameter_toy_prunes_every_parameter_and_a_pruned_bias_is_no_collapse():
    toy = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    masks = pruners.get("magnitude").prune(toy, 2 / 21, include_biases=True)
    assert masks.numel == 21 and masks.nnz == 2
    no_bias = MaskSet({"w": torch.ones(2, dtype=torch.bool), "out.bias": torch.zeros(1, dtype=torch.bool)})
    assert no_bias.collapsed() == []


def test_each_pruner_states_its_work_for_the_scheduler():
    """(trainings, scoring passes) to reach a density: what the runner orders jobs by."""
    from pruners.schedules import iterative

    assert pruners.get("snip").work(0.01) == (0, 1)
    assert pruners.get("synflow").work(0.01) == (0, 100)
    assert pruners.get("synflow", rounds=3).work(0.01) == (0, 3)
    assert pruners.get("magnitude_after").work(0.01) == (1, 1)
    rounds = len(iterative(0.01, 0.2))
    assert rounds == 21 and pruners.get("imp").work(0.01) == (21, 21)
    assert pruners.get("random_like", like="imp", train_steps=100).work(0.01) == (21, 21)
    assert pruners.invert(pruners.get("synflow")).work(0.5) == (0, 100)
