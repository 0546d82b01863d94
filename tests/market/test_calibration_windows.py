"""Calibration-window averaging of the LightGBM members (market/forecasting/windows.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from market.calendar import gate_closure, trading_day_index
from market.forecasting.features import day_table, stacked
from market.forecasting.information import History
from market.forecasting.models import MIN_DAYS, LightGbm
from market.forecasting.ranking import LightGbmRank
from market.forecasting.windows import WindowRows, fit_per_window, window_lengths
from tests.market.test_forecasting import hourly_shanghai

MEMBERS = {"lgbm": LightGbm, "lgbm_rank": LightGbmRank}


def windowed(base: type, windows: tuple[int | None, ...]) -> type:
    """``base`` with other calibration windows."""
    return type(f"{base.__name__}Windows", (base,), {"calibration_windows": windows})


def test_window_lengths_cut_to_the_history_and_skip_short_windows():
    assert window_lengths(200, (28, 56, 112, None), MIN_DAYS) == [28, 56, 112, 200]
    # 40 known days: the longer windows are the whole history, each still counted in the mean
    assert window_lengths(40, (28, 56, 112, None), MIN_DAYS) == [28, 40, 40, 40]
    assert window_lengths(40, (7, 28), MIN_DAYS) == [28]  # 7 days < MIN_DAYS (14): skipped
    assert window_lengths(10, (28, None), MIN_DAYS) == []  # too little history: none left


def test_window_rows_are_the_last_days_of_the_longest_table_finite_targets_only():
    x = pd.DataFrame({"f": np.arange(8.0)})  # 4 days x 2 slots, oldest first
    target = np.array([0.0, 1, 2, np.nan, 4, 5, 6, 7])
    rows = WindowRows(x, target, n_slots=2)
    xs, ys = rows.last(2)
    np.testing.assert_array_equal(xs["f"], [4, 5, 6, 7])
    np.testing.assert_array_equal(ys, [4, 5, 6, 7])
    xs, ys = rows.last(3)  # day 2's second slot has no target: left out
    np.testing.assert_array_equal(xs["f"], [2, 4, 5, 6, 7])
    np.testing.assert_array_equal(ys, [2, 4, 5, 6, 7])
    with pytest.raises(ValueError, match="5 days asked, 4 in the table"):
        rows.last(5)
    calls = []
    assert fit_per_window([28, 40, 40], lambda n: calls.append(n) or (lambda: n * 10)) == [280, 400, 400]
    assert calls == [28, 40]  # equal windows share one fit


def test_a_short_window_sliced_from_the_longest_table_is_that_window_built_alone():
    # the rows of a day do not depend on the other days of the table: slicing is exact
    frame, market = hourly_shanghai(60)
    known = History(frame, market).known(dt.date(2024, 4, 28))
    history = known.history_days
    assert history[-1] == dt.date(2024, 4, 27)  # days before D only
    longest = stacked(day_table(known, history))
    alone = stacked(day_table(known, history[-28:]))
    target = known.grid("da_price").rows(history).reshape(-1)
    xs, ys = WindowRows(longest, target, 24).last(28)
    np.testing.assert_array_equal(xs.to_numpy(), alone.to_numpy())
    np.testing.assert_array_equal(ys, known.grid("da_price").rows(history[-28:]).reshape(-1))


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_the_forecast_is_the_mean_of_the_single_window_fits(name):
    # 36 days known before 2024-04-06: windows 28, 56, 112, all -> 28, 36, 36, 36 days, so the
    # forecast is (f28 + 3 f36) / 4 of the fits on the last 28 days and on all 36.
    frame, market = hourly_shanghai(40)
    known = History(frame, market).known(dt.date(2024, 4, 6))
    assert len(known.history_days) == 36
    base = MEMBERS[name]
    f28 = windowed(base, (28,))().forecast(known)
    f36 = windowed(base, (None,))().forecast(known)
    averaged = base().forecast(known)
    assert not np.allclose(f28.point, f36.point)  # the windows' fits differ
    np.testing.assert_allclose(averaged.point, (f28.point + 3 * f36.point) / 4, rtol=0, atol=1e-9)
    # quantiles stay those of the main (112-day, here all 36 days) window's models
    for q, values in averaged.quantiles.items():
        if name == "lgbm":
            np.testing.assert_array_equal(values, f36.quantiles[q])
        else:  # the point plus the main model's residual quantiles
            np.testing.assert_allclose(values - averaged.point, f36.quantiles[q] - f36.point, atol=1e-9)


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_short_histories_skip_windows(name):
    frame, market = hourly_shanghai(25)
    history = History(frame, market)
    base = MEMBERS[name]
    # 20 known days: the 7-day window (< MIN_DAYS) is skipped, the forecast is the 20-day fit's
    known = history.known(dt.date(2024, 3, 21))
    assert len(known.history_days) == 20
    np.testing.assert_array_equal(
        windowed(base, (7, None))().forecast(known).point, windowed(base, (None,))().forecast(known).point
    )
    # 10 known days: every window is skipped, persistence (yesterday's prices)
    known = history.known(dt.date(2024, 3, 11))
    yesterday = frame.loc[trading_day_index(market, dt.date(2024, 3, 10)), "da_price"].to_numpy()
    np.testing.assert_allclose(base().forecast(known).point, yesterday)


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_no_look_ahead_with_windows_that_differ(name):
    # 57 known days: windows of 28, 56, 57, 57 days. Perturbing everything not known at the closure
    # (DA from D on, RT from the closure, features after D) changes nothing; a known day does.
    frame, market = hourly_shanghai(60)
    day = dt.date(2024, 4, 27)
    start, closure = trading_day_index(market, day)[0], gate_closure(market, day)
    future = frame.copy()
    future.loc[future.index >= start, "da_price"] += 300.0
    future.loc[future.index >= closure, "rt_price"] += 300.0
    future.loc[future.index >= start + pd.Timedelta(days=1), "load_mw"] *= 3
    base = MEMBERS[name]().forecast(History(frame, market).known(day))
    other = MEMBERS[name]().forecast(History(future, market).known(day))
    np.testing.assert_array_equal(base.point, other.point)
    # a day only the 56- and 57-day windows see (the first of the 57) changes the forecast
    early = frame.copy()
    first = trading_day_index(market, dt.date(2024, 3, 1))
    early.loc[first, "da_price"] += 200.0 * np.sin(np.arange(len(first)))
    moved = MEMBERS[name]().forecast(History(early, market).known(day))
    assert not np.array_equal(moved.point, base.point)
