"""Model zoo and the suite's initializer.

``build_model(spec, input_shape, num_classes, seed=...)`` builds a model from a short spec string
(``mlp:300,100``, ``resnet20``, ``timm:resnet18``, ...) and initializes it with ``initialize``:
by default the open_lth-style Kaiming-normal initializer (Frankle et al., open_lth), or
PyTorch's own Linear/Conv default (``init="pytorch"``), from a private ``torch.Generator`` so
the global RNG is never touched.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch
from torch import nn

from noprune import plugins
from noprune.errors import UnknownNameError, UserError
from noprune.models import vgg
from noprune.models.cnn import WIDTHS, SmallCNN
from noprune.models.mlp import MLP, lenet_300_100
from noprune.models.resnet import resnet18, resnet20
from noprune.models.timm_models import timm_model
from noprune.specs import split_spec

__all__ = ["INITS", "MODELS", "build_model", "check_model_spec", "initialize"]

DEFAULT_MLP_WIDTHS: tuple[int, ...] = (100, 100)

MAX_WEIGHTS = 10**9
"""The most weights a model spec may ask for (4 GB of float32 weights, before masks, gradients
and an ensemble's copies): larger widths are refused when the config is read."""

MODELS: dict[str, str] = {
    "mlp": "MLP, ReLU hidden layers; mlp = widths 100,100, mlp:W1,W2,... for any widths",
    "mlp_nobias": "MLP without biases; mlp_nobias or mlp_nobias:W1,W2,... (as mlp)",
    "lenet_300_100": "LeNet-300-100: MLP with hidden widths 300,100 (LeCun et al. 1998)",
    "cnn": "small CNN: conv32-conv64-maxpool-fc128 for images such as 1x8x8; cnn:C1,C2,H: other widths",
    "resnet20": "CIFAR ResNet-20, 0.27M params (He et al. 2016; open_lth cifar_resnet_20)",
    "resnet18": "CIFAR ResNet-18: 3x3 stem, no max pool, 11.2M params (SynFlow paper, Fig. 6)",
    "vgg11": "VGG-11 with BatchNorm, global avg pool head (Simonyan & Zisserman 2015)",
    "vgg16": "VGG-16 with BatchNorm, global avg pool head (Simonyan & Zisserman 2015)",
    "timm": "any timm model, randomly initialized: timm:NAME, e.g. timm:resnet18",
}

PLUGINS: dict[str, Callable[..., nn.Module]] = plugins.load("noprune.models", MODELS)
"""Model factories from other distributions: ``factory(options, input_shape, num_classes)``."""
MODELS.update({name: plugins.describe(factory) for name, factory in PLUGINS.items()})

INITS: dict[str, str] = {
    "kaiming_normal": "weights N(0, 2 / fan_in), biases 0 (open_lth; the suite's default)",
    "pytorch": "PyTorch's Linear/Conv default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
}
"""Initializers of Linear and Conv layers (``ExperimentConfig.init``). The PyTorch default has
weights sqrt(6) times smaller than Kaiming-normal (std 1/sqrt(3 fan_in) against sqrt(2/fan_in)),
so the same training moves them further from their initial values relative to their size."""

_CONV_MIN_SIZE: dict[str, int] = {
    "cnn": 2,
    "resnet20": 1,
    "resnet18": 1,
    "vgg11": vgg.MIN_SIZE,
    "vgg16": vgg.MIN_SIZE,
    "timm": 1,
}


def _parse_widths(spec: str, rest: str) -> tuple[int, ...]:
    if not rest:
        return DEFAULT_MLP_WIDTHS
    try:
        widths = tuple(int(w) for w in rest.split(","))
    except ValueError:
        widths = ()
    if not widths or any(w <= 0 for w in widths):
        raise UserError(
            f"bad hidden widths {rest!r} in model spec {spec!r}; "
            "give positive integers separated by commas, e.g. mlp:300,100"
        )
    return widths


def _image_shape(name: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        msg = f"model {name} needs image input of shape (C, H, W); data set gives {input_shape}"
        raise UserError(msg)
    c, h, w = input_shape
    least = _CONV_MIN_SIZE[name]
    if h < least or w < least:
        msg = f"model {name} needs images of at least {least}x{least}; data set gives {h}x{w}"
        raise UserError(msg)
    return c, h, w


def _build(spec: str, input_shape: tuple[int, ...], num_classes: int) -> tuple[str, nn.Module]:
    check_model_spec(spec)
    name, rest = _split(spec)
    if name in PLUGINS:
        return name, PLUGINS[name](rest, tuple(input_shape), num_classes)
    if name in ("mlp", "mlp_nobias"):
        in_features = int(torch.Size(input_shape).numel())
        widths = _parse_widths(spec, rest)
        return name, MLP(in_features, widths, num_classes, bias=name == "mlp")
    if name == "cnn":
        widths = _parse_widths(spec, rest) if rest else WIDTHS
        channels = _image_shape(name, input_shape)[0]
        return name, SmallCNN(channels, num_classes, widths)
    if name == "lenet_300_100":
        return name, lenet_300_100(int(torch.Size(input_shape).numel()), num_classes)
    channels = _image_shape(name, input_shape)[0]
    factories: dict[str, Callable[[int, int], nn.Module]] = {
        "resnet20": resnet20,
        "resnet18": resnet18,
        "vgg11": vgg.vgg11,
        "vgg16": vgg.vgg16,
        "timm": lambda c, k: timm_model(rest, c, k),
    }
    return name, factories[name](channels, num_classes)


def check_model_spec(spec: str) -> None:
    """Refuse an unknown model name or malformed options with one :class:`UserError`, before any
    data is loaded (what needs the input shape is checked when the model is built)."""
    name, rest = _split(spec)
    if name not in MODELS:
        raise UnknownNameError("model", name, list(MODELS))
    if name in PLUGINS or name == "timm":
        return
    if name in ("mlp", "mlp_nobias"):
        widths = _parse_widths(spec, rest)
        least = sum(a * b for a, b in itertools.pairwise(widths)) + 2 * sum(widths)
    elif name == "cnn":
        widths = _parse_widths(spec, rest) if rest else WIDTHS
        if len(widths) != 3:
            raise UserError(f"model spec {spec!r}: cnn takes three widths C1,C2,H (e.g. cnn:8,16,32)")
        least = 9 * widths[0] * widths[1] + widths[1] * widths[2]
    elif rest:
        raise UserError(f"model {name} takes no options; use {name!r} instead of {spec!r}")
    else:
        return
    if least > MAX_WEIGHTS:
        raise UserError(
            f"model spec {spec!r} has at least {least:,} weights, more than noprune builds "
            f"({MAX_WEIGHTS:,}, 4 GB of float32 before masks and gradients); give smaller widths"
        )


def _split(spec: str) -> tuple[str, str]:
    """``split_spec`` that also rejects a ':' with nothing after it."""
    name, rest = split_spec(spec)
    if ":" in spec and not rest:
        raise UserError(f"model spec {spec!r} has nothing after ':'; drop the ':' or add options")
    return name, rest


def build_model(
    spec: str,
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    seed: int,
    init: str = "kaiming_normal",
) -> nn.Module:
    """Build the model named by ``spec`` for inputs of ``input_shape`` (no batch dimension).

    Specs (case-insensitive names): ``mlp`` (hidden widths 100,100), ``mlp:300,100``,
    ``mlp_nobias:300,100``, ``lenet_300_100``, ``cnn``, ``resnet20``, ``resnet18``, ``vgg11``, ``vgg16``,
    ``timm:NAME``. ``num_classes`` is the number of outputs (1 for scalar regression).

    Weights are drawn by ``initialize`` (scheme ``init``, one of :data:`INITS`) from
    ``torch.Generator().manual_seed(seed)``. timm
    models keep timm's own initialization, drawn from the global CPU RNG seeded with ``seed``
    inside ``torch.random.fork_rng``. Either way the global RNG state is left unchanged.
    """
    shape = tuple(int(d) for d in input_shape)
    if not shape or any(d <= 0 for d in shape):
        raise UserError(f"input shape must be non-empty with positive sizes, got {shape}")
    if num_classes < 1:
        raise UserError(f"num_classes must be at least 1, got {num_classes}")
    # Module constructors draw default weights from the global CPU RNG; fork it so the
    # caller's stream is unchanged, and seed it so timm models are reproducible.
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        name, model = _build(spec, shape, num_classes)
    if name != "timm":
        initialize(model, torch.Generator().manual_seed(seed), init)
    elif init != "kaiming_normal":
        raise UserError(f"timm models keep timm's own initialization; init {init!r} is for the others")
    return model


_CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def initialize(model: nn.Module, generator: torch.Generator, init: str = "kaiming_normal") -> None:
    """The suite's initializer: ``init`` is one of :data:`INITS`.

    ``kaiming_normal`` (open_lth's, Frankle et al.): Linear and Conv{1,2,3}d weights
    ``kaiming_normal_(mode='fan_in', nonlinearity='relu')``, their biases zero. ``pytorch``: what
    ``nn.Linear`` and ``nn.Conv*d`` do by default (``kaiming_uniform_(a=sqrt(5))``, i.e. weights
    and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))), drawn from ``generator``. Either way
    BatchNorm gets weight 1, bias 0 and reset running stats; other modules are left alone. Works
    on any device: when the model is not on the generator's device the draws are made there and
    copied.
    """
    if init not in INITS:
        raise UnknownNameError("init", init, list(INITS))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, *_CONV_TYPES)):
                if init == "kaiming_normal":
                    _draw(module.weight, generator, _kaiming_normal)
                    if module.bias is not None:
                        module.bias.zero_()
                else:
                    bound = 1.0 / module.weight[0].numel() ** 0.5  # fan_in: in_features x kernel size
                    _draw(module.weight, generator, _uniform(bound))
                    if module.bias is not None:
                        _draw(module.bias, generator, _uniform(bound))
            elif isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.weight is not None:
                    module.weight.fill_(1.0)
                if module.bias is not None:
                    module.bias.zero_()
                if module.track_running_stats:
                    module.reset_running_stats()


def _kaiming_normal(t: torch.Tensor, generator: torch.Generator) -> None:
    nn.init.kaiming_normal_(t, mode="fan_in", nonlinearity="relu", generator=generator)


def _uniform(bound: float) -> Callable[[torch.Tensor, torch.Generator], None]:
    def draw(t: torch.Tensor, generator: torch.Generator) -> None:
        nn.init.uniform_(t, -bound, bound, generator=generator)

    return draw


def _draw(
    tensor: torch.Tensor, generator: torch.Generator, fill: Callable[[torch.Tensor, torch.Generator], None]
) -> None:
    """``fill(tensor, generator)``, drawing on the generator's device and copying if they differ."""
    if tensor.device == generator.device:
        fill(tensor, generator)
    else:
        draw = torch.empty(tensor.shape, dtype=tensor.dtype, device=generator.device)
        fill(draw, generator)
        tensor.copy_(draw)
