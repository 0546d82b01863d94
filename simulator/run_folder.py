"""The output folder of a backtest holds one run: what an earlier run wrote and this one did not is removed.

A backtest writes ``manifest.json`` last, listing every file it wrote (relative paths). The next
backtest into the same folder deletes the files of the old manifest that it did not write again, and
the folders they leave empty. Files it never wrote (an analyst's notes) are left alone. A folder
written before manifests existed is recognised by its ``summary.json``: its ``strategies`` name the
``<strategy>/settlement.csv`` and ``assets.csv`` files of that run.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from pathlib import Path

from vpp.io_utils import write_text_atomic

MANIFEST = "manifest.json"
"""File name of the list of a run's outputs, inside the output folder."""

TOP_LEVEL = ("settlement.csv", "assets.csv", "summary.json", "report.html")
"""Files a backtest has always written at the top of its folder (before manifests existed)."""

STRATEGY_FILES = ("settlement.csv", "assets.csv")
"""Files a backtest has always written in each ``<strategy>/`` folder."""


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique id of one run: ``YYYYMMDDTHHMMSSZ-xxxxxx`` (UTC)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def previous_outputs(out: Path) -> set[str]:
    """Relative paths (POSIX) of the files the previous backtest wrote into ``out``.

    Read from ``manifest.json``; for a folder without one, inferred from ``summary.json``. Paths that
    would leave ``out`` are ignored. Empty when ``out`` holds no earlier run.
    """
    out = Path(out)
    manifest = out / MANIFEST
    names: Iterable[str] = ()
    if manifest.is_file():
        try:
            names = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (ValueError, KeyError, TypeError):
            names = ()
    elif (out / "summary.json").is_file():
        try:
            strategies = json.loads((out / "summary.json").read_text(encoding="utf-8")).get("strategies", {})
        except (ValueError, AttributeError):
            strategies = {}
        names = [*TOP_LEVEL, *(f"{s}/{f}" for s in strategies if isinstance(s, str) for f in STRATEGY_FILES)]
    return {name for name in names if isinstance(name, str) and _inside(out, name)}


def _inside(out: Path, name: str) -> bool:
    path = Path(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def finish_run(out: Path, written: list[Path], before: set[str], run_id: str) -> Path:
    """Delete what the previous run wrote and this one did not, then write ``manifest.json``.

    Parameters
    ----------
    out : Path
        The output folder.
    written : list of Path
        Files this run wrote (inside ``out``).
    before : set of str
        :func:`previous_outputs` read before this run wrote anything.
    run_id : str
        This run's id (:func:`new_run_id`), recorded in the manifest.

    Returns
    -------
    Path
        The manifest's path.
    """
    out = Path(out)
    root = out.resolve()
    now = {path.resolve().relative_to(root).as_posix() for path in written}
    for name in sorted(before - now - {MANIFEST}):
        stale = out / name
        if stale.is_file() or stale.is_symlink():
            stale.unlink()
        parent = stale.parent
        while parent.resolve() != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    manifest = {
        "run_id": run_id,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": sorted(now),
    }
    return write_text_atomic(json.dumps(manifest, indent=2) + "\n", out / MANIFEST)
