"""The pruning-at-initialization methods of 2020-2024, each by the behaviour that defines it and,
where the rule fits in a few lines, against an independent computation: the layer-ratio random
baselines (uniform, ERK, smart ratio, random_like), ProsPr, NTK-SAP, PX and PHEW. Exact counts,
determinism, data independence and ensemble == one model are checked registry-wide
(tests/test_pruners.py, tests/test_ensemble.py)."""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch.nn import functional as F

import pruners
from pruners.ratios import water_fill
from tests.conftest import make_batch, sgd_trainer, tiny_cnn, tiny_mlp


def layer_density(masks: pruners.MaskSet) -> list[float]:
    return [float(m.float().mean()) for m in masks.values()]


def test_uniform_keeps_the_density_in_every_layer_at_random():
    model = tiny_mlp(0)
    a = pruners.get("uniform").prune(copy.deepcopy(model), 0.2, seed=0)
    b = pruners.get("uniform").prune(copy.deepcopy(model), 0.2, seed=1)
    for stats in a.per_layer().values():
        assert abs(stats.nnz - 0.2 * stats.numel) <= 1
    assert a != b  # random within layers: the seed decides


def test_erk_densities_follow_the_erdos_renyi_kernel_formula():
    model = tiny_cnn(0)  # conv 4x1x3x3 (36 weights), linear 3x16 (48)
    masks = pruners.get("erk").prune(copy.deepcopy(model), 0.3)
    shapes = [m.shape for m in masks.values()]
    raw = [sum(s) / math.prod(s) for s in shapes]  # (4+1+3+3)/36 and (3+16)/48
    sizes = [math.prod(s) for s in shapes]
    eps = 0.3 * sum(sizes) / sum(r * n for r, n in zip(raw, sizes, strict=True))
    expected = [eps * r * n for r, n in zip(raw, sizes, strict=True)]
    assert [int(m.sum()) for m in masks.values()] == [round(e) for e in expected]
    assert masks.nnz == round(0.3 * masks.numel)


def test_water_fill_makes_the_layers_over_one_dense_and_solves_the_rest_again():
    # raw 1, 1, 10 on 100 weights each, 150 to keep: eps * 10 > 1, so layer 2 is dense and the
    # other two share the 50 left.
    assert water_fill([1.0, 1.0, 10.0], [100, 100, 100], 150.0) == [0.25, 0.25, 1.0]
    assert water_fill([1.0, 2.0], [10, 10], 15.0) == pytest.approx([0.5, 1.0])


def test_smart_ratio_gives_the_classifier_30_percent_and_decays_quadratically():
    model = tiny_mlp(0, widths=(64, 64, 32))  # 20-64-64-32-4: four layers, the last the classifier
    masks = pruners.get("smart_ratio").prune(copy.deepcopy(model), 0.1)
    dens = layer_density(masks)
    assert dens[-1] == pytest.approx(0.3, abs=1 / 128)
    raw = [(4 - j) ** 2 + (4 - j) for j in range(3)]  # 20, 12, 6: L = 4 counts the classifier
    assert dens[0] / dens[1] == pytest.approx(raw[0] / raw[1], rel=0.05)
    assert dens[1] / dens[2] == pytest.approx(raw[1] / raw[2], rel=0.05)
    assert masks.nnz == round(0.1 * masks.numel)


def official_smart_ratio(shapes: list[tuple[int, ...]], density: float, vgg: bool) -> list[int]:
    """The keep counts of JingtongSu/sanity-checking-pruning pruner/SmartRatio.py, step by step:
    ratio (L - j)^2 + (L - j) over all L layers (over (j + 1)^2 too unless the network is a
    ResNet), every Linear at 30%, the conv budget int(N d) - int(0.3 N_linear) shared in
    proportion to int(n_j ratio_j), then, from the first layer, the excess of layers over 1 passed
    on until a layer absorbs it; each count truncated with int()."""
    sizes = [math.prod(s) for s in shapes]
    n = len(sizes)
    raw = [((n - j) ** 2 + (n - j)) / ((j + 1) ** 2 if vgg else 1) for j in range(n)]
    goal = int(sum(sizes) * density) - int(sizes[-1] * 0.3)
    ratio = [raw[j] * goal / sum(int(sizes[i] * raw[i]) for i in range(n - 1)) for j in range(n - 1)]
    extra = 0
    for j in range(n - 1):
        if ratio[j] >= 1:
            extra, ratio[j] = extra + int((ratio[j] - 1) * sizes[j]), 1.0
        elif int((1 - ratio[j]) * sizes[j]) >= extra:
            ratio[j], extra = ratio[j] + extra / sizes[j], 0
        else:
            extra, ratio[j] = extra - int((1 - ratio[j]) * sizes[j]), 1.0
        if extra == 0:
            break
    return [sizes[j] if ratio[j] >= 1 else int(ratio[j] * sizes[j]) for j in range(n - 1)] + [
        int(0.3 * sizes[-1])
    ]


