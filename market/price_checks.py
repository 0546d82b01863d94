"""Checks of a price table's timestamps and values, for :func:`market.prices.parse_prices`.

Each takes the table's period starts (``index``, market zone, sorted and unique), the 1-based
source row of each (``rows``) and the market, and raises ``vpp.errors.InputError`` naming the
source, the row, the timestamp and the column of the first problem (``day_list`` lists days in them).
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from market.presets import MarketSpec
from market.table_checks import check_regular
from vpp.errors import InputError


def day_list(days: list[dt.date], most: int = 5) -> str:
    """The first ``most`` days for a message, then how many more: ``2024-01-02, ... and 3 more``."""
    text = ", ".join(str(d) for d in days[:most])
    return text + (f" and {len(days) - most} more" if len(days) > most else "")


def check_regular_but_whole_days(index, rows, spec: MarketSpec, source, context: str) -> list[dt.date]:
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


def select_days(order, index, rows, spec: MarketSpec, start, end, source):
    """The rows (``order``, ``index``, ``rows`` alike) of trading days ``start`` .. ``end`` (both
    included, either may be None); an error when none is left or ``end`` precedes ``start``."""
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


def check_grid(index: pd.DatetimeIndex, rows: np.ndarray, spec: MarketSpec, source) -> None:
    """Every period starts a whole number of periods after local midnight."""
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


def check_coverage(index, rows, spec: MarketSpec, start, end, source) -> None:
    """The rows reach from trading day ``start``'s first period to ``end``'s last (when given)."""
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


def check_bounds(prices: pd.DataFrame, rows: np.ndarray, spec: MarketSpec, source) -> None:
    """Every price (currency/MWh) lies within the market's clearing floor and cap; the error names
    the earliest row outside them."""
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
