"""An exclusive ``flock`` on a file: the scheduler lease of a SQLite database and the inbox's
reader lock.

The kernel drops the lock when its descriptor is closed, so also when the process dies. Each
:class:`FileLock` opens its own descriptor: two of them on one path exclude each other, whether in
two processes or two threads of one. The lock file is never opened through a symbolic link.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

POLL_S = 0.02
"""Wait between two attempts of :meth:`FileLock.acquire` (s)."""


class FileLock:
    """An exclusive ``flock`` on ``path`` (created, mode 0644, if missing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def try_lock(self) -> bool:
        """Take the lock if it is free; False, without waiting, when another holder has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # held by another descriptor (flock's only EWOULDBLOCK)
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return True

    def acquire(self, timeout_s: float) -> bool:
        """Take the lock, waiting up to ``timeout_s`` seconds; False when it stayed held."""
        deadline = time.monotonic() + timeout_s
        while not self.try_lock():
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)
        return True

    def alive(self) -> bool:
        """True while this object holds the lock."""
        return self.fd is not None

    def unlock(self) -> None:
        """Release the lock (closing the descriptor drops the flock); nothing when not held."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
