"""Baseline forecasters: persistence, weekday, rolling mean (same slot of earlier trading days).

Each looks up the same slot (period of the day, :mod:`market.forecasting.grid`) of earlier
trading days, so a daylight-saving change does not shift it by an hour. Where a value is unknown
it falls back as documented per forecaster, then to the mean of the known history (0 without any).
Quantiles: the empirical quantiles of the forecaster's own errors over the last
:data:`RESIDUAL_DAYS` complete days, added to the point forecast.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from market.forecasting.base import DayForecast, Forecaster, register
from market.forecasting.grid import DayGrid, to_periods
from market.forecasting.information import Known

MAX_LOOKBACK_DAYS = 7
RESIDUAL_DAYS = 28
QUANTILES = (0.1, 0.5, 0.9)


def _fill(values: np.ndarray, grid: DayGrid) -> np.ndarray:
    mean = grid.mean()
    fallback = mean if np.isfinite(mean) else 0.0
    return np.where(np.isfinite(values), values, fallback)


class GridBaseline(Forecaster):
    """A baseline computed per slot from the (day x slot) grid of its column."""

    def slots(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        """Forecast per slot of ``day`` (NaN where unknown)."""
        raise NotImplementedError

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        grid = known.grid(self.column)
        by_slot = _fill(self.slots(grid, known.day), grid)
        point = to_periods(by_slot, known.target, known.market)
        if not quantiles:
            return DayForecast(point)
        errors = self._past_errors(grid, known.day)
        if len(errors) < 2:
            return DayForecast(point)
        levels = np.quantile(errors, QUANTILES, axis=0)
        return DayForecast(point, {
            q: to_periods(by_slot + lv, known.target, known.market)
            for q, lv in zip(QUANTILES, levels, strict=True)
        })

    def _past_errors(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        rows = []
        for k in range(1, RESIDUAL_DAYS + MAX_LOOKBACK_DAYS + 1):
            past = day - dt.timedelta(days=k)
            actual = grid.row(past)
            if not np.isfinite(actual).all():
                continue
            f = self.slots(grid, past)  # reads only days before `past`
            if np.isfinite(f).all():
                rows.append(actual - f)
            if len(rows) >= RESIDUAL_DAYS:
                break
        return np.array(rows)


@register
class Persistence(GridBaseline):
    """Same slot of the latest earlier day known (yesterday's DA price; up to 7 days back)."""

    name = "persistence"
    description = "same period of the latest earlier day known"

    def slots(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        out = np.full(grid.slots, np.nan)
        for k in range(1, MAX_LOOKBACK_DAYS + 1):
            missing = ~np.isfinite(out)
            if not missing.any():
                break
            out[missing] = grid.row(day - dt.timedelta(days=k))[missing]
        return out


@register
class Weekday(GridBaseline):
    """Same slot and weekday one week earlier (two weeks where one is unknown)."""

    name = "weekday"
    description = "same period and weekday one week earlier"

    def slots(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        out = grid.row(day - dt.timedelta(days=7))
        missing = ~np.isfinite(out)
        out[missing] = grid.row(day - dt.timedelta(days=14))[missing]
        return out


@register
class ExponentialMean(GridBaseline):
    """Exponentially weighted mean of the same slot over the last 28 days (half-life 4 days)."""

    name = "ewm"
    description = "exponentially weighted mean of the same period, half-life 4 days over 28"
    days = 28
    half_life_days = 4.0

    def slots(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        return ewm_slots(grid, day, self.days, self.half_life_days)


def ewm_slots(grid: DayGrid, day: dt.date, days: int, half_life_days: float) -> np.ndarray:
    """Per slot, the mean of the ``days`` days before ``day`` weighted ``0.5 ** ((k - 1) / half_life)``
    for ``k`` days back (unknown values left out; NaN where none is known)."""
    lags = grid.rows([day - dt.timedelta(days=k) for k in range(1, days + 1)])
    weight = 0.5 ** (np.arange(days) / half_life_days)[:, None] * np.isfinite(lags)
    total = weight.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.nansum(np.nan_to_num(lags) * weight, axis=0) / total, np.nan)


@register
class RollingMean(GridBaseline):
    """Mean of the same slot over the last ``days`` earlier days known (default 7)."""

    name = "rolling_mean"
    description = "mean of the same period over the last 7 days known"
    days = 7

    def slots(self, grid: DayGrid, day: dt.date) -> np.ndarray:
        lags = np.vstack([grid.row(day - dt.timedelta(days=k)) for k in range(1, self.days + 2)])
        known = np.isfinite(lags)
        use = known & (np.cumsum(known, axis=0) <= self.days)
        with np.errstate(invalid="ignore"):
            return np.where(use, lags, 0.0).sum(axis=0) / use.sum(axis=0)
