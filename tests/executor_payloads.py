"""Top-level, picklable functions that tests submit to executors (worker processes import this module)."""

from __future__ import annotations

import os
import time


def square(payload: dict, *, offset: int = 0) -> dict:
    """The square of payload["x"], plus an optional keyword offset."""
    return {"x": payload["x"], "square": payload["x"] ** 2 + offset}


def boom(payload: dict) -> dict:
    """Always raises ValueError naming payload["x"]."""
    raise ValueError(f"boom at x={payload['x']}")


def nap(payload: dict) -> dict:
    """Sleeps payload["seconds"], then reports its process id."""
    time.sleep(payload["seconds"])
    return {"seconds": payload["seconds"], "pid": os.getpid()}


def torch_threads(payload: dict) -> dict:
    """How many intra-op threads torch uses in the worker."""
    import torch

    return {"threads": torch.get_num_threads(), "pid": os.getpid()}


def die_if(payload: dict) -> dict:
    """Kills its own worker process with SIGKILL (as the out-of-memory killer does) when
    payload["die"] is true, after payload["seconds"]; else sleeps that long and returns x."""
    import signal

    time.sleep(payload.get("seconds", 0))
    if payload.get("die"):
        os.kill(os.getpid(), signal.SIGKILL)
    return {"x": payload["x"], "pid": os.getpid()}
