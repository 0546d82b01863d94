"""Trading calendar: periods of a trading day, their lengths, gate closure, timestamp text.

Every timestamp labels the START of its period (CONVENTIONS.md) and is tz-aware in the market zone.
Periods are built in UTC between local midnights, so daylight-saving days get 23 or 25 hours of
periods; nothing here assumes 96 periods a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError

TIME_UNIT = "us"
"""Resolution of every DatetimeIndex this package returns (the pandas 3 default)."""

FIRST_DAY = dt.date(1678, 1, 2)
LAST_DAY = dt.date(2262, 4, 9)
"""First and last trading days the engine handles (pandas nanosecond timestamps: 1677..2262)."""

TIME_MIN = pd.Timestamp(FIRST_DAY - dt.timedelta(days=1), tz="UTC")
TIME_MAX = pd.Timestamp(LAST_DAY + dt.timedelta(days=2), tz="UTC")
"""Timestamps the engine handles: ``TIME_MIN <= t < TIME_MAX`` (UTC), the supported trading days
(``FIRST_DAY`` .. ``LAST_DAY``) in any zone, inside pandas' nanosecond range."""

_NS_PER_HOUR = 3_600 * 10**9

_OFFSET_RE = r"\d{2}:\d{2}(?::\d{2}(?:\.\d*)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_HOUR24_RE = r"\d{4}-\d{2}-\d{2}[T ]24:00(?::00(?:\.0*)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?$"


def time_range() -> str:
    """The supported time range ``TIME_MIN`` .. ``TIME_MAX``, for messages."""
    return f"{TIME_MIN:%Y-%m-%d} to {TIME_MAX - pd.Timedelta(days=1):%Y-%m-%d} (UTC)"


def _as_date(day: dt.date | str) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return pd.Timestamp(day).date()


def _local_midnight(day: dt.date, tz: str) -> pd.Timestamp:
    # Some zones skip or repeat midnight on a clock change: take the earliest real instant.
    return pd.Timestamp(day).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")


def trading_day_index(market: MarketSpec | str, day: dt.date | str) -> pd.DatetimeIndex:
    """Period starts of one trading day, in the market zone.

    Parameters
    ----------
    market : MarketSpec or str
        The market (or its preset name).
    day : datetime.date or str
        The trading (delivery) day, a local calendar day of the market zone.

    Returns
    -------
    pd.DatetimeIndex
        Named ``timestamp``, tz = market zone, frequency = the market period. 96 periods for a
        15-minute market; 23 or 25 for an hourly market on daylight-saving days.
    """
    spec = resolve_market(market)
    day = _as_date(day)
    if not FIRST_DAY <= day <= LAST_DAY:  # the engine's nanosecond timestamps end in 2262
        raise InputError(
            f"trading day {day} is outside the supported range {FIRST_DAY} to {LAST_DAY}", field="day"
        )
    start = _local_midnight(day, spec.timezone).tz_convert("UTC")
    end = _local_midnight(day + dt.timedelta(days=1), spec.timezone).tz_convert("UTC")
    index = pd.date_range(start, end, freq=spec.period, inclusive="left", unit=TIME_UNIT)
    return index.tz_convert(spec.timezone).rename("timestamp")


def period_hours(index: pd.DatetimeIndex, market: MarketSpec | str | None = None) -> np.ndarray:
    """Length of each period of ``index`` (hours).

    Each period lasts until the next timestamp. The last one lasts the index frequency if it has
    one, else the market period if ``market`` is given, else the (single) spacing of the index.

    Parameters
    ----------
    index : pd.DatetimeIndex
        Period starts, sorted.
    market : MarketSpec or str, optional
        Supplies the last period's length when the index has no frequency.

    Returns
    -------
    np.ndarray
        Float hours, one per period; energy (MWh) = power (MW) x hours.

    Raises
    ------
    ValueError
        The last period's length cannot be told (one timestamp, or irregular, with no freq/market).
    """
    if len(index) == 0:
        return np.zeros(0)
    stamps = index.as_unit("ns").asi8
    hours = np.empty(len(index))
    hours[:-1] = np.diff(stamps) / _NS_PER_HOUR
    last = _freq_hours(index)
    if last is None and market is not None:
        last = resolve_market(market).period_hours
    if last is None:
        steps = np.unique(hours[:-1])
        if len(steps) != 1:
            raise ValueError("period_hours: give `market` (or an index with a freq) to size the last period")
        last = float(steps[0])
    hours[-1] = last
    return hours


def period_ends(starts: pd.DatetimeIndex, hours: npt.ArrayLike) -> pd.DatetimeIndex:
    """When each period ends: its start plus its length.

    Parameters
    ----------
    starts : pd.DatetimeIndex
        Period starts.
    hours : array-like of float
        Each period's length (h), e.g. :func:`period_hours` or a record's ``dt_h``.

    Returns
    -------
    pd.DatetimeIndex
        Period ends, in the zone of ``starts``.
    """
    return starts + pd.to_timedelta(np.asarray(hours, dtype=float), unit="h")


def _freq_hours(index: pd.DatetimeIndex) -> float | None:
    if index.freq is None:
        return None
    try:
        return pd.Timedelta(index.freq).value / _NS_PER_HOUR
    except (TypeError, ValueError):  # calendar offsets such as 'D' have no fixed length
        return None


def gate_closure(market: MarketSpec | str, day: dt.date | str) -> pd.Timestamp:
    """Day-ahead gate closure for trading day ``day`` (tz-aware, market zone).

    Parameters
    ----------
    market : MarketSpec or str
    day : datetime.date or str
        The trading day the bids are for.

    Returns
    -------
    pd.Timestamp
        ``da_gate_closure_days_before`` days before ``day`` at ``da_gate_closure_time`` local time
        (Shanxi 2024-01-02 -> 2024-01-01 09:30+08:00).
    """
    spec = resolve_market(market)
    closing_day = _as_date(day) - dt.timedelta(days=spec.da_gate_closure_days_before)
    local = pd.Timestamp(dt.datetime.combine(closing_day, spec.da_gate_closure_time))
    return local.tz_localize(spec.timezone, ambiguous=True, nonexistent="shift_forward")


def next_trading_day(market: MarketSpec | str, now: pd.Timestamp | dt.datetime) -> dt.date:
    """The first trading day whose day-ahead gate closure is still ahead of ``now``.

    Parameters
    ----------
    market : MarketSpec or str
    now : pd.Timestamp or datetime
        Naive values are read as market-zone wall-clock time.

    Returns
    -------
    datetime.date
        Shanxi (closure 09:30 the day before): at 2024-01-01 09:00+08:00 -> 2024-01-02; at 10:00 ->
        2024-01-03.
    """
    spec = resolve_market(market)
    stamp = pd.Timestamp(now)
    local = stamp.tz_localize(spec.timezone) if stamp.tz is None else stamp.tz_convert(spec.timezone)
    day = local.date()
    while gate_closure(spec, day) <= local:
        day += dt.timedelta(days=1)
    return day


def trading_day_of(
    market: MarketSpec | str, ts: pd.Timestamp | dt.datetime | str | pd.DatetimeIndex
) -> dt.date | np.ndarray:
    """Trading day that a period start belongs to (its local calendar day in the market zone).

    Parameters
    ----------
    market : MarketSpec or str
    ts : pd.Timestamp, datetime, str or pd.DatetimeIndex
        Naive values are read as market-zone wall-clock time.

    Returns
    -------
    datetime.date, or an object array of dates for a DatetimeIndex.
    """
    spec = resolve_market(market)
    if isinstance(ts, pd.DatetimeIndex):
        local = ts.tz_localize(spec.timezone) if ts.tz is None else ts.tz_convert(spec.timezone)
        return np.asarray(local.date)
    stamp = pd.Timestamp(ts)
    local = stamp.tz_localize(spec.timezone) if stamp.tz is None else stamp.tz_convert(spec.timezone)
    return local.date()


def trading_days(market: MarketSpec | str, start: dt.date | str, end: dt.date | str) -> list[dt.date]:
    """Trading days from ``start`` to ``end``, both included (spot markets trade every day).

    Raises
    ------
    InputError
        ``end`` is before ``start``.
    """
    resolve_market(market)
    first, last = _as_date(start), _as_date(end)
    if last < first:
        raise InputError(f"end day {last} is before start day {first}", field="end")
    return list(pd.date_range(first, last, freq="D").date)


def format_timestamps(index: pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 text with the UTC offset, e.g. ``2024-01-01T00:15:00+08:00`` (whole seconds).

    Parameters
    ----------
    index : pd.DatetimeIndex
        tz-aware timestamps, written in their own zone.

    Returns
    -------
    np.ndarray
        One string per timestamp.
    """
    if index.tz is None:
        raise ValueError("format_timestamps needs tz-aware timestamps")
    wall = index.tz_localize(None)
    offset_min = (wall - index.tz_convert("UTC").tz_localize(None)) // pd.Timedelta(minutes=1)
    offset_min = np.asarray(offset_min, dtype=np.int64)
    sign = np.where(offset_min < 0, "-", "+")
    hh, mm = np.divmod(np.abs(offset_min), 60)
    hhmm = pd.Series(hh).astype(str).str.zfill(2) + ":" + pd.Series(mm).astype(str).str.zfill(2)
    text = pd.Series(np.asarray(wall.strftime("%Y-%m-%dT%H:%M:%S"))) + pd.Series(sign) + hhmm
    return text.to_numpy(dtype=object)


def zone_label(index: pd.DatetimeIndex) -> str:
    """The zone of ``index`` with every UTC offset its times have, for a time axis.

    ``Asia/Shanghai, UTC+08:00``; across a daylight-saving change the offsets in order of first
    appearance, ``/``-joined: ``America/New_York, UTC-05:00/UTC-04:00``.
    """
    offsets = dict.fromkeys(index.strftime("%z"))
    return f"{index.tz}, " + "/".join(f"UTC{o[:3]}:{o[3:]}" for o in offsets)


def parse_timestamps(
    values: Iterable,
    tz: str,
    *,
    file: str | Path | None = None,
    field: str = "timestamp",
) -> pd.DatetimeIndex:
    """Parse a column of timestamps into a tz-aware index, locating bad values by row.

    ISO 8601 text with an offset (``+08:00``, ``Z``) is converted to ``tz``; text without one is
    read as wall-clock time in ``tz``. ``24:00`` means 00:00 of the next day. Datetime columns
    (Parquet) are accepted too.

    Parameters
    ----------
    values : iterable
        The column, in file order: position ``i`` is data row ``i + 1`` (header = row 0).
    tz : str
        IANA zone to read naive values in and to return.
    file, field : optional
        Used in error messages.

    Returns
    -------
    pd.DatetimeIndex
        Same length and order as ``values``, named ``timestamp``, tz = ``tz``.

    Raises
    ------
    InputError
        An empty or unparseable value, a naive wall-clock time that does not exist or is
        ambiguous on a daylight-saving day, or a time outside ``TIME_MIN`` .. ``TIME_MAX`` (row and
        value named). Text whose year is outside that range is rejected before parsing: a naive
        year-9999 time in a daylight-saving zone cannot even be localized.
    """
    col = pd.Series(values).reset_index(drop=True)
    out_of_range = f"timestamp is outside the supported range {time_range()}"
    if not pd.api.types.is_datetime64_any_dtype(col.dtype):
        years = pd.to_numeric(
            col.astype("string").str.extract(r"^\s*(\d{4})-", expand=False), errors="coerce"
        )
        far = (years < TIME_MIN.year) | (years > TIME_MAX.year)
        _raise_first(far.to_numpy(dtype=bool, na_value=False), col, out_of_range, file, field)
    index = _parse_timestamps(col, tz, file, field)
    _raise_first((index < TIME_MIN) | (index >= TIME_MAX), col, out_of_range, file, field)
    return index


def _parse_timestamps(col: pd.Series, tz: str, file, field: str) -> pd.DatetimeIndex:
    """:func:`parse_timestamps` without the range checks."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        _raise_first(col.isna(), col, "timestamp is empty", file, field)
        return _finish(pd.DatetimeIndex(col).tz_convert(tz))
    if pd.api.types.is_datetime64_dtype(col.dtype):
        _raise_first(col.isna(), col, "timestamp is empty", file, field)
        return _finish(pd.DatetimeIndex(_localize(col, col, tz, file, field)))

    raw = col.astype("string").str.strip()
    empty = (raw.isna() | (raw == "")).to_numpy(dtype=bool)
    _raise_first(empty, col, "timestamp is empty", file, field)
    hour24 = raw.str.match(_HOUR24_RE).to_numpy(dtype=bool)
    text = raw.where(~hour24, raw.str.replace(r"([T ])24:", r"\g<1>00:", n=1, regex=True))
    has_offset = text.str.contains(_OFFSET_RE, regex=True).to_numpy(dtype=bool)
    next_day = pd.to_timedelta(hour24.astype(np.int64), unit="D")

    utc = pd.Series(pd.NaT, index=col.index, dtype=f"datetime64[{TIME_UNIT}, UTC]")
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], utc=True, format="ISO8601", errors="coerce")
        _raise_first_unparsed(parsed, col, file, field)
        utc[has_offset] = (parsed + next_day[has_offset]).dt.as_unit(TIME_UNIT)
    if not has_offset.all():
        naive_rows = ~has_offset
        parsed = pd.to_datetime(text[naive_rows], format="ISO8601", errors="coerce")
        _raise_first_unparsed(parsed, col, file, field)
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):  # defensive: offset forms the regex missed
            local = parsed.dt.tz_convert(tz)
        else:
            local = _localize(parsed + next_day[naive_rows], col, tz, file, field)
        utc[naive_rows] = local.dt.tz_convert("UTC").dt.as_unit(TIME_UNIT)
    return _finish(pd.DatetimeIndex(utc).tz_convert(tz))


