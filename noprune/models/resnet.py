"""CIFAR ResNet-20 (He et al. 2016, section 4.2), as in open_lth's ``cifar_resnet_20``.

A 3x3 stem conv with 16 filters, then 3 stages of 3 basic blocks with 16/32/64 filters; the
first block of stages 2 and 3 halves the resolution. Where the shape changes the shortcut is
a 1x1 conv + BatchNorm projection (open_lth, not the paper's zero-padding option A). Global
average pooling and one linear layer finish the network. Convolutions have no bias.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN layers with a residual connection (He et al. 2016)."""

    def __init__(self, f_in: int, f_out: int, *, downsample: bool) -> None:
        super().__init__()
        stride = 2 if downsample else 1
        self.conv1 = nn.Conv2d(f_in, f_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(f_out)
        self.conv2 = nn.Conv2d(f_out, f_out, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(f_out)
        if downsample or f_in != f_out:
            self.shortcut: nn.Module = nn.Sequential(
                nn.Conv2d(f_in, f_out, 1, stride=stride, bias=False), nn.BatchNorm2d(f_out)
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for CIFAR-sized images; ``depth=20`` gives ResNet-20 (n = 3)."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        depth: int = 20,
        width: int = 16,
    ) -> None:
        super().__init__()
        if (depth - 2) % 6 != 0:
            raise ValueError(f"CIFAR ResNet depth must be 6n+2, got {depth}")
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        blocks: list[nn.Module] = []
        f_in = width
        for stage, f_out in enumerate((width, 2 * width, 4 * width)):
            for index in range(n):
                blocks.append(BasicBlock(f_in, f_out, downsample=stage > 0 and index == 0))
                f_in = f_out
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(f_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn(self.conv(x)))
        out = self.blocks(out)
        return self.fc(torch.flatten(self.pool(out), 1))


def resnet20(in_channels: int, num_classes: int) -> CifarResNet:
    """ResNet-20 (He et al. 2016); about 0.27M parameters for 10 classes."""
    return CifarResNet(in_channels, num_classes, depth=20)


class CifarResNet18(nn.Module):
    """ResNet-18 for 32x32 images: a 3x3 stem without max pooling, then 4 stages of 2 basic
    blocks with 64/128/256/512 filters (He et al. 2016's ResNet-18 adapted to CIFAR, as in
    the SynFlow paper's CIFAR experiments, Tanaka et al. 2020, Fig. 6)."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 64, 3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(64)
        blocks: list[nn.Module] = []
        f_in = 64
        for stage, f_out in enumerate((64, 128, 256, 512)):
            for index in range(2):
                blocks.append(BasicBlock(f_in, f_out, downsample=stage > 0 and index == 0))
                f_in = f_out
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(f_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(self.pool(self.blocks(out)), 1))
