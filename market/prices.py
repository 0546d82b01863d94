"""Price files: read, validate and slice day-ahead and real-time clearing prices.

File format (CONVENTIONS.md): CSV or Parquet with a ``timestamp`` column (ISO 8601; without an
offset it is read in the market zone) and ``da_price`` and/or ``rt_price`` (currency/MWh, yuan/MWh
in China).

- A file with only ``price`` is read as both ``da_price`` and ``rt_price``.
- A file with only one of ``da_price``/``rt_price`` gets the other as a copy: with one price
  series the real-time leg of settlement then equals the day-ahead leg. The copied column names
  are listed in ``frame.attrs["copied_price_columns"]``.
- Other columns are kept as exogenous data (load, PV or wind forecasts): numeric columns as float
  (booleans as 0/1), with empty cells as NaN; columns holding only text (notes), dates, times or
  durations are dropped.

Every problem raises ``vpp.errors.InputError`` naming the file, the 1-based data row (header =
row 0), the timestamp and the column.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from market.calendar import parse_timestamps, trading_day_index
from market.presets import MarketSpec, resolve_market
from market.table_checks import (
    check_regular,
    float_columns,
    require_columns,
    sort_unique,
    with_freq,
)
from market.tables import load_table
from vpp.errors import InputError

PRICE_COLUMNS = ("da_price", "rt_price")
"""Day-ahead and real-time clearing price columns (currency/MWh)."""


def read_prices(
    path: str | Path,
    market: MarketSpec | str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    period_label: Literal["start", "end"] = "start",
    tz: str | None = None,
) -> pd.DataFrame:
    """Read and validate a price file.

    Parameters
    ----------
    path : str or Path
        CSV or Parquet price file.
    market : MarketSpec or str
        Market whose zone, period length and clearing bounds apply.
    start, end : datetime.date, optional
        Keep only trading days ``start`` .. ``end`` (both included); each must then be complete.
    period_label : {"start", "end"}
        How the file labels periods. ``"end"`` converts exchange data labelled by period ends
        (Shanxi publishes 00:15 ... 24:00; ``24:00`` is the next day's 00:00) to period starts.
        The command line passes the market's ``source_period_label`` unless told otherwise
        (``vpp.price_input``).
    tz : str, optional
        IANA zone in which timestamps without a UTC offset are read; default the market's. The
        result is always in the market zone.

    Returns
    -------
    pd.DataFrame
        ``da_price``, ``rt_price`` (float, currency/MWh) then exogenous columns; index ``timestamp``
        in the market zone, sorted, unique, on the market's period grid. Regular (freq set) unless
        the file skips whole trading days: those are listed in ``attrs["missing_days"]`` and block
        only themselves (:func:`prices_for_day` names them).

    Raises
    ------
    InputError
        Missing or unreadable file, missing columns, bad timestamps, duplicates, gaps inside a
        trading day, wrong resolution, missing or non-numeric prices, prices outside the market's
        clearing bounds, a skipped day inside ``start`` .. ``end``.
    """
    spec = resolve_market(market)
    raw = load_table(path)
    return parse_prices(
        raw, spec, source=path, start=start, end=end, period_label=period_label, tz=tz
    )


def parse_prices(
    df: pd.DataFrame,
    market: MarketSpec | str,
    *,
    source: str | Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    period_label: Literal["start", "end"] = "start",
    tz: str | None = None,
) -> pd.DataFrame:
    """Validate an in-memory price table (same rules and result as :func:`read_prices`).

    Parameters
    ----------
    df : pd.DataFrame
        Rows in source order (row ``i`` of the frame is reported as row ``i + 1``), with a
        ``timestamp`` column (or index) of text or datetimes.
    market : MarketSpec or str
    source : str or Path, optional
        Where the data came from, for error messages (file name, database table).
    start, end, period_label, tz
        As in :func:`read_prices`.
    """
    spec = resolve_market(market)
    raw = df
    if "timestamp" not in raw.columns and raw.index.name == "timestamp":
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True).rename(columns=lambda c: str(c).strip())
    require_columns(raw, ["timestamp"], file=source)
    price_cols = _price_columns(raw, source)
    if raw.empty:
        raise InputError("no data rows", file=source)

    index = parse_timestamps(raw["timestamp"], tz or spec.timezone, file=source)
    index = index.tz_convert(spec.timezone)
    if period_label == "end":
        index = index - spec.period
    elif period_label != "start":
        raise ValueError(f"period_label must be 'start' or 'end', not {period_label!r}")
    order, index, rows = sort_unique(index, file=source)
    if start is not None or end is not None:
        order, index, rows = _select_days(order, index, rows, spec, start, end, source)

    context = f" for market {spec.name}"
    missing_days = _check_regular_but_whole_days(index, rows, spec, source, context)
    _check_grid(index, rows, spec, source)
    step = None if missing_days else spec.period
    _check_coverage(index, rows, spec, start, end, source)
    if missing_days and (start is not None or end is not None):
        raise InputError(
            f"no prices for trading day {missing_days[0]}: the file skips "
            f"{_day_list(missing_days)}, inside the requested days {start or '...'} to {end or '...'}",
            file=source,
            timestamp=trading_day_index(spec, missing_days[0])[0],
            field="timestamp",
        )

    prices = float_columns(raw, price_cols, order, index, rows, file=source)
    _check_bounds(prices, rows, spec, source)
    copied = [c for c in PRICE_COLUMNS if c not in price_cols]
    if price_cols == ["price"]:
        prices = pd.DataFrame({c: prices["price"].to_numpy() for c in PRICE_COLUMNS}, index=index)
    else:
        given = price_cols[0]
        for name in copied:  # the single price series stands for both markets
            prices[name] = prices[given]
        prices = prices[list(PRICE_COLUMNS)]

    extra = [c for c in raw.columns if c != "timestamp" and c not in price_cols]
    numeric = [c for c in extra if not _text_only(raw[c])]
    exogenous = float_columns(
        raw, numeric, order, index, rows, file=source, allow_missing=True, allow_bool=True
    )
    frame = with_freq(pd.concat([prices, exogenous], axis=1), step)
    frame.attrs.update(
        source=None if source is None else str(source),
        market=spec.name,
        copied_price_columns=copied,
        missing_days=[d.isoformat() for d in missing_days],
    )
    return frame


def prices_for_day(prices: pd.DataFrame, market: MarketSpec | str, day: dt.date) -> pd.DataFrame:
    """Slice the periods of one trading day.

    Parameters
    ----------
    prices : pd.DataFrame
        As returned by :func:`read_prices`.
    market : MarketSpec or str
    day : datetime.date
        Trading day.

    Returns
    -------
    pd.DataFrame
        Rows of ``trading_day_index(market, day)`` in that order.

    Raises
    ------
    InputError
        Some period of the day is missing (the day and the first missing timestamp are named).
    """
    spec = resolve_market(market)
    index = trading_day_index(spec, day)
    present = np.isin(index.as_unit("ns").asi8, prices.index.as_unit("ns").asi8)
    if not present.any():
        source = prices.attrs.get("source")
        skipped = day.isoformat() in prices.attrs.get("missing_days", [])
        why = "the price file skips that day" if skipped else "the prices do not cover that day"
        covered = f" (they cover {prices.index[0]} to {prices.index[-1]})" if len(prices) else ""
        raise InputError(
            f"no prices for trading day {day}: {why}{covered}; only days that need its prices are "
            "blocked",
            file=source,
            timestamp=index[0],
        )
    if not present.all():
        first = int(np.flatnonzero(~present)[0])
        raise InputError(
            f"prices for trading day {day} are incomplete: {int((~present).sum())} of "
            f"{len(index)} periods missing",
            file=prices.attrs.get("source"),
            timestamp=index[first],
        )
    out = prices.reindex(index)
    out.index = index
    out.attrs = dict(prices.attrs)
    return out


def check_days_complete(prices: pd.DataFrame, market: MarketSpec | str, days: list[dt.date]) -> None:
    """Check that ``prices`` has every period of each of ``days`` before a run over them starts.

    Raises
    ------
    InputError
        Naming every trading day without complete prices (the first one's error in full).
    """
    spec = resolve_market(market)
    failures: list[tuple[dt.date, InputError]] = []
    for day in days:
        try:
            prices_for_day(prices, spec, day)
        except InputError as exc:
            failures.append((day, exc))
    if not failures:
        return
    day, first = failures[0]
    names = _day_list([d for d, _ in failures])
    raise InputError(
        f"{len(failures)} of {len(days)} trading days lack prices ({names}): {first.message}; "
        "run the days before and after separately, or complete the file",
        file=first.file,
        timestamp=first.timestamp,
    )


# ---------------------------------------------------------------- checks


def _day_list(days: list[dt.date], most: int = 5) -> str:
    text = ", ".join(str(d) for d in days[:most])
    return text + (f" and {len(days) - most} more" if len(days) > most else "")


def _check_regular_but_whole_days(index, rows, spec: MarketSpec, source, context: str) -> list[dt.date]:
    """Check the spacing like :func:`check_regular`, except that whole trading days may be absent.

    Returns
    -------
    list of datetime.date
        The trading days the file skips entirely (between its first and last rows), sorted.
    """
    if len(index) < 2:
        return []
    steps = np.diff(index.as_unit("ns").asi8)
    jumps = np.flatnonzero(steps != spec.period.value)
    whole = [
        i for i in jumps
        if _is_midnight(index[i] + spec.period, spec) and _is_midnight(index[i + 1], spec)
    ]
    if whole and len(whole) == len(jumps):
        missing: list[dt.date] = []
        for i in whole:
            first_day = (index[i] + spec.period).date()
            missing += list(pd.date_range(first_day, index[i + 1].date(), freq="D", inclusive="left").date)
        if missing:
            bounds = np.concatenate([[0], np.asarray(whole) + 1, [len(index)]])
            for lo, hi in itertools.pairwise(bounds):  # resolution within each run
                check_regular(
                    index[lo:hi], rows[lo:hi], file=source, expected=spec.period, context=context
                )
            return missing
    check_regular(index, rows, file=source, expected=spec.period, context=context)
    return []


def _is_midnight(ts: pd.Timestamp, spec: MarketSpec) -> bool:
    """Whether ``ts`` is the first period start of its trading day."""
    return ts == trading_day_index(spec, ts.date())[0]



def _price_columns(raw: pd.DataFrame, source) -> list[str]:
    named = [c for c in PRICE_COLUMNS if c in raw.columns]
    if "price" in raw.columns:
        if named:
            raise InputError(
                f"both 'price' and {', '.join(repr(c) for c in named)} given: keep one convention",
                file=source,
                field="price",
            )
        return ["price"]
    if not named:
        found = ", ".join(map(str, raw.columns))
        raise InputError(
            f"no price column: expected 'da_price' and/or 'rt_price' (or 'price'); found {found}",
            file=source,
            field="da_price",
        )
    return named


def _text_only(col: pd.Series) -> bool:
    """True for a column that is not exogenous data: non-numeric text (notes), dates or durations."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
        return False
    if pd.api.types.is_datetime64_any_dtype(col.dtype) or pd.api.types.is_timedelta64_dtype(col.dtype):
        return True
    filled = col.dropna()
    filled = filled[filled.astype("string").str.strip() != ""]
    return bool(len(filled)) and bool(pd.to_numeric(filled, errors="coerce").isna().all())


def _select_days(order, index, rows, spec: MarketSpec, start, end, source):
    lo = trading_day_index(spec, start)[0] if start is not None else None
    hi = trading_day_index(spec, end)[-1] + spec.period if end is not None else None
    if start is not None and end is not None and end < start:
        raise InputError(f"end day {end} is before start day {start}", file=source, field="end")
    keep = np.ones(len(index), dtype=bool)
    if lo is not None:
        keep &= np.asarray(index >= lo)
    if hi is not None:
        keep &= np.asarray(index < hi)
    if not keep.any():
        raise InputError(
            f"no rows for trading days {start or '...'} to {end or '...'}; the file covers "
            f"{index[0]} to {index[-1]}",
            file=source,
            timestamp=lo if lo is not None else hi,
        )
    return order[keep], index[keep], rows[keep]


def _check_grid(index: pd.DatetimeIndex, rows: np.ndarray, spec: MarketSpec, source) -> None:
    minutes = np.asarray(index.hour * 60 + index.minute)
    off = (minutes % spec.period_minutes != 0) | np.asarray(index.second != 0)
    off |= np.asarray(index.microsecond != 0)
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise InputError(
            f"timestamp is not on the {spec.period_minutes}-minute grid of market {spec.name} "
            "(periods start at whole multiples of the period from local midnight)",
            file=source,
            row=int(rows[first]),
            timestamp=index[first],
            field="timestamp",
        )


def _check_coverage(index, rows, spec: MarketSpec, start, end, source) -> None:
    if start is not None:
        lo = trading_day_index(spec, start)[0]
        if index[0] > lo:
            raise InputError(
                f"gap: missing period {lo}: trading day {start} must start there, the first row "
                f"for it starts at {index[0]}",
                file=source,
                row=int(rows[0]),
                timestamp=lo,
                field="timestamp",
            )
    if end is not None:
        last = trading_day_index(spec, end)[-1]
        if index[-1] < last:
            missing = index[-1] + spec.period
            raise InputError(
                f"gap: missing period {missing}: trading day {end} must end with the period at "
                f"{last}, the last row is at {index[-1]}",
                file=source,
                row=int(rows[-1]),
                timestamp=missing,
                field="timestamp",
            )


def _check_bounds(prices: pd.DataFrame, rows: np.ndarray, spec: MarketSpec, source) -> None:
    floor, cap = spec.clear_price_floor, spec.clear_price_cap
    bounds = f"{'-inf' if floor is None else f'{floor:g}'}..{cap:g} {spec.price_unit}"
    for name in prices.columns:
        values = prices[name].to_numpy()
        low = values < floor if floor is not None else np.zeros(len(values), dtype=bool)
        high = values > cap
        bad = low | high
        if bad.any():
            first = int(np.flatnonzero(bad)[np.argmin(rows[bad])])
            side = "below the clearing price floor" if low[first] else "above the clearing price cap"
            raise InputError(
                f"{name} {values[first]:g} is {side} of market {spec.name} (bounds {bounds})",
                file=source,
                row=int(rows[first]),
                timestamp=prices.index[first],
                field=name,
            )
