"""Shanxi "time-of-use price + dividend" split: hand-computed cases, exact sums, input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.money import to_fen
from market.revenue_share import RevenueSplit, retail_prices, split_revenue
from market.settlement import settle_periods
from vpp.errors import InputError
from vpp.portfolio import RevenueShare

TZ = "Asia/Shanghai"


def periods(n: int, start: str = "2024-01-01 00:00", freq: str = "15min") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq=freq, tz=TZ, name="timestamp")


def series(values, index: pd.DatetimeIndex | None = None) -> pd.Series:
    values = list(values)
    return pd.Series(values, index=periods(len(values)) if index is None else index, dtype=float)


def example_settlement() -> pd.DataFrame:
    """Wholesale revenue 230.00 - 50.00 = 180.00 over two periods of 2024-01-01."""
    return settle_periods(
        series([1.0, -0.5]), series([0.8, -0.5]), series([300, 100]), series([350, 80])
    )


def test_split_by_hand_with_constant_retail_price():
    # users pay 1.5 MWh * 332 = 498.00; dividend = 498 + 180 - 10 (one day) = 668.00
    share = RevenueShare(
        retail_price_yuan_per_mwh=332.0, user_dividend_share=0.5, operating_fee_yuan_per_day=10.0
    )
    split = split_revenue(example_settlement(), share, series([1.0, 0.5]))
    assert isinstance(split, RevenueSplit)
    assert split.as_dict() == {
        "consumption_mwh": 1.5,
        "days": 1,
        "user_payments": 498.00,
        "wholesale_revenue": 180.00,
        "operating_fees": 10.00,
        "dividend": 668.00,
        "user_dividend": 334.00,
        "operator_dividend": 334.00,
        "user_net_payment": 164.00,
    }


def test_time_of_use_price_by_hour_of_day_in_market_zone():
    # hourly periods 07:00, 08:00, 09:00 Shanghai; curve = 100 + 10*hour -> 170, 180, 190
    # users pay 1*170 + 2*180 + 1*190 = 720.00; wholesale 0; dividend 720; users get 30 % = 216
    index = periods(3, "2024-01-01 07:00", freq="h")
    zero = series([0, 0, 0], index)
    settlement = settle_periods(zero, zero, zero, zero)
    curve = [100.0 + 10 * hour for hour in range(24)]
    share = RevenueShare(retail_price_yuan_per_mwh=curve, user_dividend_share=0.3)
    split = split_revenue(settlement, share, series([1, 2, 1], index))
    assert split.user_payments == 720.00
    assert split.dividend == 720.00
    assert split.user_dividend == 216.00
    assert split.operator_dividend == 504.00


def test_time_of_use_hour_follows_tz_for_a_utc_index():
    # 23:00 and 00:00 UTC are 07:00 and 08:00 in Shanghai
    index = pd.date_range("2023-12-31 23:00", periods=2, freq="h", tz="UTC", name="timestamp")
    curve = [100.0 + 10 * hour for hour in range(24)]
    share = RevenueShare(retail_price_yuan_per_mwh=curve)
    np.testing.assert_array_equal(retail_prices(share, index), [330.0, 100.0])
    np.testing.assert_array_equal(retail_prices(share, index, TZ), [170.0, 180.0])
    zero = series([0, 0], index)
    split = split_revenue(settle_periods(zero, zero, zero, zero), share, zero + 1, tz=TZ)
    assert split.user_payments == 350.00
    assert split.days == 1  # both periods on 2024-01-01 in Shanghai (two UTC days)


def test_negative_dividend_goes_wholly_to_the_operator():
    # users pay 0.1 * 332 = 33.20; wholesale: 1 MWh bought at 500 = -500.00; dividend -466.80
    index = periods(1)
    settlement = settle_periods(
        series([-1.0], index), series([-1.0], index), series([500], index), series([500], index)
    )
    split = split_revenue(settlement, RevenueShare(), series([0.1], index))
    assert split.wholesale_revenue == -500.00
    assert split.dividend == -466.80
    assert split.user_dividend == 0.00
    assert split.operator_dividend == -466.80
    assert split.user_net_payment == 33.20


def test_odd_fen_dividend_rounds_half_up_for_users():
    # dividend 0.01 yuan (1 fen), half to users = 0.5 fen -> 0.01 to users, 0.00 to the operator
    index = periods(1)
    zero = series([0.0], index)
    settlement = settle_periods(zero, zero, zero, zero)
    share = RevenueShare(retail_price_yuan_per_mwh=0.01, user_dividend_share=0.5)
    split = split_revenue(settlement, share, series([1.0], index))
    assert split.dividend == 0.01
    assert split.user_dividend == 0.01
    assert split.operator_dividend == 0.00


def test_operating_fee_per_trading_day_touched():
    # 23:45 on Jan 1 and 00:00 on Jan 2 (Shanghai): two days of 10.00 -> fees 20.00
    index = periods(2, "2024-01-01 23:45")
    zero = series([0.0, 0.0], index)
    settlement = settle_periods(zero, zero, zero, zero)
    share = RevenueShare(retail_price_yuan_per_mwh=0.0, operating_fee_yuan_per_day=10.0)
    split = split_revenue(settlement, share, zero)
    assert split.days == 2
    assert split.operating_fees == 20.00
    assert split.dividend == -20.00


# ----------------------------------------------------------------------------------------------
# input errors
# ----------------------------------------------------------------------------------------------


def test_error_retail_curve_without_24_values():
    share = RevenueShare(retail_price_yuan_per_mwh=[300.0] * 23)
    with pytest.raises(InputError) as exc:
        split_revenue(example_settlement(), share, series([1, 1]))
    assert exc.value.field == "revenue_share.retail_price_yuan_per_mwh"
    assert "24" in str(exc.value)


def test_error_negative_consumption_names_field_and_timestamp():
    with pytest.raises(InputError) as exc:
        split_revenue(example_settlement(), RevenueShare(), series([1.0, -0.5]))
    assert exc.value.field == "consumption_mwh"
    assert exc.value.timestamp == pd.Timestamp("2024-01-01 00:15", tz=TZ)
    assert "timestamp 2024-01-01 00:15:00+08:00, field 'consumption_mwh'" in str(exc.value)


def test_error_nan_consumption_names_field_and_timestamp():
    with pytest.raises(InputError) as exc:
        split_revenue(example_settlement(), RevenueShare(), series([np.nan, 1.0]))
    assert exc.value.field == "consumption_mwh"
    assert exc.value.timestamp == pd.Timestamp("2024-01-01 00:00", tz=TZ)


def test_error_consumption_misaligned_with_settlement():
    with pytest.raises(InputError) as exc:
        split_revenue(example_settlement(), RevenueShare(), series([1.0, 1.0, 1.0]))
    assert exc.value.field == "consumption_mwh"
    assert exc.value.timestamp == pd.Timestamp("2024-01-01 00:30", tz=TZ)
    assert "has 3 periods where settlement has 2" in str(exc.value)


def test_error_unknown_time_zone():
    with pytest.raises(InputError) as exc:
        split_revenue(example_settlement(), RevenueShare(), series([1, 1]), tz="Mars/Olympus")
    assert exc.value.field == "tz"


# ----------------------------------------------------------------------------------------------
# invariants
# ----------------------------------------------------------------------------------------------


@st.composite
def runs(draw):
    n = draw(st.integers(1, 200))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    index = periods(n, "2024-03-01 00:00") + pd.Timedelta(minutes=15) * draw(st.integers(0, 95))
    q = pd.Series(np.round(rng.uniform(-5, 0, n), 4), index=index)
    p_da = pd.Series(rng.uniform(0, 1500, n), index=index)
    p_rt = pd.Series(rng.uniform(0, 1500, n), index=index)
    settlement = settle_periods(q, q + rng.normal(0, 0.3, n), p_da, p_rt)
    if draw(st.booleans()):
        retail: float | list[float] = draw(st.floats(0, 1000))
    else:
        retail = list(rng.uniform(0, 1000, 24))
    share = RevenueShare(
        retail_price_yuan_per_mwh=retail,
        user_dividend_share=draw(st.floats(0, 1)),
        operating_fee_yuan_per_day=draw(st.floats(0, 5000)),
    )
    return settlement, share, pd.Series(rng.uniform(0, 5, n), index=index)


@settings(max_examples=100, deadline=None)
@given(runs())
def test_split_amounts_add_up_exactly_to_the_fen(run):
    settlement, share, consumption = run
    split = split_revenue(settlement, share, consumption)
    fen = {k: int(to_fen(v)) for k, v in split.as_dict().items() if k not in ("days",)}
    for key in ("user_payments", "wholesale_revenue", "operating_fees", "dividend"):
        assert round(getattr(split, key), 2) == getattr(split, key)
    assert (
        fen["dividend"] == fen["user_payments"] + fen["wholesale_revenue"] - fen["operating_fees"]
    )
    assert fen["user_dividend"] + fen["operator_dividend"] == fen["dividend"]
    assert fen["user_net_payment"] == fen["user_payments"] - fen["user_dividend"]
    assert fen["wholesale_revenue"] == to_fen(settlement["revenue"]).sum()
    assert 0 <= fen["user_dividend"] <= max(fen["dividend"], 0)
    expected_user = share.user_dividend_share * max(fen["dividend"], 0)
    assert abs(fen["user_dividend"] - expected_user) <= 0.5 + 1e-9 * abs(expected_user)
    exact_bill = float(np.sum(consumption.to_numpy() * retail_prices(share, consumption.index)))
    assert abs(split.user_payments - exact_bill) <= 0.005 + 1e-9 * abs(exact_bill)
