"""Price forecasts in the backtest: the forecasters of :mod:`market.forecasting`, day by day.

Every forecast of day D is made from :meth:`market.forecasting.information.History.known` of D,
what is known at D-1's gate closure (DA prices of the days started before it, RT prices of the
periods started before it, exogenous day-ahead forecasts of days up to D). That masking happens in
one place; forecasters never see the full frame. Forecasters are looked up by name
(:data:`market.forecasting.FORECASTERS`: ``blend`` (default), ``ewm``, ``persistence``, ``weekday``,
``rolling_mean``, ``ridge``, ``lear``, ``lgbm``, ``lgbm_rank``) or ``file:PATH`` (a user's forecast
file in the price-file format).

:func:`known_before` cuts the realised price history at a time (the history the scenario
strategies resample).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable

import numpy as np
import pandas as pd

from market.forecasting.base import DayForecast, Forecaster
from market.forecasting.information import History
from market.forecasting.run import DEFAULT_FORECASTER, FORECASTERS, forecaster_names, get_forecaster
from market.presets import MarketSpec

__all__ = [
    "DEFAULT_FORECASTER",
    "FORECASTERS",
    "DayForecaster",
    "forecaster_names",
    "known_before",
    "make_forecast",
]


def known_before(prices: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The rows of ``prices`` whose timestamp is strictly before ``cutoff``."""
    return prices.loc[prices.index < cutoff]


class DayForecaster:
    """One forecaster walked over trading days in order (refits as its ``refit_days`` says).

    Parameters
    ----------
    name : str
        A registered forecaster or ``file:PATH``.
    prices : pd.DataFrame
        Realised prices (yuan/MWh) and exogenous columns, index ``timestamp``.
    market : MarketSpec
    column : str
        ``da_price`` or ``rt_price``.
    features : pd.DataFrame, optional
        Exogenous columns from a separate feature file.
    """

    def __init__(
        self,
        name: str,
        prices: pd.DataFrame,
        market: MarketSpec,
        column: str = "da_price",
        features: pd.DataFrame | None = None,
    ) -> None:
        self.name = name
        self.model = get_forecaster(name, market, column)
        self.history = History(prices, market, features)
        self._made: dict[dt.date, DayForecast] = {}
        self._origin_of: dict[dt.date, Hashable] = {}  # days made without quantiles: their fit's origin
        self._refit: tuple[Hashable, Forecaster] | None = None  # the last fit made again for quantiles

    def day(self, day: dt.date, *, quantiles: bool = True) -> DayForecast:
        """Forecast of ``day`` from what is known at its gate closure (yuan/MWh, clipped to bounds).

        Memoised: each day is forecast once, from its own information set, whatever the order.
        ``quantiles=False`` makes the point only (``lgbm`` then fits no quantile models) and notes
        which fit made it (:meth:`Forecaster.fit_origin`, a day, not the models): a later request
        with quantiles gets them from that fit, made again if the forecaster has moved on
        (:meth:`Forecaster.refitted`; the last such fit is kept for the next days of it), the same
        as if they had been asked first.
        """
        made = self._made.get(day)
        if made is None:
            made = self._made[day] = self.model.forecast(self.history.known(day), quantiles=quantiles)
            if not quantiles:
                self._origin_of[day] = self.model.fit_origin()
        elif quantiles and day in self._origin_of:
            fit = self._fit_at(self._origin_of.pop(day))
            made = self._made[day] = fit.forecast(self.history.known(day), quantiles=True)
        return made

    def _fit_at(self, origin: Hashable) -> Forecaster:
        """The walked forecaster while it is still at ``origin``, else a copy refitted there."""
        if origin == self.model.fit_origin():
            return self.model
        if self._refit is None or self._refit[0] != origin:
            self._refit = (origin, self.model.refitted(origin, self.history))
        return self._refit[1]

    def point(self, day: dt.date) -> np.ndarray:
        """The point forecast of :meth:`day` (yuan/MWh; no quantiles made for it)."""
        return self.day(day, quantiles=False).point


def make_forecast(
    name: str,
    prices: pd.DataFrame,
    market: MarketSpec,
    day: dt.date,
    column: str = "da_price",
) -> np.ndarray:
    """One day's point forecast of ``column`` with a fresh forecaster ``name`` (yuan/MWh)."""
    return DayForecaster(name, prices, market, column).point(day)
