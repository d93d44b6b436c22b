"""A small convolutional network for quick benchmarks on small images.

conv3x3(C1) -> ReLU -> conv3x3(C2) -> ReLU -> maxpool 2 -> adaptive avg pool 4x4 ->
Linear(16 C2, H) -> ReLU -> Linear(H, num_classes), with (C1, C2, H) = (32, 64, 128) by default
(spec ``cnn``) or any widths (``cnn:8,16,32``: 9,480 weights on digits). The adaptive pool makes
the head independent of the input size (digits 1x8x8, MNIST 1x28x28, CIFAR 3x32x32, ...).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

WIDTHS = (32, 64, 128)
"""(C1, C2, H) of the spec ``cnn``."""


class SmallCNN(nn.Sequential):
    """Two 3x3 conv layers and a two-layer head; works for any image of at least 2x2."""

    def __init__(self, in_channels: int, num_classes: int, widths: tuple[int, int, int] = WIDTHS) -> None:
        c1, c2, hidden = widths
        super().__init__(
            OrderedDict(
                [
                    ("conv1", nn.Conv2d(in_channels, c1, kernel_size=3, padding=1)),
                    ("relu1", nn.ReLU()),
                    ("conv2", nn.Conv2d(c1, c2, kernel_size=3, padding=1)),
                    ("relu2", nn.ReLU()),
                    ("maxpool", nn.MaxPool2d(2)),
                    ("avgpool", nn.AdaptiveAvgPool2d(4)),
                    ("flatten", nn.Flatten()),
                    ("fc1", nn.Linear(c2 * 4 * 4, hidden)),
                    ("relu3", nn.ReLU()),
                    ("out", nn.Linear(hidden, num_classes)),
                ]
            )
        )
