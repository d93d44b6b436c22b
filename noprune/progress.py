"""Progress bars for long loops (training steps, bench cases), off unless a command turns them on
(``noprune prune`` and ``noprune bench``, not ``--quiet``) and then drawn only on a terminal, on
standard error: library calls and sweep workers stay silent, and output piped to a file holds
no bar."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_SHOWN: ContextVar[bool] = ContextVar("noprune_progress", default=False)


@contextlib.contextmanager
def shown(on: bool = True) -> Iterator[None]:
    """Within the block, :func:`bar` draws (where standard error is a terminal)."""
    token = _SHOWN.set(on)
    try:
        yield
    finally:
        _SHOWN.reset(token)


def bar(total: int, desc: str, unit: str = "step") -> Any:
    """A tqdm bar of ``total`` units, disabled outside :func:`shown` and off a terminal."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        leave=False,
        file=sys.stderr,
        disable=True if not _SHOWN.get() else None,
        dynamic_ncols=True,
    )
