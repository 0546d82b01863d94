"""What is known at the day-ahead gate closure of D-1, the only input a forecaster gets.

Rules (one place, used by every forecaster, the backtest, the evaluation and the service):

- ``da_price``: a day's day-ahead prices are published when its auction clears, before the day
  starts. At the closure ``c`` every DA price of a trading day that started at or before ``c`` is
  known (for a D-1 09:30 closure: all of D-1 and earlier).
- ``rt_price``: known for periods that started before ``c`` (the real-time price is published as
  the period runs).
- any other column (exogenous features: the bundled Gansu ``load_forecast_mw``, ``pv_forecast_mw``,
  ``wind_forecast_mw``, or a separate feature file) is a forecast for its period *published before
  the gate closure of its trading day*: known for trading days up to and including D. A column of
  realised values (known only after the fact) must be shifted by its provider before use.

Nothing after the end of D is ever visible. :class:`History` turns a price frame into
(trading day x slot) grids once; :meth:`History.known` masks them for one day's closure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from market.calendar import gate_closure, trading_day_index
from market.forecasting.grid import DayGrid, day_grid, slot_of
from market.presets import MarketSpec, resolve_market
from vpp.errors import InputError

PRICE_COLUMNS = ("da_price", "rt_price")


class History:
    """A price frame (and optional feature frame) as (trading day x slot) grids, built once.

    Parameters
    ----------
    frame : pd.DataFrame
        Realised ``da_price``, ``rt_price`` (yuan/MWh) and any exogenous columns, index
        ``timestamp`` (tz-aware).
    market : MarketSpec or str
    features : pd.DataFrame, optional
        Exogenous columns from a separate file (same timestamp rules), joined on the timestamp.
    """

    def __init__(
        self, frame: pd.DataFrame, market: MarketSpec | str, features: pd.DataFrame | None = None
    ) -> None:
        self.market = resolve_market(market)
        if features is not None:
            clash = [c for c in features.columns if c in frame.columns]
            if clash:
                raise InputError(f"feature column '{clash[0]}' is also in the price data", field=clash[0])
            frame = frame.join(features, how="left")
        self.frame = frame
        self.columns = [str(c) for c in frame.columns]
        self.grids = {c: day_grid(frame[c], self.market) for c in self.columns}

    def known(self, day: dt.date) -> Known:
        """What is known at the gate closure before ``day`` (module rules)."""
        return Known(self, day)


@dataclass(frozen=True)
class Known:
    """The information set at the gate closure before trading day ``day``.

    Attributes
    ----------
    history : History
    day : datetime.date
        The trading day to forecast.
    """

    history: History
    day: dt.date
    _grids: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def market(self) -> MarketSpec:
        return self.history.market

    @property
    def closure(self) -> pd.Timestamp:
        """The day-ahead gate closure before ``day`` (D-1 09:30 in Chinese provinces)."""
        return gate_closure(self.market, self.day)

    @property
    def target(self) -> pd.DatetimeIndex:
        """Period starts of ``day``."""
        return trading_day_index(self.market, self.day)

    @property
    def exogenous(self) -> list[str]:
        """The exogenous columns (all but the prices)."""
        return [c for c in self.history.columns if c not in PRICE_COLUMNS]

    def grid(self, column: str) -> DayGrid:
        """``column`` per (trading day x slot), NaN wherever not known at the closure."""
        if column not in self._grids:
            self._grids[column] = self._mask(column)
        return self._grids[column]

    def _mask(self, column: str) -> DayGrid:
        full = self.history.grids[column]
        closure = self.closure.tz_convert(self.market.timezone)
        if column == "da_price" or column == "rt_price":
            last = closure.date()
        else:
            last = self.day
        days = [d for d in full.days if d <= min(last, self.day)]
        values = full.values[: len(days)].copy()
        if column == "rt_price" and days and days[-1] == closure.date():
            values[-1, slot_of(pd.DatetimeIndex([closure]), self.market)[0] :] = np.nan
        return DayGrid(days, values)

    @property
    def history_days(self) -> list[dt.date]:
        """Trading days before ``day`` with every DA price known, ascending."""
        grid = self.grid("da_price")
        complete = np.isfinite(grid.values).all(axis=1)
        return [d for d, ok in zip(grid.days, complete, strict=True) if ok and d < self.day]


def known_at_closure(
    frame: pd.DataFrame,
    market: MarketSpec | str,
    day: dt.date,
    features: pd.DataFrame | None = None,
) -> Known:
    """What is known at the gate closure before ``day`` (one-off; see :class:`History`)."""
    return History(frame, market, features).known(day)
