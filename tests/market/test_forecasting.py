"""Forecasters: what they may know, by trading day and period (DST), baselines, models, calendar."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from market.calendar import gate_closure, trading_day_index
from market.forecasting.calendar_features import calendar_frame
from market.forecasting.information import History, known_at_closure
from market.forecasting.ranking import LightGbmRank
from market.forecasting.run import FORECASTERS, forecast_day, get_forecaster
from market.presets import resolve_market
from market.prices import read_prices
from vpp.errors import InputError

DATA = "tests/data"
GANSU = resolve_market("gansu")
BERLIN = resolve_market("generic")  # hourly, Europe/Berlin, DST


def hourly_shanghai(days: int = 40, seed: int = 0) -> pd.DataFrame:
    """Hourly prices of ``days`` days from 2024-03-01: a daily shape, a weekday effect and noise,
    and a 'load' feature the price follows (price = 100 + 0.01 load + shape + noise)."""
    market = GANSU.model_copy(update={"period_minutes": 60})
    index = pd.DatetimeIndex(
        np.concatenate(
            [trading_day_index(market, dt.date(2024, 3, 1) + dt.timedelta(days=d)) for d in range(days)]
        ),
        name="timestamp",
    ).tz_convert(market.timezone)
    rng = np.random.default_rng(seed)
    hour = index.hour.to_numpy()
    load = 20_000 + 3_000 * rng.standard_normal(len(index))
    shape = 150 * np.sin((hour - 6) * np.pi / 12)
    da = 100 + 0.01 * load + shape + rng.normal(0, 5, len(index))
    return pd.DataFrame(
        {"da_price": da, "rt_price": da + rng.normal(0, 20, len(index)), "load_mw": load}, index=index
    ), market


def test_persistence_is_the_same_period_of_the_day_before():
    frame, market = hourly_shanghai(10)
    day = dt.date(2024, 3, 8)
    f = forecast_day("persistence", frame, market, day).point
    yesterday = frame.loc[trading_day_index(market, day - dt.timedelta(days=1)), "da_price"].to_numpy()
    np.testing.assert_allclose(f, np.clip(yesterday, 0, 1500))


def test_weekday_and_rolling_mean_by_hand():
    frame, market = hourly_shanghai(20)
    day = dt.date(2024, 3, 16)
    da = frame["da_price"]
    week = da.loc[trading_day_index(market, day - dt.timedelta(days=7))].to_numpy()
    np.testing.assert_allclose(forecast_day("weekday", frame, market, day).point, week)
    last7 = np.mean(
        [da.loc[trading_day_index(market, day - dt.timedelta(days=k))].to_numpy() for k in range(1, 8)],
        axis=0,
    )
    np.testing.assert_allclose(forecast_day("rolling_mean", frame, market, day).point, last7)


def test_dst_forecast_takes_the_same_wall_clock_period_of_the_day_before():
    # Issue 13 item 11: 2023-03-26 has 23 hours in Europe/Berlin. The forecast of 2023-03-27 takes
    # each hour from the same local hour of the 26th (24 absolute hours back is 23:00 of the 25th
    # for 00:00, which is not in the file); 02:00, missing on the 26th, takes 01:00's price.
    frame = read_prices(f"{DATA}/de_lu_2023-03-26_hourly.csv", BERLIN)
    assert len(frame) == 23
    f = forecast_day("persistence", frame, BERLIN, dt.date(2023, 3, 27)).point
    by_hour = dict(zip(frame.index.hour, frame["da_price"], strict=True))
    assert len(f) == 24
    assert f[0] == by_hour[0] == 39.66 and f[1] == by_hour[1] == 39.23
    assert f[2] == by_hour[1]  # the skipped hour: filled from the hour before
    np.testing.assert_allclose(f[3:], [by_hour[h] for h in range(3, 24)])


def test_dst_autumn_day_gets_its_25_periods_and_weekday_stays_in_phase():
    # 2023-10-29 has 25 hours; the weekday forecast of 2023-11-05 (24 h, CET) reads 10-29 by
    # wall clock: 08:00 CET from 08:00 CEST... i.e. the same local hour, not 07:00.
    days = [dt.date(2023, 10, 22) + dt.timedelta(days=d) for d in range(14)]
    index = pd.DatetimeIndex(np.concatenate([trading_day_index(BERLIN, d) for d in days]), name="timestamp")
    index = index.tz_convert(BERLIN.timezone)
    local_hour = index.hour.to_numpy().astype(float)
    frame = pd.DataFrame({"da_price": 10 * local_hour, "rt_price": 10 * local_hour}, index=index)
    autumn = forecast_day("persistence", frame, BERLIN, dt.date(2023, 10, 29)).point
    assert len(autumn) == 25
    np.testing.assert_allclose(autumn, 10 * trading_day_index(BERLIN, dt.date(2023, 10, 29)).hour.to_numpy())
    week = forecast_day("weekday", frame, BERLIN, dt.date(2023, 11, 5)).point
    np.testing.assert_allclose(week, 10 * np.arange(24))


@pytest.mark.parametrize("name", sorted(FORECASTERS))
def test_no_look_ahead_perturbing_the_unknown_changes_nothing(name):
    """Everything not known at D-1 09:30 perturbed: DA prices from D on, RT prices from the closure,
    features after D. The forecast of D is unchanged; perturbing a known value changes it."""
    frame, market = hourly_shanghai(30)
    day = dt.date(2024, 3, 25)
    closure = gate_closure(market, day)
    start = trading_day_index(market, day)[0]
    rng = np.random.default_rng(1)
    future = frame.copy()
    future.loc[future.index >= start, "da_price"] += rng.uniform(50, 500, int((future.index >= start).sum()))
    future.loc[future.index >= closure, "rt_price"] += rng.uniform(
        50, 500, int((future.index >= closure).sum())
    )
    after = future.index >= start + pd.Timedelta(days=1)
    future.loc[after, "load_mw"] *= 3
    base = forecast_day(name, frame, market, day)
    other = forecast_day(name, future, market, day)
    np.testing.assert_array_equal(base.point, other.point)
    known = frame.copy()  # D-1's DA prices were published on D-2: known, and used
    known.loc[known.index < start, "da_price"] += 50.0
    assert not np.array_equal(forecast_day(name, known, market, day).point, base.point)


def test_history_masks_by_the_information_rule():
    frame, market = hourly_shanghai(5)
    known = History(frame, market).known(dt.date(2024, 3, 4))
    da, rt, load = known.grid("da_price"), known.grid("rt_price"), known.grid("load_mw")
    assert da.days[-1] == dt.date(2024, 3, 3) and np.isfinite(da.row(dt.date(2024, 3, 3))).all()
    rt_d1 = rt.row(dt.date(2024, 3, 3))  # RT of D-1 known before 09:30 only
    assert np.isfinite(rt_d1[:9]).all() and np.isnan(rt_d1[9:]).all()
    assert load.days[-1] == dt.date(2024, 3, 4)  # features of D itself are day-ahead forecasts


def test_forecasts_are_clipped_to_the_clearing_bounds():
    frame, market = hourly_shanghai(10)
    frame.loc[:, "da_price"] = 5000.0
    assert (
        forecast_day("persistence", frame, market, dt.date(2024, 3, 8)).point.max() == market.clear_price_cap
    )


@pytest.mark.parametrize("name", ["ridge", "lear", "lgbm"])
def test_models_learn_a_price_that_follows_a_feature(name):
    # price = 100 + 0.01 load + hourly shape + N(0, 5): persistence cannot know the load of D,
    # the models read it and beat persistence by far; quantiles are ordered.
    frame, market = hourly_shanghai(40)
    days = [dt.date(2024, 4, 6), dt.date(2024, 4, 8)]
    errors = {}
    for model in (name, "persistence"):
        f = np.concatenate([forecast_day(model, frame, market, d).point for d in days])
        realised = np.concatenate(
            [frame.loc[trading_day_index(market, d), "da_price"].to_numpy() for d in days]
        )
        errors[model] = np.abs(f - realised).mean()
    assert errors[name] < 0.5 * errors["persistence"], errors
    q = forecast_day(name, frame, market, days[0]).quantiles
    assert sorted(q) == [0.1, 0.5, 0.9]
    assert (q[0.1] <= q[0.5] + 1e-9).all() and (q[0.5] <= q[0.9] + 1e-9).all()


def test_blend_is_the_mean_of_its_members_point_and_quantiles():
    frame, market = hourly_shanghai(40)
    day = dt.date(2024, 4, 6)
    members = ("ewm", "lgbm", "lgbm_rank")
    parts = [forecast_day(m, frame, market, day) for m in members]
    blend = forecast_day("blend", frame, market, day)
    np.testing.assert_allclose(blend.point, sum(p.point for p in parts) / 3)
    assert sorted(blend.quantiles) == [0.1, 0.5, 0.9]
    for q in blend.quantiles:
        np.testing.assert_allclose(blend.quantiles[q], sum(p.quantiles[q] for p in parts) / 3)
    # ewm knows no load; lgbm reads it: the blend's error lies well below ewm's
    realised = frame.loc[trading_day_index(market, day), "da_price"].to_numpy()
    mae = {n: np.abs(f.point - realised).mean() for n, f in zip(members, parts, strict=True)}
    assert np.abs(blend.point - realised).mean() < mae["ewm"], mae


def test_place_in_order_and_within_day_ranks_by_hand():
    from market.forecasting.ranking import place_in_order, within_day_ranks

    # the smallest score gets the smallest level: scores 0.1 < 0.5 < 0.9 -> levels 10 < 20 < 30
    np.testing.assert_array_equal(place_in_order(np.array([10.0, 30, 20]), np.array([0.9, 0.1, 0.5])),
                                  [30, 10, 20])
    # tied scores keep their slot order; any monotone scale of the score gives the same result
    np.testing.assert_array_equal(place_in_order(np.array([5.0, 1, 3]), np.array([2.0, 2, -7])), [3, 5, 1])
    np.testing.assert_array_equal(place_in_order(np.array([5.0, 1, 3]), np.array([200.0, 200, -700])),
                                  [3, 5, 1])
    # percentile ranks within each row; ties share their mean rank; NaN stays NaN
    ranks = within_day_ranks(np.array([[3.0, 1, 2], [5, 5, 1], [np.nan, 4, 2]]))
    np.testing.assert_allclose(ranks[:2], [[1, 1 / 3, 2 / 3], [2.5 / 3, 2.5 / 3, 1 / 3]])
    assert np.isnan(ranks[2, 0]) and ranks[2, 1] == 1.0 and ranks[2, 2] == 0.5


def test_lgbm_rank_places_ewm_levels_in_the_order_it_learns_from_the_features():
    # price = 100 + 0.01 load + hourly shape + noise: ewm knows the shape, not the day's load;
    # lgbm_rank reads the load's within-day rank and orders the day better, with ewm's own values.
    frame, market = hourly_shanghai(40)
    spearman = {"ewm": [], "lgbm_rank": []}
    for day in (dt.date(2024, 4, 6), dt.date(2024, 4, 8)):
        realised = frame.loc[trading_day_index(market, day), "da_price"].to_numpy()
        ewm = forecast_day("ewm", frame, market, day).point
        ranked = forecast_day("lgbm_rank", frame, market, day)
        # each window's fit places ewm's values, re-ordered; their mean keeps ewm's daily mean
        one_window = type("OneWindow", (LightGbmRank,), {"calibration_windows": (None,)})()
        single = one_window.forecast(known_at_closure(frame, market, day)).point
        np.testing.assert_allclose(np.sort(single), np.sort(ewm))
        np.testing.assert_allclose(ranked.point.mean(), ewm.mean())
        q = ranked.quantiles
        assert sorted(q) == [0.1, 0.5, 0.9]
        assert (q[0.1] <= q[0.5] + 1e-9).all() and (q[0.5] <= q[0.9] + 1e-9).all()
        for name, point in (("ewm", ewm), ("lgbm_rank", ranked.point)):
            spearman[name].append(pd.Series(point).corr(pd.Series(realised), method="spearman"))
    # the daily sine sets most of the order; of the disorder left (1 - Spearman), lgbm_rank removes a third
    disorder = {name: 1 - np.mean(rho) for name, rho in spearman.items()}
    assert disorder["lgbm_rank"] < 0.67 * disorder["ewm"], spearman


def test_blend_without_lightgbm_is_ewm_alone(monkeypatch):
    from market.forecasting import ensemble

    monkeypatch.setattr(ensemble, "_forecast_extra_installed", lambda: False)
    frame, market = hourly_shanghai(20)
    day = dt.date(2024, 3, 16)
    np.testing.assert_array_equal(
        forecast_day("blend", frame, market, day).point, forecast_day("ewm", frame, market, day).point
    )


def test_chinese_holidays_and_adjusted_working_days_2024():
    days = [
        dt.date(2024, 4, 28),
        dt.date(2024, 5, 1),
        dt.date(2024, 5, 3),
        dt.date(2024, 5, 6),
        dt.date(2024, 5, 11),
        dt.date(2024, 5, 12),
    ]
    cal = calendar_frame(days, GANSU)
    assert cal["holiday"].tolist() == [0, 1, 1, 0, 0, 0]
    # Sunday 04-28 and Saturday 05-11 are working days around Golden Week; Sunday 05-12 is not.
    assert cal["workday"].tolist() == [1, 0, 0, 1, 1, 0]


def test_unknown_forecaster_and_file_forecaster_errors(tmp_path):
    with pytest.raises(InputError, match="unknown forecast 'crystal_ball'"):
        get_forecaster("crystal_ball", GANSU)
    with pytest.raises(InputError, match="needs a path"):
        get_forecaster("file:", GANSU)
