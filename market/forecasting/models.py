"""Model forecasters from well-kept libraries, on the features of :mod:`market.forecasting.features`.

``lear``
    LEAR-style (Lago et al. 2021): one L1-regularised linear model per hour of the day, fitted on
    the hour's daily mean (the slots of the hour share it, each with its mean offset;
    scikit-learn ``LassoLarsIC``, BIC picks each hour's penalty) on hourly means of the lagged
    prices and exogenous forecasts plus calendar dummies. Prices enter and leave through the
    variance-stabilising ``asinh`` of their median/MAD-normalised values. Window: the last 112
    days.
``ridge``
    Ridge regression (scikit-learn ``RidgeCV``, efficient leave-one-out choice of the penalty) on
    one row per (day, slot) with hour-of-day and weekday effects: the slot's recent prices
    (exponentially weighted mean, lags 1, 2, 3, 7 days), the exogenous forecasts at the slot and
    their daily means, calendar. Window: the last ``window_days`` (56) days: fast, and it follows
    the season.
``lgbm``
    LightGBM gradient boosting on the same (day, slot) rows: the point forecast is the mean of L2
    models fitted on the last 28, 56, 112 days and all known history (calibration-window
    averaging, :mod:`market.forecasting.windows`); quantile models (:data:`QUANTILES`) on the
    112-day window give the spread, sorted so quantiles never cross (fitted only once a forecast
    asks for quantiles: :class:`QuantileModels`). The fits of a refit run concurrently
    (:mod:`market.forecasting.threads`).

Quantiles of ``lear`` and ``ridge``: the point forecast plus the empirical quantiles of the recent
in-sample residuals per slot. Each is refitted every ``refit_days`` days; a model fitted at an
earlier closure knew less, so reusing it never looks ahead.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import partial
from typing import ClassVar

import numpy as np
import pandas as pd

from market.forecasting.base import DayForecast, Forecaster, register
from market.forecasting.features import DayTable, day_table, stacked, wide
from market.forecasting.grid import to_periods
from market.forecasting.information import Known
from market.forecasting.threads import run_all
from market.forecasting.windows import (
    CALIBRATION_WINDOWS,
    WindowRows,
    clipped_mean,
    fit_per_window,
    window_lengths,
)

MIN_DAYS = 14
"""Fewer complete history days than this: the model falls back to persistence."""

QUANTILES = (0.1, 0.5, 0.9)


def threadpool_limits(limit: int):
    """``threadpoolctl.threadpool_limits`` (installed with scikit-learn, the ``forecast`` extra),
    imported when a model runs so the baselines need neither."""
    from threadpoolctl import threadpool_limits as limits

    return limits(limit)


def _targets(known: Known, days: list[dt.date], column: str) -> np.ndarray:
    return known.grid(column).rows(days)


class _Fallback(Forecaster):
    """Shared: too little history -> persistence."""

    def _persistence(self, known: Known, quantiles: bool) -> DayForecast:
        from market.forecasting.baselines import Persistence

        return Persistence(self.column).predict(known, quantiles=quantiles)


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


def _one_hot(codes: np.ndarray, n: int) -> np.ndarray:
    return np.eye(n)[np.asarray(codes, dtype=int)]


class _Standardised:
    """Column means (to impute NaN) and standard deviations of a design matrix."""

    def __init__(self, x: np.ndarray) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(x, axis=0)
        self.mean = np.where(np.isfinite(mean), mean, 0.0)
        std = np.where(np.isfinite(x), x, self.mean).std(axis=0)
        self.std = np.where(std < 1e-9, 1.0, std)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (np.where(np.isfinite(x), x, self.mean) - self.mean) / self.std


@register
class Lear(_Fallback):
    """LEAR: L1-regularised linear model per hour of the day, penalty by AIC (``LassoLarsIC``)."""

    name = "lear"
    description = "LASSO per hour of the day (LassoLarsIC, BIC): lagged prices, exogenous forecasts, calendar"
    refit_days = 7
    window_days = 112

    def _fit(self, known: Known) -> None:
        from sklearn.linear_model import LassoLarsIC

        days = known.history_days[-self.window_days :]
        self.coef = None
        if len(days) < MIN_DAYS:
            return
        y = _targets(known, days, self.column)
        x = wide(day_table(known, days))
        self.scaler = _AsinhScaler(y)
        self.standard = _Standardised(x)
        xs = self.standard(x)
        z = self.scaler.forward(y)
        self.z_range = (np.nanmin(z, axis=0), np.nanmax(z, axis=0))
        n_slots = y.shape[1]
        groups = _hour_groups(n_slots)
        self.coef = np.zeros((xs.shape[1] + 1, n_slots))
        fitted = np.zeros_like(y)
        with warnings.catch_warnings(), threadpool_limits(1):
            warnings.simplefilter("ignore")
            for g in range(groups.count):
                # One sample per day (the hour's mean): the slots of an hour share the day's
                # features, so stacking them would fake 4x the evidence and AIC/BIC would overfit.
                cols = np.arange(g * groups.per, (g + 1) * groups.per)
                hourly = np.nanmean(z[:, cols], axis=1)
                ok = np.isfinite(hourly)
                model = LassoLarsIC(criterion="bic", noise_variance=_noise_variance(xs[ok], hourly[ok]))
                model.fit(xs[ok], hourly[ok])
                offset = np.nanmean(z[:, cols] - hourly[:, None], axis=0)  # each slot within its hour
                self.coef[:-1, cols] = model.coef_[:, None]
                self.coef[-1, cols] = model.intercept_ + offset
                fitted[:, cols] = self.scaler.inverse(xs @ self.coef[:-1, cols] + self.coef[-1, cols])
        self.n_features = xs.shape[1]
        self.residual_q = np.nanquantile((y - fitted)[-56:], QUANTILES, axis=0)

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        if self.coef is None:
            return self._persistence(known, quantiles)
        xs = self.standard(wide(day_table(known, [known.day])))
        z = xs @ self.coef[: self.n_features] + self.coef[self.n_features]
        # sinh explodes outside the range it was fitted on: stay within the training range.
        by_slot = self.scaler.inverse(np.clip(z, self.z_range[0], self.z_range[1]))[0]
        return _with_residual_quantiles(known, by_slot, self.residual_q if quantiles else None)


def _noise_variance(x: np.ndarray, y: np.ndarray) -> float | None:
    """None (scikit-learn's OLS estimate) with more samples than features, else the residual
    variance of a ridge fit (LassoLarsIC needs one to compute AIC when ``n <= p``)."""
    if x.shape[0] > x.shape[1] + 1:
        return None
    from sklearn.linear_model import RidgeCV

    residual = y - RidgeCV(alphas=np.logspace(-1, 4, 11)).fit(x, y).predict(x)
    return max(float(np.var(residual)), 1e-6 * max(float(np.var(y)), 1e-12))


class _HourGroups:
    def __init__(self, count: int, per: int) -> None:
        self.count, self.per = count, per


def _hour_groups(n_slots: int) -> _HourGroups:
    """Slots grouped by hour of the day (one group per slot when the day has no 24 equal hours)."""
    if n_slots % 24 == 0:
        return _HourGroups(24, n_slots // 24)
    return _HourGroups(n_slots, 1)


def _with_residual_quantiles(known: Known, by_slot: np.ndarray, residual_q: np.ndarray | None) -> DayForecast:
    """The point ``by_slot`` (per slot, yuan/MWh) and, unless ``residual_q`` is None, the point plus
    each of the residual quantiles (shape (len(QUANTILES), slots)), sorted per slot."""
    point = to_periods(by_slot, known.target, known.market)
    if residual_q is None:
        return DayForecast(point)
    levels = np.sort(by_slot[None, :] + residual_q, axis=0)
    return DayForecast(
        point, {q: to_periods(levels[i], known.target, known.market) for i, q in enumerate(QUANTILES)}
    )


@register
class Ridge(_Fallback):
    """Ridge regression on (day, period) rows with period-of-day effects (``RidgeCV``)."""

    name = "ridge"
    description = (
        "ridge on (day, period) rows with hour-of-day effects: recent and lagged prices of the period, "
        "exogenous forecasts, calendar"
    )
    refit_days = 7
    window_days = 56

    def _design(self, table: DayTable) -> np.ndarray:
        frame = stacked(table)
        slot = frame.pop("slot").to_numpy(dtype=int)
        weekday = frame.pop("weekday").to_numpy(dtype=int)
        n_slots = next(iter(table.blocks.values())).shape[1]
        hour = slot * _hour_groups(n_slots).count // n_slots
        return np.hstack(
            [frame.to_numpy(dtype=float), _one_hot(weekday, 7), _one_hot(hour, _hour_groups(n_slots).count)]
        )

    def _fit(self, known: Known) -> None:
        from sklearn.linear_model import RidgeCV

        days = known.history_days[-self.window_days :]
        self.model = None
        if len(days) < MIN_DAYS:
            return
        y = _targets(known, days, self.column)
        x = self._design(day_table(known, days))
        self.standard = _Standardised(x)
        target = y.reshape(-1)
        ok = np.isfinite(target)
        with threadpool_limits(1):
            self.model = RidgeCV(alphas=np.logspace(-1, 4, 11)).fit(self.standard(x)[ok], target[ok])
            fitted = self.model.predict(self.standard(x)).reshape(y.shape)
        self.residual_q = np.nanquantile((y - fitted)[-28:], QUANTILES, axis=0)

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        if self.model is None:
            return self._persistence(known, quantiles)
        x = self.standard(self._design(day_table(known, [known.day])))
        with threadpool_limits(1):
            by_slot = self.model.predict(x)
        return _with_residual_quantiles(known, by_slot, self.residual_q if quantiles else None)


@register
class LightGbm(_Fallback):
    """LightGBM on (day, slot) rows: L2 point models averaged over calibration windows, quantile models.

    Attributes
    ----------
    calibration_windows : tuple of int or None
        Trailing windows (days; ``None`` = all known history) of the point models; the point
        forecast is the mean of their forecasts (yuan/MWh). A window with fewer than
        :data:`MIN_DAYS` days is skipped; none left: persistence. See
        :mod:`market.forecasting.windows` (Marcjasz, Serafin, Weron, Energies 2018, 11(9), 2364).
    window_days : int
        The quantile models' window (days).
    """

    name = "lgbm"
    description = (
        "LightGBM per (day, period): lagged prices, exogenous forecasts, calendar; "
        "point = mean of fits on the last 28/56/112 days and all history; quantiles"
    )
    refit_days = 7
    window_days = 112
    calibration_windows: ClassVar[tuple[int | None, ...]] = CALIBRATION_WINDOWS
    params: ClassVar[dict] = {
        "n_estimators": 200,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 40,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "n_jobs": 1,
        # row-wise histograms: LightGBM otherwise times both layouts at every fit; on these small
        # tables row-wise is the faster one, and the forecasts are bit-identical (bench/RESULTS.md)
        "force_row_wise": True,
        "verbose": -1,
        "random_state": 0,
    }

    def _fit(self, known: Known) -> None:
        import lightgbm as lgb

        history = known.history_days
        lengths = window_lengths(len(history), self.calibration_windows, MIN_DAYS)
        self.point_models = self.quantile_models = None
        if not lengths:
            return
        main = min(self.window_days, len(history))
        days = history[-max(*lengths, main) :]
        y = _targets(known, days, self.column)
        rows = WindowRows(stacked(day_table(known, days)), y.reshape(-1), y.shape[1])
        with threadpool_limits(1):  # in the calling thread: the limit is process-wide, not per thread
            self.point_models = fit_per_window(
                lengths, lambda n: partial(lgb.LGBMRegressor(**self.params).fit, *rows.last(n))
            )
        self.quantile_models = QuantileModels(*rows.last(main), {**self.params, "n_estimators": 100})

    def predict(self, known: Known, *, quantiles: bool = True) -> DayForecast:
        if self.point_models is None:
            return self._persistence(known, quantiles)
        x = stacked(day_table(known, [known.day]))
        by_slot = clipped_mean([m.predict(x) for m in self.point_models], known.market)
        point = to_periods(by_slot, known.target, known.market)
        if not quantiles:
            return DayForecast(point)
        models = self.quantile_models.fitted()
        qs = np.sort(np.vstack([models[q].predict(x) for q in QUANTILES]), axis=0)
        return DayForecast(
            point, {q: to_periods(qs[i], known.target, known.market) for i, q in enumerate(QUANTILES)}
        )


class QuantileModels:
    """``lgbm``'s quantile models (:data:`QUANTILES`) of one fit, fitted when first asked for.

    A forecast asked for its point only never fits them. The training rows are kept until then
    (the main window's, 112 days: about 2 MB with the bundled file's features) and dropped after,
    or with the fit at the next refit; the fitted models are kept with the fit.

    Parameters
    ----------
    x : pd.DataFrame
        Training features, one row per (day, slot).
    target : np.ndarray
        The price (yuan/MWh) of each row.
    params : dict
        ``LGBMRegressor`` parameters (the objective and level are added per quantile).
    """

    def __init__(self, x: pd.DataFrame, target: np.ndarray, params: dict) -> None:
        self._rows: tuple[pd.DataFrame, np.ndarray] | None = (x, target)
        self._params = params
        self._models: dict[float, object] | None = None

    @property
    def is_fitted(self) -> bool:
        """Whether the models have been fitted."""
        return self._models is not None

    def fitted(self) -> dict:
        """Level -> fitted ``LGBMRegressor``; fitted now (concurrently) if not yet."""
        if self._models is None:
            import lightgbm as lgb

            x, target = self._rows
            with threadpool_limits(1):
                fits = run_all([
                    partial(lgb.LGBMRegressor(objective="quantile", alpha=q, **self._params).fit, x, target)
                    for q in QUANTILES
                ])
            self._models, self._rows = dict(zip(QUANTILES, fits, strict=True)), None
        return self._models
