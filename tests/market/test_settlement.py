"""Period settlement and per-asset attribution: hand-computed cases, invariants, input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market.attribution import attribute_to_assets
from market.money import to_fen
from market.settlement import SETTLEMENT_COLUMNS, settle_periods
from vpp.errors import InputError

TZ = "Asia/Shanghai"
T0 = "2024-01-01 00:00:00+08:00"
T1 = "2024-01-01 00:15:00+08:00"
T2 = "2024-01-01 00:30:00+08:00"


def periods(n: int, start: str = "2024-01-01 00:00", tz: str = TZ) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="15min", tz=tz, name="timestamp")


def series(values, index: pd.DatetimeIndex | None = None) -> pd.Series:
    values = list(values)
    return pd.Series(values, index=periods(len(values)) if index is None else index, dtype=float)


def example(**kwargs) -> pd.DataFrame:
    """Two periods: q_da=[1,-0.5], q_actual=[0.8,-0.5], p_da=[300,100], p_rt=[350,80]."""
    return settle_periods(
        series([1.0, -0.5]), series([0.8, -0.5]), series([300, 100]), series([350, 80]), **kwargs
    )


def assert_names(exc: pytest.ExceptionInfo, field: str, timestamp: str | None) -> None:
    message = str(exc.value)
    assert exc.value.field == field
    assert f"field '{field}'" in message
    if timestamp is not None:
        assert exc.value.timestamp == pd.Timestamp(timestamp)
        assert f"timestamp {timestamp}" in message


# ----------------------------------------------------------------------------------------------
# hand-computed settlements
# ----------------------------------------------------------------------------------------------


def test_settle_two_periods_by_hand():
    result = example()
    assert list(result.columns) == list(SETTLEMENT_COLUMNS)
    assert result.index.name == "timestamp"
    assert str(result.index.tz) == TZ
    # da: 1*300 = 300, -0.5*100 = -50; rt: -0.2*350 = -70, 0*80 = 0
    assert result["da_revenue"].tolist() == [300.00, -50.00]
    assert result["rt_revenue"].tolist() == [-70.00, 0.00]
    assert result["contract_revenue"].tolist() == [0.0, 0.0]
    assert result["penalty"].tolist() == [0.0, 0.0]
    assert result["revenue"].tolist() == [230.00, -50.00]
    assert result["da_revenue"].sum() == 250.00
    assert result["rt_revenue"].sum() == -70.00
    assert result["revenue"].sum() == 180.00


def test_contract_for_difference_settles_against_da_price():
    # 0.5 MWh at 320: 0.5*(320-300) = 10.00; 0.5*(320-100) = 110.00
    result = example(q_contract_mwh=series([0.5, 0.5]), p_contract=320.0)
    assert result["contract_revenue"].tolist() == [10.00, 110.00]
    assert result["revenue"].tolist() == [240.00, 60.00]


def test_contract_price_may_be_a_series():
    # 0.5*(320-300) = 10.00; -0.25*(90-100) = 2.50
    result = example(q_contract_mwh=series([0.5, -0.25]), p_contract=series([320, 90]))
    assert result["contract_revenue"].tolist() == [10.00, 2.50]
    assert result["revenue"].tolist() == [240.00, -47.50]


def test_contract_against_rt_reference_price():
    # 0.5*(320-350) = -15.00; 0.5*(320-80) = 120.00
    result = example(q_contract_mwh=series([0.5, 0.5]), p_contract=320.0, contract_reference="rt")
    assert result["contract_revenue"].tolist() == [-15.00, 120.00]


def test_no_penalty_by_default_as_in_shanxi():
    result = example()
    assert (result["penalty"] == 0).all()


def test_penalty_beyond_tolerance_band_by_hand():
    # band 10 % of |q_da|, 50 yuan/MWh; deviations -0.2, 0.0 and +0.3 MWh on q_da 1, -0.5, 1:
    # excess = max(0.2-0.1, 0) = 0.1 -> 5.00; 0 -> 0; max(0.3-0.1, 0) = 0.2 -> 10.00
    q_da = series([1.0, -0.5, 1.0])
    result = settle_periods(
        q_da,
        series([0.8, -0.5, 1.3]),
        series([300, 100, 300]),
        series([350, 80, 250]),
        penalty_band_frac=0.1,
        penalty_price=50.0,
    )
    assert result["penalty"].tolist() == [5.00, 0.00, 10.00]
    # rt: -0.2*350 = -70; 0; 0.3*250 = 75
    assert result["rt_revenue"].tolist() == [-70.00, 0.00, 75.00]
    assert result["revenue"].tolist() == [225.00, -50.00, 365.00]


def test_penalty_band_zero_penalises_every_deviation():
    # |-0.2| * 50 = 10.00; |0.1| * 50 = 5.00 (q_da = 0, so no tolerance at all)
    result = settle_periods(
        series([1.0, 0.0]),
        series([0.8, 0.1]),
        series([300, 100]),
        series([350, 80]),
        penalty_band_frac=0.0,
        penalty_price=50.0,
    )
    assert result["penalty"].tolist() == [10.00, 5.00]


def test_negative_prices_generic_market_by_hand():
    # da: 2*(-20) = -40, -1*(-50) = +50; rt: 0.5*(-40) = -20, 0*10 = 0
    result = settle_periods(
        series([2.0, -1.0]), series([2.5, -1.0]), series([-20, -50]), series([-40, 10])
    )
    assert result["da_revenue"].tolist() == [-40.00, 50.00]
    assert result["rt_revenue"].tolist() == [-20.00, 0.00]
    assert result["revenue"].tolist() == [-60.00, 50.00]


def test_suspended_period_settles_rt_leg_at_administrative_price():
    # period 2 suspended: deviation -0.1 MWh at the administrative 90 (not p_rt 80) = -9.00
    result = settle_periods(
        series([1.0, -0.5]),
        series([0.8, -0.6]),
        series([300, 100]),
        series([350, 80]),
        market_suspended=pd.Series([False, True], index=periods(2)),
        administrative_price=series([np.nan, 90]),
    )
    assert list(result.columns) == [
        *SETTLEMENT_COLUMNS[:4],
        "p_rt_settled",
        *SETTLEMENT_COLUMNS[4:],
    ]
    assert result["p_rt"].tolist() == [350, 80]
    assert result["p_rt_settled"].tolist() == [350, 90]
    assert result["rt_revenue"].tolist() == [-70.00, -9.00]
    assert result["revenue"].tolist() == [230.00, -59.00]


def test_no_suspension_no_p_rt_settled_column():
    assert "p_rt_settled" not in example().columns


def test_legs_round_half_away_from_zero_to_the_fen():
    # 0.1 * 10.05 = 1.005 exactly in decimal (1.00499... in binary) -> 1.01; 0.25*300.5 = 75.125
    result = settle_periods(
        series([0.1, -0.1, 0.25, 1 / 3]),
        series([0.1, -0.1, 0.25, 1 / 3]),
        series([10.05, 10.05, 300.5, 1.0]),
        series([0.0, 0.0, 0.0, 0.0]),
    )
    assert result["da_revenue"].tolist() == [1.01, -1.01, 75.13, 0.33]


def test_revenue_is_the_sum_of_rounded_legs_not_the_rounded_sum():
    # each leg is a third of a fen (1/300 MWh at 1 yuan/MWh): each rounds to 0.00, so the
    # revenue is 0.00, although the exact total is 0.01 yuan
    third = 1 / 300
    result = settle_periods(
        series([third]),
        series([2 * third]),
        series([1.0]),
        series([1.0]),
        q_contract_mwh=series([third]),
        p_contract=2.0,
    )
    legs = result[["da_revenue", "rt_revenue", "contract_revenue", "penalty"]].iloc[0]
    assert legs.tolist() == [0.0, 0.0, 0.0, 0.0]
    assert result["revenue"].iloc[0] == 0.0


def test_inputs_in_another_zone_with_the_same_instants_are_aligned():
    utc = periods(2).tz_convert("UTC")
    result = settle_periods(
        series([1.0, -0.5]),
        series([0.8, -0.5], utc),
        series([300, 100], utc),
        series([350, 80]),
    )
    assert result["revenue"].tolist() == [230.00, -50.00]
    assert str(result.index.tz) == TZ


def test_empty_inputs_give_an_empty_settlement():
    empty = series([])
    result = settle_periods(empty, empty, empty, empty)
    assert result.empty
    assert list(result.columns) == list(SETTLEMENT_COLUMNS)


# ----------------------------------------------------------------------------------------------
# input errors: one per case, each naming the field and the first bad timestamp
# ----------------------------------------------------------------------------------------------


def test_error_misaligned_index_names_field_and_timestamp():
    shifted = pd.DatetimeIndex([pd.Timestamp(T0), pd.Timestamp(T2)], name="timestamp")
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([1, 2], shifted), series([1, 2]), series([1, 2]))
    assert_names(exc, "q_actual_mwh", T1)
    assert "not aligned" in str(exc.value)


def test_error_shorter_series_names_field_and_first_missing_timestamp():
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2, 3]), series([1, 2, 3]), series([1, 2]), series([1, 2, 3]))
    assert_names(exc, "p_da", T2)
    assert "has 2 periods where q_da_mwh has 3" in str(exc.value)


def test_error_longer_series_names_field_and_first_extra_timestamp():
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([1, 2]), series([1, 2]), series([1, 2, 3]))
    assert_names(exc, "p_rt", T2)
    assert "has 3 periods where q_da_mwh has 2" in str(exc.value)


def test_error_same_timestamps_in_another_order():
    swapped = periods(2)[::-1]
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([1, 2]), series([2, 1], swapped), series([1, 2]))
    assert_names(exc, "p_da", T1)


def test_error_repeated_timestamp_in_a_later_series():
    repeated = pd.DatetimeIndex([pd.Timestamp(T0), pd.Timestamp(T1), pd.Timestamp(T1)])
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([1, 2]), series([1, 2]), series([1, 2, 3], repeated))
    assert_names(exc, "p_rt", T1)
    assert "has 3 periods where q_da_mwh has 2" in str(exc.value)


def test_error_nan_price_names_field_and_timestamp():
    with pytest.raises(InputError) as exc:
        settle_periods(
            series([1, 2, 3]), series([1, 2, 3]), series([1, 2, 3]), series([1, 2, np.nan])
        )
    assert_names(exc, "p_rt", T2)
    assert "NaN" in str(exc.value)


def test_error_nan_in_day_ahead_quantity():
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, np.nan]), series([1, 2]), series([1, 2]), series([1, 2]))
    assert_names(exc, "q_da_mwh", T1)


def test_error_infinite_actual_quantity():
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([np.inf, 2]), series([1, 2]), series([1, 2]))
    assert_names(exc, "q_actual_mwh", T0)
    assert "infinite" in str(exc.value)


def test_error_non_numeric_values():
    text = pd.Series(["1", "2"], index=periods(2))
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), series([1, 2]), text, series([1, 2]))
    assert_names(exc, "p_da", None)


def test_error_not_a_series():
    with pytest.raises(InputError) as exc:
        settle_periods(series([1, 2]), [1, 2], series([1, 2]), series([1, 2]))
    assert_names(exc, "q_actual_mwh", None)


def test_error_naive_index():
    naive = pd.Series([1.0, 2.0], index=pd.date_range("2024-01-01", periods=2, freq="15min"))
    with pytest.raises(InputError) as exc:
        settle_periods(naive, naive, naive, naive)
    assert_names(exc, "q_da_mwh", "2024-01-01 00:00:00")
    assert "naive" in str(exc.value)


def test_error_repeated_timestamp():
    repeated = pd.DatetimeIndex([pd.Timestamp(T0), pd.Timestamp(T1), pd.Timestamp(T1)])
    with pytest.raises(InputError) as exc:
        settle_periods(*(series([1, 2, 3], repeated),) * 4)
    assert_names(exc, "q_da_mwh", T1)
    assert "repeated" in str(exc.value)


def test_error_timestamps_out_of_order():
    backwards = pd.DatetimeIndex([pd.Timestamp(T1), pd.Timestamp(T0)])
    with pytest.raises(InputError) as exc:
        settle_periods(*(series([1, 2], backwards),) * 4)
    assert_names(exc, "q_da_mwh", T0)


def test_error_contract_quantity_without_price():
    with pytest.raises(InputError) as exc:
        example(q_contract_mwh=series([1, 1]))
    assert_names(exc, "p_contract", None)


def test_error_contract_price_without_quantity():
    with pytest.raises(InputError) as exc:
        example(p_contract=300.0)
    assert_names(exc, "q_contract_mwh", None)


def test_error_nan_contract_price_series():
    with pytest.raises(InputError) as exc:
        example(q_contract_mwh=series([1, 1]), p_contract=series([np.nan, 300]))
    assert_names(exc, "p_contract", T0)


def test_error_misaligned_contract_quantity():
    with pytest.raises(InputError) as exc:
        example(q_contract_mwh=series([1, 1], periods(2, "2024-01-01 00:15")), p_contract=300.0)
    assert_names(exc, "q_contract_mwh", T0)


def test_error_suspension_without_administrative_price():
    with pytest.raises(InputError) as exc:
        example(market_suspended=pd.Series([False, True], index=periods(2)))
    assert_names(exc, "administrative_price", None)


def test_error_administrative_price_missing_in_suspended_period():
    with pytest.raises(InputError) as exc:
        example(
            market_suspended=pd.Series([False, True], index=periods(2)),
            administrative_price=series([90, np.nan]),
        )
    assert_names(exc, "administrative_price", T1)


def test_error_suspension_flags_not_boolean():
    with pytest.raises(InputError) as exc:
        example(market_suspended=series([0, 1]), administrative_price=series([90, 90]))
    assert_names(exc, "market_suspended", None)


def test_error_suspension_flag_missing():
    flags = pd.Series([False, None], index=periods(2), dtype="boolean")
    with pytest.raises(InputError) as exc:
        example(market_suspended=flags, administrative_price=series([90, 90]))
    assert_names(exc, "market_suspended", T1)


def test_error_penalty_price_without_band():
    with pytest.raises(InputError) as exc:
        example(penalty_price=50.0)
    assert_names(exc, "penalty_band_frac", None)


def test_error_negative_penalty_band():
    with pytest.raises(InputError) as exc:
        example(penalty_band_frac=-0.1, penalty_price=50.0)
    assert_names(exc, "penalty_band_frac", None)


def test_error_negative_penalty_price():
    with pytest.raises(InputError) as exc:
        example(penalty_band_frac=0.1, penalty_price=series([50, -1]))
    assert_names(exc, "penalty_price", T1)


def test_error_unknown_contract_reference():
    with pytest.raises(InputError) as exc:
        example(contract_reference="node")
    assert_names(exc, "contract_reference", None)


# ----------------------------------------------------------------------------------------------
# invariants
# ----------------------------------------------------------------------------------------------

energy = st.one_of(
    st.integers(-50_000, 50_000).map(lambda i: i / 1000),  # whole kWh
    st.floats(-50, 50, allow_nan=False, allow_infinity=False),
)
price = st.one_of(
    st.integers(-50_000, 150_000).map(lambda i: i / 100),  # whole fen per MWh
    st.floats(-500, 1500, allow_nan=False, allow_infinity=False),
)


@st.composite
def settlement_inputs(draw):
    n = draw(st.integers(1, 12))
    index = periods(n)

    def column(values):
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), index=index, dtype=float)

    kwargs = {}
    if draw(st.booleans()):
        kwargs["q_contract_mwh"] = column(energy)
        kwargs["p_contract"] = column(price) if draw(st.booleans()) else draw(price)
    if draw(st.booleans()):
        kwargs["penalty_band_frac"] = draw(st.floats(0, 0.5))
        kwargs["penalty_price"] = draw(st.floats(0, 500))
    if draw(st.booleans()):
        kwargs["market_suspended"] = pd.Series(
            draw(st.lists(st.booleans(), min_size=n, max_size=n)), index=index
        )
        kwargs["administrative_price"] = column(price)
    return (column(energy), column(energy), column(price), column(price)), kwargs


@settings(max_examples=100, deadline=None)
@given(settlement_inputs())
def test_legs_always_add_up_to_revenue_to_the_fen(inputs):
    args, kwargs = inputs
    result = settle_periods(*args, **kwargs)
    legs = (
        to_fen(result["da_revenue"])
        + to_fen(result["rt_revenue"])
        + to_fen(result["contract_revenue"])
        - to_fen(result["penalty"])
    )
    np.testing.assert_array_equal(legs, to_fen(result["revenue"]))
    total = (
        result["da_revenue"] + result["rt_revenue"] + result["contract_revenue"] - result["penalty"]
    )
    np.testing.assert_array_equal(np.round(total, 2), result["revenue"])
    for column in ("da_revenue", "rt_revenue", "contract_revenue", "penalty", "revenue"):
        np.testing.assert_array_equal(np.round(result[column], 2), result[column])


@settings(max_examples=100, deadline=None)
@given(settlement_inputs())
def test_each_leg_is_within_half_a_fen_of_the_exact_amount(inputs):
    (q_da, q_act, p_da, p_rt), kwargs = inputs
    result = settle_periods(q_da, q_act, p_da, p_rt, **kwargs)
    p_rt_settled = result.get("p_rt_settled", result["p_rt"])
    exact = {
        "da_revenue": q_da * p_da,
        "rt_revenue": (q_act - q_da) * p_rt_settled,
    }
    for column, amount in exact.items():
        assert (np.abs(result[column] - amount) <= 0.005 + 1e-9 * (1 + amount.abs())).all()
    assert (result["penalty"] >= 0).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(-(10**12), 10**12))
def test_to_fen_is_exact_on_whole_fen_and_rounds_halves_away_from_zero(fen):
    assert to_fen(fen / 100) == fen
    assert to_fen((fen + 0.5) / 100) == (fen + 1 if fen >= 0 else fen)
    assert to_fen(-(fen / 100)) == -fen


# ----------------------------------------------------------------------------------------------
# attribution to assets
# ----------------------------------------------------------------------------------------------


def test_attribution_by_hand():
    # fleet_rest = q_da*(p_da-p_rt): 1*(300-350) = -50; -0.5*(100-80) = -10
    # period 1: a 0.5*350 + 0.5/0.8*(-50) = 143.75; b 0.3*350 + 0.3/0.8*(-50) = 86.25
    # period 2: a -0.7*80 + 0.7/0.9*(-10) = -63.78 (-63.777...); b 0.2*80 + 0.2/0.9*(-10) = 13.78
    settlement = example()
    assets = pd.DataFrame({"a": [0.5, -0.7], "b": [0.3, 0.2]}, index=periods(2))
    result = attribute_to_assets(settlement, assets)
    assert list(result.columns) == ["timestamp", "asset_id", "energy_mwh", "revenue"]
    assert result["asset_id"].tolist() == ["a", "b", "a", "b"]
    assert result["timestamp"].tolist() == [pd.Timestamp(T0)] * 2 + [pd.Timestamp(T1)] * 2
    assert result["energy_mwh"].tolist() == [0.5, 0.3, -0.7, 0.2]
    assert result["revenue"].tolist() == [143.75, 86.25, -63.78, 13.78]
    per_period = result.groupby("timestamp")["revenue"].sum()
    assert per_period.round(2).tolist() == settlement["revenue"].tolist()


def test_attribution_rounding_residue_goes_to_the_largest_asset():
    # contract leg 1.00 yuan shared 1/6, 1/6, 2/3: 16.67 + 16.67 + 66.67 = 100.01 -> largest -0.01
    index = periods(1)
    settlement = settle_periods(
        series([0.0], index),
        series([0.6], index),
        series([0.0], index),
        series([0.0], index),
        q_contract_mwh=series([1.0], index),
        p_contract=1.0,
    )
    assets = pd.DataFrame({"a": [0.1], "b": [0.1], "c": [0.4]}, index=index)
    assert attribute_to_assets(settlement, assets)["revenue"].tolist() == [0.17, 0.17, 0.66]


def test_attribution_residue_on_first_of_tied_largest_assets():
    # 1.00 yuan in thirds: 0.33 each, the missing fen to the first of the three equal assets
    index = periods(1)
    settlement = settle_periods(
        series([0.0], index),
        series([0.3], index),
        series([0.0], index),
        series([0.0], index),
        q_contract_mwh=series([1.0], index),
        p_contract=1.0,
    )
    assets = pd.DataFrame({"a": [0.1], "b": [0.1], "c": [0.1]}, index=index)
    assert attribute_to_assets(settlement, assets)["revenue"].tolist() == [0.34, 0.33, 0.33]


def test_attribution_splits_equally_when_no_asset_moved():
    # q_da 1, nothing metered: revenue 300 - 350 = -50, split -25 / -25
    index = periods(1)
    settlement = settle_periods(
        series([1.0], index), series([0.0], index), series([300], index), series([350], index)
    )
    assets = pd.DataFrame({"a": [0.0], "b": [0.0]}, index=index)
    assert attribute_to_assets(settlement, assets)["revenue"].tolist() == [-25.00, -25.00]


def test_attribution_uses_administrative_price_when_suspended():
    # p_rt_settled 90: a -0.6*90 + (-0.5*(100-90)) = -54 - 5 = -59 (one asset takes it all)
    index = periods(1)
    settlement = settle_periods(
        series([-0.5], index),
        series([-0.6], index),
        series([100], index),
        series([80], index),
        market_suspended=pd.Series([True], index=index),
        administrative_price=series([90], index),
    )
    result = attribute_to_assets(settlement, pd.DataFrame({"a": [-0.6]}, index=index))
    assert result["revenue"].tolist() == [-59.00] == settlement["revenue"].tolist()


def test_attribution_error_assets_do_not_add_up_to_fleet():
    assets = pd.DataFrame({"a": [0.5, -0.7], "b": [0.3, 0.3]}, index=periods(2))
    with pytest.raises(InputError) as exc:
        attribute_to_assets(example(), assets)
    assert_names(exc, "asset_actual_mwh", T1)


def test_attribution_error_nan_names_asset_column_and_timestamp():
    assets = pd.DataFrame({"a": [0.5, -0.7], "b": [0.3, np.nan]}, index=periods(2))
    with pytest.raises(InputError) as exc:
        attribute_to_assets(example(), assets)
    assert_names(exc, "asset_actual_mwh[b]", T1)


def test_attribution_error_misaligned_assets():
    assets = pd.DataFrame({"a": [0.8]}, index=periods(1))
    with pytest.raises(InputError) as exc:
        attribute_to_assets(example(), assets)
    assert_names(exc, "asset_actual_mwh", T1)


def test_attribution_error_no_assets():
    with pytest.raises(InputError) as exc:
        attribute_to_assets(example(), pd.DataFrame(index=periods(2)))
    assert_names(exc, "asset_actual_mwh", None)


def test_attribution_error_not_a_settlement():
    with pytest.raises(InputError) as exc:
        attribute_to_assets(example().drop(columns="penalty"), pd.DataFrame({"a": [0.8, -0.5]}))
    assert_names(exc, "settlement", None)


@st.composite
def fleets(draw):
    n = draw(st.integers(1, 8))
    n_assets = draw(st.integers(1, 5))
    index = periods(n)
    assets = pd.DataFrame(
        np.array(draw(st.lists(energy, min_size=n * n_assets, max_size=n * n_assets))).reshape(
            n, n_assets
        ),
        index=index,
        columns=[f"asset{j}" for j in range(n_assets)],
    )
    if draw(st.booleans()):  # some periods where nothing moved
        assets.iloc[0] = 0.0

    def column(values):
        return pd.Series(draw(st.lists(values, min_size=n, max_size=n)), index=index, dtype=float)

    kwargs = {}
    if draw(st.booleans()):
        kwargs = {"q_contract_mwh": column(energy), "p_contract": draw(price)}
    if draw(st.booleans()):
        kwargs |= {
            "penalty_band_frac": draw(st.floats(0, 0.5)),
            "penalty_price": draw(st.floats(0, 500)),
        }
    settlement = settle_periods(
        column(energy), assets.sum(axis=1), column(price), column(price), **kwargs
    )
    return settlement, assets


@settings(max_examples=100, deadline=None)
@given(fleets())
def test_per_asset_revenues_add_up_to_fleet_revenue_to_the_fen(fleet):
    settlement, assets = fleet
    result = attribute_to_assets(settlement, assets)
    assert len(result) == assets.size
    per_period = (
        result.assign(fen=to_fen(result["revenue"])).groupby("timestamp", sort=False)["fen"].sum()
    )
    np.testing.assert_array_equal(per_period.to_numpy(), to_fen(settlement["revenue"]))
    np.testing.assert_array_equal(np.round(result["revenue"], 2), result["revenue"])