@pytest.mark.parametrize(("model", "densities"), [("resnet20", (0.1, 0.3)), ("vgg11", (0.1, 0.01))])
def test_smart_ratio_keeps_the_official_layer_counts_on_resnet20_and_vgg11(model, densities):
    """On the networks the official code runs, every layer keeps the official count up to what
    its truncations drop (0 to 4 weights a layer, at most one per layer in all: we keep exactly
    round(d N)). At 0.3 on ResNet-20 the first twelve layers overflow and pass their excess on."""
    from noprune.models import build_model

    net = build_model(model, (3, 32, 32), 10, seed=0)
    shapes = [
        tuple(m.weight.shape) for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    pruner = pruners.get("smart_ratio", form="vgg" if model.startswith("vgg") else "resnet")
    for density in densities:
        ours = pruner.counts(shapes, density)
        official = official_smart_ratio(shapes, density, vgg=model.startswith("vgg"))
        gained = [a - b for a, b in zip(ours, official, strict=True)]
        assert all(0 <= g <= 4 for g in gained)  # what its int() truncations drop, a few weights
        assert sum(ours) == round(density * sum(math.prod(s) for s in shapes)) <= sum(official) + len(shapes)
    assert official_smart_ratio(shapes, 0.3, vgg=False)[0] == math.prod(shapes[0])  # overflow: dense


@pytest.mark.parametrize("like", ["snip", "synflow", "imp"])
def test_random_like_has_the_layer_counts_of_the_other_mask_and_random_weights(like):
    model, batch = tiny_mlp(0), make_batch(0)
    settings = {"train_steps": 4} if like == "imp" else {}
    other = pruners.get(like, **settings).prune(
        copy.deepcopy(model), 0.1, batch=batch, trainer=sgd_trainer(batch)
    )
    init = copy.deepcopy(model)
    mine = pruners.get("random_like", like=like, **settings).prune(
        init, 0.1, batch=batch, trainer=sgd_trainer(batch)
    )
    assert [int(m.sum()) for m in mine.values()] == [int(m.sum()) for m in other.values()]
    assert mine != other
    params = dict(init.named_parameters())
    for name, p in model.named_parameters():  # the initial weights, whatever ``like`` trained
        expected = p * mine[name] if name in mine else p
        assert torch.equal(params[name], expected)
    assert (
        pruners.get("random_like", like=like, **settings).uses_data == pruners.get(like, **settings).uses_data
    )
    with pytest.raises(ValueError, match="another pruner"):
        pruners.get("random_like", like="random_like")


def prospr_by_hand(model, batch, steps: int, lr: float) -> dict[str, torch.Tensor]:
    """|dL(w_M)/dc| for the tiny MLP written out: w_0 = c * theta, M plain SGD steps on every
    weight and bias through the graph, the loss on the same batch."""
    x, y = batch
    names = [n for n, _ in model.named_parameters()]
    theta = [p.detach() for p in model.parameters()]
    c = {
        n: torch.ones_like(t, requires_grad=True) for n, t in zip(names, theta, strict=True) if "weight" in n
    }
    w = [c[n] * t if n in c else t.clone().requires_grad_(True) for n, t in zip(names, theta, strict=True)]

    def loss(w):
        h = x
        for i in range(0, len(w), 2):
            h = h @ w[i].T + w[i + 1]
            if i + 2 < len(w):
                h = h.relu()
        return F.cross_entropy(h, y)

    for _ in range(steps):
        grads = torch.autograd.grad(loss(w), w, create_graph=True)
        w = [wi - lr * g for wi, g in zip(w, grads, strict=True)]
    grads = torch.autograd.grad(loss(w), list(c.values()))
    return {n: g.abs() for n, g in zip(c, grads, strict=True)}


def test_prospr_scores_the_meta_gradient_through_the_inner_steps():
    model, batch = tiny_mlp(0), make_batch(0)
    masks = pruners.get("prospr").prune(copy.deepcopy(model), 0.1, batch=batch)
    assert masks == pruners.select(prospr_by_hand(model, batch, 3, 0.1), 0.1)
    # With no inner step the meta-gradient is SNIP's |theta * dL/dtheta|.
    zero = pruners.get("prospr", steps=0).prune(copy.deepcopy(model), 0.1, batch=batch)
    assert zero == pruners.get("snip").prune(copy.deepcopy(model), 0.1, batch=batch)
    assert masks != zero


def test_ntksap_reads_neither_the_data_nor_the_labels_only_the_batch_shape():
    model = tiny_cnn(0)  # BatchNorm: statistics from the random inputs
    x = torch.randn(12, 1, 6, 6)
    masks = [
        pruners.get("ntksap", rounds=3, draws=2).prune(copy.deepcopy(model), 0.2, batch=b, seed=5)
        for b in ((x, torch.arange(12) % 3), (x * 50 + 3, torch.zeros(12, dtype=torch.long)))
    ]
    assert masks[0] == masks[1]
    other_seed = pruners.get("ntksap", rounds=3, draws=2).prune(
        copy.deepcopy(model), 0.2, batch=(x, x), seed=6
    )
    assert other_seed != masks[0]  # re-drawn weights and inputs come from the pruner's seed


def test_ntksap_differs_from_synflow_and_from_scoring_one_draw_of_the_weights():
    model, batch = tiny_mlp(0), make_batch(0)
    one = pruners.get("ntksap", rounds=5, draws=1).prune(copy.deepcopy(model), 0.1, batch=batch)
    many = pruners.get("ntksap", rounds=5, draws=8).prune(copy.deepcopy(model), 0.1, batch=batch)
    assert one != many and one.nnz == many.nnz == round(0.1 * one.numel)


def px_by_hand(model, masks, x) -> dict[str, torch.Tensor]:
    """PX's score for the tiny MLP (20-32-16-4, biases) written out: the gates of the masked
    network on x; z1 = the classifier on gated mask-weight layers with biases 1, fed x^2; z2 =
    the classifier on linear squared layers with squared biases, fed ones; |dR/d(theta^2)| theta^2."""
    p = dict(model.named_parameters())
    (w1, w2, w3), (b1, b2, b3) = ([p[f"{i}.{k}"] for i in (1, 3, 5)] for k in ("weight", "bias"))
    m1, m2, m3 = (masks[f"{i}.weight"].float() for i in (1, 3, 5))
    with torch.no_grad():
        g1 = (x @ (m1 * w1).T + b1) > 0
        g2 = ((x @ (m1 * w1).T + b1).relu() @ (m2 * w2).T + b2) > 0
        h = g1 * (x.pow(2) @ m1.T + 1)
        z1 = (g2 * (h @ m2.T + 1)) @ (m3 * w3).T + b3
    s1, s2 = ((m * w.detach()).pow(2).requires_grad_(True) for m, w in ((m1, w1), (m2, w2)))
    s3 = (m3 * w3.detach()).requires_grad_(True)
    ones = torch.ones_like(x)
    z2 = ((ones @ s1.T + b1.detach() ** 2) @ s2.T + b2.detach() ** 2) @ s3.T + b3.detach()
    grads = torch.autograd.grad((z1 * z2).sum(), [s1, s2, s3])
    return {
        f"{i}.weight": g.abs() * p[f"{i}.weight"].detach().pow(2)
        for i, g in zip((1, 3, 5), grads, strict=True)
    }


def test_px_matches_the_path_kernel_score_written_out():
    model, (x, y) = tiny_mlp(0), make_batch(0)
    dense = pruners.MaskSet.dense(model)
    expected = pruners.select(px_by_hand(model, dense, x), 0.2)
    assert pruners.get("px", rounds=1).prune(copy.deepcopy(model), 0.2, batch=(x, y)) == expected
    # Round 2 scores the network masked by round 1 (no revival).
    first = pruners.select(px_by_hand(model, dense, x), 0.1**0.5)
    second = pruners.select(px_by_hand(model, first, x), 0.1, alive=first)
    assert pruners.get("px", rounds=2).prune(copy.deepcopy(model), 0.1, batch=(x, y)) == second


def test_px_depends_on_the_inputs_and_for_fixed_inputs_not_on_the_labels():
    model, (x, y) = tiny_mlp(0), make_batch(0)
    px = pruners.get("px", rounds=10)
    a = px.prune(copy.deepcopy(model), 0.05, batch=(x, y))
    assert a == px.prune(copy.deepcopy(model), 0.05, batch=(x, (y + 1) % 4))  # y is never read
    assert a != px.prune(copy.deepcopy(model), 0.05, batch=make_batch(3))  # the gates and x^2 are


def test_phew_keeps_paths_from_inputs_to_outputs():
    """Every weight PHEW keeps lies on a walked input-output path, so almost none is dead (an
    input unit with no kept weight coming in, or an output unit with none going out); a random
    mask at the same density kills most of its hidden weights. Only the last walk may stop short."""
    model = tiny_mlp(0, widths=(64, 64))
    depth = 3

    def dead(masks):
        m = [v.float() for v in masks.values()]
        count = 0
        for layer in range(depth):
            if layer > 0:  # input units fed by nothing
                fed = m[layer - 1].sum(1) > 0
                count += int(m[layer][:, ~fed].sum())
            if layer < depth - 1:  # output units that feed nothing
                used = m[layer + 1].sum(0) > 0
                count += int(m[layer][~used].sum())
        return count

    phew = pruners.get("phew").prune(copy.deepcopy(model), 0.02, seed=0)
    random = pruners.get("random").prune(copy.deepcopy(model), 0.02, seed=0)
    assert phew.nnz == random.nnz == round(0.02 * phew.numel)
    assert dead(phew) <= 2 * (depth - 1)
    assert dead(random) > 10 * dead(phew) + 10
    assert phew != pruners.get("phew").prune(copy.deepcopy(model), 0.02, seed=1)


def test_phew_refuses_a_network_that_is_not_a_chain_of_layers():
    from noprune.models import build_model

    model = build_model("resnet20", (3, 32, 32), 10, seed=0)
    with pytest.raises(ValueError, match="chain of layers"):
        pruners.get("phew").prune(model, 0.1)
