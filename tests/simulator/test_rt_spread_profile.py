"""The RT forecast that fades the last spread into the trailing per-slot mean spread (issue 17):
the formula on a hand-made input, and no look-ahead in the replay that feeds it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from market.calendar import period_hours, trading_day_index
from market.prices import read_prices
from simulator.replay import replay
from simulator.rt_forecasts import (
    rt_forecast_decaying_spread,
    rt_forecast_spread_profile,
    trailing_spread_profile,
)
from simulator.strategies import STRATEGIES, RtView, Strategy
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

DAY = dt.date(2024, 6, 3)
FLEET = Path(__file__).resolve().parents[2] / "bench" / "data" / "fleet_three_batteries.yaml"


def _hand_made():
    """Day D (2024-06-03, 96 periods) and a history of D-2 and D-1 with known spreads."""
    index = trading_day_index("gansu", DAY)
    dt_h = period_hours(index, "gansu")
    slots = np.arange(96, dtype=float)
    rows = []
    for back, spread in ((2, 100.0 + 0 * slots), (1, slots)):  # D-2: +100 everywhere; D-1: slot number
        stamps = trading_day_index("gansu", DAY - dt.timedelta(days=back))
        rows.append(pd.DataFrame({"da_price": 300.0, "rt_price": 300.0 + spread}, index=stamps))
    history = pd.concat(rows)
    p_da = 250.0 + 10.0 * np.sin(slots / 10.0)
    return index, dt_h, history, p_da


@pytest.mark.parametrize(("days", "shrink"), [(28, 1.0), (1, 1.0), (28, 0.5)])
def test_forecast_is_the_formula_on_a_hand_made_day(days, shrink):
    index, dt_h, history, p_da = _hand_made()
    slots = np.arange(96, dtype=float)
    mean = (100.0 + slots) / 2 if days == 28 else slots  # days=1: D-1 alone
    k = 40
    rt_so_far = p_da[:k] + 7.0
    rt_so_far[k - 1] = p_da[k - 1] - 30.0  # the last observed spread: -30
    view = RtView(index, dt_h, k, p_da, rt_so_far, history=history)
    got = rt_forecast_spread_profile(view, days=days, shrink=shrink)
    ahead_h = (slots[k:] - k) * 0.25
    w = np.exp(-ahead_h / 1.0)
    expected = p_da.copy()
    expected[k:] += -30.0 * w + (1 - w) * shrink * mean[k:]
    np.testing.assert_allclose(got, expected, atol=1e-9)
    assert got[k] == pytest.approx(p_da[k] - 30.0)  # the next period: the last spread, in full
    np.testing.assert_allclose(trailing_spread_profile(history, index, days), mean, atol=1e-12)
    # at k = 0 no spread of D is known yet: the profile alone, fading in
    start = rt_forecast_spread_profile(RtView(index, dt_h, 0, p_da, p_da[:0], history=history), days=days)
    np.testing.assert_allclose(start, p_da + (1 - np.exp(-slots * 0.25)) * mean, atol=1e-9)
    # without a history it is the decaying spread alone
    bare = RtView(index, dt_h, k, p_da, rt_so_far)
    np.testing.assert_array_equal(rt_forecast_spread_profile(bare), rt_forecast_decaying_spread(bare))


def _curves(prices, loaded) -> dict[int, np.ndarray]:
    """The RT forecast at every period of DAY, as the replay feeds it to a ``da_rt``-like strategy."""
    seen: dict[int, np.ndarray] = {}

    def recorded(view: RtView) -> np.ndarray:
        price = rt_forecast_spread_profile(view)
        seen[view.k] = price
        return price

    strategy = Strategy("rec", "records its RT forecasts", STRATEGIES["da_rt"].da_price, recorded)
    replay(loaded, prices, [DAY], [strategy], forecast="persistence", progress=False)
    return seen


def test_no_look_ahead_future_rt_prices_do_not_change_it():
    loaded = load_portfolio(FLEET)
    prices = read_prices(DEFAULT_PRICES, loaded.market)
    base = _curves(prices, loaded)
    k0 = 50
    cut = trading_day_index(loaded.market, DAY)[k0]
    future = prices.copy()
    future.loc[future.index >= cut, "rt_price"] += 400.0  # period k0 of D onwards, and every later day
    moved = _curves(future, loaded)
    for k in range(k0 + 1):  # known at the start of k: RT prices before k only
        np.testing.assert_array_equal(moved[k], base[k])
    assert not np.array_equal(moved[k0 + 1], base[k0 + 1])  # the perturbation is seen once it is past
    # the trailing profile is learnt: moving yesterday's RT prices moves today's forecast at k = 0
    yesterday = prices.copy()
    start = trading_day_index(loaded.market, DAY)[0]
    day_before = (yesterday.index < start) & (yesterday.index >= start - pd.Timedelta(days=1))
    yesterday.loc[day_before, "rt_price"] += 56.0  # the 28-day mean of every slot moves by 2

    shifted = _curves(yesterday, loaded)
    assert shifted[0][1:] - base[0][1:] == pytest.approx(2.0 * (1 - np.exp(-np.arange(1, 96) * 0.25)))


def test_the_profile_is_computed_once_a_day(monkeypatch):
    import simulator.rt_forecasts as rt_forecasts

    index, dt_h, history, p_da = _hand_made()
    calls = []
    real = rt_forecasts.trailing_spread_profile
    monkeypatch.setattr(rt_forecasts, "trailing_spread_profile", lambda *a: calls.append(1) or real(*a))
    views = [RtView(index, dt_h, k, p_da, p_da[:k], history=history) for k in range(96)]
    first = [rt_forecast_spread_profile(v) for v in views]
    assert len(calls) == 1  # one day, one history: the 96 re-solves share it
    other = history.copy()  # the same day with other prices: computed again, not the kept one
    other["rt_price"] += 28.0
    moved = rt_forecast_spread_profile(RtView(index, dt_h, 0, p_da, p_da[:0], history=other))
    assert len(calls) == 2
    np.testing.assert_allclose(moved - first[0], 28.0 * (1 - np.exp(-np.arange(96) * 0.25)), atol=1e-9)


def test_da_rt_and_the_strategies_that_redispatch_like_it_use_it():
    for name in ("da_rt", "stochastic", "stochastic_curve", "stochastic_cvar"):
        assert STRATEGIES[name].rt_price is rt_forecast_spread_profile, name


def test_an_unknown_last_price_is_no_last_spread():
    # a live service may re-dispatch before period k-1's RT (or DA) price is in: the forecast is
    # then the one of no last spread (as at k = 0), not NaN
    index, dt_h, history, p_da = _hand_made()
    k = 40
    known = p_da[:k] + 7.0
    slots = np.arange(96, dtype=float)
    profile_only = p_da.copy()
    profile_only[k:] += (1 - np.exp(-(slots[k:] - k) * 0.25)) * trailing_spread_profile(history, index)[k:]
    no_rt = np.append(known[:-1], np.nan)  # RT of k-1 not in yet
    no_da = np.append(p_da[: k - 1], [np.nan, *p_da[k:]])  # DA of k-1 missing
    for rt_so_far, da in ((no_rt, p_da), (known, no_da)):
        view = RtView(index, dt_h, k, da, rt_so_far)
        expected = np.array(da, dtype=float)
        np.testing.assert_array_equal(rt_forecast_decaying_spread(view), expected)
        with_history = rt_forecast_spread_profile(RtView(index, dt_h, k, da, rt_so_far, history=history))
        np.testing.assert_allclose(with_history[k:], profile_only[k:], atol=1e-9)
