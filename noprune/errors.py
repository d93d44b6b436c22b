"""Errors a user can cause. The CLI prints their message on one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: an unknown name, a value out of range, a missing file.

    The message must name the problem and the fix in one line.
    """


class UnknownNameError(UserError):
    """An unknown pruner, model, data set or option name."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...]) -> None:
        super().__init__(f"unknown {kind} {name!r}; choose one of: {', '.join(sorted(known))}")
        self.kind = kind
        self.name = name


class DataNotFoundError(UserError):
    """A data set that must be read from a folder is not there."""


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""
