"""Rolling-origin evaluation of forecasters: errors and the money their forecasts earn when bid.

For each trading day D of the evaluation, in order, each forecaster forecasts D's DA price from
what was known at D-1's gate closure only (:mod:`market.forecasting.information`: rolling
origin, no look-ahead). Then, per forecaster:

- ``mae``, ``rmse``, ``bias`` of the point forecast against the realised DA price (yuan/MWh);
- ``value_yuan``: the portfolio's day schedule optimised at the forecast (from the portfolio's
  initial state, each day on its own), bid and delivered, settled at the realised DA price
  (the ``da_only`` position without state carried over);
- ``capture_da_optimum = (value - passive) / (da_optimum - passive)``: ``da_optimum`` is the same
  schedule optimised at the realised DA prices (the physical day-ahead optimum of each day),
  ``passive`` the position with no flexibility used (:mod:`simulator.passive`).

The forecaster with the highest ``capture_da_optimum`` on the developers' holdout is the default
(:data:`market.forecasting.run.DEFAULT_FORECASTER`; rule and figures in ``bench/RESULTS.md``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from market.calendar import period_hours, trading_day_index
from market.price_days import prices_for_day
from optimizer.solver import SolveOptions
from simulator.day_model import DayModels
from simulator.forecasts import DayForecaster
from simulator.metrics import capture_ratio, forecast_errors, settle
from simulator.passive import passive_revenue
from vpp.portfolio_io import LoadedPortfolio

COLUMNS = ("mae", "rmse", "bias", "value_yuan", "capture_da_optimum", "seconds")


def _day_value(models: DayModels, loaded: LoadedPortfolio, day: dt.date, price: np.ndarray,
               realised: pd.DataFrame) -> float:
    """Revenue (yuan) of the day schedule optimised at ``price``, delivered, at realised prices."""
    schedule = models.solve_arrays(day, price, {}, 0)
    index = trading_day_index(loaded.market, day)
    fleet = pd.DataFrame(
        {
            "bid_mw": schedule.net_mw,
            "actual_mw": schedule.net_mw,
            "dt_h": period_hours(index, loaded.market),
            "p_da": realised["da_price"].to_numpy(dtype=float),
            "p_rt": realised["rt_price"].to_numpy(dtype=float),
        },
        index=index,
    )
    return float(settle(fleet, loaded)["revenue"].sum())


def evaluate_forecasters(
    loaded: LoadedPortfolio,
    prices: pd.DataFrame,
    days: Sequence[dt.date],
    names: Sequence[str],
    *,
    features: pd.DataFrame | None = None,
    options: SolveOptions | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Evaluate ``names`` over ``days`` (module docstring).

    Returns
    -------
    (table, bounds)
        ``table``: one row per forecaster, columns :data:`COLUMNS`; ``bounds``:
        ``da_optimum_yuan`` and ``passive_yuan``.
    """
    days = list(days)
    models = DayModels(loaded, options)
    realised = {d: prices_for_day(prices, loaded.market, d) for d in days}
    optimum = sum(_day_value(models, loaded, d, realised[d]["da_price"].to_numpy(dtype=float), realised[d])
                  for d in days)
    passive = passive_revenue(loaded, prices, days)
    rows = {}
    for name in names:
        start = time.perf_counter()
        forecaster = DayForecaster(name, prices, loaded.market, features=features)
        points = [forecaster.point(d) for d in days]
        value = sum(_day_value(models, loaded, d, p, realised[d]) for d, p in zip(days, points, strict=True))
        actual = np.concatenate([realised[d]["da_price"].to_numpy(dtype=float) for d in days])
        rows[name] = {
            **forecast_errors(np.concatenate(points), actual),
            "value_yuan": round(value, 2),
            "capture_da_optimum": capture_ratio(value, optimum, passive),
            "seconds": round(time.perf_counter() - start, 2),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]
    table.index.name = "forecaster"
    return table, {"da_optimum_yuan": round(optimum, 2), "passive_yuan": round(passive, 2)}
