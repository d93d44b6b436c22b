"""Fully connected networks: an MLP of any widths and LeNet-300-100 (LeCun et al. 1998).

LeNet-300-100 is the MLP used in the lottery-ticket and pruning-at-init literature
(Frankle & Carbin 2019; Lee et al. 2019, SNIP): 784 -> 300 -> 100 -> 10 with ReLU.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from torch import nn


class MLP(nn.Sequential):
    """``Flatten`` then ``Linear + ReLU`` per hidden width, then a final ``Linear``.

    Layers are named ``flatten``, ``fc1``, ``relu1``, ..., ``out`` so that per-layer results
    read well. Works for any input shape: the input is flattened to ``in_features``.
    """

    def __init__(
        self, in_features: int, widths: Sequence[int], num_classes: int, *, bias: bool = True
    ) -> None:
        layers: list[tuple[str, nn.Module]] = [("flatten", nn.Flatten())]
        prev = in_features
        for i, width in enumerate(widths, start=1):
            layers.append((f"fc{i}", nn.Linear(prev, width, bias=bias)))
            layers.append((f"relu{i}", nn.ReLU()))
            prev = width
        layers.append(("out", nn.Linear(prev, num_classes, bias=bias)))
        super().__init__(OrderedDict(layers))
        self.in_features = in_features
        self.widths = tuple(widths)
        self.num_classes = num_classes


def lenet_300_100(in_features: int, num_classes: int) -> MLP:
    """LeNet-300-100: the MLP with hidden widths (300, 100); 266,610 parameters on MNIST."""
    return MLP(in_features, (300, 100), num_classes)
