"""Checks of a raw table's values shared by the price, profile and telemetry readers:
timestamps (parsed, in range, unique, regular), numbers (not text, booleans, dates or infinite).
Each failure raises ``InputError`` naming the file, the 1-based data row (header = row 0), the
timestamp and the column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from market.calendar import TIME_MAX, TIME_MIN, TIME_UNIT, time_range
from vpp.errors import InputError

_NOT_NUMBERS = (bool, np.bool_, dt.date, dt.time, dt.timedelta, np.datetime64, np.timedelta64)
"""Cell types ``pd.to_numeric`` would turn into numbers although they are none."""


def check_time_range(index: pd.DatetimeIndex, *, file: str | Path | None) -> None:
    """Reject timestamps outside ``TIME_MIN`` .. ``TIME_MAX`` (the engine's nanosecond range).

    Parameters
    ----------
    index : pd.DatetimeIndex
        tz-aware timestamps in file order (position ``i`` is data row ``i + 1``).
    file : str or Path, optional
        Named in the error.

    Raises
    ------
    InputError
        The first such timestamp, by row.
    """
    bad = np.asarray((index < TIME_MIN) | (index >= TIME_MAX), dtype=bool)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"timestamp is outside the supported range {time_range()}",
            file=file,
            row=first + 1,
            timestamp=index[first],
            field="timestamp",
        )


def not_number_cells(col: pd.Series, *, allow_bool: bool = False) -> np.ndarray:
    """Mask of the cells holding a boolean, a date/time or a duration (Parquet types).

    ``pd.to_numeric`` turns these into 0/1 or nanosecond counts; they are not numbers.

    Parameters
    ----------
    col : pd.Series
        One column, any dtype.
    allow_bool : bool
        Do not flag booleans (0/1 flags kept as numbers).
    """
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        col = col.astype(object)
        dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.full(len(col), not allow_bool) & col.notna().to_numpy(dtype=bool)
    if (
        pd.api.types.is_datetime64_any_dtype(dtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
        or isinstance(dtype, pd.PeriodDtype)
    ):
        return col.notna().to_numpy(dtype=bool)
    if not pd.api.types.is_object_dtype(dtype):
        return np.zeros(len(col), dtype=bool)
    skip = (bool, np.bool_) if allow_bool else ()

    def flagged(value: object) -> bool:
        return isinstance(value, _NOT_NUMBERS) and not isinstance(value, skip)

    cells = np.array([flagged(v) for v in col.to_numpy(dtype=object)], dtype=bool)
    return cells & col.notna().to_numpy(dtype=bool)


def not_number_text(value: object) -> str:
    """The message for a cell flagged by :func:`not_number_cells`."""
    if isinstance(value, bool | np.bool_):
        return f"not a number: boolean {bool(value)}"
    if isinstance(value, dt.timedelta | np.timedelta64):
        return f"not a number: duration {value}"
    return f"not a number: date/time {value}"


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

    Raises
    ------
    InputError
        A duplicate, or a timestamp outside ``TIME_MIN`` .. ``TIME_MAX`` (file order: row ``i + 1``).
    """
    check_time_range(index, file=file)
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
    allow_bool: bool = False,
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
    allow_bool : bool
        Read booleans as 0/1 instead of rejecting them (dates, times and durations are always
        rejected).

    Raises
    ------
    InputError
        A value that is not a number (row, timestamp, column and the text), not finite, or missing.
    """
    out = {}
    for name in columns:
        original = raw[name].iloc[order].reset_index(drop=True)
        typed_bad = not_number_cells(original, allow_bool=allow_bool)
        col = original.astype(object).mask(typed_bad) if typed_bad.any() else original
        if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
            values = col.to_numpy(dtype=float, na_value=np.nan)
            text_bad = np.zeros(len(col), dtype=bool)
        else:
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            blank = col.isna().to_numpy() | (col.astype("string").str.strip() == "").to_numpy(
                dtype=bool, na_value=True
            )
            text_bad = np.isnan(values) & ~blank
        text_bad |= typed_bad
        missing = np.isnan(values) & ~text_bad
        infinite = np.isinf(values)
        bad = text_bad | infinite | (missing & (not allow_missing))
        if bad.any():
            first = int(np.flatnonzero(bad)[np.argmin(rows[bad])])
            if typed_bad[first]:
                what = not_number_text(original.iloc[first])
            elif text_bad[first]:
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
