"""Incoming files: prices, price forecasts and telemetry dropped into the inbox folder.

A file's kind is told by its name: ``prices*`` (cleared prices, CONVENTIONS price format),
``forecast*`` (a day-ahead price forecast, same format, ``da_price`` or ``price``) and
``telemetry*`` (CSV or Parquet: ``timestamp`` (period start), ``asset_id``, ``metered_mw`` (MW
average over the period, positive = to the grid), optional ``soc_mwh`` (MWh at the period's end)).
Files whose name starts with ``.`` are being written (atomic writers) and are left alone.

A good file is parsed, handed to ``store`` (one database transaction per file) and moved to
``processed/``; a bad one is moved to ``rejected/`` beside an ``<name>.error.txt`` that names the
file, row, timestamp and field, and the service goes on. Re-reading a file is harmless: the
writes are idempotent.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from market.calendar import parse_timestamps, trading_day_of
from market.presets import MarketSpec
from market.prices import read_prices
from market.table_checks import not_number_cells, not_number_text
from market.tables import load_table
from vpp.errors import InputError

log = logging.getLogger(__name__)

KINDS = ("prices", "forecast", "telemetry")
"""File kinds, by name prefix."""

Store = Callable[[str, list[dict[str, Any]]], int]
"""``store(kind, rows) -> rows written``, one transaction."""


@dataclass
class IngestReport:
    """What one pass over the inbox did: file names per outcome and rows stored."""

    processed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    rows: int = 0


def kind_of(path: Path) -> str | None:
    """The kind of an inbox file by its name prefix, or None."""
    name = path.name.lower()
    return next((k for k in KINDS if name.startswith(k)), None)


def pending(inbox: str | Path) -> list[Path]:
    """Files waiting in ``inbox`` (not folders, not files being written), by name."""
    folder = Path(inbox)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def process_inbox(inbox: str | Path, market: MarketSpec, asset_ids: set[str], store: Store) -> IngestReport:
    """Parse, store and file away every pending inbox file.

    Parameters
    ----------
    inbox : str or Path
        The inbox folder.
    market : MarketSpec
        Zone and period of the timestamps; price bounds.
    asset_ids : set of str
        Assets telemetry may name.
    store : callable
        ``store(kind, rows)`` writes the rows of one file in one transaction.
    """
    report = IngestReport()
    for path in pending(inbox):
        try:
            rows = parse_file(path, market, asset_ids)
            report.rows += store(kind_of(path) or "", rows)
        except (InputError, ValueError) as exc:
            reject(path, exc)
            report.rejected.append(path.name)
            continue
        _move(path, Path(inbox) / "processed")
        report.processed.append(path.name)
    return report


def parse_file(path: Path, market: MarketSpec, asset_ids: set[str]) -> list[dict[str, Any]]:
    """Rows of one inbox file, ready for the database (UTC datetimes).

    Raises
    ------
    InputError
        Unknown kind, or bad content (file, row, timestamp and field named).
    """
    kind = kind_of(path)
    if kind == "telemetry":
        return parse_telemetry(path, market, asset_ids)
    if kind in ("prices", "forecast"):
        frame = read_prices(path, market)
        copied = set(frame.attrs.get("copied_price_columns", []))
        starts = frame.index.tz_convert("UTC").to_pydatetime()
        if kind == "forecast":
            days = trading_day_of(market, frame.index)
            return [
                {"trading_day": d, "period_start": s, "da_price": float(p), "source": path.name}
                for d, s, p in zip(days, starts, frame["da_price"], strict=True)
            ]
        return [
            {
                "period_start": s,
                "da_price": None if "da_price" in copied else float(da),
                "rt_price": None if "rt_price" in copied else float(rt),
            }
            for s, da, rt in zip(starts, frame["da_price"], frame["rt_price"], strict=True)
        ]
    raise InputError(f"unknown inbox file kind; name it {', '.join(k + '*' for k in KINDS)}", file=path)


def _row_error(path: Path, raw: pd.DataFrame, i: int, message: str, field: str) -> InputError:
    """The error for data row ``i + 1`` of a telemetry file, with its timestamp as written."""
    return InputError(message, file=path, row=i + 1, timestamp=raw["timestamp"].iloc[i], field=field)


def parse_telemetry(path: Path, market: MarketSpec, asset_ids: set[str]) -> list[dict[str, Any]]:
    """Telemetry rows of a file (see the module docstring for the columns)."""
    raw = load_table(path)
    missing = [c for c in ("timestamp", "asset_id", "metered_mw") if c not in raw.columns]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", file=path)
    if raw.empty:
        raise InputError("no data rows", file=path)
    stamps = parse_timestamps(raw["timestamp"], market.timezone, file=path)
    off_grid = stamps != stamps.floor(market.period)
    if off_grid.any():
        i = int(np.flatnonzero(off_grid)[0])
        raise _row_error(
            path, raw, i, f"not a period start of the {market.period_minutes}-minute market", "timestamp"
        )
    values = {}
    for column in ("metered_mw", "soc_mwh"):
        if column not in raw.columns:
            continue
        typed = not_number_cells(raw[column])  # booleans, dates, durations (Parquet)
        numbers = pd.to_numeric(raw[column].mask(typed), errors="coerce")
        bad = numbers.isna() if column == "metered_mw" else numbers.isna() & raw[column].notna()
        bad |= ~np.isfinite(numbers.fillna(0.0).to_numpy(dtype=float)) | typed
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            value = raw[column].iloc[i]
            message = not_number_text(value) if typed[i] else f"not a number: {value!r}"
            raise _row_error(path, raw, i, message, column)
        values[column] = numbers
    ids = raw["asset_id"].astype(str).str.strip()
    unknown = ~ids.isin(sorted(asset_ids))
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise _row_error(path, raw, i, f"unknown asset '{ids.iloc[i]}'", "asset_id")
    key = pd.Series(list(zip(stamps, ids, strict=True)))
    if key.duplicated().any():
        i = int(np.flatnonzero(key.duplicated().to_numpy())[0])
        raise _row_error(path, raw, i, "repeated (timestamp, asset_id)", "asset_id")
    soc = values.get("soc_mwh")
    return [
        {
            "period_start": s.tz_convert("UTC").to_pydatetime(),
            "asset_id": a,
            "metered_mw": float(m),
            "soc_mwh": None if soc is None or pd.isna(soc.iloc[i]) else float(soc.iloc[i]),
        }
        for i, (s, a, m) in enumerate(zip(stamps, ids, values["metered_mw"], strict=True))
    ]


def reject(path: Path, error: Exception) -> Path:
    """Move ``path`` to ``rejected/`` and write ``<name>.error.txt`` beside it; log the reason."""
    folder = path.parent / "rejected"
    target = _move(path, folder)
    when = pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds")
    message = str(error) if str(error).startswith(str(path)) else f"{path}: {error}"
    (folder / f"{target.name}.error.txt").write_text(
        f"file: {path.name}\nrejected at: {when}\nerror: {message}\n", encoding="utf-8"
    )
    log.warning("inbox: rejected %s: %s", path.name, message)
    return target


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = pd.Timestamp.now(tz="UTC").strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), target)
    return target
