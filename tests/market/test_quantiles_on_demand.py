"""Quantiles only when asked for: a point-only forecast fits no quantile models, a later request
gets the quantiles a forecast with them would have had (market/forecasting/base.py, models.py;
the backtest's memo: tests/simulator/test_day_forecaster.py)."""

from __future__ import annotations

import datetime as dt
import functools

import lightgbm
import numpy as np
import pandas as pd
import pytest

from market.forecasting.base import DayForecast
from market.forecasting.information import History
from market.forecasting.models import QUANTILES
from market.forecasting.run import get_forecaster
from market.prices import read_prices
from vpp.examples_paths import DEFAULT_PRICES

FIRST = dt.date(2024, 2, 20)
"""50 complete days known before it in the bundled Gansu file: windows of 28 and 50 days."""


@functools.cache
def gansu_february() -> pd.DataFrame:
    """The bundled real Gansu prices and exogenous forecasts up to 2024-02-29 (read once; do not
    change it)."""
    return read_prices(DEFAULT_PRICES, "gansu").loc[:"2024-02-29"]


def count_quantile_fits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The level of every LightGBM quantile model fitted from now on (``monkeypatch``'s lifetime)."""
    levels: list[float] = []
    fit = lightgbm.LGBMRegressor.fit

    def counted(self, *args, **kwargs):
        if self.objective == "quantile":
            levels.append(self.alpha)
        return fit(self, *args, **kwargs)

    monkeypatch.setattr(lightgbm.LGBMRegressor, "fit", counted)
    return levels


@pytest.fixture(scope="module")
def gansu() -> pd.DataFrame:
    return gansu_february()


@pytest.fixture
def quantile_fits(monkeypatch) -> list[float]:
    return count_quantile_fits(monkeypatch)


def assert_same(got: DayForecast, want: DayForecast) -> None:
    np.testing.assert_array_equal(got.point, want.point)
    assert sorted(got.quantiles) == sorted(want.quantiles)
    for q in want.quantiles:
        np.testing.assert_array_equal(got.quantiles[q], want.quantiles[q])


@pytest.mark.parametrize("name", ["lgbm", "blend"])
def test_a_point_only_forecast_fits_no_quantile_models_and_a_later_one_gets_them(gansu, quantile_fits, name):
    known = History(gansu, "gansu").known(FIRST)
    full = get_forecaster(name, "gansu").forecast(known)
    assert sorted(quantile_fits) == list(QUANTILES) and sorted(full.quantiles) == list(QUANTILES)
    quantile_fits.clear()
    model = get_forecaster(name, "gansu")
    point = model.forecast(known, quantiles=False)
    assert quantile_fits == [] and point.quantiles == {}
    np.testing.assert_array_equal(point.point, full.point)
    assert_same(model.forecast(known), full)  # the same fit, its quantile models fitted now, once
    assert sorted(quantile_fits) == list(QUANTILES)
    assert_same(model.forecast(known), full)
    assert len(quantile_fits) == len(QUANTILES)
