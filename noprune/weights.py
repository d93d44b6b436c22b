"""Weights on disk: safetensors only (no pickle), with a format tag."""

from __future__ import annotations

import os

import torch
from safetensors.torch import load_file

from pruners.masks import save_safetensors

FORMAT = "noprune-weights-v1"


def save_state(state: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Write a state dict (the weights a mask applies to) as safetensors."""
    save_safetensors({k: v.detach().cpu().contiguous() for k, v in state.items()}, path, {"format": FORMAT})


def load_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    return load_file(os.fspath(path))
