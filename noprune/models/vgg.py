"""VGG-11 and VGG-16 with BatchNorm (Simonyan & Zisserman 2015), open_lth ``cifar_vgg`` style.

Each number in the config is a 3x3 conv (padding 1) + BatchNorm + ReLU; each 'M' is a 2x2
max pool. As in open_lth the final 'M' of the ImageNet configs is dropped and the head is a
single ``Linear(512, num_classes)``. Deviation from open_lth: its ``AvgPool2d(2)`` is replaced
by ``AdaptiveAvgPool2d(1)`` so the head works for any input of at least 16x16; on 32x32 CIFAR
images the two are identical (the feature map is 2x2).
"""

from __future__ import annotations

import torch
from torch import nn

VGG_CONFIGS: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512],
}

MIN_SIZE = 16
"""Smallest input height/width: four 2x2 max pools need at least 16 pixels."""


class VGG(nn.Module):
    """A VGG feature stack from ``config`` followed by global average pooling and a linear."""

    def __init__(self, config: list[int | str], in_channels: int, num_classes: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels = in_channels
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                assert isinstance(item, int)
                layers += [
                    nn.Conv2d(channels, item, kernel_size=3, padding=1),
                    nn.BatchNorm2d(item),
                    nn.ReLU(),
                ]
                channels = item
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.flatten(self.pool(self.features(x))))


def vgg11(in_channels: int, num_classes: int) -> VGG:
    """VGG-11 with BatchNorm (Simonyan & Zisserman 2015, config A)."""
    return VGG(VGG_CONFIGS["vgg11"], in_channels, num_classes)


def vgg16(in_channels: int, num_classes: int) -> VGG:
    """VGG-16 with BatchNorm (Simonyan & Zisserman 2015, config D)."""
    return VGG(VGG_CONFIGS["vgg16"], in_channels, num_classes)
