"""Data sets of the suite: a registry of seeded synthetic sets and real sets, loaded by spec.

A spec is ``name`` or ``name:key=value,...`` (names case-insensitive). Keys are the keyword
options of the data set's factory (see ``synthetic`` and ``real``) plus two wrappers applied
after loading: ``input_noise=VARIANCE`` and ``label_noise=FRACTION`` (see ``noise``), drawn with
the same ``seed`` (their streams are derived with their own tags, so they are independent of the
data draw). The seed and the data folder come from ``load_dataset``'s arguments, never the spec.
Example: ``load_dataset("digits:input_noise=3", seed=1)``.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import torch

from noprune import plugins
from noprune.data import real, synthetic
from noprune.data.base import Dataset
from noprune.data.noise import with_input_noise, with_label_noise
from noprune.errors import UnknownNameError, UserError
from noprune.specs import options_of, parse_kwargs, split_spec

__all__ = [
    "DATASETS",
    "Dataset",
    "balanced_batch",
    "check_data_spec",
    "load_dataset",
    "parse_data_spec",
    "with_input_noise",
    "with_label_noise",
]

_FACTORIES: dict[str, Callable[..., Dataset]] = {
    "digits": real.digits,
    "gaussian": synthetic.gaussian,
    "sphere": synthetic.sphere,
    "teacher": synthetic.teacher,
    "toy": synthetic.toy,
    "mnist": real.mnist,
    "fashionmnist": real.fashionmnist,
    "cifar10": real.cifar10,
    "cifar100": real.cifar100,
}

DATASETS: dict[str, str] = {
    "digits": "scikit-learn 8x8 digits, embedded (1437 train / 360 test, 10 classes); E2",
    "gaussian": "n Gaussian points in R^d with random binary labels (n=30, d=30); E1",
    "sphere": "n points uniform on a sphere in R^d with random binary labels (n=100, d=20); E5",
    "teacher": "regression on a width-50 3-layer ReLU teacher plus N(0,1) label noise; E3",
    "toy": "6 of the 8 vertices of {+-1}^3 with random +-1 labels; E4",
    "mnist": "MNIST from --data-root (torchvision layout, no download)",
    "fashionmnist": "FashionMNIST from --data-root (torchvision layout, no download); E2",
    "cifar10": "CIFAR-10 from --data-root (torchvision layout, no download)",
    "cifar100": "CIFAR-100 from --data-root (torchvision layout, no download)",
}

_PLUGINS = plugins.load("noprune.datasets", _FACTORIES)
_FACTORIES.update(_PLUGINS)
DATASETS.update({name: plugins.describe(factory) for name, factory in _PLUGINS.items()})

_RESERVED = ("seed", "root")
_WRAPPERS = {"input_noise": float, "label_noise": float}


def parse_data_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """(name, options) of a data spec, the options typed and only those the spec sets (wrappers
    such as ``input_noise`` included). Raises as :func:`load_dataset` does for a bad spec."""
    name, rest = split_spec(spec)
    if name not in _FACTORIES:
        raise UnknownNameError("data set", name, list(_FACTORIES))
    factory = _FACTORIES[name]
    for item in rest.split(",") if rest else []:
        key = item.partition("=")[0].strip()
        if key in _RESERVED:
            raise UserError(
                f"option {key!r} cannot be set in the data spec {spec!r}; "
                f"pass it as --{'data-root' if key == 'root' else key}"
            )
    options = {**options_of(factory, exclude=_RESERVED), **_WRAPPERS}
    return name, parse_kwargs(rest, options, what=f"data set {name}")


MAX_ELEMENTS = 10**9
"""The most input numbers a synthetic data spec may ask for ((n + n_test) x d, 4 GB of float32)."""


def check_data_spec(spec: str) -> None:
    """What a data spec sets that can be checked without loading it: names and option types
    (:func:`parse_data_spec`), the sizes of the synthetic sets against :data:`MAX_ELEMENTS`, and
    the noise wrappers' ranges; one :class:`UserError` line."""
    name, options = parse_data_spec(spec)
    factory = inspect.signature(_FACTORIES[name]).parameters
    if {"n", "d", "n_test"} <= set(factory):
        size = {k: options.get(k, factory[k].default) for k in ("n", "d", "n_test")}
        synthetic.check_sizes(**size)
        elements = (size["n"] + size["n_test"]) * size["d"]
        if elements > MAX_ELEMENTS:
            raise UserError(
                f"data spec {spec!r} asks for {elements:,} input numbers, more than noprune builds "
                f"({MAX_ELEMENTS:,}, 4 GB of float32)"
            )
    if not 0.0 <= options.get("label_noise", 0.0) <= 1.0:
        raise UserError(
            f"data spec {spec!r}: label_noise is a fraction in [0, 1], got {options['label_noise']}"
        )
    if not 0.0 <= options.get("input_noise", 0.0) < float("inf"):
        raise UserError(f"data spec {spec!r}: input_noise is a variance >= 0, got {options['input_noise']}")


def load_dataset(spec: str, *, seed: int = 0, root: str | os.PathLike | None = None) -> Dataset:
    """Load the data set a spec names, e.g. ``gaussian:n=10,d=5`` or ``digits:label_noise=0.2``.

    Raises ``UnknownNameError`` for an unknown name, ``UserError`` for a bad option (including
    ``seed``/``root``, which are arguments, not options) and ``DataNotFoundError`` for a real
    data set whose folder is missing.
    """
    name, kwargs = parse_data_spec(spec)
    factory = _FACTORIES[name]
    wrappers = {k: kwargs.pop(k) for k in _WRAPPERS if k in kwargs}
    if "root" in inspect.signature(factory).parameters:
        kwargs["root"] = root
    data = factory(seed=seed, **kwargs)
    if wrappers.get("input_noise"):
        data = with_input_noise(data, wrappers["input_noise"], seed=seed)
    if wrappers.get("label_noise"):
        data = with_label_noise(data, wrappers["label_noise"], seed=seed)
    return data


def balanced_batch(
    data: Dataset, per_class: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """A class-balanced batch (x, y) from the training set, e.g. for SNIP/GraSP scores.

    Classification: ``min(per_class, count)`` examples of each class, drawn without replacement
    with ``generator``, ordered by class then by draw order. Regression: ``per_class * 10``
    examples (at most n_train) drawn without replacement, in draw order.
    """
    if per_class < 1:
        raise UserError(f"per_class must be >= 1, got {per_class}")
    if data.task == "regression":
        pick = torch.randperm(data.n_train, generator=generator)[: per_class * 10]
    else:
        labels = data.y_train.cpu()
        parts = []
        for c in range(data.num_classes):
            idx = torch.nonzero(labels == c).flatten()
            parts.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
        pick = torch.cat(parts)
    pick = pick.to(data.x_train.device)
    return data.x_train[pick], data.y_train[pick]
