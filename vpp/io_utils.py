"""Atomic file output: write to a temporary file in the same folder, then rename.

Files are created with the permissions the process's umask allows (``0666 & ~umask``: 0644 under
the usual 022), as ``open()`` would, not ``mkstemp``'s private 0600: a gateway running as another
user must be able to read the outbox.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import format_timestamps

TEMPORARY_SUFFIX = ".tmp"
"""Suffix of the dot-prefixed temporary file of an atomic write (``.<name>.<random>.tmp``)."""


def process_umask() -> int:
    """The process's file mode creation mask (e.g. ``0o022``).

    Read from ``/proc/self/status`` where it exists (thread-safe); elsewhere set and restored.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(text: str, path: str | Path) -> Path:
    """Write ``text`` to ``path`` so that readers see either the old file or the whole new one.

    Raises
    ------
    OSError
        With ``filename`` set: ``path`` exists and is not a regular file (a folder, a symbolic
        link, a FIFO or a device: never replaced), or the folder cannot be made or written.
    """
    path = Path(path)
    refuse_special_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~process_umask())  # as open() would; mkstemp: 0600
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def refuse_special_file(path: Path) -> None:
    """Raise ``FileExistsError`` (or ``IsADirectoryError``) when ``path`` exists and is not a
    regular file: a rename would replace the folder entry of a symbolic link, FIFO or device."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder; name a file", str(path))
    kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file (a FIFO, socket or device)"
    raise FileExistsError(errno.EEXIST, f"exists and is {kind}; it is not replaced", str(path))


def write_csv_atomic(frame: pd.DataFrame, path: str | Path, *, index: bool = False) -> Path:
    """Write a DataFrame as CSV atomically; tz-aware timestamps as ISO 8601 with ``+08:00`` offsets."""
    out = frame.reset_index() if index else frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):  # each distinct time formatted once
            codes, distinct = pd.factorize(out[column])
            text = format_timestamps(pd.DatetimeIndex(distinct))
            out[column] = np.where(codes >= 0, text[np.maximum(codes, 0)] if len(text) else "", "")
    return write_text_atomic(out.to_csv(index=False), path)


def remove_stale_temporary(folder: str | Path, older_than_s: float = 60.0) -> int:
    """Delete temporary files of atomic writes that a killed process left in ``folder``.

    Only dot-prefixed ``*.tmp`` files older than ``older_than_s`` (s) go: a write in flight in
    another process is younger. Returns how many were deleted (0 when the folder is missing).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    cutoff = time.time() - older_than_s
    removed = 0
    for path in folder.glob(f".*{TEMPORARY_SUFFIX}"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:  # gone meanwhile, or not ours to delete: leave it
            continue
    return removed
