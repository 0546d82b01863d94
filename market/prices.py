"""Price files: read and validate day-ahead and real-time clearing prices.

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
row 0), the timestamp and the column (the checks: :mod:`market.price_checks`). One trading day's
prices: :mod:`market.price_days`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import pandas as pd

from market.calendar import parse_timestamps, trading_day_index
from market.presets import MarketSpec, resolve_market
from market.price_checks import (
    check_bounds,
    check_coverage,
    check_grid,
    check_regular_but_whole_days,
    day_list,
    select_days,
)
from market.table_checks import float_columns, require_columns, sort_unique, with_freq
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
        only themselves (:func:`market.price_days.prices_for_day` names them).

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
        order, index, rows = select_days(order, index, rows, spec, start, end, source)

    context = f" for market {spec.name}"
    missing_days = check_regular_but_whole_days(index, rows, spec, source, context)
    check_grid(index, rows, spec, source)
    step = None if missing_days else spec.period
    check_coverage(index, rows, spec, start, end, source)
    if missing_days and (start is not None or end is not None):
        raise InputError(
            f"no prices for trading day {missing_days[0]}: the file skips "
            f"{day_list(missing_days)}, inside the requested days {start or '...'} to {end or '...'}",
            file=source,
            timestamp=trading_day_index(spec, missing_days[0])[0],
            field="timestamp",
        )

    prices = float_columns(raw, price_cols, order, index, rows, file=source)
    check_bounds(prices, rows, spec, source)
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
