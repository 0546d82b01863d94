"""Daily and monthly statements: hand-computed sums, market-zone trading days, reconciliation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.money import to_fen
from market.settlement import settle_periods
from market.statements import STATEMENT_COLUMNS, daily_statement, monthly_statement
from vpp.errors import InputError

TZ = "Asia/Shanghai"
MONEY = ["da_revenue", "rt_revenue", "contract_revenue", "penalty", "revenue"]


def settle(index: pd.DatetimeIndex, q_da, q_act, p_da, p_rt, **kwargs) -> pd.DataFrame:
    def s(values):
        return pd.Series(values, index=index, dtype=float)

    return settle_periods(s(q_da), s(q_act), s(p_da), s(p_rt), **kwargs)


def three_periods_around_midnight(start_local: str) -> pd.DataFrame:
    """23:45, 00:00, 00:15 local, indexed in UTC.

    Legs: 1*300 - 0.2*350 = 230; -0.5*100 + 0 = -50; 0*200 + 0.2*250 = 50.
    """
    index = pd.date_range(start_local, periods=3, freq="15min", tz=TZ, name="timestamp")
    return settle(
        index.tz_convert("UTC"),
        [1.0, -0.5, 0.0],
        [0.8, -0.5, 0.2],
        [300, 100, 200],
        [350, 80, 250],
    )


def test_daily_statement_by_hand_groups_by_market_day():
    settlement = three_periods_around_midnight("2024-01-01 23:45")
    daily = daily_statement(settlement, TZ)
    assert list(daily.columns) == list(STATEMENT_COLUMNS)
    assert daily.index.name == "trading_day"
    assert daily.index.tolist() == [
        pd.Timestamp("2024-01-01", tz=TZ),
        pd.Timestamp("2024-01-02", tz=TZ),
    ]
    assert daily["periods"].tolist() == [1, 2]
    assert daily["q_da_mwh"].tolist() == [1.0, -0.5]
    assert daily["q_actual_mwh"].round(9).tolist() == [0.8, -0.3]
    assert daily["export_mwh"].tolist() == [0.8, 0.2]
    assert daily["import_mwh"].tolist() == [0.0, 0.5]
    assert daily["da_revenue"].tolist() == [300.00, -50.00]
    assert daily["rt_revenue"].tolist() == [-70.00, 50.00]
    assert daily["contract_revenue"].tolist() == [0.0, 0.0]
    assert daily["penalty"].tolist() == [0.0, 0.0]
    assert daily["revenue"].tolist() == [230.00, 0.00]


def test_daily_statement_in_utc_would_put_all_periods_on_one_day():
    # the same rows grouped by UTC day: 15:45, 16:00, 16:15 UTC are all 2024-01-01
    daily = daily_statement(three_periods_around_midnight("2024-01-01 23:45"), "UTC")
    assert daily["periods"].tolist() == [3]
    assert daily["revenue"].tolist() == [230.00]


def test_monthly_statement_by_hand_groups_by_market_month():
    monthly = monthly_statement(three_periods_around_midnight("2024-01-31 23:45"), TZ)
    assert list(monthly.columns) == ["periods", "days", *STATEMENT_COLUMNS[1:]]
    assert monthly.index.name == "month"
    assert monthly.index.tolist() == [
        pd.Timestamp("2024-01-01", tz=TZ),
        pd.Timestamp("2024-02-01", tz=TZ),
    ]
    assert monthly["periods"].tolist() == [1, 2]
    assert monthly["days"].tolist() == [1, 1]
    assert monthly["revenue"].tolist() == [230.00, 0.00]
    assert monthly["rt_revenue"].tolist() == [-70.00, 50.00]


def test_daylight_saving_days_have_23_and_25_hourly_periods():
    spring = pd.date_range(
        "2024-03-30", "2024-04-01", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    autumn = pd.date_range(
        "2024-10-27", "2024-10-28", freq="h", tz="Europe/Berlin", inclusive="left"
    )
    index = spring.append(autumn).rename("timestamp")
    n = len(index)
    settlement = settle(index, [1.0] * n, [1.0] * n, [10.0] * n, [12.0] * n)
    daily = daily_statement(settlement, "Europe/Berlin")
    assert daily["periods"].tolist() == [24, 23, 25]
    assert daily["revenue"].tolist() == [240.00, 230.00, 250.00]
    monthly = monthly_statement(settlement, "Europe/Berlin")
    assert monthly["periods"].tolist() == [47, 25]
    assert monthly["days"].tolist() == [2, 1]


def test_empty_settlement_gives_empty_statements():
    empty = settle(pd.DatetimeIndex([], tz=TZ, name="timestamp"), [], [], [], [])
    assert daily_statement(empty, TZ).empty
    assert monthly_statement(empty, TZ).empty


# ----------------------------------------------------------------------------------------------
# input errors
# ----------------------------------------------------------------------------------------------


def test_error_missing_settlement_column():
    settlement = three_periods_around_midnight("2024-01-01 23:45").drop(columns="revenue")
    with pytest.raises(InputError) as exc:
        daily_statement(settlement, TZ)
    assert exc.value.field == "settlement"
    assert "revenue" in str(exc.value)


def test_error_unknown_time_zone():
    with pytest.raises(InputError) as exc:
        daily_statement(three_periods_around_midnight("2024-01-01 23:45"), "Mars/Olympus")
    assert exc.value.field == "tz"
    assert "Mars/Olympus" in str(exc.value)


def test_error_revenue_that_does_not_add_up_names_the_timestamp():
    settlement = three_periods_around_midnight("2024-01-01 23:45")
    settlement.iloc[1, settlement.columns.get_loc("revenue")] = -49.99
    with pytest.raises(InputError) as exc:
        daily_statement(settlement, TZ)
    assert exc.value.field == "settlement[revenue]"
    assert exc.value.timestamp == settlement.index[1]
    assert f"timestamp {settlement.index[1]}" in str(exc.value)


def test_error_amount_not_in_whole_fen_names_the_timestamp():
    settlement = three_periods_around_midnight("2024-01-01 23:45")
    settlement.iloc[2, settlement.columns.get_loc("penalty")] = 0.001
    with pytest.raises(InputError) as exc:
        monthly_statement(settlement, TZ)
    assert exc.value.field == "settlement[penalty]"
    assert exc.value.timestamp == settlement.index[2]


def test_error_nan_in_settlement_names_column_and_timestamp():
    settlement = three_periods_around_midnight("2024-01-01 23:45")
    settlement.iloc[0, settlement.columns.get_loc("q_actual_mwh")] = np.nan
    with pytest.raises(InputError) as exc:
        daily_statement(settlement, TZ)
    assert exc.value.field == "settlement[q_actual_mwh]"
    assert exc.value.timestamp == settlement.index[0]


def test_error_naive_settlement_index():
    settlement = three_periods_around_midnight("2024-01-01 23:45")
    settlement.index = settlement.index.tz_localize(None)
    with pytest.raises(InputError) as exc:
        daily_statement(settlement, TZ)
    assert exc.value.field == "settlement"


# ----------------------------------------------------------------------------------------------
# reconciliation invariants
# ----------------------------------------------------------------------------------------------


@st.composite
def settlements(draw):
    """Several days of 15-minute periods from a random start, random energies and prices."""
    n = draw(st.integers(1, 400))
    start = pd.Timestamp("2024-01-01", tz=TZ) + pd.Timedelta(minutes=15) * draw(
        st.integers(0, 366 * 96)
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = pd.date_range(start, periods=n, freq="15min", name="timestamp")
    q_da = np.round(rng.uniform(-5, 5, n), 3)
    q_act = q_da + rng.normal(0, 0.5, n)
    p_da, p_rt = rng.uniform(-100, 1500, n), rng.uniform(-100, 1500, n)
    return settle(
        index,
        q_da,
        q_act,
        p_da,
        p_rt,
        q_contract_mwh=pd.Series(rng.uniform(-3, 3, n), index=index),
        p_contract=float(rng.uniform(200, 400)),
        penalty_band_frac=0.1,
        penalty_price=float(rng.uniform(0, 100)),
    )


@settings(max_examples=60, deadline=None)
@given(settlements())
def test_statements_reconcile_with_period_rows_to_the_fen(settlement):
    daily = daily_statement(settlement, TZ)
    monthly = monthly_statement(settlement, TZ)
    local_day = settlement.index.tz_convert(TZ).tz_localize(None).normalize()
    for column in MONEY:
        per_day = pd.Series(to_fen(settlement[column]), index=local_day).groupby(level=0).sum()
        np.testing.assert_array_equal(to_fen(daily[column]), per_day.to_numpy())
        assert to_fen(daily[column]).sum() == to_fen(settlement[column]).sum()
        assert to_fen(monthly[column]).sum() == to_fen(settlement[column]).sum()
        np.testing.assert_array_equal(np.round(daily[column], 2), daily[column])
    legs = (
        to_fen(daily["da_revenue"])
        + to_fen(daily["rt_revenue"])
        + to_fen(daily["contract_revenue"])
        - to_fen(daily["penalty"])
    )
    np.testing.assert_array_equal(legs, to_fen(daily["revenue"]))
    assert daily["periods"].sum() == monthly["periods"].sum() == len(settlement)
    assert monthly["days"].sum() == len(daily)
    np.testing.assert_allclose(daily["export_mwh"] - daily["import_mwh"], daily["q_actual_mwh"])
    np.testing.assert_allclose(daily["q_actual_mwh"].sum(), settlement["q_actual_mwh"].sum())
    by_month = daily.groupby(daily.index.tz_localize(None).to_period("M")).sum()
    for column in MONEY:
        np.testing.assert_array_equal(to_fen(monthly[column]), to_fen(by_month[column]))
