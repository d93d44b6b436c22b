"""Any model from timm (Wightman, PyTorch Image Models) by name, randomly initialized.

timm is an optional dependency (``pip install 'noprune[timm]'``); it is imported lazily.
The model keeps timm's own initialization (see ``noprune.models.build_model`` for seeding).
"""

from __future__ import annotations

import difflib
from types import ModuleType

import torch
from torch import nn

from noprune.errors import UserError


def _import_timm() -> ModuleType:
    try:
        import timm
    except ImportError:
        msg = "timm is not installed; install it with: pip install 'noprune[timm]'"
        raise UserError(msg) from None
    return timm


def timm_model(name: str, in_channels: int, num_classes: int) -> nn.Module:
    """``timm.create_model(name, pretrained=False, num_classes=..., in_chans=...)``, refused in
    one line when it holds more than ``MAX_WEIGHTS`` parameters (counted on the meta device, so
    before any memory is taken)."""
    from noprune.models import MAX_WEIGHTS

    timm = _import_timm()
    if not name:
        raise UserError("model 'timm' needs a timm model name, e.g. timm:resnet18")
    if not timm.is_model(name):
        close = difflib.get_close_matches(name, timm.list_models(), n=3)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        msg = f"unknown timm model {name!r}; {hint}see timm.list_models() for the valid names"
        raise UserError(msg)
    kwargs = {"pretrained": False, "num_classes": num_classes, "in_chans": in_channels}
    try:
        with torch.device("meta"):  # its size first, without memory
            count = sum(p.numel() for p in timm.create_model(name, **kwargs).parameters())
        if count > MAX_WEIGHTS:
            raise UserError(
                f"timm model {name!r} has {count:,} parameters, more than noprune builds ({MAX_WEIGHTS:,})"
            )
        return timm.create_model(name, **kwargs)
    except (TypeError, ValueError, AssertionError, RuntimeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(
            f"timm model {name!r} cannot be built with in_chans={in_channels}, "
            f"num_classes={num_classes}: {first}"
        ) from None
