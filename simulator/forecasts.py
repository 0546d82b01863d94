"""Price forecasts for the backtest: a registry of pure functions of the price history.

Every forecast is ``fn(history, target, column) -> np.ndarray`` where ``history`` holds ONLY rows
with timestamps strictly before the decision time. The slicing happens in one place,
:func:`known_before`, called by :func:`make_forecast`; forecast functions never see the full frame.

Built-in forecasts (prices in yuan/MWh, one value per period of ``target``):

- ``persistence``: the same period of the most recent earlier day in the history (yesterday's
  value when it is known, else the day before, up to 7 days back).
- ``weekday``: the same period one week earlier (two weeks when one week is not in the history).
- ``rolling_mean``: the mean of the same period over the last ``days`` days known (default 7).
- ``file``: a user's forecast file in the price-file format (``file:PATH``): its ``da_price`` or
  ``rt_price`` at the target periods. The file is itself a forecast made before the decision, so
  it is read as is.

A forecast whose history lacks a value falls back to the mean of the history's column (and to 0
without any history), so the backtest never stops on a gap.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from market.presets import MarketSpec
from market.prices import read_prices
from vpp.errors import InputError

ForecastFn = Callable[[pd.DataFrame, pd.DatetimeIndex, str], np.ndarray]
"""``fn(history, target, column) -> values`` (yuan/MWh), ``history`` before the cut-off only."""

FORECASTS: dict[str, ForecastFn] = {}
"""Registry: forecast name -> function."""

_MAX_LOOKBACK_DAYS = 7


def register(name: str) -> Callable[[ForecastFn], ForecastFn]:
    """Decorator adding a forecast function to :data:`FORECASTS` under ``name``."""

    def add(fn: ForecastFn) -> ForecastFn:
        FORECASTS[name] = fn
        return fn

    return add


def known_before(prices: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``prices`` whose timestamp is strictly before ``cutoff``.

    The only place the backtest cuts the price history: every forecast is computed on its result.
    """
    return prices.loc[prices.index < cutoff]


def make_forecast(
    name: str,
    prices: pd.DataFrame,
    target: pd.DatetimeIndex,
    cutoff: pd.Timestamp,
    column: str = "da_price",
    *,
    market: MarketSpec | None = None,
) -> np.ndarray:
    """Forecast ``column`` at ``target`` with the forecast ``name``, knowing prices before ``cutoff``.

    Parameters
    ----------
    name : str
        A key of :data:`FORECASTS`, or ``file:PATH``.
    prices : pd.DataFrame
        Realised prices (``da_price``, ``rt_price``; yuan/MWh), index ``timestamp``.
    target : pd.DatetimeIndex
        Periods to forecast.
    cutoff : pd.Timestamp
        Decision time: only rows with timestamps before it are passed on.
    column : str
        ``da_price`` or ``rt_price``.
    market : MarketSpec, optional
        Needed by ``file:`` forecasts to read the file.

    Returns
    -------
    np.ndarray
        One forecast price per period of ``target`` (yuan/MWh).
    """
    fn = resolve_forecast(name, market)
    values = np.asarray(fn(known_before(prices, cutoff), target, column), dtype=float)
    if values.shape != (len(target),):
        raise InputError(f"forecast '{name}' returned {values.size} values for {len(target)} periods")
    return values


def resolve_forecast(name: str, market: MarketSpec | None = None) -> ForecastFn:
    """The forecast function for ``name`` (``file:PATH`` reads the file once).

    Raises
    ------
    InputError
        Unknown name, or a ``file:`` forecast without a path or market.
    """
    if name.startswith("file:") or name == "file":
        path = name.partition(":")[2]
        if not path or market is None:
            raise InputError("the file forecast needs a path: --forecast file:PATH", field="--forecast")
        return partial(_from_frame, read_prices(Path(path), market))
    if name not in FORECASTS:
        raise InputError(
            f"unknown forecast '{name}'; known: {', '.join([*FORECASTS, 'file:PATH'])}", field="--forecast"
        )
    return FORECASTS[name]


def _lagged(history: pd.Series, target: pd.DatetimeIndex, days: int) -> np.ndarray:
    """Values of ``history`` at ``target - days`` (NaN where unknown)."""
    return np.array(history.reindex(target - pd.Timedelta(days=days)).to_numpy(dtype=float))


def _fill(values: np.ndarray, history: pd.Series) -> np.ndarray:
    fallback = float(history.mean()) if len(history) else 0.0
    return np.where(np.isfinite(values), values, fallback)


@register("persistence")
def persistence(history: pd.DataFrame, target: pd.DatetimeIndex, column: str) -> np.ndarray:
    """Same period of the latest earlier day in ``history`` (yuan/MWh)."""
    series = history[column]
    out = np.full(len(target), np.nan)
    for days in range(1, _MAX_LOOKBACK_DAYS + 1):
        missing = ~np.isfinite(out)
        if not missing.any():
            break
        out[missing] = _lagged(series, target, days)[missing]
    return _fill(out, series)


@register("weekday")
def weekday(history: pd.DataFrame, target: pd.DatetimeIndex, column: str) -> np.ndarray:
    """Same period and weekday one week earlier (two weeks where one is unknown; yuan/MWh)."""
    series = history[column]
    out = _lagged(series, target, 7)
    missing = ~np.isfinite(out)
    out[missing] = _lagged(series, target, 14)[missing]
    return _fill(out, series)


def rolling_mean(
    history: pd.DataFrame, target: pd.DatetimeIndex, column: str, days: int = 7
) -> np.ndarray:
    """Mean of the same period over the last ``days`` earlier days known (yuan/MWh)."""
    series = history[column]
    lags = np.vstack([_lagged(series, target, d) for d in range(1, days + 2)])
    # Take the `days` most recent known values per period (yesterday's may be unknown yet).
    known = np.isfinite(lags)
    rank = np.cumsum(known, axis=0)
    use = known & (rank <= days)
    with np.errstate(invalid="ignore"):
        out = np.where(use, lags, 0.0).sum(axis=0) / use.sum(axis=0)
    return _fill(out, series)


FORECASTS["rolling_mean"] = rolling_mean


def _from_frame(
    frame: pd.DataFrame, history: pd.DataFrame, target: pd.DatetimeIndex, column: str
) -> np.ndarray:
    """A user's forecast file: its ``column`` at ``target`` (history unused)."""
    values = frame[column].reindex(target).to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise InputError(
            "the forecast file has no value for this period",
            file=frame.attrs.get("source"),
            timestamp=target[~np.isfinite(values)][0],
            field=column,
        )
    return values
