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

    Returns
    -------
    pd.DataFrame
        ``da_price``, ``rt_price`` (float, currency/MWh) then exogenous columns; index ``timestamp``
        in the market zone, sorted, unique, regular at the market period (freq set).

    Raises
    ------
    InputError
        Missing or unreadable file, missing columns, bad timestamps, duplicates, gaps, wrong
        resolution, missing or non-numeric prices, prices outside the market's clearing bounds.
    """
    spec = resolve_market(market)
    raw = load_table(path)
    return parse_prices(raw, spec, source=path, start=start, end=end, period_label=period_label)


def parse_prices(
    df: pd.DataFrame,
    market: MarketSpec | str,
    *,
    source: str | Path | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    period_label: Literal["start", "end"] = "start",
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
    start, end, period_label
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

    index = parse_timestamps(raw["timestamp"], spec.timezone, file=source)
    if period_label == "end":
        index = index - spec.period
    elif period_label != "start":
        raise ValueError(f"period_label must be 'start' or 'end', not {period_label!r}")
    order, index, rows = sort_unique(index, file=source)
    if start is not None or end is not None:
        order, index, rows = _select_days(order, index, rows, spec, start, end, source)

    context = f" for market {spec.name}"
    step = check_regular(index, rows, file=source, expected=spec.period, context=context)
    _check_grid(index, rows, spec, source)
    _check_coverage(index, rows, spec, start, end, source)

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


# ---------------------------------------------------------------- checks


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
