"""Real data sets: embedded ``digits`` and MNIST / FashionMNIST / CIFAR from a local folder.

- ``digits`` (E2 without download; the default of ``noprune run``): scikit-learn's embedded
  8x8 handwritten digits, 1797 images, pixel values scaled to [0, 1] by /16, shape [N, 1, 8, 8],
  10 classes. Split by a seeded stratified shuffle into 1437 train / 360 test points (the test
  quota of each class is proportional to its size, remainders to the largest fractions).
- ``fashionmnist`` (E2), ``mnist``, ``cifar10``, ``cifar100`` (E2, E6, E7 on larger data): read
  with torchvision (``download=False``, never downloaded) from ``root`` in torchvision's on-disk
  layout, converted to float32 in [0, 1] and normalised per channel, (x - mean) / std, with the
  usual training-set statistics: MNIST 0.1307 / 0.3081; FashionMNIST 0.2860 / 0.3530;
  CIFAR-10 (0.4914, 0.4822, 0.4465) / (0.2470, 0.2435, 0.2616);
  CIFAR-100 (0.5071, 0.4865, 0.4409) / (0.2673, 0.2564, 0.2762).
  The CIFAR "python version" files are pickles, which torchvision unpickles and checks against
  the official md5 sums: only point ``root`` at official copies.

Every real set takes ``n_train`` (0 = all): a seeded random subset of the training set of that
size, kept in file order. The test set is always complete.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from noprune.data.base import Dataset, make_generator, require
from noprune.errors import DataNotFoundError

_STATS = {
    "mnist": ((0.1307,), (0.3081,)),
    "fashionmnist": ((0.2860,), (0.3530,)),
    "cifar10": ((0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "cifar100": ((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762)),
}

_IDX = "raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte (uncompressed)"
_LAYOUT = {
    "mnist": f"DIR/MNIST/{_IDX}",
    "fashionmnist": f"DIR/FashionMNIST/{_IDX}",
    "cifar10": "DIR/cifar-10-batches-py/ with data_batch_1..5, test_batch, batches.meta",
    "cifar100": "DIR/cifar-100-python/ with train, test, meta",
}
_CLASS = {
    "mnist": "MNIST",
    "fashionmnist": "FashionMNIST",
    "cifar10": "CIFAR10",
    "cifar100": "CIFAR100",
}
_NUM_CLASSES = {"mnist": 10, "fashionmnist": 10, "cifar10": 10, "cifar100": 100}

DIGITS_TEST = 360


def _subset(
    x: torch.Tensor, y: torch.Tensor, n_train: int, seed: int, name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random subset of ``n_train`` rows (0 = all), kept in original order."""
    require(n_train >= 0, f"n_train must be >= 0, got {n_train}")
    require(n_train <= len(x), f"n_train={n_train} exceeds the {len(x)} training points of {name}")
    if n_train == 0 or n_train == len(x):
        return x, y
    keep = torch.randperm(len(x), generator=make_generator(seed, f"{name}/subset"))[:n_train]
    keep = keep.sort().values
    return x[keep], y[keep]


