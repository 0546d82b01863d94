"""The inbox folder as the service sees it: which entries are complete files to read, where the
service keeps its own state, the one-reader lock, and how a file is quarantined.

The service owns ``<inbox>/.vpp/`` (created once): ``processed/`` and ``rejected/`` (each rejected
file beside ``<name>.error.txt``, mode 0600: it may quote a cell of the file) and ``lock`` (held
by the one process and thread reading the inbox). Entries of the inbox itself are never confused
with these: a file named ``rejected`` or ``processed`` is just a file (of no known kind, so it is
quarantined), folders are left alone.

A regular file is complete (:func:`scan`) when its marker ``<name>.ready`` exists, or else once its
size and modification time have not changed for ``settle_s`` seconds. Names starting with ``.`` are
never read (files being written under a dot name, to be renamed). Symbolic links, FIFOs, sockets and
devices are quarantined without being opened or followed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vpp.service.flock import FileLock

log = logging.getLogger(__name__)

STATE_DIR = ".vpp"
"""The service's own folder inside the inbox (a dot name: never read as an inbox file)."""

READY_SUFFIX = ".ready"
"""Marker a writer drops beside a complete file: ``<name>.ready``."""

MAX_NAME_BYTES = 160
"""Longest quarantined file name kept as is (bytes, UTF-8); longer ones are cut and hashed, so that
``<name>.<stamp>.error.txt`` stays below the usual 255-byte limit of a file name."""


@dataclass
class Scan:
    """The inbox entries of one pass: complete files to read, files still being written, and
    entries to quarantine unread (with their reason)."""

    ready: list[Path] = field(default_factory=list)
    waiting: list[Path] = field(default_factory=list)
    unreadable: list[tuple[Path, str]] = field(default_factory=list)


def shown(text: str) -> str:
    """``text`` with every non-printable character escaped (``\\n``, ``\\x1b``, ``\\udcff``): what a
    log line or an error file shows of a file name, so a name cannot forge a line."""
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def state_folder(inbox: str | Path, name: str) -> Path:
    """``<inbox>/.vpp/<name>``, created when missing (mode by the umask)."""
    folder = Path(inbox) / STATE_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def scan(inbox: str | Path, settle_s: float, now_s: float | None = None) -> Scan:
    """Sort the entries of ``inbox`` (sorted by name) into ready, waiting and unreadable.

    Parameters
    ----------
    inbox : str or Path
        The inbox folder (missing: nothing to do).
    settle_s : float
        A file without a ready marker is complete once unchanged this long (s, wall time).
    now_s : float, optional
        UNIX time of the scan (default: now).
    """
    out = Scan()
    folder = Path(inbox)
    if not folder.is_dir():
        return out
    now_s = time.time() if now_s is None else now_s
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    names = {e.name for e in entries}
    for entry in entries:
        name = entry.name
        if name.startswith(".") or name.endswith(READY_SUFFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except FileNotFoundError:  # gone meanwhile
            continue
        path = folder / name
        if stat.S_ISDIR(info.st_mode):
            continue
        if stat.S_ISLNK(info.st_mode):
            out.unreadable.append((path, "a symbolic link: the inbox does not follow links"))
        elif not stat.S_ISREG(info.st_mode):
            out.unreadable.append((path, "not a regular file (FIFO, socket or device)"))
        elif name + READY_SUFFIX in names or now_s - info.st_mtime >= settle_s:
            out.ready.append(path)
        else:
            out.waiting.append(path)
    return out


def mark_ready(path: str | Path) -> Path:
    """Drop the ready marker of a complete file ``path`` (what a writer does last)."""
    marker = Path(path).with_name(Path(path).name + READY_SUFFIX)
    marker.touch()
    return marker


def consume_marker(path: Path) -> None:
    """Delete the ready marker of ``path``, if any."""
    with contextlib.suppress(OSError):
        path.with_name(path.name + READY_SUFFIX).unlink()


def quarantine_name(name: str) -> str:
    """A name for ``name`` inside the service's folders: printable, at most :data:`MAX_NAME_BYTES`
    bytes (a longer one is cut and ends with ``~`` and 12 hex digits of its SHA-256)."""
    safe = shown(name).replace("/", "_")
    raw = safe.encode("utf-8")
    if len(raw) <= MAX_NAME_BYTES:
        return safe
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return raw[: MAX_NAME_BYTES - 13].decode("utf-8", "ignore") + "~" + digest


def move_into(path: Path, folder: Path) -> Path:
    """Rename ``path`` (a file, link or FIFO: never followed, never copied) into ``folder`` under
    its :func:`quarantine_name`, with a UTC stamp added when that name is taken."""
    name = quarantine_name(path.name)
    target = folder / name
    if target.exists() or target.is_symlink():
        stamp = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{name}.{stamp}"
    os.rename(path, target)
    return target


def write_reason(target: Path, original: str, reason: str) -> Path:
    """Write ``<target>.error.txt`` (mode 0600, never through a link) naming the file and why."""
    when = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    text = f"file: {shown(original)}\nrejected at: {when}\nerror: {shown(reason)}\n"
    reason_path = target.with_name(target.name + ".error.txt")
    fd = os.open(reason_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return reason_path


@contextlib.contextmanager
def reader_lock(inbox: str | Path, timeout_s: float) -> Iterator[bool]:
    """Hold the inbox's reader lock (``.vpp/lock``, :class:`vpp.service.flock.FileLock`) while
    inside; yields False when another reader (process or thread) held it for ``timeout_s`` seconds."""
    lock_path = Path(inbox) / STATE_DIR / "lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path)
    if not lock.acquire(timeout_s):
        yield False
        return
    try:
        yield True
    finally:
        lock.unlock()
