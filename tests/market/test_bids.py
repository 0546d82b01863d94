"""Quantity-only bids: validation, gate closure, atomic CSV and JSON output."""

from __future__ import annotations

import datetime as dt
import json
import os

import numpy as np
import pandas as pd
import pytest

from market.bids import QuantityBid, validate_quantity_bid, write_bid_csv, write_bid_json
from market.calendar import trading_day_index
from market.profiles import read_profiles
from vpp import io_utils
from vpp.errors import InputError

DAY = dt.date(2024, 1, 2)
BEFORE = pd.Timestamp("2024-01-01T09:00:00+08:00")
AFTER = pd.Timestamp("2024-01-01T09:31:00+08:00")


def _bid(market: str = "shanxi", day: dt.date = DAY) -> QuantityBid:
    index = trading_day_index(market, day)
    values = np.round(np.sin(np.arange(len(index)) / 8) * 5, 3)  # MW, export positive
    return QuantityBid(market=market, day=day, net_mw=pd.Series(values, index=index, name="net_mw"))


def test_valid_bid_before_gate_closure():
    bid = _bid()
    assert validate_quantity_bid(bid, "shanxi", now=BEFORE) is None
    assert validate_quantity_bid(bid, now=pd.Timestamp("2024-01-01 09:30")) is None  # naive = local
    assert bid.trading_day == DAY
    assert bid.energy_mwh.sum() == pytest.approx(bid.net_mw.sum() * 0.25)


def test_late_bid_raises_unless_allowed():
    bid = _bid()
    with pytest.raises(InputError, match="after gate closure 2024-01-01 09:30:00\\+08:00"):
        validate_quantity_bid(bid, now=AFTER)
    warning = validate_quantity_bid(bid, now=AFTER, allow_late=True)
    assert warning is not None and "late bid" in warning and "gate closure" in warning


def test_bid_with_missing_period_names_it():
    bid = _bid()
    short = QuantityBid(market="shanxi", day=DAY, net_mw=bid.net_mw.drop(bid.net_mw.index[40]))
    with pytest.raises(InputError) as info:
        validate_quantity_bid(short, now=BEFORE)
    assert "2024-01-02 10:00:00+08:00" in str(info.value) and "1 period(s)" in str(info.value)


def test_bid_for_other_day_or_hourly_periods_rejected():
    wrong_day = QuantityBid(market="shanxi", day=dt.date(2024, 1, 3), net_mw=_bid().net_mw)
    with pytest.raises(InputError, match="do not match trading day 2024-01-03"):
        validate_quantity_bid(wrong_day, now=BEFORE)
    hourly = QuantityBid(market="shanxi", day=DAY, net_mw=_bid().net_mw.iloc[::4])
    with pytest.raises(InputError, match="96 periods of 15 min"):
        validate_quantity_bid(hourly, now=BEFORE)


def test_bid_in_other_zone_same_instants_is_fine():
    bid = _bid()
    utc = QuantityBid(market="shanxi", day=DAY, net_mw=bid.net_mw.tz_convert("UTC"))
    assert validate_quantity_bid(utc, now=BEFORE) is None


def test_non_finite_and_naive_bids_rejected():
    bid = _bid()
    values = bid.net_mw.copy()
    values.iloc[7] = np.nan
    with pytest.raises(InputError) as info:
        validate_quantity_bid(QuantityBid("shanxi", DAY, values), now=BEFORE)
    assert "row 8" in str(info.value) and "2024-01-02 01:45:00+08:00" in str(info.value)
    naive = bid.net_mw.tz_localize(None)
    with pytest.raises(InputError, match="tz-aware"):
        validate_quantity_bid(QuantityBid("shanxi", DAY, naive), now=BEFORE)
    with pytest.raises(InputError, match="finite"):
        write_bid_csv(QuantityBid("shanxi", DAY, values), "unused.csv")


def test_market_mismatch():
    with pytest.raises(InputError, match="not 'gansu'"):
        validate_quantity_bid(_bid(), "gansu", now=BEFORE)


def test_write_bid_csv_reads_back(tmp_path):
    bid = _bid()
    path = write_bid_csv(bid, tmp_path / "bid.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "timestamp,net_mw"
    assert len(lines) == 97
    assert lines[1] == "2024-01-02T00:00:00+08:00,0.0"
    assert lines[-1].startswith("2024-01-02T23:45:00+08:00,")
    back = read_profiles(path, "Asia/Shanghai")["net_mw"]
    pd.testing.assert_series_equal(back, bid.net_mw, check_freq=False)
    assert os.listdir(tmp_path) == ["bid.csv"]  # no temporary file left


def test_write_bid_csv_on_25_hour_day(tmp_path):
    bid = _bid("generic", dt.date(2023, 10, 29))
    lines = write_bid_csv(bid, tmp_path / "bid.csv").read_text().splitlines()
    assert len(lines) == 26
    assert lines[3].startswith("2023-10-29T02:00:00+02:00,")
    assert lines[4].startswith("2023-10-29T02:00:00+01:00,")


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "bid.csv"
    path.write_text("old", encoding="utf-8")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(io_utils.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_bid_csv(_bid(), path)
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["bid.csv"]


def test_write_bid_json(tmp_path):
    bid = _bid()
    document = json.loads(write_bid_json(bid, tmp_path / "bid.json").read_text(encoding="utf-8"))
    assert document["market"] == "shanxi"
    assert document["trading_day"] == "2024-01-02"
    assert document["unit"] == "MW"
    assert len(document["periods"]) == 96
    assert document["periods"][8] == {"timestamp": "2024-01-02T02:00:00+08:00", "net_mw": bid.net_mw.iloc[8]}
