"""The data folder and the files in it are private to the user who runs the product: payroll names, amounts and
encrypted tokens are nobody else's business on a shared machine. Folders 0700, files 0600."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` (and its parents) private; an existing folder of ours is made private too."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    _tighten(path, FOLDER_MODE)
    return path


def private_file(path: Path) -> None:
    """Make an existing file of ours readable by us alone (a database SQLite created with the umask's mode)."""
    _tighten(path, FILE_MODE)


def open_private(path: Path, mode: str = "a") -> TextIO:
    """Open a text file for writing that is created readable by us alone."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    return os.fdopen(os.open(path, flags, FILE_MODE), mode, encoding="utf-8")


def _tighten(path: Path, mode: int) -> None:
    # Only what this user owns; another owner's folder (a shared mount) is theirs to set.
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
            path.chmod(mode)
