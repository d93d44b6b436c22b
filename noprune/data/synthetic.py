"""Synthetic data sets of docs/SCIENCE.md section 3, generated from a seed (no files).

- ``gaussian`` (E1, E6, E7): x ~ N(0, I_d), labels i.i.d. uniform in {0, 1} (the paper's +-1
  as two classes for cross-entropy).
- ``sphere`` (E5): x uniform on the sphere of radius ``radius`` in R^d, random labels {0, 1}.
- ``teacher`` (E3): regression on y = teacher(x) + z, teacher a 3-layer ReLU MLP, z drawn once.
- ``toy`` (E4): n distinct vertices of {+-1}^d (default 6 of the 8 vertices of the 3-cube),
  labels +-1 independent of x. ``toy_datasets`` enumerates its whole support (exact E4).

Each factory draws its training set, its test set and (for ``teacher``) the teacher weights from
separate generators derived from ``seed`` (``make_generator``), so the test set does not change
with ``n`` and the same seed gives bit-identical tensors.
"""

from __future__ import annotations

import itertools
import math

import torch

from noprune.data.base import Dataset, make_generator, random_labels, require


def check_sizes(n: int, d: int, n_test: int) -> None:
    require(n >= 1, f"n must be >= 1, got {n}")
    require(d >= 1, f"d must be >= 1, got {d}")
    require(n_test >= 0, f"n_test must be >= 0, got {n_test}")


def gaussian(*, n: int = 30, d: int = 30, n_test: int = 1000, seed: int) -> Dataset:
    """E1: n Gaussian points in R^d, random binary labels; test: fresh points, fresh labels."""
    check_sizes(n, d, n_test)
    g_train, g_test = make_generator(seed, "gaussian/train"), make_generator(seed, "gaussian/test")
    x = torch.randn(n, d, generator=g_train)
    y = random_labels(n, g_train)
    x_test = torch.randn(n_test, d, generator=g_test)
    y_test = random_labels(n_test, g_test)
    return Dataset("gaussian", x, y, x_test, y_test, num_classes=2, task="classification")


def _on_sphere(n: int, d: int, radius: float, generator: torch.Generator) -> torch.Tensor:
    x = torch.randn(n, d, generator=generator)
    return radius * x / x.norm(dim=1, keepdim=True)


def sphere(*, n: int = 100, d: int = 20, radius: float = 1.0, n_test: int = 1000, seed: int) -> Dataset:
    """E5: n points uniform on the sphere of radius ``radius`` in R^d, random labels {0, 1}."""
    check_sizes(n, d, n_test)
    require(radius > 0, f"radius must be > 0, got {radius}")
    g_train, g_test = make_generator(seed, "sphere/train"), make_generator(seed, "sphere/test")
    x = _on_sphere(n, d, radius, g_train)
    y = random_labels(n, g_train)
    x_test = _on_sphere(n_test, d, radius, g_test)
    y_test = random_labels(n_test, g_test)
    return Dataset("sphere", x, y, x_test, y_test, num_classes=2, task="classification")


def _teacher_weights(d: int, width: int, generator: torch.Generator) -> list[torch.Tensor]:
    """Kaiming-normal weights (std sqrt(2 / fan_in)) of d -> width -> width -> 1; biases zero."""
    shapes = [(width, d), (width, width), (1, width)]
    return [torch.randn(shape, generator=generator) * math.sqrt(2.0 / shape[1]) for shape in shapes]


