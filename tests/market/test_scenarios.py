"""Price scenarios: reproducible, weighted, from history only, keeping the day's shape."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from market.forecasting.run import forecast_day
from market.scenarios import PriceScenarios, forecast_errors, generate_scenarios, market_of
from vpp.errors import InputError

TZ = "Asia/Shanghai"


def history(days: int = 20, seed: int = 0) -> pd.DataFrame:
    """Hourly prices with a daily shape plus noise, ``days`` days before 2024-03-01."""
    index = pd.date_range("2024-03-01", periods=24 * days, freq="h", tz=TZ, name="timestamp")
    index = index - pd.Timedelta(days=days)
    rng = np.random.default_rng(seed)
    shape = 300 + 150 * np.sin(np.arange(len(index)) * 2 * np.pi / 24)
    da = shape + rng.normal(0, 30, len(index))
    rt = da + rng.normal(0, 60, len(index))
    return pd.DataFrame({"da_price": da, "rt_price": rt}, index=index)


TARGET = pd.date_range("2024-03-01", periods=24, freq="h", tz=TZ, name="timestamp")


def test_same_seed_same_scenarios_other_seed_other():
    h = history()
    a = generate_scenarios(h, TARGET, 8, seed=3)
    b = generate_scenarios(h, TARGET, 8, seed=3)
    c = generate_scenarios(h, TARGET, 8, seed=4)
    np.testing.assert_array_equal(a.da, b.da)
    np.testing.assert_array_equal(a.rt, b.rt)
    assert not np.array_equal(a.da, c.da)
    assert a.da.shape == (8, 24) and a.rt.shape == (8, 24)
    np.testing.assert_allclose(a.weight, np.full(8, 1 / 8))


def test_bootstrap_rows_are_whole_past_days_of_errors():
    # Whole-day blocks: every scenario is the forecast plus ONE past day's error curve (DA and RT).
    h = history()
    sc = generate_scenarios(h, TARGET, 6, seed=1)
    e_da, e_rt = forecast_errors(h, TARGET)
    f = forecast_day("persistence", h, market_of(TARGET), TARGET[0].date()).point
    for s in range(sc.n):
        d = np.flatnonzero(np.all(np.isclose(sc.da[s] - f, e_da), axis=1))
        assert d.size >= 1
        np.testing.assert_allclose(sc.rt[s] - f, e_rt[d[0]])


def test_scenarios_use_only_history_before_the_cutoff():
    h = history()
    future = pd.DataFrame({"da_price": 9999.0, "rt_price": 9999.0}, index=TARGET)
    with_future = pd.concat([h, future])
    cut = with_future.loc[with_future.index < TARGET[0]]
    np.testing.assert_array_equal(
        generate_scenarios(cut, TARGET, 5, seed=0).da, generate_scenarios(h, TARGET, 5, seed=0).da
    )


def test_quantile_scenarios_are_ordered_and_clipped():
    sc = generate_scenarios(history(), TARGET, 5, method="quantile", price_bounds=(0.0, 400.0))
    assert (np.diff(sc.da, axis=0) >= -1e-9).all()
    assert sc.da.min() >= 0.0 and sc.rt.max() <= 400.0


def test_block_bootstrap_and_errors():
    sc = generate_scenarios(history(), TARGET, 4, seed=0, block_periods=6)
    assert sc.da.shape == (4, 24)
    with pytest.raises(InputError):
        generate_scenarios(history(), TARGET, 0)
    with pytest.raises(InputError):
        generate_scenarios(history(), TARGET, 3, method="magic")
    with pytest.raises(InputError):
        PriceScenarios(TARGET, np.zeros((2, 24)), np.zeros((2, 24)), np.array([0.7, 0.7]))


def test_errors_are_those_of_the_forecaster_given():
    # Issue 17 item 7: scenarios spread by the chosen forecaster's own past errors. A forecaster
    # that always says 100 has errors realised - 100, by hand; ewm's differ from persistence's.
    h = history()
    e_da, e_rt = forecast_errors(h, TARGET, lambda day: np.full(24, 100.0), n_days=3)
    for k in range(3):
        day = TARGET - pd.Timedelta(days=k + 1)
        np.testing.assert_allclose(e_da[k], h.loc[day, "da_price"].to_numpy() - 100.0)
        np.testing.assert_allclose(e_rt[k], h.loc[day, "rt_price"].to_numpy() - 100.0)
    assert not np.allclose(forecast_errors(h, TARGET, "ewm")[0], forecast_errors(h, TARGET, "persistence")[0])