def _finish(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return index.as_unit(TIME_UNIT).rename("timestamp")


def _localize(naive: pd.Series, raw: pd.Series, tz: str, file, field) -> pd.Series:
    """Localize naive wall-clock times; reject nonexistent and ambiguous ones by row."""
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = local.isna().to_numpy() & naive.notna().to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        label = naive.index[first]
        probe = naive.iloc[[first]].dt.tz_localize(tz, ambiguous=np.array([True]), nonexistent="NaT")
        if probe.isna().iloc[0]:
            why = f"local time does not exist in {tz} (clocks jump forward on this day)"
        else:
            why = f"local time is ambiguous in {tz} (clocks fall back on this day)"
        raise InputError(
            f"{why}; write timestamps with a UTC offset, e.g. '+01:00'",
            file=file,
            row=int(label) + 1,
            timestamp=raw.iloc[int(label)],
            field=field,
        )
    return local


def _raise_first(mask, raw: pd.Series, message: str, file, field) -> None:
    mask = np.asarray(mask, dtype=bool)
    if mask.any():
        first = int(np.flatnonzero(mask)[0])
        value = raw.iloc[first]
        raise InputError(
            message,
            file=file,
            row=first + 1,
            timestamp=None if pd.isna(value) else value,
            field=field,
        )


def _raise_first_unparsed(parsed: pd.Series, raw: pd.Series, file, field) -> None:
    bad = parsed.isna().to_numpy()
    if bad.any():
        label = int(parsed.index[np.flatnonzero(bad)[0]])
        raise InputError(
            f"cannot parse timestamp {raw.iloc[label]!r}: expected ISO 8601 such as "
            "'2024-01-01T00:15:00+08:00' or '2024-01-01 00:15'",
            file=file,
            row=label + 1,
            timestamp=raw.iloc[label],
            field=field,
        )
