"""Profile files: time series of numbers (reading: :mod:`market.tables`, checks: :mod:`market.table_checks`).

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

from market.calendar import parse_timestamps, period_hours
from market.table_checks import (
    check_regular,
    float_columns,
    require_columns,
    sort_unique,
    with_freq,
)
from market.tables import load_table
from vpp.errors import InputError


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
