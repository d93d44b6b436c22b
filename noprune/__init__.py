"""noprune: a benchmark suite for pruning neural networks at initialization, built around No
Free Prune (Kumar, Luo & Sellke, ICML 2024). The command is ``noprune``; the packages
``pruners`` (masks and pruners) and ``infotheory`` (bounds on I(mask; data)) stand alone."""

from importlib import metadata

try:
    __version__ = metadata.version("noprune")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"


def __getattr__(name: str):
    """``noprune.load_runs`` (PEP 562): pandas is imported only when it is used."""
    if name == "load_runs":
        from noprune.frame import load_runs

        return load_runs
    raise AttributeError(f"module 'noprune' has no attribute {name!r}")