def stratified_split(
    y: torch.Tensor, n_test: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (train, test) with ``n_test`` test points spread over classes proportionally."""
    classes, counts = torch.unique(y, return_counts=True)
    exact = counts.double() * n_test / len(y)
    quota = exact.floor().long()
    short = n_test - int(quota.sum())
    # Largest remainders get the leftover points (stable sort: ties go to the smaller class).
    order = torch.sort(exact - quota, descending=True, stable=True).indices
    quota[order[:short]] += 1
    train, test = [], []
    for c, q in zip(classes.tolist(), quota.tolist(), strict=True):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=generator)]
        test.append(idx[:q])
        train.append(idx[q:])
    train_idx, test_idx = torch.cat(train), torch.cat(test)
    train_idx = train_idx[torch.randperm(len(train_idx), generator=generator)]
    test_idx = test_idx[torch.randperm(len(test_idx), generator=generator)]
    return train_idx, test_idx


@functools.cache
def digits_arrays() -> tuple[torch.Tensor, torch.Tensor]:
    """All 1,797 digits images [N, 1, 8, 8] in [0, 1] and their labels, read once per process.

    Read straight from the CSV that scikit-learn ships (what ``load_digits`` parses, pixel
    values 0..16 and the label in the last column), without importing scikit-learn: the import
    costs a worker about 0.8 s and loads scipy. ``load_digits`` where the file has moved.
    Callers index the tensors (copies) and never change them.
    """
    spec = importlib.util.find_spec("sklearn")
    csv = None if spec is None else Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
    if csv is not None and csv.is_file():
        table = np.loadtxt(csv, delimiter=",")
        pixels, labels = table[:, :-1], table[:, -1].astype(int)
    else:
        from sklearn.datasets import load_digits

        bunch = load_digits()
        pixels, labels = bunch.data, bunch.target
    x = torch.as_tensor(pixels, dtype=torch.float32).div_(16.0).reshape(-1, 1, 8, 8)
    return x, torch.as_tensor(labels, dtype=torch.int64)


def digits(*, n_train: int = 0, n_test: int = DIGITS_TEST, seed: int) -> Dataset:
    """Embedded scikit-learn digits: [N, 1, 8, 8] in [0, 1], 10 classes, 1437/360 split."""
    x, y = digits_arrays()
    require(1 <= n_test < len(y), f"n_test must be in 1..{len(y) - 1}, got {n_test}")
    train_idx, test_idx = stratified_split(y, n_test, make_generator(seed, "digits/split"))
    x_train, y_train = _subset(x[train_idx], y[train_idx], n_train, seed, "digits")
    return Dataset(
        "digits",
        x_train,
        y_train,
        x[test_idx],
        y[test_idx],
        num_classes=10,
        task="classification",
    )


def _to_float(data: object) -> torch.Tensor:
    """uint8 images -> float32 [N, C, H, W] in [0, 1]."""
    x = torch.as_tensor(data)
    x = x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)  # MNIST NHW / CIFAR NHWC
    return x.to(torch.float32).div_(255.0).contiguous()


def _normalise(x: torch.Tensor, name: str) -> torch.Tensor:
    mean, std = (torch.tensor(s, dtype=torch.float32)[None, :, None, None] for s in _STATS[name])
    return (x - mean) / std


def _read_split(name: str, root: str | os.PathLike, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    where = f"under {os.fspath(root)}: expected {_LAYOUT[name].replace('DIR', os.fspath(root))}"
    try:
        ds = getattr(datasets, _CLASS[name])(root=root, train=train, download=False)
    except RuntimeError as err:
        if "not found" not in str(err).lower():
            raise
        extra = " (or its files do not match the official md5 sums)" if "cifar" in name else ""
        raise DataNotFoundError(f"data set {name} not found {where}{extra}") from None
    except (
        OSError,
        ValueError,
        TypeError,
        AssertionError,
        EOFError,
        KeyError,
        pickle.UnpicklingError,
    ) as err:
        raise DataNotFoundError(f"data set {name} could not be read {where} ({type(err).__name__})") from None
    x = _normalise(_to_float(ds.data), name)
    return x, torch.as_tensor(ds.targets, dtype=torch.int64)


def _folder_set(name: str, root: str | os.PathLike | None, n_train: int, seed: int) -> Dataset:
    if root is None:
        raise DataNotFoundError(
            f"data set {name} needs a folder: pass --data-root DIR holding {_LAYOUT[name]} "
            "(torchvision layout)"
        )
    require(n_train >= 0, f"n_train must be >= 0, got {n_train}")
    x_train, y_train = _read_split(name, root, train=True)
    x_test, y_test = _read_split(name, root, train=False)
    x_train, y_train = _subset(x_train, y_train, n_train, seed, name)
    return Dataset(
        name,
        x_train,
        y_train,
        x_test,
        y_test,
        num_classes=_NUM_CLASSES[name],
        task="classification",
    )


def mnist(*, n_train: int = 0, root: str | os.PathLike | None = None, seed: int) -> Dataset:
    """MNIST from ``root``/MNIST/raw: [N, 1, 28, 28], normalised, 10 classes."""
    return _folder_set("mnist", root, n_train, seed)


def fashionmnist(*, n_train: int = 0, root: str | os.PathLike | None = None, seed: int) -> Dataset:
    """E2: FashionMNIST from ``root``/FashionMNIST/raw: [N, 1, 28, 28], normalised, 10 classes."""
    return _folder_set("fashionmnist", root, n_train, seed)


def cifar10(*, n_train: int = 0, root: str | os.PathLike | None = None, seed: int) -> Dataset:
    """CIFAR-10 from ``root``/cifar-10-batches-py: [N, 3, 32, 32], normalised, 10 classes."""
    return _folder_set("cifar10", root, n_train, seed)


def cifar100(*, n_train: int = 0, root: str | os.PathLike | None = None, seed: int) -> Dataset:
    """CIFAR-100 (fine labels) from ``root``/cifar-100-python: [N, 3, 32, 32], 100 classes."""
    return _folder_set("cifar100", root, n_train, seed)
