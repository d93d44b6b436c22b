"""MaskSet: explicit boolean masks over a model's prunable weights, in a fixed order.

Masks are never inferred from zero weights (docs/SCIENCE.md §2). A MaskSet knows its exact counts
overall and per layer, detects layer collapse, keeps pruned weights at zero through training,
packs to one bit per prunable weight, and saves to safetensors (no pickle).
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import safetensors.torch
import torch
from safetensors import safe_open
from torch import nn

from pruners.params import prunable_parameters

FORMAT = "noprune-maskset-v1"


def save_safetensors(
    tensors: Mapping[str, torch.Tensor], path: str | os.PathLike, metadata: Mapping[str, str]
) -> None:
    """Write a safetensors file whose header has its keys sorted, so equal tensors and metadata
    give byte-identical files (the library orders metadata by hash, differently each run). The
    file is created under the user's umask, as ``open`` creates files."""
    blob = safetensors.torch.save(dict(tensors), metadata=dict(metadata))
    length = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8 : 8 + length]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the data that follows stays 8-byte aligned
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header + blob[8 + length :])


# The gradient hook that keeps each parameter's pruned entries at zero; one per parameter, so
# applying a new mask replaces the old one instead of stacking hooks. Keyed by id (tensors
# compare elementwise), with a weak reference to tell a recycled id from the same tensor.
_GRAD_HOOKS: dict[int, tuple[weakref.ref, Any]] = {}


def _remove_hook(p: torch.Tensor) -> None:
    entry = _GRAD_HOOKS.pop(id(p), None)
    if entry is not None and entry[0]() is p:
        entry[1].remove()


@dataclass(frozen=True)
class LayerStats:
    """Realised counts of one prunable tensor."""

    nnz: int
    numel: int

    @property
    def density(self) -> float:
        return self.nnz / self.numel


def _boolean(name: str, tensor: torch.Tensor) -> torch.Tensor:
    """A stored mask tensor as booleans: bool as it is, numbers only where every one is 0 or 1."""
    if tensor.dtype == torch.bool:
        return tensor
    ones = tensor == 1
    if not bool((ones | (tensor == 0)).all()):
        odd = tensor[~(ones | (tensor == 0))].flatten()[0].item()
        raise ValueError(f"mask {name} holds {odd!r}; a mask is boolean (or 0 and 1 exactly)")
    return ones


