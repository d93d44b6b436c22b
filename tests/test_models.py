"""Tests for noprune.models: registry, shapes, parameter counts, seeding, initializer."""

from __future__ import annotations

import math
import sys

import pytest
import torch
from torch import nn

from noprune.errors import UnknownNameError, UserError
from noprune.models import MODELS, build_model, initialize

DIGITS = (1, 8, 8)
CIFAR = (3, 32, 32)

# registry name -> (spec, input shape) used to smoke-test every entry of MODELS
SMOKE: dict[str, tuple[str, tuple[int, ...]]] = {
    "mlp": ("mlp", DIGITS),
    "mlp_nobias": ("mlp_nobias:32,16", DIGITS),
    "lenet_300_100": ("lenet_300_100", DIGITS),
    "cnn": ("cnn", DIGITS),
    "resnet20": ("resnet20", CIFAR),
    "resnet18": ("resnet18", CIFAR),
    "vgg11": ("vgg11", CIFAR),
    "vgg16": ("vgg16", CIFAR),
    "timm": ("timm:resnet18", CIFAR),
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_registry_covers_required_names() -> None:
    required = {"mlp", "lenet_300_100", "cnn", "resnet20", "vgg11", "vgg16", "timm"}
    assert required <= set(MODELS)
    assert set(MODELS) == set(SMOKE)
    assert "timm:NAME" in MODELS["timm"]
    assert all(isinstance(d, str) and d and "\n" not in d for d in MODELS.values())


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_every_model_builds_and_runs(name: str) -> None:
    spec, shape = SMOKE[name]
    if name == "timm":
        pytest.importorskip("timm")
    model = build_model(spec, shape, 10, seed=0)
    out = model(torch.randn(2, *shape))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    ("spec", "shape"),
    [("cnn", (1, 28, 28)), ("cnn", (3, 32, 32)), ("cnn", (2, 9, 13)), ("mlp:7", (30,))],
)
def test_other_input_sizes_and_scalar_output(spec: str, shape: tuple[int, ...]) -> None:
    model = build_model(spec, shape, 1, seed=1)
    assert model(torch.randn(3, *shape)).shape == (3, 1)


def test_any_number_of_input_channels() -> None:
    for spec in ("resnet20", "vgg11"):
        model = build_model(spec, (1, 16, 16), 3, seed=0)
        assert model(torch.randn(2, 1, 16, 16)).shape == (2, 3)


def test_spec_names_are_case_insensitive() -> None:
    model = build_model("MLP:20,10", (5,), 2, seed=0)
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [20, 10, 2]


def test_default_mlp_widths() -> None:
    model = build_model("mlp", (64,), 10, seed=0)
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [100, 100, 10]
    assert isinstance(model[0], nn.Flatten)


def test_resnet20_parameter_count() -> None:
    count = n_params(build_model("resnet20", CIFAR, 10, seed=0))
    assert count == 272_474  # open_lth cifar_resnet_20 with 1x1 projection shortcuts
    assert 260_000 <= count <= 280_000


def test_cifar_resnet18_parameter_count() -> None:
    model = build_model("resnet18", CIFAR, 10, seed=0)
    assert n_params(model) == 11_173_962  # 3x3 stem, no max pool, 1x1 projection shortcuts
    assert not any(isinstance(m, nn.MaxPool2d) for m in model.modules())


def test_lenet_300_100_parameter_count() -> None:
    assert n_params(build_model("lenet_300_100", (1, 28, 28), 10, seed=0)) == 266_610
    assert n_params(build_model("mlp:300,100", (784,), 10, seed=0)) == 266_610


def test_vgg_head_is_global_pool_then_linear_512() -> None:
    model = build_model("vgg16", CIFAR, 10, seed=0)
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(512, 10)]
    assert sum(isinstance(m, nn.Conv2d) for m in model.modules()) == 13
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 13


def test_mlp_nobias_has_no_bias() -> None:
    model = build_model("mlp_nobias:300,100", (784,), 10, seed=0)
    assert all(not name.endswith("bias") for name, _ in model.named_parameters())
    assert n_params(model) == 784 * 300 + 300 * 100 + 100 * 10


@pytest.mark.parametrize("spec", ["mlp", "cnn", "resnet20"])
def test_same_seed_same_weights_different_seed_different(spec: str) -> None:
    shape = CIFAR if spec == "resnet20" else DIGITS
    a = build_model(spec, shape, 10, seed=3).state_dict()
    b = build_model(spec, shape, 10, seed=3).state_dict()
    c = build_model(spec, shape, 10, seed=4).state_dict()
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_timm_same_seed_same_weights() -> None:
    pytest.importorskip("timm")
    a = build_model("timm:resnet18", CIFAR, 10, seed=3).state_dict()
    b = build_model("timm:resnet18", CIFAR, 10, seed=3).state_dict()
    c = build_model("timm:resnet18", CIFAR, 10, seed=4).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("spec", ["mlp", "cnn", "timm:resnet18"])
def test_build_does_not_touch_global_rng(spec: str) -> None:
    if spec.startswith("timm"):
        pytest.importorskip("timm")
    torch.manual_seed(123)
    before = torch.get_rng_state()
    build_model(spec, DIGITS, 10, seed=7)
    assert torch.equal(torch.get_rng_state(), before)


