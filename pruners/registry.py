"""The registry of pruners: name -> class, with one-line descriptions."""

from __future__ import annotations

from typing import Any

from pruners.after_training import IMP, MagnitudeAfter
from pruners.base import Pruner
from pruners.baselines import Magnitude, Random
from pruners.grasp import GraSP
from pruners.snip import SNIP
from pruners.synflow import SynFlow

PRUNERS: dict[str, type[Pruner]] = {
    cls.name: cls for cls in (Random, Magnitude, SNIP, GraSP, SynFlow, MagnitudeAfter, IMP)
}


def get(name: str, **settings: Any) -> Pruner:
    """A pruner by name, with its settings (e.g. ``get("synflow", rounds=100)``)."""
    try:
        cls = PRUNERS[name]
    except KeyError:
        raise KeyError(f"unknown pruner {name!r}; choose one of: {', '.join(PRUNERS)}") from None
    return cls(**settings)


def available() -> dict[str, str]:
    """{pruner name: one-line description}."""
    return {name: cls.description for name, cls in PRUNERS.items()}
