"""Advisory locks that keep two live runs off the same output or the same dedup index.

A run holds an exclusive `flock` on a directory: the output's work directory `OUTPUT.partial/`
(see `classify.checkpoint`), and `INDEX.lock/` beside a persistent dedup index, which two runs
would otherwise both load and then save, the second save dropping what the first one added. A
second run stops at once with `RunInProgress`. The kernel drops a lock with its process, even
after `kill -9`, so a crashed run never blocks the next one; and the directories go when their
run ends, so nothing is left behind.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


class RunInProgress(OSError):
    """Another live run holds the lock."""


def lock_directory(directory: Path, held_by: str = "another classify run holds this directory") -> int | None:
    """Create `directory` if need be and take an exclusive advisory lock on it; returns the file
    descriptor that holds the lock (close it to release), None where the platform has no flock.

    Raises RunInProgress (with `held_by` in its message) when another process holds the lock. A
    lock won on a directory that its holder removed meanwhile (the inode at the path changed) is
    dropped and taken again on the new one, so a holder may remove its directory before releasing.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system: runs are not guarded against each other
        directory.mkdir(parents=True, exist_ok=True)
        return None
    while True:
        directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunInProgress(f"{directory}: {held_by}") from None
        held = os.fstat(fd)
        try:
            current = os.stat(directory)
        except FileNotFoundError:
            current = None
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return fd
        os.close(fd)


def index_lock_path(index_path: Path) -> Path:
    """The lock directory of a persistent dedup index: `INDEX.lock/` beside it."""
    return index_path.with_name(index_path.name + ".lock")


@contextmanager
def index_lock(index_path: Path | None) -> Iterator[None]:
    """Hold `INDEX.lock/` for the block (nothing for None); the directory goes at the end."""
    if index_path is None:
        yield
        return
    directory = index_lock_path(index_path)
    fd = lock_directory(
        directory, "another classify run is using this dedup index; wait for it to end, or give this run another --index"
    )
    try:
        yield
    finally:
        # Removed before the release: a run that opened it meanwhile then retries on a new one. A
        # directory someone put files in stays (the lock works on it all the same).
        with suppress(OSError):
            directory.rmdir()
        if fd is not None:
            os.close(fd)
