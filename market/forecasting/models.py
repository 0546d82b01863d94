"""Model forecasters from well-kept libraries, on the features of :mod:`market.forecasting.features`.

``lear``
    LEAR-style (Lago et al. 2021): one L1-regularised linear model per slot of the day
    (scikit-learn ``LassoLarsIC``, AIC picks each slot's penalty) on hourly means of the lagged
    prices and exogenous forecasts plus calendar dummies. Prices enter and leave through the
    variance-stabilising ``asinh`` of their median/MAD-normalised values. Quantiles: the point
    forecast plus the empirical quantiles of the in-sample residuals per slot.
``ridge``
    The same design with an L2 penalty per slot (scikit-learn ``RidgeCV``, efficient
    leave-one-out choice of the penalty per slot): fast and stable on short histories.
``lgbm``
    LightGBM gradient boosting on one row per (day, slot): an L2 model for the point forecast and
    quantile models (:data:`QUANTILES`) for the spread, sorted so quantiles never cross.

Each is fitted on every complete day before D (up to :data:`WINDOW_DAYS`) and refitted every
``refit_days`` days; a model fitted at an earlier closure knew less, so reusing it never looks ahead.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import ClassVar

import numpy as np

from market.forecasting.base import DayForecast, Forecaster, register
from market.forecasting.features import day_table, stacked, wide
from market.forecasting.grid import to_periods
from market.forecasting.information import Known

WINDOW_DAYS = 364
"""Most recent days a model is fitted on."""

MIN_DAYS = 14
"""Fewer complete history days than this: the model falls back to persistence."""

QUANTILES = (0.1, 0.5, 0.9)


def _training_days(known: Known) -> list[dt.date]:
    return known.history_days[-WINDOW_DAYS:]


def _targets(known: Known, days: list[dt.date], column: str) -> np.ndarray:
    return known.grid(column).rows(days)


class _Fallback(Forecaster):
    """Shared: too little history -> persistence."""

    def _persistence(self, known: Known) -> DayForecast:
        from market.forecasting.baselines import Persistence

        return Persistence(self.column).predict(known)


class _AsinhScaler:
    """``z = asinh((p - median) / mad)`` and back (LEAR's variance-stabilising transform)."""

    def __init__(self, values: np.ndarray) -> None:
        finite = values[np.isfinite(values)]
        self.median = float(np.median(finite))
        mad = float(np.median(np.abs(finite - self.median))) * 1.4826
        self.mad = mad if mad > 1e-6 else 1.0

    def forward(self, p: np.ndarray) -> np.ndarray:
        return np.arcsinh((p - self.median) / self.mad)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.sinh(z) * self.mad + self.median


class _PerSlotLinear(_Fallback):
    """One linear model per slot on the daily (wide) design; subclasses choose the estimator."""

    refit_days = 7

    def _estimators(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Fitted coefficients (features+1, slots), intercept last."""
        raise NotImplementedError

    def _fit(self, known: Known) -> None:
        days = _training_days(known)
        self.coef = None
        if len(days) < MIN_DAYS:
            return
        y = _targets(known, days, self.column)
        x = wide(day_table(known, days))
        self.scaler = _AsinhScaler(y)
        self.mean = np.nanmean(x, axis=0)
        self.mean = np.where(np.isfinite(self.mean), self.mean, 0.0)
        x = np.where(np.isfinite(x), x, self.mean)
        self.std = x.std(axis=0)
        self.std[self.std < 1e-9] = 1.0
        xs = (x - self.mean) / self.std
        z = self.scaler.forward(y)
        self.coef = self._estimators(xs, z)
        fitted = self.scaler.inverse(np.hstack([xs, np.ones((len(xs), 1))]) @ self.coef)
        residuals = y - fitted
        self.residual_q = np.quantile(residuals[-56:], QUANTILES, axis=0)

    def predict(self, known: Known) -> DayForecast:
        if self.coef is None:
            return self._persistence(known)
        x = wide(day_table(known, [known.day]))
        x = np.where(np.isfinite(x), x, self.mean)
        xs = np.hstack([(x - self.mean) / self.std, np.ones((1, 1))])
        by_slot = self.scaler.inverse(xs @ self.coef)[0]
        point = to_periods(by_slot, known.target, known.market)
        quantiles = {
            q: to_periods(by_slot + self.residual_q[i], known.target, known.market)
            for i, q in enumerate(QUANTILES)
        }
        return DayForecast(point, quantiles)


@register
class Lear(_PerSlotLinear):
    """LEAR: L1-regularised linear model per slot, penalty by AIC (``LassoLarsIC``)."""

    name = "lear"
    description = "LASSO per period of the day (LassoLarsIC), lagged prices, exogenous forecasts, calendar"

    def _estimators(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import LassoLarsIC

        coef = np.zeros((x.shape[1] + 1, z.shape[1]))
        noise = float(np.var(z - z.mean(axis=0))) if len(z) <= x.shape[1] + 1 else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in range(z.shape[1]):
                model = LassoLarsIC(criterion="aic", noise_variance=noise).fit(x, z[:, s])
                coef[:-1, s] = model.coef_
                coef[-1, s] = model.intercept_
        return coef


@register
class Ridge(_PerSlotLinear):
    """Ridge per slot, penalty by efficient leave-one-out per slot (``RidgeCV``)."""

    name = "ridge"
    description = "ridge per period of the day (RidgeCV), lagged prices, exogenous forecasts, calendar"

    def _estimators(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import RidgeCV

        model = RidgeCV(alphas=np.logspace(-1, 4, 16), alpha_per_target=True).fit(x, z)
        return np.vstack([model.coef_.T, model.intercept_[None, :]])


@register
class LightGbm(_Fallback):
    """LightGBM on (day, slot) rows: L2 point model and quantile models."""

    name = "lgbm"
    description = "LightGBM per (day, period): lagged prices, exogenous forecasts, calendar; quantiles"
    refit_days = 7
    params: ClassVar[dict] = {
        "n_estimators": 300,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 40,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "n_jobs": 1,
        "verbose": -1,
        "random_state": 0,
    }

    def _fit(self, known: Known) -> None:
        import lightgbm as lgb

        days = _training_days(known)
        self.models = None
        if len(days) < MIN_DAYS:
            return
        x = stacked(day_table(known, days))
        y = _targets(known, days, self.column).reshape(-1)
        ok = np.isfinite(y)
        x, y = x.loc[ok], y[ok]
        self.models = {None: lgb.LGBMRegressor(**self.params).fit(x, y)}
        for q in QUANTILES:
            params = {**self.params, "n_estimators": 150}
            self.models[q] = lgb.LGBMRegressor(objective="quantile", alpha=q, **params).fit(x, y)

    def predict(self, known: Known) -> DayForecast:
        if self.models is None:
            return self._persistence(known)
        x = stacked(day_table(known, [known.day]))
        by_slot = self.models[None].predict(x)
        qs = np.sort(np.vstack([self.models[q].predict(x) for q in QUANTILES]), axis=0)
        point = to_periods(by_slot, known.target, known.market)
        return DayForecast(
            point, {q: to_periods(qs[i], known.target, known.market) for i, q in enumerate(QUANTILES)}
        )
