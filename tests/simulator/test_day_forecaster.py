"""The backtest's memoised forecaster (simulator/forecasts.py): a day made point-only for one
strategy gets, when another asks for its quantiles later, those of the fit that made it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from market.forecasting.models import QUANTILES
from simulator.forecasts import DayForecaster
from tests.market.test_quantiles_on_demand import FIRST, assert_same, count_quantile_fits, gansu_february


@pytest.mark.parametrize("name", ["lgbm", "blend"])
def test_a_point_only_day_gets_its_own_fits_quantiles_after_a_refit(monkeypatch, name):
    # lgbm refits every 7 days: 02-20 is made by the fit of 02-20, 02-27 by the fit of 02-27. Asked
    # for 02-20's quantiles after 02-27 (another strategy, later), the answer is the 02-20 fit's.
    gansu, quantile_fits = gansu_february(), count_quantile_fits(monkeypatch)
    days = [FIRST + dt.timedelta(days=i) for i in range(8)]
    with_quantiles = DayForecaster(name, gansu, "gansu")
    want = {d: with_quantiles.day(d) for d in days}
    assert len(quantile_fits) == 2 * len(QUANTILES)  # two fits
    quantile_fits.clear()
    shared = DayForecaster(name, gansu, "gansu")
    for d in days:
        np.testing.assert_array_equal(shared.point(d), want[d].point)
    assert quantile_fits == []
    for d in (days[0], days[-1], days[3]):
        assert_same(shared.day(d), want[d])
    assert len(quantile_fits) == 2 * len(QUANTILES)  # once per fit, not per day
    np.testing.assert_array_equal(shared.point(days[-1] + dt.timedelta(days=1)),  # the walk goes on
                                  with_quantiles.point(days[-1] + dt.timedelta(days=1)))
    assert_same(shared.day(days[0]), want[days[0]])  # memoised, with its quantiles now
    np.testing.assert_array_equal(shared.point(days[0]), want[days[0]].point)
