"""Prices of whole trading days: one day's periods, and a check that every day of a run has them.

Works on a frame from :func:`market.prices.read_prices` (its ``attrs["source"]`` and
``attrs["missing_days"]`` name the file and the days it skips in errors).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from market.calendar import trading_day_index
from market.presets import MarketSpec, resolve_market
from market.price_checks import day_list
from vpp.errors import InputError


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
    names = day_list([d for d, _ in failures])
    raise InputError(
        f"{len(failures)} of {len(days)} trading days lack prices ({names}): {first.message}; "
        "run the days before and after separately, or complete the file",
        file=first.file,
        timestamp=first.timestamp,
    )
