"""Files the application writes for itself are readable by their owner only (issue 10 point 3):
the SQLite database, the keys and the audit anchors under ``instance/``, the task queue's
store. Each is created with mode 0600 (folders 0700) whatever the process's umask."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; a folder that exists keeps its
    mode, except the one named, which is narrowed to 0700 when this process owns it."""
    folder = Path(path)
    folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _narrow(folder, DIR_MODE)
    return folder


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists with mode 0600: created so if absent (its folder 0700),
    narrowed to 0600 if it exists and this process owns it. Contents are never touched."""
    file = Path(path)
    if not file.parent.exists():
        private_dir(file.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    _narrow(file, FILE_MODE)
    return file


def open_private_append(path: str | os.PathLike[str]) -> int:
    """A descriptor to append to ``path``, created with mode 0600 if absent."""
    private_file(path)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)


def _narrow(path: Path, mode: int) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    if info.st_uid == os.getuid() and info.st_mode & 0o777 & ~mode:
        with contextlib.suppress(OSError):
            os.chmod(path, info.st_mode & 0o777 & mode)


def sqlite_file(database: str | None) -> str | None:
    """The path of an SQLite URL's database file, or ``None`` for an in-memory one."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database
