"""Published reference numbers for the leaderboards (docs/SCIENCE.md section 5).

Tanaka, Kunin, Yamins & Ganguli, "Pruning neural networks without any data by iteratively
conserving synaptic flow" (SynFlow, NeurIPS 2020), Fig. 6 raw data: mean top-1 test accuracy in
percent over 3 seeds, global scope, SynFlow with 100 rounds and the other pruners with 1.
Density = 10**-alpha for alpha in ``ALPHAS``. Chance-level entries (10.0 on CIFAR-10, 1.0 on
CIFAR-100) are layer collapse.

These are shown as labelled reference rows beside the suite's own measurements, never mixed
with them (``noprune.report.leaderboard``). ``E4_PEAK_BITS`` holds No Free Prune's Fig. 4 readings,
marked in the plot of the ``exact_toy_information`` experiment (``noprune.report.plots``).
"""

from __future__ import annotations

CITATION = "Tanaka et al. 2020"
SOURCE = (
    "Tanaka et al. 2020, Fig. 6 raw data: mean top-1 over 3 seeds; SGD 0.1, momentum 0.9, "
    "160 epochs, batch 128, wd 1e-4; global scope"
)
#: Number of seeds behind each reference mean (no standard deviation is published with them).
SEEDS = 3

ALPHAS: tuple[float, ...] = (0.0, 1.0, 1.5, 2.0, 2.5, 3.0)
#: density = 10**-alpha, in the order of ``ALPHAS`` (1.0 down to 0.001).
DENSITIES: tuple[float, ...] = tuple(10.0**-a for a in ALPHAS)


def _row(*values: float) -> dict[float, float]:
    return dict(zip(DENSITIES, values, strict=True))


#: (data set name, model name) -> {pruner: {density: top-1 accuracy in percent}}.
REFERENCES: dict[tuple[str, str], dict[str, dict[float, float]]] = {
    # VGG-16-BN / CIFAR-10
    ("cifar10", "vgg16"): {
        "random": _row(93.5, 91.1, 87.5, 79.1, 49.1, 10.0),
        "magnitude": _row(93.5, 93.1, 92.0, 89.8, 10.0, 10.0),
        "snip": _row(93.5, 92.3, 91.1, 89.1, 84.6, 76.3),
        "grasp": _row(93.4, 91.8, 90.2, 87.5, 82.7, 70.9),
        "synflow": _row(93.5, 93.3, 92.1, 90.1, 86.8, 80.4),
    },
    # ResNet-18 / CIFAR-10
    ("cifar10", "resnet18"): {
        "random": _row(95.1, 92.9, 89.6, 83.0, 58.5, 13.5),
        "magnitude": _row(94.9, 94.4, 10.0, 10.0, 10.0, 10.0),
        "snip": _row(94.9, 94.3, 93.2, 90.8, 86.0, 78.6),
        "grasp": _row(95.0, 93.8, 92.1, 89.7, 84.6, 71.4),
        "synflow": _row(94.8, 94.1, 92.7, 90.4, 86.1, 79.9),
    },
    # VGG-16-BN / CIFAR-100
    ("cifar100", "vgg16"): {
        "random": _row(73.1, 68.8, 63.4, 52.3, 18.2, 1.0),
        "magnitude": _row(73.0, 72.2, 68.5, 60.9, 1.0, 1.0),
        "snip": _row(73.1, 70.8, 68.4, 61.3, 46.6, 16.1),
        "grasp": _row(72.8, 70.7, 67.7, 61.1, 43.3, 4.6),
        "synflow": _row(72.9, 72.1, 69.0, 63.5, 54.9, 41.4),
    },
}

# Model names that denote the reference architectures (VGG-16 with BatchNorm, ResNet-18).
_MODEL_ALIASES = {"vgg16": "vgg16", "vgg16_bn": "vgg16", "resnet18": "resnet18"}


def data_name(data: str) -> str:
    """The data set name of a data spec: the part before ':' (``cifar10:noise=0.1`` -> cifar10)."""
    return data.partition(":")[0].strip().lower()


def model_name(model: str) -> str:
    """The model name of a model spec: the part before ':', except that ``timm:NAME`` gives NAME."""
    name, _, rest = model.strip().lower().partition(":")
    if name == "timm":
        name = rest.partition(":")[0].strip()
    return name


def reference_rows(data: str, model: str) -> dict[str, dict[float, float]]:
    """Reference accuracies (percent) for a task as {pruner: {density: accuracy}}; {} if none.

    ``data`` and ``model`` are specs as in the run config; only their names are matched, so
    ``timm:resnet18`` and ``resnet18`` both match ResNet-18. The result is a fresh copy.
    """
    key = (data_name(data), _MODEL_ALIASES.get(model_name(model), ""))
    rows = REFERENCES.get(key, {})
    return {pruner: dict(cells) for pruner, cells in rows.items()}


E4_CITATION = "Kumar, Luo & Sellke 2024, Fig. 4"
#: docs/SCIENCE.md E4: the peak over pruned counts of I(m; D | init) in bits, as read off the paper's
#: Fig. 4 for the 21-parameter toy, (low, high) per pruner.
E4_PEAK_BITS: dict[str, tuple[float, float]] = {
    "imp": (8.5, 9.0),
    "magnitude_after": (8.5, 9.0),
    "snip": (6.0, 7.0),
    "grasp": (6.0, 8.0),
    "synflow": (0.0, 0.0),
}
