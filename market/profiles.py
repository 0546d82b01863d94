"""Profile files (time series of numbers) and the table checks shared with ``market.prices``.

A profile file is CSV or Parquet with a ``timestamp`` column (ISO 8601; naive values are wall-clock
time in the given zone) and one numeric column per profile (PV per-unit output, load in MW, ...).
Rows must be unique, gap-free and regular at one resolution (any resolution). Problems raise
``vpp.errors.InputError`` naming the file, the 1-based data row (header = row 0), the timestamp
and the column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import TIME_UNIT, parse_timestamps, period_hours
from vpp.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".txt")
COMPRESSION_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst")


# ---------------------------------------------------------------- building blocks (used by prices)


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a raw frame, one row per data row, in file order.

    ``timestamp`` is kept as text (CSV) or as stored (Parquet; an index named ``timestamp`` becomes
    a column). Column names are stripped of blanks; blank lines at the end of a CSV are dropped.

    Raises
    ------
    InputError
        Missing file, unsupported file type, unreadable or empty file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found" if not path.exists() else "not a file", file=path)
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes.pop()
    kind = suffixes[-1] if suffixes else ""
    try:
        if kind in PARQUET_SUFFIXES:
            raw = pd.read_parquet(path)
            if "timestamp" not in raw.columns and raw.index.name == "timestamp":
                raw = raw.reset_index()
            raw = raw.reset_index(drop=True)
        elif kind in CSV_SUFFIXES:
            raw = pd.read_csv(
                path,
                dtype={"timestamp": "string"},
                skip_blank_lines=False,
                encoding="utf-8-sig",
            )
        else:
            raise InputError(f"unsupported file type {path.suffix!r}: use .csv or .parquet", file=path)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError("file is empty", file=path) from None
    except Exception as exc:  # parser, encoding, Arrow and OS errors alike
        raise InputError(f"cannot read file: {type(exc).__name__}: {exc}", file=path) from exc
    raw = raw.rename(columns=lambda c: str(c).strip())
    filled = raw.notna().any(axis=1).to_numpy()
    last = int(np.flatnonzero(filled)[-1]) + 1 if filled.any() else 0
    raw = raw.iloc[:last]
    if raw.empty:
        raise InputError("file has no data rows", file=path)
    return raw


def require_columns(raw: pd.DataFrame, columns: list[str], *, file: str | Path | None) -> None:
    """Raise ``InputError`` naming the first of ``columns`` missing from ``raw``."""
    for name in columns:
        if name not in raw.columns:
            found = ", ".join(map(str, raw.columns)) or "none"
            raise InputError(f"missing column '{name}' (columns found: {found})", file=file, field=name)


def sort_unique(
    index: pd.DatetimeIndex, *, file: str | Path | None
) -> tuple[np.ndarray, pd.DatetimeIndex, np.ndarray]:
    """Sort timestamps (stable) and reject duplicates.

    Returns
    -------
    order : np.ndarray
        Positions that sort the file rows.
    index : pd.DatetimeIndex
        Sorted timestamps.
    rows : np.ndarray
        1-based file row of each sorted timestamp.
    """
    order = np.argsort(index.as_unit("ns").asi8, kind="stable")
    ordered = index[order]
    rows = order + 1
    stamps = ordered.as_unit("ns").asi8
    dup = np.flatnonzero(stamps[1:] == stamps[:-1])
    if dup.size:
        second = dup[np.argmin(rows[dup + 1])]
        raise InputError(
            f"duplicate timestamp (also at row {rows[second]})",
            file=file,
            row=int(rows[second + 1]),
            timestamp=ordered[second + 1],
            field="timestamp",
        )
    return order, ordered, rows


def _minutes(step_ns: int) -> str:
    minutes = step_ns / 60e9
    return f"{minutes:g}-minute"


def check_regular(
    index: pd.DatetimeIndex,
    rows: np.ndarray,
    *,
    file: str | Path | None,
    expected: pd.Timedelta | None = None,
    context: str = "",
) -> pd.Timedelta | None:
    """Check that sorted, unique timestamps are evenly spaced, without gaps.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Sorted, unique timestamps.
    rows : np.ndarray
        1-based file row of each timestamp.
    expected : pd.Timedelta, optional
        Required spacing (the market period); by default the most common spacing.
    context : str
        Appended to the resolution message (e.g. "for market shanxi").

    Returns
    -------
    pd.Timedelta or None
        The spacing (None for a single row without ``expected``).

    Raises
    ------
    InputError
        Wrong resolution (expected vs found), a gap (the first missing timestamp and the row after
        it) or an irregular spacing.
    """
    if len(index) < 2:
        return expected
    stamps = index.as_unit("ns").asi8
    steps = np.diff(stamps)
    values, counts = np.unique(steps, return_counts=True)
    common = int(values[np.argmax(counts)])
    step = common if expected is None else int(expected.value)
    off = np.flatnonzero(steps != step)
    if not off.size:
        return pd.Timedelta(step, unit="ns")
    i = int(off[0])
    where = dict(file=file, row=int(rows[i + 1]), timestamp=index[i + 1], field="timestamp")
    if common != step:
        raise InputError(
            f"wrong resolution: expected {_minutes(step)} periods{context}, found "
            f"{_minutes(common)} periods (first at this row, after row {rows[i]} {index[i]})",
            **where,
        )
    if steps[i] > step and steps[i] % step == 0:
        missing = index[i] + pd.Timedelta(step, unit="ns")
        n_missing = steps[i] // step - 1
        raise InputError(
            f"gap: missing period {missing} ({n_missing} period(s) missing between row "
            f"{rows[i]} at {index[i]} and row {rows[i + 1]} at {index[i + 1]})",
            file=file,
            row=int(rows[i + 1]),
            timestamp=missing,
            field="timestamp",
        )
    raise InputError(
        f"irregular spacing: {pd.Timedelta(int(steps[i]), unit='ns')} after row {rows[i]} at "
        f"{index[i]}, expected {_minutes(step)} periods",
        **where,
    )


def float_columns(
    raw: pd.DataFrame,
    columns: list[str],
    order: np.ndarray,
    index: pd.DatetimeIndex,
    rows: np.ndarray,
    *,
    file: str | Path | None,
    allow_missing: bool = False,
) -> pd.DataFrame:
    """Convert ``columns`` of ``raw`` to float, in sorted order, rejecting bad values.

    Parameters
    ----------
    raw : pd.DataFrame
        Frame in file order.
    columns : list of str
        Columns to convert.
    order, index, rows
        From :func:`sort_unique` (optionally sliced).
    allow_missing : bool
        Keep empty cells as NaN instead of rejecting them (text is always rejected).

    Raises
    ------
    InputError
        A value that is not a number (row, timestamp, column and the text), not finite, or missing.
    """
    out = {}
    for name in columns:
        col = raw[name].iloc[order].reset_index(drop=True)
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            text_bad = np.zeros(len(col), dtype=bool)
        else:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            blank = col.isna().to_numpy() | (col.astype("string").str.strip() == "").to_numpy(
                dtype=bool, na_value=True
            )
            text_bad = np.isnan(values) & ~blank
        missing = np.isnan(values) & ~text_bad
        infinite = np.isinf(values)
        bad = text_bad | infinite | (missing & (not allow_missing))
        if bad.any():
            first = int(np.flatnonzero(bad)[np.argmin(rows[bad])])
            if text_bad[first]:
                what = f"not a number: {col.iloc[first]!r}"
            elif infinite[first]:
                what = f"not a finite number: {values[first]}"
            else:
                what = "missing value (NaN or empty cell)"
            raise InputError(what, file=file, row=int(rows[first]), timestamp=index[first], field=name)
        out[name] = values
    return pd.DataFrame(out, index=index, columns=columns)


def with_freq(frame: pd.DataFrame, step: pd.Timedelta | None) -> pd.DataFrame:
    """Set the index name to ``timestamp`` and its frequency to ``step`` (when regular)."""
    index = frame.index.as_unit(TIME_UNIT).rename("timestamp")
    if step is not None and len(index) > 1:
        index = pd.DatetimeIndex(index, freq=step)
    frame.index = index
    return frame


# ---------------------------------------------------------------- public API


def read_profiles(path: str | Path, tz: str) -> pd.DataFrame:
    """Read a profile file: ``timestamp`` plus one numeric column per profile.

    Parameters
    ----------
    path : str or Path
        CSV or Parquet file.
    tz : str
        IANA zone: naive timestamps are read in it and the result is expressed in it.

    Returns
    -------
    pd.DataFrame
        Float columns in file order; index ``timestamp`` (tz-aware, sorted, unique, regular at
        the file's own resolution, frequency set when there are two rows or more).

    Raises
    ------
    InputError
        Missing/unreadable file, no ``timestamp`` or no profile column, unparseable or DST-invalid
        timestamps, duplicates, gaps, irregular spacing, missing or non-numeric values.
    """
    raw = load_table(path)
    require_columns(raw, ["timestamp"], file=path)
    columns = [c for c in raw.columns if c != "timestamp"]
    if not columns:
        raise InputError("no profile columns besides 'timestamp'", file=path)
    index = parse_timestamps(raw["timestamp"], tz, file=path)
    order, index, rows = sort_unique(index, file=path)
    step = check_regular(index, rows, file=path)
    frame = float_columns(raw, columns, order, index, rows, file=path)
    return with_freq(frame, step)


def resample_profile(
    profiles: pd.DataFrame, index: pd.DatetimeIndex, *, source: str | Path | None = None
) -> pd.DataFrame:
    """Align profiles to target periods.

    Each profile row holds its value until the next row (the last row for the index frequency,
    else the last spacing). A target period inside one profile period takes that value (forward
    fill of coarser profiles, exact); a target period spanning several profile periods takes their
    time-weighted mean (finer profiles: the plain mean).

    Parameters
    ----------
    profiles : pd.DataFrame
        tz-aware sorted index (as from :func:`read_profiles`), numeric columns.
    index : pd.DatetimeIndex
        Target period starts (tz-aware), e.g. from ``market.calendar.trading_day_index``.
    source : str or Path, optional
        Named in error messages.

    Returns
    -------
    pd.DataFrame
        Same columns, indexed by ``index`` (in its zone).

    Raises
    ------
    InputError
        The profiles do not cover a target period (the first uncovered timestamp is named).
    """
    if profiles.index.tz is None or index.tz is None:
        raise InputError("profiles and target index must be timezone-aware", file=source)
    if len(profiles) == 0:
        raise InputError("profile frame is empty", file=source)
    if not (profiles.index.is_monotonic_increasing and profiles.index.is_unique):
        raise InputError("profile timestamps must be sorted and unique", file=source)
    starts = profiles.index.as_unit("ns").asi8
    if len(profiles) == 1 and profiles.index.freq is None:
        raise InputError("cannot tell the period length of a one-row profile", file=source)
    try:
        lengths = (period_hours(profiles.index) * 3.6e12).round().astype(np.int64)
    except ValueError:
        raise InputError(
            "profile timestamps are irregular and have no frequency: cannot tell the last period's length",
            file=source,
        ) from None
    ends = starts + lengths
    t0 = index.as_unit("ns").asi8
    t1 = t0 + (period_hours(index) * 3.6e12).round().astype(np.int64)
    uncovered = (t0 < starts[0]) | (t1 > ends[-1])
    if uncovered.any():
        first = int(np.flatnonzero(uncovered)[0])
        raise InputError(
            f"profiles cover {profiles.index[0]} to {pd.Timestamp(ends[-1], tz='UTC').tz_convert(index.tz)}"
            f" (exclusive), not the period starting {index[first]}",
            file=source,
            timestamp=index[first],
            field=", ".join(map(str, profiles.columns)),
        )
    values = profiles.to_numpy(dtype=float)
    pos = np.searchsorted(starts, t0, side="right") - 1
    inside = t1 <= ends[pos]
    out = values[pos].copy()
    if not inside.all():
        hours = lengths / 3.6e12
        cumulative = np.vstack([np.zeros(values.shape[1]), np.cumsum(values * hours[:, None], axis=0)])

        def integral(t: np.ndarray) -> np.ndarray:
            k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
            return cumulative[k] + values[k] * ((t - starts[k]) / 3.6e12)[:, None]

        span = ~inside
        a, b = t0[span], t1[span]
        out[span] = (integral(b) - integral(a)) / ((b - a) / 3.6e12)[:, None]
    return pd.DataFrame(out, index=index.rename("timestamp"), columns=profiles.columns)
