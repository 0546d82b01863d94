"""Price scenarios for trading day D from the price history known at the gate closure.

A scenario is a pair of price curves over the day's periods, ``p_da[s, t]`` and ``p_rt[s, t]``
(yuan/MWh), with a probability ``weight[s]`` (weights sum to 1). Both methods start from a point
forecast ``f[t]`` of the DA price of D and the forecaster's empirical errors on past days::

    e_da[d, t] = p_da_realised[d, t] - f_d[t]        e_rt[d, t] = p_rt_realised[d, t] - f_d[t]

where ``f_d`` is the same forecaster (by name, :mod:`market.forecasting`) run on what was known at
the gate closure before day ``d`` (no look-ahead: rolling origin). Then

- ``bootstrap``: scenario ``s`` draws blocks of ``block_periods`` periods, each block from a
  random past day ``d`` (with replacement); ``p_da[s, t] = f[t] + e_da[d, t]`` and
  ``p_rt[s, t] = f[t] + e_rt[d, t]`` with the SAME ``d`` for DA and RT. A block of a whole day
  (the default) keeps the day's shape and the DA/RT correlation. Weights ``1/N``.
- ``quantile``: ``p_da[s, t] = f[t] + Q_da,t(u_s)`` and ``p_rt[s, t] = f[t] + Q_rt,t(u_s)`` with
  ``u_s = (s + 1/2) / N`` and ``Q_t`` the empirical error quantile of period ``t`` (comonotone
  across periods, deterministic). Weights ``1/N``.

Prices are clipped to the market's clearing bounds. Everything is pure numpy/pandas; the random
draws come from ``np.random.default_rng(seed)``, so a seed reproduces the scenarios.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.forecasting.base import Forecaster
from market.forecasting.information import History
from market.forecasting.run import get_forecaster
from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError


@dataclass(frozen=True)
class PriceScenarios:
    """``N`` price scenarios of one horizon.

    Attributes
    ----------
    index : pd.DatetimeIndex
        Period starts (tz-aware).
    da : np.ndarray
        Day-ahead prices ``p_da[s, t]`` (yuan/MWh), shape (N, T).
    rt : np.ndarray
        Real-time prices ``p_rt[s, t]`` (yuan/MWh), shape (N, T).
    weight : np.ndarray
        Probabilities, shape (N,), summing to 1.
    """

    index: pd.DatetimeIndex
    da: np.ndarray
    rt: np.ndarray
    weight: np.ndarray

    def __post_init__(self) -> None:
        n, t = self.da.shape
        if self.rt.shape != (n, t) or self.weight.shape != (n,) or t != len(self.index):
            raise InputError(f"scenario shapes disagree: da {self.da.shape}, rt {self.rt.shape}, "
                             f"weight {self.weight.shape}, {len(self.index)} periods", field="scenarios")
        if (self.weight < 0).any() or not np.isclose(self.weight.sum(), 1.0):
            raise InputError("scenario weights must be >= 0 and sum to 1", field="weight")

    @property
    def n(self) -> int:
        """Number of scenarios N."""
        return self.da.shape[0]

    @property
    def expected_da(self) -> np.ndarray:
        """Probability-weighted mean DA price per period (yuan/MWh), shape (T,)."""
        return self.weight @ self.da

    @property
    def expected_rt(self) -> np.ndarray:
        """Probability-weighted mean RT price per period (yuan/MWh), shape (T,)."""
        return self.weight @ self.rt

    @classmethod
    def single(cls, index: pd.DatetimeIndex, da: np.ndarray, rt: np.ndarray | None = None) -> PriceScenarios:
        """One scenario of weight 1 (``rt`` defaults to ``da``)."""
        da = np.asarray(da, dtype=float).reshape(1, -1)
        rt = da.copy() if rt is None else np.asarray(rt, dtype=float).reshape(1, -1)
        return cls(index, da, rt, np.ones(1))


def _day_forecast_fn(
    forecast: str | Forecaster | DayForecastFn, history: pd.DataFrame, market: MarketSpec
) -> DayForecastFn:
    if not isinstance(forecast, str | Forecaster):
        return forecast
    model = get_forecaster(forecast, market) if isinstance(forecast, str) else forecast
    past = History(history, market)
    return lambda day: model.forecast(past.known(day), quantiles=False).point


def market_of(target: pd.DatetimeIndex) -> MarketSpec:
    """A generic market in the zone and period of ``target`` (for callers without a market)."""
    step = int(pd.Timedelta(target[1] - target[0]).total_seconds() // 60) if len(target) > 1 else 60
    return resolve_market("generic").model_copy(update={"timezone": str(target.tz), "period_minutes": step})


DayForecastFn = Callable[[dt.date], np.ndarray]
"""``day -> point forecast of its DA price`` made at that day's gate closure (the backtest's)."""


def forecast_errors(
    history: pd.DataFrame,
    target: pd.DatetimeIndex,
    forecast: str | Forecaster | DayForecastFn = "persistence",
    *,
    market: MarketSpec | None = None,
    n_days: int = 28,
) -> tuple[np.ndarray, np.ndarray]:
    """Errors of ``forecast`` on up to ``n_days`` complete past days of ``history``.

    Parameters
    ----------
    history : pd.DataFrame
        Realised ``da_price`` and ``rt_price`` (yuan/MWh) known at the cut-off, index ``timestamp``.
    target : pd.DatetimeIndex
        Periods of day D; past day ``d`` uses ``target - k days``.
    forecast : str, Forecaster or callable
        The forecaster (a name of :data:`market.forecasting.FORECASTERS`), run for each past day on
        what was known at that day's own gate closure; or a ``day -> forecast`` function that
        does the same (the backtest's memoised forecaster).
    market : MarketSpec, optional
        Default :func:`market_of` ``target``.
    n_days : int
        Past days to use (most recent first).

    Returns
    -------
    (e_da, e_rt) : tuple of np.ndarray
        Shape (D, T) each (yuan/MWh), rows of days with every price known.
    """
    spec = market or market_of(target)
    predict = _day_forecast_fn(forecast, history, spec)
    chosen: list[tuple[dt.date, pd.DataFrame]] = []
    for k in range(1, 400):
        if len(chosen) >= n_days:
            break
        index = target - pd.Timedelta(days=k)
        if len(history) == 0 or index[0] < history.index[0]:
            break
        realised = history.reindex(index)
        if realised[["da_price", "rt_price"]].isna().any().any():
            continue
        chosen.append((index[0].tz_convert(spec.timezone).date(), realised))
    e_da, e_rt = [], []
    for day, realised in reversed(chosen):  # oldest first: a refitting model fits fewer times
        f = predict(day)
        e_da.insert(0, realised["da_price"].to_numpy(dtype=float) - f)
        e_rt.insert(0, realised["rt_price"].to_numpy(dtype=float) - f)
    if not e_da:
        raise InputError("no complete past day of da_price and rt_price before the cut-off", field="history")
    return np.vstack(e_da), np.vstack(e_rt)


def generate_scenarios(
    history: pd.DataFrame,
    target: pd.DatetimeIndex,
    n: int,
    *,
    seed: int | None = 0,
    method: str = "bootstrap",
    center: np.ndarray | None = None,
    forecast: str | Forecaster | DayForecastFn = "persistence",
    market: MarketSpec | None = None,
    n_days: int = 28,
    block_periods: int | None = None,
    price_bounds: tuple[float, float] | None = None,
) -> PriceScenarios:
    """``n`` price scenarios of the periods ``target`` (see the module docstring).

    Parameters
    ----------
    history : pd.DataFrame
        Realised prices strictly before the gate closure (the caller cuts it).
    target : pd.DatetimeIndex
        Periods of day D.
    n : int
        Number of scenarios.
    seed : int or None
        Seed of ``np.random.default_rng`` (bootstrap only).
    method : {"bootstrap", "quantile"}
    center : np.ndarray, optional
        Point forecast ``f`` of D's DA price (yuan/MWh); default the forecaster's.
    forecast : str or Forecaster
        Forecaster (:mod:`market.forecasting`) whose errors are resampled.
    market : MarketSpec, optional
        The market (zone, period, gate closure); default :func:`market_of` ``target``.
    n_days : int
        Past days of errors.
    block_periods : int, optional
        Bootstrap block length (periods); default the whole day.
    price_bounds : (float, float), optional
        Clearing price bounds (yuan/MWh) to clip to.
    """
    if n < 1:
        raise InputError("at least one scenario", field="--scenarios")
    t = len(target)
    spec = market or market_of(target)
    predict = _day_forecast_fn(forecast, history, spec)
    f = np.asarray(predict(target[0].tz_convert(spec.timezone).date()) if center is None else center,
                   dtype=float)
    e_da, e_rt = forecast_errors(history, target, predict, market=spec, n_days=n_days)
    if method == "bootstrap":
        rng = np.random.default_rng(seed)
        block = t if block_periods is None else max(1, min(int(block_periods), t))
        starts = np.arange(0, t, block)
        days = rng.integers(0, e_da.shape[0], size=(n, len(starts)))
        pick = np.repeat(days, block, axis=1)[:, :t]  # day of each (s, t)
        cols = np.arange(t)[None, :]
        da = f[None, :] + e_da[pick, cols]
        rt = f[None, :] + e_rt[pick, cols]
    elif method == "quantile":
        u = (np.arange(n) + 0.5) / n
        da = f[None, :] + np.quantile(e_da, u, axis=0)
        rt = f[None, :] + np.quantile(e_rt, u, axis=0)
    else:
        raise InputError(f"unknown scenario method '{method}'; known: bootstrap, quantile", field="method")
    if price_bounds is not None:
        da = np.clip(da, *price_bounds)
        rt = np.clip(rt, *price_bounds)
    return PriceScenarios(target, da, rt, np.full(n, 1.0 / n))
