"""``lgbm_rank``: LightGBM predicts the *order* of the day's prices; ``ewm`` gives their levels.

A forecast earns through the order of the day's prices (when the fleet charges and discharges),
not their level or amplitude: on the developers' holdout, ``ewm``'s own values re-ordered by each
day's realised ranks keep 0.97 of the physical DA optimum, ``ewm`` itself 0.61
(``bench/RESULTS.md``). So this model learns the order directly:

- target: each period's within-day percentile rank of the DA price (0-1], one row per (day, slot),
  so a spike day weighs no more than a calm one;
- features: those of ``lgbm`` (:func:`market.forecasting.features.stacked`) plus the within-day
  percentile rank of every per-slot block (the lagged prices' ranks, the rank of the day's net
  load, PV and wind forecasts): the order of the drivers, on the same scale as the target;
- forecast: the sorted values of the day's ``ewm`` profile (of the forecast column) placed in the
  predicted order (:func:`place_in_order`): the highest predicted rank gets ``ewm``'s highest value.

LightGBM's settings and calibration windows are ``lgbm``'s (nothing tuned here): one model on each
of the last 28, 56, 112 days and all known history, the forecast the mean of the four placed
profiles (calibration-window averaging, :mod:`market.forecasting.windows`); refitted every 7 days
like ``lgbm``. Quantiles: the point plus the empirical quantiles, per slot, of the last 56 days'
in-sample residuals of the 112-day model (``ewm`` of each training day placed in that day's fitted
order), as ``ridge`` and ``lear`` do.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial

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
from market.forecasting.windows import WindowRows, clipped_mean, fit_per_window, window_lengths

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
    """LightGBM on within-day price ranks; ``ewm``'s values placed in the predicted order.

    The point forecast (yuan/MWh) is the mean over ``calibration_windows`` (``lgbm``'s: days,
    ``None`` = all known history; windows under :data:`MIN_DAYS` days skipped, none left:
    persistence) of ``ewm``'s values placed in each window's predicted order.
    """

    name = "lgbm_rank"
    description = (
        "LightGBM predicts each period's within-day price rank (features and their within-day ranks); "
        "ewm's values placed in that order; mean over fits on the last 28/56/112 days and all history"
    )
    refit_days = LightGbm.refit_days
    window_days = LightGbm.window_days
    calibration_windows = LightGbm.calibration_windows
    params = LightGbm.params

    def _fit(self, known: Known) -> None:
        import lightgbm as lgb

        history = known.history_days
        lengths = window_lengths(len(history), self.calibration_windows, MIN_DAYS)
        self.models = None
        if not lengths:
            return
        main = min(self.window_days, len(history))
        days = history[-max(*lengths, main) :]
        x = rank_features(day_table(known, days))
        y = _targets(known, days, self.column)
        rows = WindowRows(x, within_day_ranks(y).reshape(-1), y.shape[1])
        with threadpool_limits(1):  # in the calling thread: the limit is process-wide, not per thread
            fits = fit_per_window(
                [*lengths, main], lambda n: partial(lgb.LGBMRegressor(**self.params).fit, *rows.last(n))
            )
            self.models = fits[:-1]
            # residuals of the main-window model on its last RESIDUAL_DAYS training days
            n_res = min(main, RESIDUAL_DAYS)
            score = fits[-1].predict(x.iloc[-n_res * y.shape[1] :]).reshape(n_res, y.shape[1])
        levels = _ewm_levels(known, days[-n_res:], self.column)
        fitted = np.vstack([place_in_order(lv, s) for lv, s in zip(levels, score, strict=True)])
        self.residual_q = np.nanquantile(y[-n_res:] - fitted, QUANTILES, axis=0)

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        if self.models is None:
            return self._persistence(known, quantiles)
        x = rank_features(day_table(known, [known.day]))
        levels = _ewm_levels(known, [known.day], self.column)[0]
        with threadpool_limits(1):
            by_slot = clipped_mean([place_in_order(levels, m.predict(x)) for m in self.models], known.market)
        return _with_residual_quantiles(known, by_slot, self.residual_q if quantiles else None)
