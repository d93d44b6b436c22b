"""Output folders: made and checked before any work starts, and kept inside their root.

A command that will write files calls :func:`output_folder` for each folder first, so a path it
cannot use (a file in the way, a folder under /proc, no write permission) ends the command with
one error line before minutes of pruning or training, not with a traceback after them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from noprune.errors import UserError

SUITES_DIR = Path(__file__).resolve().parent / "suites"
"""The suites shipped with the package (package data: a wheel carries them)."""


def output_folder(path: str | os.PathLike, flag: str, *, create: bool = True) -> Path:
    """``path`` as a folder that takes new files, or one :class:`UserError` line naming ``flag``
    (the option that gave it). ``create=False`` makes nothing: it checks that the folder, or
    the nearest folder above it that exists, takes a new file, so a command can refuse a bad
    path before its work and make the folder only when it has something to put there."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{flag} {folder} exists and is not a folder")
    existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
    try:
        if not existing.is_dir():
            raise NotADirectoryError(f"{existing} is not a folder")
        with tempfile.TemporaryFile(dir=existing):  # what a write needs: make, then drop, a file
            pass
        if create:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"{flag} {folder}: cannot write there ({error.strerror or error})") from None
    return folder


def inside(root: Path, name: str, flag: str) -> Path:
    """``root / name``, refused unless it resolves to a path inside ``root`` (a name such as
    ``../x`` or an absolute path, or a symlink out of ``root``, would write elsewhere)."""
    path = root / name
    if not path.resolve().is_relative_to(root.resolve()) or path.resolve() == root.resolve():
        raise UserError(f"{flag} {root}: {name!r} would write outside it")
    return path


@contextmanager
def replacing(path: Path, *, binary: bool = False, newline: str | None = None) -> Iterator[IO[Any]]:
    """A file through which to write ``path``: it lies beside ``path`` under a temporary name and
    replaces it only once complete, so a write that fails (a full disk) or is interrupted leaves
    the earlier file, or none, never a part of one. A failure is one :class:`UserError` line
    naming ``path``."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        if binary:
            with open(temporary, "wb") as handle:
                yield handle
        else:
            with open(temporary, "w", encoding="utf-8", newline=newline) as handle:
                yield handle
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (:func:`replacing`)."""
    with replacing(path) as handle:
        handle.write(text)
    return path
