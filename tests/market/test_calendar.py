"""Trading calendar: periods of a day (incl. daylight-saving days), gate closure, timestamp text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from market.calendar import (
    format_timestamps,
    gate_closure,
    parse_timestamps,
    period_ends,
    period_hours,
    trading_day_index,
    trading_day_of,
    trading_days,
    zone_label,
)
from market.presets import get_market
from vpp.errors import InputError


def test_shanxi_day_has_96_quarter_hours_from_local_midnight():
    index = trading_day_index("shanxi", dt.date(2024, 1, 2))
    assert len(index) == 96
    assert index.name == "timestamp"
    assert str(index.tz) == "Asia/Shanghai"
    assert index[0] == pd.Timestamp("2024-01-02T00:00:00+08:00")
    assert index[0].isoformat() == "2024-01-02T00:00:00+08:00"
    assert index[-1] == pd.Timestamp("2024-01-02T23:45:00+08:00")
    assert index.freq == pd.Timedelta(minutes=15)
    np.testing.assert_array_equal(period_hours(index), np.full(96, 0.25))


@pytest.mark.parametrize(("day", "periods"), [("2023-03-26", 23), ("2023-10-29", 25), ("2023-06-01", 24)])
def test_generic_daylight_saving_days(day, periods):
    index = trading_day_index("generic", day)
    assert len(index) == periods
    assert period_hours(index).sum() == periods
    assert index[0] == pd.Timestamp(day).tz_localize("Europe/Berlin")
    # the next day starts right after the last period
    assert (
        index[-1] + pd.Timedelta(hours=1)
        == trading_day_index("generic", pd.Timestamp(day) + pd.Timedelta(days=1))[0]
    )


def test_autumn_day_repeats_two_oclock_with_both_offsets():
    text = format_timestamps(trading_day_index("generic", "2023-10-29"))
    assert list(text[2:4]) == ["2023-10-29T02:00:00+02:00", "2023-10-29T02:00:00+01:00"]


def test_spring_day_skips_two_oclock():
    text = format_timestamps(trading_day_index("generic", "2023-03-26"))
    assert list(text[1:3]) == ["2023-03-26T01:00:00+01:00", "2023-03-26T03:00:00+02:00"]


def test_period_hours_last_period_from_market_or_spacing():
    index = trading_day_index("shanxi", "2024-01-02")
    bare = pd.DatetimeIndex(index[:3], freq=None)
    np.testing.assert_array_equal(period_hours(bare), [0.25, 0.25, 0.25])
    np.testing.assert_array_equal(period_hours(bare[:1], "shanxi"), [0.25])
    np.testing.assert_array_equal(period_hours(bare[:1], get_market("generic")), [1.0])
    with pytest.raises(ValueError, match="market"):
        period_hours(bare[:1])
    assert period_hours(bare[:0]).size == 0


def test_period_hours_of_irregular_index_needs_market():
    index = pd.DatetimeIndex(["2024-01-01 00:00", "2024-01-01 00:15", "2024-01-01 01:15"], tz="UTC")
    np.testing.assert_array_equal(period_hours(index, "shanxi"), [0.25, 1.0, 0.25])
    with pytest.raises(ValueError):
        period_hours(index)


def test_gate_closure_shanxi():
    closes = gate_closure("shanxi", dt.date(2024, 1, 2))
    assert closes == pd.Timestamp("2024-01-01T09:30:00+08:00")
    assert str(closes.tz) == "Asia/Shanghai"


def test_gate_closure_generic_around_spring_change():
    assert gate_closure("generic", "2023-03-26").isoformat() == "2023-03-25T12:00:00+01:00"
    assert gate_closure("generic", "2023-03-27").isoformat() == "2023-03-26T12:00:00+02:00"


def test_trading_day_of():
    assert trading_day_of("shanxi", pd.Timestamp("2024-01-01T16:00:00Z")) == dt.date(2024, 1, 2)
    assert trading_day_of("shanxi", pd.Timestamp("2024-01-01T15:45:00Z")) == dt.date(2024, 1, 1)
    assert trading_day_of("shanxi", "2024-01-01 23:45") == dt.date(2024, 1, 1)
    index = trading_day_index("generic", "2023-10-29")
    assert set(trading_day_of("generic", index)) == {dt.date(2023, 10, 29)}


def test_trading_days_inclusive():
    days = trading_days("shanxi", dt.date(2024, 2, 28), dt.date(2024, 3, 1))
    assert days == [dt.date(2024, 2, 28), dt.date(2024, 2, 29), dt.date(2024, 3, 1)]
    assert trading_days("shanxi", "2024-01-01", "2024-01-01") == [dt.date(2024, 1, 1)]
    with pytest.raises(InputError, match="before"):
        trading_days("shanxi", "2024-01-02", "2024-01-01")


def test_format_then_parse_round_trips_on_dst_days():
    for day in ("2023-03-26", "2023-10-29"):
        index = trading_day_index("generic", day)
        back = parse_timestamps(format_timestamps(index), "Europe/Berlin")
        assert back.equals(index)


def test_parse_hour_24_zulu_and_naive_values():
    parsed = parse_timestamps(
        ["2024-01-01 24:00", "2024-01-01T24:00:00+08:00", "2024-01-01T16:15Z", "2024-01-02 00:30"],
        "Asia/Shanghai",
    )
    expected = pd.date_range("2024-01-02", periods=3, freq="15min", tz="Asia/Shanghai")
    assert list(parsed) == [expected[0], expected[0], expected[1], expected[2]]


def test_zone_label_names_every_offset() -> None:
    index = pd.date_range("2024-03-10 00:00", periods=4, freq="h", tz="America/New_York")
    assert zone_label(index) == "America/New_York, UTC-05:00/UTC-04:00"
    assert zone_label(trading_day_index("shanxi", "2024-01-02")) == "Asia/Shanghai, UTC+08:00"


def test_period_ends_add_each_periods_own_length_across_the_dst_change() -> None:
    # the night clocks spring forward: 01:00 EST is followed by 03:00 EDT, one hour later
    starts = pd.DatetimeIndex(
        ["2024-03-10 00:45", "2024-03-10 01:00", "2024-03-10 03:00"], tz="America/New_York"
    )
    ends = period_ends(starts, [0.25, 1.0, 0.25])
    assert [t.isoformat() for t in ends] == [
        "2024-03-10T01:00:00-05:00",
        "2024-03-10T03:00:00-04:00",
        "2024-03-10T03:15:00-04:00",
    ]