def _teacher_forward(weights: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    h = x
    for i, w in enumerate(weights):
        h = h @ w.T
        if i < len(weights) - 1:
            h = torch.relu(h)
    return h


def teacher(
    *,
    n: int = 1000,
    d: int = 50,
    width: int = 50,
    noise_variance: float = 1.0,
    n_test: int = 1000,
    seed: int,
) -> Dataset:
    """E3: y = teacher(x) + z, x ~ N(0, I_d), z ~ N(0, noise_variance) drawn once.

    The teacher is a 3-layer ReLU MLP (d -> width -> width -> 1, zero biases, Kaiming-normal
    weights from the seed). ``extras``: ``noise`` = z [n, 1], ``clean`` = teacher(x) [n, 1] (so
    ``y_train - clean == noise`` exactly), ``test_clean`` = teacher(x_test) [n_test, 1]. Test
    labels are the clean teacher outputs plus fresh noise of the same variance.
    """
    check_sizes(n, d, n_test)
    require(width >= 1, f"width must be >= 1, got {width}")
    require(noise_variance >= 0, f"noise_variance must be >= 0, got {noise_variance}")
    weights = _teacher_weights(d, width, make_generator(seed, "teacher/weights"))
    g_train, g_test = make_generator(seed, "teacher/train"), make_generator(seed, "teacher/test")
    std = math.sqrt(noise_variance)
    x = torch.randn(n, d, generator=g_train)
    clean = _teacher_forward(weights, x)
    y = clean + torch.randn(n, 1, generator=g_train) * std
    noise = y - clean  # z as stored, so that y - clean == noise holds exactly in float32
    x_test = torch.randn(n_test, d, generator=g_test)
    clean_test = _teacher_forward(weights, x_test)
    y_test = clean_test + torch.randn(n_test, 1, generator=g_test) * std
    extras = {"noise": noise, "clean": clean, "test_clean": clean_test}
    return Dataset(
        "teacher",
        x,
        y,
        x_test,
        y_test,
        num_classes=1,
        task="regression",
        extras=extras,
    )


def cube_vertices(d: int) -> torch.Tensor:
    """All 2^d vertices of {-1, +1}^d as float32 rows, in binary-counting order."""
    bits = (torch.arange(2**d)[:, None] >> torch.arange(d)) & 1
    return (2 * bits - 1).to(torch.float32)


def toy(*, n: int = 6, d: int = 3, classification: bool = False, seed: int) -> Dataset:
    """E4: n distinct vertices of {+-1}^d (chosen at random), labels +-1 independent of x.

    Regression by default (targets float32 [n, 1] in {-1, +1}, one output, for the MSE runs);
    ``classification=true`` gives class indices {0, 1} (0 for -1) with 2 classes. The test set
    is the remaining 2^d - n vertices with their own random labels (empty when n = 2^d).
    """
    require(1 <= d <= 16, f"d must be in 1..16, got {d}")
    require(1 <= n <= 2**d, f"n must be in 1..{2**d} (vertices of the {d}-cube), got {n}")
    g_train, g_test = make_generator(seed, "toy/train"), make_generator(seed, "toy/test")
    vertices = cube_vertices(d)
    order = torch.randperm(2**d, generator=g_train)
    x, x_test = vertices[order[:n]], vertices[order[n:]]
    y, y_test = random_labels(n, g_train), random_labels(2**d - n, g_test)
    if classification:
        return Dataset("toy", x, y, x_test, y_test, num_classes=2, task="classification")
    y_pm, y_test_pm = (2 * y - 1).float()[:, None], (2 * y_test - 1).float()[:, None]
    return Dataset("toy", x, y_pm, x_test, y_test_pm, num_classes=1, task="regression")


#: Most data sets ``toy_datasets`` enumerates (C(2^d, n) 2^n grows fast).
MAX_TOY_DATASETS = 1_000_000


def toy_datasets(
    *, n: int = 6, d: int = 3, classification: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Every distinct training set ``toy`` can draw: M = C(2^d, n) 2^n of them (1792 by default).

    ``toy`` draws an n-subset of the vertices uniformly (in random order) and uniform labels, so
    as a set of (x, y) pairs its draw is uniform over these M. Each is given in a canonical
    order: points by increasing vertex index (``cube_vertices``' order), subsets in
    lexicographic order, and for each subset all 2^n label vectors (bit i of the label index is
    point i's label). Returns x [M, n, d] float32 and y as ``toy`` gives it: [M, n] int64 in
    {0, 1} (``classification``) or [M, n, 1] float32 in {-1, +1}.
    """
    require(1 <= d <= 16, f"d must be in 1..16, got {d}")
    require(1 <= n <= 2**d, f"n must be in 1..{2**d} (vertices of the {d}-cube), got {n}")
    m = math.comb(2**d, n) * 2**n
    require(
        m <= MAX_TOY_DATASETS,
        f"toy with n={n}, d={d} has {m} distinct data sets, more than the {MAX_TOY_DATASETS} "
        "that can be enumerated; use a smaller n or d",
    )
    subsets = torch.tensor(list(itertools.combinations(range(2**d), n)), dtype=torch.int64)
    labels = (torch.arange(2**n)[:, None] >> torch.arange(n)) & 1
    x = cube_vertices(d)[subsets].repeat_interleave(2**n, dim=0)
    y = labels.repeat(len(subsets), 1)
    if classification:
        return x, y
    return x, (2 * y - 1).float()[:, :, None]
