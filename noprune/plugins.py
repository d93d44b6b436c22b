"""Models and data sets from other installed distributions, through entry points.

A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."noprune.models"]
    tiny = "my_package.models:tiny"          # tiny(options, input_shape, num_classes) -> nn.Module

    [project.entry-points."noprune.datasets"]
    blobs = "my_package.data:blobs"          # blobs(*, seed, **typed options) -> noprune.data.Dataset

A model factory gets the text after ``name:`` in the spec (``""`` when none); a data-set
factory is called as the built-in ones are (keyword options parsed against its signature's
defaults, ``root`` when it takes one). The first line of each docstring is its description in
``noprune list``. Pruners come through ``noprune.pruners`` (``pruners.registry``). Every
process that imports noprune reads them, Dask and Slurm workers included.
"""

from __future__ import annotations

import importlib.metadata
import warnings
from collections.abc import Callable
from typing import Any


def load(group: str, taken: set[str] | dict[str, Any]) -> dict[str, Callable[..., Any]]:
    """{name: loaded object} of the entry points in ``group``; one that fails to load, is not
    callable or takes a name already in ``taken`` is skipped with a warning."""
    found: dict[str, Callable[..., Any]] = {}
    for entry in importlib.metadata.entry_points(group=group):
        try:
            obj = entry.load()
        except Exception as error:  # a broken plugin must not take the suite down
            warnings.warn(f"{group} plugin {entry.name} = {entry.value!r} not loaded: {error}", stacklevel=2)
            continue
        if not callable(obj) or entry.name in taken or entry.name in found:
            warnings.warn(
                f"{group} plugin {entry.name!r} skipped: not callable, or the name is taken", stacklevel=2
            )
            continue
        found[entry.name] = obj
    return found


def describe(obj: Callable[..., Any]) -> str:
    """The first line of the docstring, for ``noprune list``."""
    doc = (obj.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else "(a plugin)"
