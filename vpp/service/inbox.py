"""Incoming files: prices, price forecasts and telemetry dropped into the inbox folder.

A file's kind is told by its name: ``prices*`` (cleared prices, CONVENTIONS price format),
``forecast*`` (a day-ahead price forecast, same format, ``da_price`` or ``price``) and
``telemetry*`` (CSV or Parquet: ``timestamp`` (period start), ``asset_id``, ``metered_mw`` (MW
average over the period, positive = to the grid), optional ``soc_mwh`` (MWh stored at the period's
end by any family that stores energy, e.g. a battery or a swap station)).
``revision_prices*`` and ``revision_telemetry*`` change a day already settled (which the plain
kinds may not): the day is then settled again and the revision recorded.

When a file is complete, who may read it and where it goes afterwards are in
:mod:`vpp.service.inbox_files` (the contract is in the README, "Inbox files"): one reader at a
time, only regular files, a ``<name>.ready`` marker or an unchanged size and time for a while.

A good file is parsed, handed to ``store`` (one database transaction per file) and moved to
``.vpp/processed/``; a bad one is moved to ``.vpp/rejected/`` beside an ``<name>.error.txt`` that
names the file, row, timestamp and field, and the pass goes on with the next file, whatever went
wrong. A file the database fails to store is kept for :data:`STORE_ATTEMPTS` passes, then rejected
with the database's reason. Re-reading a file is harmless: the writes are idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
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
from vpp.assets.registry import FAMILIES
from vpp.errors import InputError
from vpp.service import inbox_files
from vpp.service.inbox_files import shown

log = logging.getLogger(__name__)

KINDS = ("prices", "forecast", "telemetry", "revision_prices", "revision_telemetry")
"""File kinds, by name prefix."""

Store = Callable[[str, list[dict[str, Any]]], int]
"""``store(kind, rows) -> rows written``, one transaction."""

Limits = Mapping[str, tuple[float, float, float | None]]
"""Per asset id: lowest and highest metered power (MW) and highest state of charge (MWh, or None)."""

STORE_ATTEMPTS = 3
"""Passes a file the database fails to store is kept for before it is rejected."""

LOCK_TIMEOUT_S = 60.0
"""How long a pass waits for another reader of the inbox to finish (s)."""

_store_failures: dict[tuple[str, int, int], int] = {}
"""Failed store attempts per (path, size, mtime in ns), in this process."""


@dataclass
class IngestReport:
    """What one pass over the inbox did: file names per outcome and rows stored."""

    processed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    rows: int = 0
    waiting: list[str] = field(default_factory=list)
    """Files not complete yet (read by a later pass)."""
    retrying: list[str] = field(default_factory=list)
    """Files the database failed to store this pass (kept for a later one)."""
    busy: bool = False
    """True when another reader held the inbox for the whole wait: nothing was read."""


def kind_of(path: Path) -> str | None:
    """The kind of an inbox file by its name prefix, or None."""
    name = path.name.lower()
    return next((k for k in KINDS if name.startswith(k)), None)


def pending(inbox: str | Path, settle_s: float = 0.0) -> list[Path]:
    """Complete regular files waiting in ``inbox``, by name (:func:`inbox_files.scan`)."""
    return inbox_files.scan(inbox, settle_s).ready


def process_inbox(
    inbox: str | Path,
    market: MarketSpec,
    asset_ids: set[str],
    store: Store,
    *,
    settle_s: float = 0.0,
    limits: Limits | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> IngestReport:
    """Parse, store and file away every complete inbox file, holding the inbox's reader lock.

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
    settle_s : float
        A file without a ``.ready`` marker is read once unchanged this long (s).
    limits : mapping, optional
        Physical range of each asset's telemetry (:data:`Limits`).
    lock_timeout_s : float
        Longest wait for another reader (s); then the pass reads nothing (``busy``).
    """
    report = IngestReport()
    if not Path(inbox).is_dir():
        return report
    with inbox_files.reader_lock(inbox, lock_timeout_s) as held:
        if not held:
            log.warning("inbox: another reader holds %s; this pass reads nothing", inbox)
            report.busy = True
            return report
        found = inbox_files.scan(inbox, settle_s)
        report.waiting = [p.name for p in found.waiting]
        for path, reason in found.unreadable:
            _file_away(path, reason, report)
        for path in found.ready:
            try:
                _process_one(path, market, asset_ids, store, limits, report)
            except Exception:  # one bad file never stops a pass (e.g. the quarantine failed)
                log.exception("inbox: %s could not be filed away", shown(path.name))
                report.retrying.append(path.name)
    return report


def _process_one(
    path: Path, market: MarketSpec, asset_ids: set[str], store: Store, limits: Limits | None,
    report: IngestReport,
) -> None:
    try:
        info = path.stat(follow_symlinks=False)
    except FileNotFoundError:  # taken meanwhile
        return
    inbox_files.consume_marker(path)
    try:
        rows = parse_file(path, market, asset_ids, limits)
    except FileNotFoundError:
        return
    except Exception as exc:  # InputError, ValueError, OSError, or a reader's own bug
        _file_away(path, _reason(exc, path), report)
        return
    try:
        report.rows += store(kind_of(path) or "", rows)
    except InputError as exc:  # the rows conflict with what is stored (a settled day)
        _file_away(path, _reason(exc, path), report)
        return
    except Exception as exc:  # the database failed: try again next pass, a few times
        key = (str(path), info.st_size, info.st_mtime_ns)
        _store_failures[key] = failures = _store_failures.get(key, 0) + 1
        reason = f"could not be stored ({failures} of {STORE_ATTEMPTS} attempts): {_short(exc)}"
        if failures >= STORE_ATTEMPTS:
            _store_failures.pop(key, None)
            _file_away(path, reason, report)
        else:
            log.error("inbox: %s %s", shown(path.name), shown(reason))
            report.retrying.append(path.name)
        return
    inbox_files.move_into(path, inbox_files.state_folder(path.parent, "processed"))
    report.processed.append(path.name)


def _file_away(path: Path, reason: str, report: IngestReport) -> None:
    try:
        reject(path, reason)
    except FileNotFoundError:
        return
    report.rejected.append(path.name)


def _reason(exc: Exception, path: Path) -> str:
    if isinstance(exc, InputError | ValueError):
        text = str(exc)
        return text if text.startswith(str(path)) else f"{path}: {text}"
    return f"{path}: {_short(exc)}"


def _short(exc: BaseException) -> str:
    """``Type: first line`` of an error, at most 300 characters (a database error's SQL and
    parameters, i.e. the file's rows, are left out)."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0] if lines else ''}"[:300]


def parse_file(
    path: Path, market: MarketSpec, asset_ids: set[str], limits: Limits | None = None
) -> list[dict[str, Any]]:
    """Rows of one inbox file, ready for the database (UTC datetimes).

    Raises
    ------
    InputError
        Unknown kind, or bad content (file, row, timestamp and field named).
    """
    kind = (kind_of(path) or "").removeprefix("revision_")
    if kind == "telemetry":
        return parse_telemetry(path, market, asset_ids, limits)
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


def parse_telemetry(
    path: Path, market: MarketSpec, asset_ids: set[str], limits: Limits | None = None
) -> list[dict[str, Any]]:
    """Telemetry rows of a file (see the module docstring for the columns).

    With ``limits``, a metered power outside the asset's physical range (MW) or a state of charge
    outside ``[0, highest]`` (MWh) is rejected naming the asset, period and limit.
    """
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
    if limits:
        _check_limits(path, raw, ids, values["metered_mw"], soc, limits)
    return [
        {
            "period_start": s.tz_convert("UTC").to_pydatetime(),
            "asset_id": a,
            "metered_mw": float(m),
            "soc_mwh": None if soc is None or pd.isna(soc.iloc[i]) else float(soc.iloc[i]),
        }
        for i, (s, a, m) in enumerate(zip(stamps, ids, values["metered_mw"], strict=True))
    ]


TELEMETRY_TOLERANCE = 0.05
"""Share of an asset's rating a meter may read beyond it (measurement error, brief overload)."""


def physical_limits(portfolio: Any) -> dict[str, tuple[float, float, float | None]]:
    """The physical range of each asset's telemetry (:data:`Limits`), from its ratings.

    Each family's ``AssetFamily.telemetry`` (e.g. battery ``[-charge limit, discharge limit]`` MW
    and stored energy up to ``energy_mwh``; loads draw only, up to the grid). Every range is widened by
    :data:`TELEMETRY_TOLERANCE` of its span and cut to the grid connection
    ``[-import_limit_mw, export_limit_mw]`` (which also bounds the loads) widened alike.
    """
    grid = portfolio.grid
    grid_low, grid_high = -grid.import_limit_mw, grid.export_limit_mw
    out: dict[str, tuple[float, float, float | None]] = {}
    for asset in portfolio.assets:
        rating = FAMILIES[asset.type].telemetry(asset)
        low = grid_low if rating.low_mw is None else rating.low_mw
        high = grid_high if rating.high_mw is None else rating.high_mw
        soc_top = rating.stored_max_mwh
        low, high = max(low, grid_low), min(high, grid_high)
        slack = TELEMETRY_TOLERANCE * max(high - low, grid_high - grid_low if high == low else 0.0)
        top = None if soc_top is None else soc_top * (1 + TELEMETRY_TOLERANCE)
        out[asset.id] = (low - slack, high + slack, top)
    return out


def _check_limits(
    path: Path, raw: pd.DataFrame, ids: pd.Series, metered: pd.Series, soc: pd.Series | None, limits: Limits
) -> None:
    """Raise for the first row whose power or state of charge is outside its asset's range."""
    table = {a: limits.get(a, (-np.inf, np.inf, None)) for a in ids.unique()}
    low = ids.map(lambda a: table[a][0]).to_numpy(dtype=float)
    high = ids.map(lambda a: table[a][1]).to_numpy(dtype=float)
    power = metered.to_numpy(dtype=float)
    outside = (power < low) | (power > high)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise _row_error(
            path, raw, i,
            f"metered power {power[i]:g} MW of asset '{ids.iloc[i]}' is outside its physical range "
            f"[{low[i]:g}, {high[i]:g}] MW",
            "metered_mw",
        )
    if soc is None:
        return
    top = ids.map(lambda a: np.inf if table[a][2] is None else table[a][2]).to_numpy(dtype=float)
    energy = soc.to_numpy(dtype=float)
    outside = (energy < 0) | (energy > top)
    if outside.any():
        i = int(np.flatnonzero(outside)[0])
        raise _row_error(
            path, raw, i,
            f"state of charge {energy[i]:g} MWh of asset '{ids.iloc[i]}' is outside [0, {top[i]:g}] MWh",
            "soc_mwh",
        )


def reject(path: Path, error: Exception | str) -> Path:
    """Move ``path`` to ``.vpp/rejected/`` and write ``<name>.error.txt`` beside it; log the reason
    (names escaped: a name cannot forge a log line)."""
    message = error if isinstance(error, str) else _reason(error, path)
    target = inbox_files.move_into(path, inbox_files.state_folder(path.parent, "rejected"))
    inbox_files.write_reason(target, path.name, message)
    log.warning("inbox: rejected %s: %s", shown(path.name), shown(message))
    return target
