"""A separate feature file: exogenous columns for the forecasters, by timestamp.

CSV or Parquet with a ``timestamp`` column (the price-file timestamp rules: ISO 8601, naive times
in the market zone, period starts, regular at the market period) and numeric columns, each a
forecast for its period published before the gate closure of its trading day
(:mod:`market.forecasting.information`). Empty cells are unknown values (NaN).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from market.calendar import parse_timestamps
from market.presets import MarketSpec, resolve_market
from market.table_checks import check_regular, float_columns, require_columns, sort_unique, with_freq
from market.tables import load_table
from vpp.errors import InputError


def read_features(path: str | Path, market: MarketSpec | str) -> pd.DataFrame:
    """Read a feature file (module docstring).

    Returns
    -------
    pd.DataFrame
        Float columns, index ``timestamp`` in the market zone, sorted, unique, regular.

    Raises
    ------
    InputError
        Missing file, no ``timestamp`` or no feature column, bad timestamps, duplicates, a
        resolution other than the market period, a cell that is not a number (file, row, column).
    """
    spec = resolve_market(market)
    raw = load_table(path).rename(columns=lambda c: str(c).strip())
    require_columns(raw, ["timestamp"], file=path)
    columns = [c for c in raw.columns if c != "timestamp"]
    if not columns or raw.empty:
        raise InputError("a feature file needs a timestamp column, feature columns and rows", file=path)
    index = parse_timestamps(raw["timestamp"], spec.timezone, file=path)
    order, index, rows = sort_unique(index, file=path)
    step = check_regular(index, rows, file=path, expected=spec.period, context=f" for market {spec.name}")
    frame = float_columns(raw, columns, order, index, rows, file=path, allow_missing=True, allow_bool=True)
    return with_freq(frame, step)


def join_features(prices: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """``prices`` with the columns of ``features`` joined on the timestamp (NaN where absent).

    Raises
    ------
    InputError
        A feature column has the name of a price-file column.
    """
    clash = [c for c in features.columns if c in prices.columns]
    if clash:
        raise InputError(f"feature column '{clash[0]}' is also in the price file", field=clash[0])
    joined = prices.join(features, how="left")
    joined.attrs.update(prices.attrs)
    return joined