class MaskSet(Mapping[str, torch.Tensor]):
    """An ordered mapping {parameter name: bool tensor}; True means the weight is kept."""

    def __init__(self, masks: Mapping[str, torch.Tensor]) -> None:
        if not masks:
            raise ValueError("a MaskSet needs at least one mask")
        self._masks = {name: m.detach().to(torch.bool) for name, m in masks.items()}

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def dense(cls, model: nn.Module, exclude: tuple[str, ...] = (), include_biases: bool = False) -> MaskSet:
        """All-ones masks over the prunable weights (and, if asked, biases) of ``model``."""
        params = prunable_parameters(model, exclude, include_biases=include_biases)
        return cls({n: torch.ones_like(p, dtype=torch.bool) for n, p in params.items()})

    # -- mapping -----------------------------------------------------------------------------
    def __getitem__(self, name: str) -> torch.Tensor:
        return self._masks[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._masks)

    def __len__(self) -> int:
        return len(self._masks)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MaskSet):
            return NotImplemented
        return list(self) == list(other) and all(torch.equal(self[n].cpu(), other[n].cpu()) for n in self)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MaskSet({len(self)} tensors, nnz={self.nnz}/{self.numel}, density={self.density:.6g})"

    def to(self, device: torch.device | str) -> MaskSet:
        return MaskSet({n: m.to(device) for n, m in self.items()})

    # -- realised figures --------------------------------------------------------------------
    @property
    def numel(self) -> int:
        """Number of prunable weights N."""
        return sum(m.numel() for m in self.values())

    @property
    def nnz(self) -> int:
        """Number of kept weights, exactly."""
        return sum(int(m.sum()) for m in self.values())

    @property
    def density(self) -> float:
        """Fraction of prunable weights kept (the suite's one unit; sparsity = 1 - density)."""
        return self.nnz / self.numel

    def per_layer(self) -> dict[str, LayerStats]:
        return {n: LayerStats(int(m.sum()), m.numel()) for n, m in self.items()}

    def collapsed(self) -> list[str]:
        """Layers with no surviving weight: the network output no longer depends on the input.
        (A fully pruned bias is not a collapse.)"""
        return [n for n, m in self.items() if not n.endswith("bias") and not bool(m.any())]

    # -- use on a model ----------------------------------------------------------------------
    def _params(self, model: nn.Module) -> dict[str, nn.Parameter]:
        params = dict(model.named_parameters())
        missing = [n for n in self if n not in params]
        if missing:
            raise KeyError(f"model has no parameters named {', '.join(missing)}")
        for n, m in self.items():
            if params[n].shape != m.shape:
                raise ValueError(f"mask {n} has shape {tuple(m.shape)}, weight has {tuple(params[n].shape)}")
        return {n: params[n] for n in self}

    def zero_(self, model: nn.Module) -> None:
        """Set the pruned weights of ``model`` to zero, in place."""
        self.zeroer(model)()

    def zeroer(self, model: nn.Module) -> Callable[[], None]:
        """A fast :meth:`zero_` for a training loop: masks converted and bound once."""
        params = self._params(model)
        weights = list(params.values())
        keeps = [self[n].to(device=p.device, dtype=p.dtype) for n, p in params.items()]

        @torch.no_grad()
        def zero() -> None:
            torch._foreach_mul_(weights, keeps)

        return zero

    def apply(self, model: nn.Module) -> None:
        """Zero the pruned weights and keep them at zero through training.

        A gradient hook on each prunable weight zeroes the gradient of pruned entries, so SGD
        (momentum, weight decay) and Adam leave them at exactly zero; training loops should
        still call :meth:`zero_` after each optimizer step as a guard (noprune's does).
        Applying another MaskSet later replaces this one's hooks.
        """
        self.zero_(model)
        for n, p in self._params(model).items():
            _remove_hook(p)
            keep = self[n].to(device=p.device, dtype=p.dtype)
            _GRAD_HOOKS[id(p)] = (weakref.ref(p), p.register_hook(lambda g, keep=keep: g * keep))

    @staticmethod
    def release(model: nn.Module) -> None:
        """Remove the gradient hooks that :meth:`apply` put on ``model``'s parameters."""
        for p in model.parameters():
            _remove_hook(p)

    # -- serialisation -----------------------------------------------------------------------
    def packbits(self) -> np.ndarray:
        """One bit per prunable weight, masks flattened and concatenated in order (uint8)."""
        flat = torch.cat([m.reshape(-1).cpu() for m in self.values()]).numpy()
        return np.packbits(flat)

    @classmethod
    def unpackbits(cls, bits: np.ndarray, shapes: Mapping[str, tuple[int, ...]]) -> MaskSet:
        """Inverse of :meth:`packbits` given the ordered {name: shape} of the masks."""
        total = sum(int(np.prod(s)) for s in shapes.values())
        flat = torch.from_numpy(np.unpackbits(np.asarray(bits, dtype=np.uint8), count=total).astype(bool))
        out, start = {}, 0
        for name, shape in shapes.items():
            size = int(np.prod(shape))
            out[name] = flat[start : start + size].reshape(shape)
            start += size
        return cls(out)

    def save(self, path: str | os.PathLike, metadata: Mapping[str, str] | None = None) -> None:
        """Write the masks to a safetensors file; the parameter order goes in the metadata."""
        meta = {"format": FORMAT, "order": json.dumps(list(self)), **(metadata or {})}
        save_safetensors({n: m.contiguous().cpu() for n, m in self.items()}, path, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> MaskSet:
        """Read masks written by :meth:`save`: boolean tensors, or numbers that are exactly 0 or
        1 (read as booleans); anything else, or no weights at all, is refused."""
        with safe_open(os.fspath(path), framework="pt") as f:
            meta = f.metadata() or {}
            if meta.get("format") != FORMAT:
                raise ValueError(f"{os.fspath(path)} is not a noprune mask file")
            order = json.loads(meta["order"])
            masks = {n: _boolean(n, f.get_tensor(n)) for n in order}
        if not sum(m.numel() for m in masks.values()):
            raise ValueError(f"{os.fspath(path)} holds no weights")
        return cls(masks)
