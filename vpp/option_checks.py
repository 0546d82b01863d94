"""Checks of command-line option values that typer cannot express (NaN, negative limits, unknown
names, unbounded counts): each bad value is an ``InputError`` naming the option, before any work."""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import get_args

from vpp.errors import InputError
from vpp.io_utils import refuse_special_file

MAX_SCENARIOS = 2000
"""Most price scenarios of a price-quantity bid (the LP grows linearly: 2000 x 96 periods is
already minutes of HiGHS; 100000 would never finish)."""

MAX_WORKERS = 256
"""Most local worker processes (``--workers``)."""

SCHEDULER = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")
"""A Dask scheduler address: ``tcp://HOST:PORT`` (or ``tls://``)."""


def positive_seconds(value: float, option: str = "--time-limit") -> float:
    """A finite time limit above 0 (s)."""
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{value} is not a time limit: give a number of seconds above 0", field=option)
    return value


def mip_gap(value: float, option: str = "--mip-gap") -> float:
    """A relative MIP gap: finite, 0 or more."""
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"{value} is not a relative MIP gap: give a number of 0 or more (1e-4 = 0.01 %)", field=option
        )
    return value


def handoff(value: str, option: str = "--handoff") -> str:
    """A hand-off name of :class:`optimizer.options.SolveOptions`."""
    from optimizer.options import Handoff

    known = get_args(Handoff)
    if value not in known:
        raise InputError(f"unknown hand-off '{value}'; use {', '.join(known)}", field=option)
    return value


def seed(value: int, option: str = "--seed") -> int:
    """A random seed: 0 .. 2**32 - 1."""
    if not 0 <= value < 2**32:
        raise InputError(f"{value} is not a seed: give an integer from 0 to {2**32 - 1}", field=option)
    return value


def scenarios(value: int, option: str = "--scenarios") -> int:
    """A number of scenarios: 1 .. :data:`MAX_SCENARIOS`."""
    if not 1 <= value <= MAX_SCENARIOS:
        raise InputError(f"{value} scenarios: give 1 to {MAX_SCENARIOS}", field=option)
    return value


def workers(value: int, option: str = "--workers") -> int:
    """A number of local worker processes: 0 (serial) .. :data:`MAX_WORKERS`."""
    if not 0 <= value <= MAX_WORKERS:
        raise InputError(f"{value} workers: give 0 (serial, in this process) to {MAX_WORKERS}", field=option)
    return value


def scheduler(value: str | None, option: str = "--scheduler") -> str | None:
    """A Dask scheduler address ``tcp://HOST:PORT`` (``tls://`` too), or None."""
    if value is not None and not SCHEDULER.match(value):
        raise InputError(f"'{value}' is not a Dask scheduler address: give tcp://HOST:PORT", field=option)
    if value is not None and not 0 < int(value.rsplit(":", 1)[1]) < 65536:
        raise InputError(f"'{value}': the port must be 1 to 65535", field=option)
    return value


def output_file(path: Path, option: str = "--out") -> Path:
    """A file to write: not an existing folder, symbolic link, FIFO or device (those are never
    replaced), in a folder that can be made and written. Checked before any work is done."""
    try:
        refuse_special_file(path)
    except OSError as exc:
        raise InputError(f"{path} {exc.strerror}", field=option) from None
    _writable_folder(path.parent, option)
    return path


def output_folder(path: Path, option: str = "--out") -> Path:
    """A folder to write files in: one that can be made (or exists) and is writable."""
    _writable_folder(path, option)
    return path


def _writable_folder(folder: Path, option: str) -> None:
    """The nearest existing folder on the way to ``folder`` is a folder and takes a new file
    (tried with a temporary file, removed at once); nothing is created."""
    existing = next((p for p in (folder, *folder.parents) if p.exists() or p.is_symlink()), Path("."))
    if not existing.is_dir():
        tail = "" if existing == folder else f", so {folder} cannot be made"
        raise InputError(f"{existing} is a file, not a folder{tail}", field=option)
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write in {existing}: {reason}", field=option) from None
