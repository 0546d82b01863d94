"""``lgbm_rank``: LightGBM predicts the *order* of the day's prices; ``ewm`` gives their levels.

A forecast earns through the order of the day's prices (when the fleet charges and discharges),
not their level or amplitude: on the developers' holdout, ``ewm``'s own values re-ordered by each
day's realised ranks keep 0.97 of the physical DA optimum, ``ewm`` itself 0.61
(``bench/RESULTS.md``). So this model learns the order directly:

- target: each period's within-day percentile rank of the DA price (0-1], one row per (day, slot)
  over the last 112 days, so a spike day weighs no more than a calm one;
- features: those of ``lgbm`` (:func:`market.forecasting.features.stacked`) plus the within-day
  percentile rank of every per-slot block (the lagged prices' ranks, the rank of the day's net
  load, PV and wind forecasts): the order of the drivers, on the same scale as the target;
- forecast: the sorted values of the day's ``ewm`` profile (of the forecast column) placed in the
  predicted order (:func:`place_in_order`): the highest predicted rank gets ``ewm``'s highest value.

LightGBM's settings are ``lgbm``'s (nothing tuned here); refitted every 7 days like ``lgbm``.
Quantiles: the point plus the empirical quantiles, per slot, of the last 56 days' in-sample
residuals (``ewm`` of each training day placed in that day's fitted order), as ``ridge`` and
``lear`` do.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from market.forecasting.base import DayForecast, register
from market.forecasting.baselines import ExponentialMean, ewm_slots
from market.forecasting.features import DayTable, day_table, stacked
from market.forecasting.information import Known
from market.forecasting.models import (
    MIN_DAYS,
    QUANTILES,
    LightGbm,
    _Fallback,
    _targets,
    _with_residual_quantiles,
    threadpool_limits,
)

RESIDUAL_DAYS = 56
"""Training days whose in-sample residuals give the quantiles."""


def within_day_ranks(values: np.ndarray) -> np.ndarray:
    """Percentile rank of each value within its row (day), in (0, 1]; ties share their mean rank,
    NaN stays NaN (``pandas.DataFrame.rank(axis=1, pct=True)``).

    Parameters
    ----------
    values : np.ndarray
        Shape (days, slots).
    """
    return pd.DataFrame(values).rank(axis=1, pct=True).to_numpy(dtype=float)


def place_in_order(levels: np.ndarray, score: np.ndarray) -> np.ndarray:
    """The values of ``levels`` re-ordered so that they rank as ``score`` does.

    The k-th smallest score gets the k-th smallest level (ties of ``score`` keep their slot order).
    E.g. ``levels = [10, 30, 20]``, ``score = [0.9, 0.1, 0.5]`` -> ``[30, 10, 20]``.

    Parameters
    ----------
    levels : np.ndarray
        Shape (slots,): the day's price levels (yuan/MWh), in any order.
    score : np.ndarray
        Shape (slots,): a predicted rank (any monotone scale).
    """
    out = np.empty_like(levels, dtype=float)
    out[np.argsort(score, kind="stable")] = np.sort(levels)
    return out


def rank_features(table: DayTable) -> pd.DataFrame:
    """:func:`stacked` rows plus ``<block>_rank``: each per-slot block's within-day percentile rank."""
    frame = stacked(table)
    for name, values in table.blocks.items():
        frame[f"{name}_rank"] = within_day_ranks(values).reshape(-1)
    return frame


def _ewm_levels(known: Known, days: list[dt.date], column: str) -> np.ndarray:
    """The ``ewm`` forecast of ``column`` per day and slot (days x slots), as each day's own
    ``ewm`` sees it; unknown slots take the day's mean (0 when nothing is known)."""
    grid = known.grid(column)
    ewm = ExponentialMean
    levels = np.vstack([ewm_slots(grid, d, ewm.days, ewm.half_life_days) for d in days])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a day with nothing known: mean of nothing
        row_mean = np.nan_to_num(np.nanmean(levels, axis=1, keepdims=True))
    return np.where(np.isfinite(levels), levels, row_mean)


@register
class LightGbmRank(_Fallback):
    """LightGBM on within-day price ranks; ``ewm``'s values placed in the predicted order."""

    name = "lgbm_rank"
    description = (
        "LightGBM predicts each period's within-day price rank (features and their within-day ranks); "
        "ewm's values placed in that order"
    )
    refit_days = LightGbm.refit_days
    window_days = LightGbm.window_days
    params = LightGbm.params

    def _fit(self, known: Known) -> None:
        import lightgbm as lgb

        days = known.history_days[-self.window_days :]
        self.model = None
        if len(days) < MIN_DAYS:
            return
        table = day_table(known, days)
        x = rank_features(table)
        y = _targets(known, days, self.column)
        target = within_day_ranks(y).reshape(-1)
        ok = np.isfinite(target)
        with threadpool_limits(1):
            self.model = lgb.LGBMRegressor(**self.params).fit(x.loc[ok], target[ok])
            score = self.model.predict(x).reshape(y.shape)
        levels = _ewm_levels(known, days, self.column)
        fitted = np.vstack([place_in_order(lv, s) for lv, s in zip(levels, score, strict=True)])
        self.residual_q = np.nanquantile((y - fitted)[-RESIDUAL_DAYS:], QUANTILES, axis=0)

    def predict(self, known: Known) -> DayForecast:
        if self.model is None:
            return self._persistence(known)
        table = day_table(known, [known.day])
        with threadpool_limits(1):
            score = self.model.predict(rank_features(table))
        by_slot = place_in_order(_ewm_levels(known, [known.day], self.column)[0], score)
        return _with_residual_quantiles(known, by_slot, self.residual_q)
