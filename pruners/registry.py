"""The registry of pruners: name -> class, the built-in seven and those other installed
distributions declare in the entry-point group ``noprune.pruners``.

A plugin distribution declares, in its ``pyproject.toml``::

    [project.entry-points."noprune.pruners"]
    my_pruner = "my_package.module:MyPruner"

where ``MyPruner`` subclasses :class:`~pruners.base.Pruner` (usually
:class:`~pruners.base.ScoringPruner`) with ``name = "my_pruner"``. Entry points are read when
the ``pruners`` package is imported (after all of it is defined, so a plugin may import it), so
every process that imports ``pruners`` (a Dask or Slurm worker included) sees the same pruners
once the distribution is installed there. A script can also
:func:`register` a class; that reaches only its own process and the processes it spawns.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from typing import Any

from pruners.after_training import IMP, MagnitudeAfter
from pruners.base import Pruner
from pruners.baselines import Magnitude, Random
from pruners.force import FORCE
from pruners.grasp import GraSP
from pruners.iter_snip import IterSNIP
from pruners.ntksap import NTKSAP
from pruners.phew import PHEW
from pruners.prospr import ProsPr
from pruners.px import PX
from pruners.ratios import ERK, RandomLike, SmartRatio, Uniform
from pruners.snip import SNIP
from pruners.synflow import SynFlow

ENTRY_POINTS = "noprune.pruners"
BUILTIN: tuple[type[Pruner], ...] = (
    Random,
    Uniform,
    ERK,
    SmartRatio,
    Magnitude,
    SNIP,
    IterSNIP,
    FORCE,
    ProsPr,
    GraSP,
    SynFlow,
    NTKSAP,
    PX,
    PHEW,
    MagnitudeAfter,
    IMP,
    RandomLike,
)

PRUNERS: dict[str, type[Pruner]] = {cls.name: cls for cls in BUILTIN}


def register(cls: type[Pruner]) -> type[Pruner]:
    """Add a pruner class under its ``name`` (usable as a class decorator); a name already
    taken is refused."""
    if not (isinstance(cls, type) and issubclass(cls, Pruner)):
        raise TypeError(f"{cls!r} is not a subclass of pruners.Pruner")
    if cls.name in PRUNERS and PRUNERS[cls.name] is not cls:
        raise ValueError(
            f"a pruner named {cls.name!r} is already registered ({PRUNERS[cls.name].__module__})"
        )
    PRUNERS[cls.name] = cls
    return cls


def load_plugins() -> list[str]:
    """Register the pruners of the ``noprune.pruners`` entry points; return their names. A
    plugin that fails to load, or is not a Pruner, is skipped with a warning."""
    names = []
    for entry in importlib.metadata.entry_points(group=ENTRY_POINTS):
        try:
            register(entry.load())
        except Exception as error:  # a broken plugin must not take the suite down
            warnings.warn(f"pruner plugin {entry.name} = {entry.value!r} not loaded: {error}", stacklevel=2)
            continue
        names.append(entry.name)
    return names


def get(name: str, **settings: Any) -> Pruner:
    """A pruner by name, with its settings (e.g. ``get("synflow", rounds=100)``)."""
    try:
        cls = PRUNERS[name]
    except KeyError:
        raise KeyError(f"unknown pruner {name!r}; choose one of: {', '.join(PRUNERS)}") from None
    return cls(**settings)


def available() -> dict[str, str]:
    """{pruner name: one-line description}, in display order."""
    return {name: PRUNERS[name].description for name in sorted(PRUNERS, key=display_rank)}


def display_rank(name: str) -> tuple[float, str]:
    """Where a pruner's row goes in tables and legends: its class's ``order``, then its name
    (unknown names last)."""
    cls = PRUNERS.get(name)
    return (float("inf") if cls is None else cls.order, name)
