"""CIFAR ResNets: ResNet-20 (He et al. 2016, section 4.2), as in open_lth's ``cifar_resnet_20``,
and ResNet-18 with a CIFAR stem.

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
    """ResNet for CIFAR-sized images: a 3x3 stem (no max pooling), stages of basic blocks,
    global average pooling, one linear layer. The first block of every stage after the first
    halves the resolution."""

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        *,
        stage_widths: tuple[int, ...] = (16, 32, 64),
        blocks_per_stage: int = 3,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, stage_widths[0], 3, stride=1, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(stage_widths[0])
        blocks: list[nn.Module] = []
        f_in = stage_widths[0]
        for stage, f_out in enumerate(stage_widths):
            for index in range(blocks_per_stage):
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
    """ResNet-20 (He et al. 2016, 6n+2 with n = 3, widths 16/32/64); 0.27M parameters."""
    return CifarResNet(in_channels, num_classes, stage_widths=(16, 32, 64), blocks_per_stage=3)


def resnet18(in_channels: int, num_classes: int) -> CifarResNet:
    """ResNet-18 for 32x32 images: 4 stages of 2 basic blocks with 64/128/256/512 filters and a
    3x3 stem without max pooling (He et al. 2016's ResNet-18 adapted to CIFAR, as in the SynFlow
    paper's CIFAR experiments, Tanaka et al. 2020, Fig. 6); 11.2M parameters."""
    return CifarResNet(in_channels, num_classes, stage_widths=(64, 128, 256, 512), blocks_per_stage=2)