def test_initialize_biases_zero_and_kaiming_std() -> None:
    model = nn.Sequential(nn.Linear(2000, 1000), nn.ReLU(), nn.Conv2d(3, 64, 3), nn.BatchNorm2d(8))
    bn = model[3]
    with torch.no_grad():
        bn.weight.fill_(3.0)
        bn.bias.fill_(2.0)
        bn.running_mean.fill_(5.0)
    initialize(model, torch.Generator().manual_seed(0))
    linear, conv = model[0], model[2]
    assert torch.count_nonzero(linear.bias) == 0
    assert torch.count_nonzero(conv.bias) == 0
    assert linear.weight.std().item() == pytest.approx(math.sqrt(2 / 2000), rel=0.02)
    assert linear.weight.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 27), rel=0.1)
    assert torch.all(bn.weight == 1) and torch.all(bn.bias == 0)
    assert torch.all(bn.running_mean == 0) and torch.all(bn.running_var == 1)


def test_initialize_is_deterministic_and_uses_the_generator() -> None:
    model = nn.Linear(50, 20)
    initialize(model, torch.Generator().manual_seed(5))
    first = model.weight.detach().clone()
    before = torch.get_rng_state()
    initialize(model, torch.Generator().manual_seed(5))
    assert torch.equal(model.weight, first)
    assert torch.equal(torch.get_rng_state(), before)


def test_pytorch_init_is_torchs_default_distribution() -> None:
    """init="pytorch": weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as nn.Linear and
    nn.Conv2d draw by default (kaiming_uniform_(a=sqrt(5))), but from the given generator."""
    model = nn.Sequential(nn.Linear(2000, 1000), nn.ReLU(), nn.Conv2d(3, 64, 3), nn.BatchNorm2d(8))
    model[3].weight.data.fill_(3.0)
    before = torch.get_rng_state()
    initialize(model, torch.Generator().manual_seed(0), "pytorch")
    assert torch.equal(torch.get_rng_state(), before)
    for layer, fan_in in ((model[0], 2000), (model[2], 27)):
        bound = 1 / math.sqrt(fan_in)
        for t in (layer.weight.detach(), layer.bias.detach()):
            assert float(t.abs().max()) <= bound
            assert float(t.abs().max()) > 0.8 * bound  # spread over the whole interval
        assert layer.weight.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    torch_default = nn.Linear(2000, 1000)  # torch's own draw has the same spread
    assert model[0].weight.std().item() == pytest.approx(torch_default.weight.std().item(), rel=0.02)
    assert torch.all(model[3].weight == 1)


def test_build_model_takes_the_init_and_rejects_unknown_ones() -> None:
    kaiming = build_model("mlp:100,100", (30,), 2, seed=3)
    pytorch = build_model("mlp:100,100", (30,), 2, seed=3, init="pytorch")
    again = build_model("mlp:100,100", (30,), 2, seed=3, init="pytorch")
    assert all(torch.equal(a, b) for a, b in zip(pytorch.parameters(), again.parameters(), strict=True))
    # Kaiming-normal weights are sqrt(6) times larger (std sqrt(2/fan_in) against 1/sqrt(3 fan_in)).
    ratio = kaiming.fc2.weight.detach().std() / pytorch.fc2.weight.detach().std()
    assert float(ratio) == pytest.approx(math.sqrt(6), rel=0.05)
    assert torch.count_nonzero(kaiming.fc2.bias) == 0 and torch.count_nonzero(pytorch.fc2.bias) == 100
    with pytest.raises(UnknownNameError, match="kaiming_normal"):
        build_model("mlp", (30,), 2, seed=0, init="xavier")
    with pytest.raises(UserError, match="timm"):
        build_model("timm:resnet18", CIFAR, 10, seed=0, init="pytorch")


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownNameError, match="resnet20"):
        build_model("resnet1000", CIFAR, 10, seed=0)


@pytest.mark.parametrize("spec", ["mlp:abc", "mlp:", "mlp:0,10", "mlp:10,,5", "mlp:-3"])
def test_bad_mlp_widths(spec: str) -> None:
    with pytest.raises(UserError) as info:
        build_model(spec, (30,), 2, seed=0)
    assert "\n" not in str(info.value)


def test_options_on_fixed_model_are_rejected() -> None:
    with pytest.raises(UserError, match="takes no options"):
        build_model("resnet20:wide", CIFAR, 10, seed=0)


@pytest.mark.parametrize("spec", ["cnn", "resnet20", "vgg11"])
def test_conv_models_need_image_input(spec: str) -> None:
    with pytest.raises(UserError, match=r"needs image input of shape \(C, H, W\).*\(30,\)"):
        build_model(spec, (30,), 2, seed=0)


def test_vgg_too_small_input() -> None:
    with pytest.raises(UserError, match="at least 16x16"):
        build_model("vgg11", DIGITS, 10, seed=0)


def test_unknown_timm_name() -> None:
    pytest.importorskip("timm")
    with pytest.raises(UserError) as info:
        build_model("timm:not_a_real_model_xyz", CIFAR, 10, seed=0)
    assert "unknown timm model" in str(info.value)
    assert "\n" not in str(info.value)


def test_timm_without_name() -> None:
    with pytest.raises(UserError):
        build_model("timm", CIFAR, 10, seed=0)


def test_timm_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "timm", None)  # makes `import timm` raise ImportError
    with pytest.raises(UserError, match=r"pip install 'noprune\[timm\]'"):
        build_model("timm:resnet18", CIFAR, 10, seed=0)


def test_a_timm_model_over_the_size_limit_is_refused_before_it_takes_memory(monkeypatch) -> None:
    """timm's sizes are counted on the meta device; over the limit, one line and no model."""
    pytest.importorskip("timm")
    import noprune.models as models

    monkeypatch.setattr(models, "MAX_WEIGHTS", 10**6)
    with pytest.raises(UserError, match=r"timm model 'resnet18' has 11,\d{3},\d{3} parameters, more than"):
        build_model("timm:resnet18", (3, 32, 32), 10, seed=0)
