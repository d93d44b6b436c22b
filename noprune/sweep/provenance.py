"""Provenance recorded with every result: versions, git commit, host, device."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from noprune import __version__

REPO = Path(__file__).resolve().parents[2]


def package_version() -> str:
    return __version__


def git_state() -> tuple[str | None, bool | None]:
    """(commit, dirty) of the checkout the code runs from, or (None, None) outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        status = subprocess.run(
            # results/ is what runs write; its changes do not make the code dirty.
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())


def resolve_device(name: str) -> torch.device:
    """'auto' picks CUDA when available; 'cuda' without CUDA is the user's error."""
    from noprune.errors import UserError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda asked for, but torch sees no CUDA device; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu or cuda") from None


def provenance(device: torch.device) -> dict[str, object]:
    commit, dirty = git_state()
    return {
        "noprune": package_version(),
        "git_commit": commit,
        "git_dirty": dirty,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "host": platform.node(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
    }
