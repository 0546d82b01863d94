"""Features of the model forecasters, on the (trading day x slot) grid.

For a day ``d`` (a training day, or the day to forecast), all known at the gate closure before ``d``
(:mod:`market.forecasting.information`):

- lagged DA prices of the same slot on days ``d - k`` for ``k`` in :data:`LAGS`, their
  exponentially weighted mean over 28 days (``da_ewm``, the ``ewm`` baseline), and the level and
  range of ``d - 1`` (daily mean, min, max);
- every exogenous column at the slot of ``d`` and its daily mean (day-ahead forecasts of load, PV,
  wind...), and the net load ``load - pv - wind`` when those columns exist;
- calendar: weekday, public holiday, working day (adjusted working days included).

Days are rows of a "day table" of per-slot arrays; :func:`stacked` turns it into one row per (day, slot)
for tree models, :func:`wide` into one row per day (hourly means of each per-slot block) for the
per-period linear model.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from market.forecasting.baselines import ewm_slots
from market.forecasting.calendar_features import calendar_frame
from market.forecasting.information import Known

LAGS = (1, 2, 3, 7)
"""Days back of the lagged DA prices."""

NET_LOAD = ("load_forecast_mw", "pv_forecast_mw", "wind_forecast_mw")
"""Columns whose ``load - pv - wind`` is added as ``net_load_mw`` when all are present."""


@dataclass(frozen=True)
class DayTable:
    """Per-slot feature blocks of some days.

    Attributes
    ----------
    days : list of datetime.date
    blocks : dict[str, np.ndarray]
        Name -> (days x slots) values (NaN where unknown).
    daily : pd.DataFrame
        One row per day: calendar and daily aggregates.
    """

    days: list[dt.date]
    blocks: dict[str, np.ndarray]
    daily: pd.DataFrame


def day_table(known: Known, days: list[dt.date]) -> DayTable:
    """Features of ``days`` (each as known at its own gate closure; see the module docstring)."""
    da = known.grid("da_price")
    blocks: dict[str, np.ndarray] = {}
    for k in LAGS:
        blocks[f"da_lag{k}"] = da.rows([d - dt.timedelta(days=k) for d in days])
    blocks["da_ewm"] = np.vstack([ewm_slots(da, d, 28, 4.0) for d in days])
    exo = [c for c in known.exogenous]
    for col in exo:
        grid = known.grid(col)
        blocks[col] = grid.rows(days)
    if all(c in blocks for c in NET_LOAD):
        blocks["net_load_mw"] = blocks[NET_LOAD[0]] - blocks[NET_LOAD[1]] - blocks[NET_LOAD[2]]
    daily = calendar_frame(days, known.market).astype(float)
    with np.errstate(all="ignore"):
        lag1 = blocks["da_lag1"]
        daily["da_lag1_mean"] = _nan_reduce(np.nanmean, lag1)
        daily["da_lag1_min"] = _nan_reduce(np.nanmin, lag1)
        daily["da_lag1_max"] = _nan_reduce(np.nanmax, lag1)
        for name, values in blocks.items():
            if not name.startswith("da_"):
                daily[f"{name}_mean"] = _nan_reduce(np.nanmean, values)
    return DayTable(list(days), blocks, daily)


def _nan_reduce(fn, values: np.ndarray) -> np.ndarray:
    out = np.full(values.shape[0], np.nan)
    ok = np.isfinite(values).any(axis=1)
    if ok.any():
        out[ok] = fn(values[ok], axis=1)
    return out


def stacked(table: DayTable) -> pd.DataFrame:
    """One row per (day, slot): each block's value at the slot, the day's aggregates, ``slot``."""
    n_days = len(table.days)
    n_slots = next(iter(table.blocks.values())).shape[1]
    data = {name: values.reshape(-1) for name, values in table.blocks.items()}
    for name in table.daily.columns:
        data[name] = np.repeat(table.daily[name].to_numpy(dtype=float), n_slots)
    data["slot"] = np.tile(np.arange(n_slots, dtype=float), n_days)
    return pd.DataFrame(data)


def wide(table: DayTable, groups: int = 24) -> np.ndarray:
    """One row per day: the ``groups`` (hourly) means of each block, the daily columns, weekday dummies."""
    parts = []
    for values in table.blocks.values():
        n_slots = values.shape[1]
        g = groups if n_slots % groups == 0 else n_slots
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN groups stay NaN
            parts.append(np.nanmean(values.reshape(len(values), g, n_slots // g), axis=2))
    daily = table.daily.drop(columns=["weekday"]).to_numpy(dtype=float)
    weekday = np.eye(7)[table.daily["weekday"].to_numpy(dtype=int)]
    return np.hstack([*parts, daily, weekday])
