"""PHEW (Patil & Dovrolis, ICML 2021, "PHEW: Constructing Sparse Networks that Learn Fast and
Generalize Well Without Training Data"), data-free.

The mask is the union of input-output paths drawn by random walks biased by the initial
weights' magnitudes (Sec. 4, Alg. 1): walks alternate forward (from the input units in turn,
each step to an output unit o of the current unit i with probability proportional to
E[o, i] = sum over the kernel of |W[o, i]|) and backward (from the output units in turn, to an
input unit in proportion to E[o, i] over the unit's incoming kernels); a step keeps one kernel
entry, drawn in proportion to its |W|; from a convolution to a Linear layer the walk enters one
of the channel's flattened features uniformly at random. The official code
(ShreyasMalakarjunPatil/PHEW, ``PHEW/phew.py``, ``phew_masks`` and ``generate_probability``)
checks the budget only between whole walks and so keeps up to depth - 1 weights too many; here
the walk stops at the edge that reaches round(density * N) exactly. Paths follow a chain of
layers (MLPs, plain CNNs and VGG); the official shortcut rule for ResNets is not implemented.
Why PHEW and not NPB (Pham et al., NeurIPS 2023): NPB solves an integer program per layer with
cvxpy and architecture-specific chunking; PHEW needs no solver and no tuned constants.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import torch

from pruners.base import Pruner


@dataclasses.dataclass
class PHEW(Pruner):
    """The union of magnitude-biased random input-output paths (Patil & Dovrolis 2021, Alg. 1),
    walked until exactly round(density * N) weights are kept."""

    name = "phew"
    description = "union of random input-output paths biased by |theta|, data-free (Patil & Dovrolis 2021)"
    uses_data = False
    order = 4.7
    color = "#999933"
    marker = "p"
    scopes = ("global",)

    #: Scoring passes' worth of walking per unit of density: the walks are a Python loop over the
    #: kept weights (quick, LeNet-300-100 at density 0.5: 4.4 s of job against 3.0 s for a
    #: one-pass pruner, about 18 passes).
    WALK_PASSES = 36

    def work(self, density: float) -> tuple[int, int]:
        return 0, 1 + round(self.WALK_PASSES * density)

    def prune_network(self, net, densities, *, batch, scope, invert):
        todo = iter(densities)
        scores = net.per_member(lambda member, masks, b: walked(member, next(todo)), net.dense(), None)
        return net.select(scores, densities, scope="global", invert=invert)


def walked(net, density: float) -> list[torch.Tensor]:
    """0/1 indicators of the weights on the walked paths of one member, round(density * N) ones.
    A prunable bias (``include_biases``) is kept for every unit a walk enters, as the official
    code keeps the bias of each unit it reaches."""
    tensors = [t.abs().to(torch.float64).cpu().numpy() for t in net.weights()]
    if density == 1.0:
        return [torch.ones_like(w, dtype=torch.float64) for w in net.weights()]
    index = [j for j, t in enumerate(tensors) if t.ndim >= 2]
    bias = {j: j + 1 for j in index if j + 1 < len(tensors) and tensors[j + 1].ndim == 1}
    shapes = [tensors[j].shape for j in index]
    expand = chain_expansion(shapes)
    seed = int(torch.randint(0, 2**63 - 1, (1,), generator=net.generator))
    rng = np.random.default_rng(seed)
    layers = [Transitions(tensors[j]) for j in index]
    kept = [np.zeros(t.shape, dtype=bool) for t in tensors]
    target = round(density * sum(t.size for t in tensors))
    count, walk = 0, 0

    def keep(j: int, cell: tuple[int, ...]) -> None:
        nonlocal count
        if count < target and not kept[j][cell]:
            kept[j][cell] = True
            count += 1

    while count < target:
        forward = walk % 2 == 0
        order = range(len(layers)) if forward else range(len(layers) - 1, -1, -1)
        unit = (walk // 2) % (shapes[0][1] if forward else shapes[-1][0])
        for layer in order:
            o, i, entry = layers[layer].step(unit, forward, rng)
            shape = shapes[layer]
            keep(index[layer], (o, i, *np.unravel_index(entry, shape[2:])) if len(shape) > 2 else (o, i))
            if index[layer] in bias:
                keep(bias[index[layer]], (o,))
            if forward and layer + 1 < len(layers):
                unit = o * expand[layer] + int(rng.integers(expand[layer]))
            elif not forward and layer > 0:
                unit = i // expand[layer - 1]
        walk += 1
    device = net.weights()[0].device
    return [torch.from_numpy(k.astype(np.float64)).to(device) for k in kept]


def chain_expansion(shapes) -> list[int]:
    """For each layer l, how many input features of layer l + 1 one output unit of l feeds (1,
    or the spatial size a convolution's channel is flattened to)."""
    out = []
    for a, b in itertools.pairwise(shapes):
        if b[1] % a[0]:
            raise ValueError(
                f"phew follows paths through a chain of layers; a layer with {a[0]} outputs feeds one with "
                f"{b[1]} inputs (shortcuts are not supported)"
            )
        out.append(b[1] // a[0])
    return out


class Transitions:
    """One layer's walk probabilities from |W| [out, in, *kernel]: to an output unit given an
    input unit (forward), to an input unit given an output unit (backward), and to a kernel
    entry given both, each proportional to the summed magnitudes (uniform where they are 0)."""

    def __init__(self, magnitude: np.ndarray) -> None:
        kernel = magnitude.reshape(magnitude.shape[0], magnitude.shape[1], -1)
        e = kernel.sum(axis=2)
        self.forward = np.cumsum(np.where(e.sum(0, keepdims=True) > 0, e, 1.0).T, axis=1)
        self.backward = np.cumsum(np.where(e.sum(1, keepdims=True) > 0, e, 1.0), axis=1)
        self.kernel = np.cumsum(np.where(e[..., None] > 0, kernel, 1.0), axis=2)

    @staticmethod
    def draw(cdf: np.ndarray, rng: np.random.Generator) -> int:
        return min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), len(cdf) - 1)

    def step(self, unit: int, forward: bool, rng: np.random.Generator) -> tuple[int, int, int]:
        if forward:
            i, o = unit, self.draw(self.forward[unit], rng)
        else:
            o, i = unit, self.draw(self.backward[unit], rng)
        return o, i, self.draw(self.kernel[o, i], rng)
