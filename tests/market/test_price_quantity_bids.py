"""Price-quantity bids: the market's rules, the clearing rule and the operator's CSV/JSON files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from market.bids import (
    PriceQuantityBid,
    validate_price_quantity_bid,
    write_price_quantity_csv,
    write_price_quantity_json,
)
from market.calendar import trading_day_index
from market.presets import get_market
from vpp.errors import InputError

MARKET = get_market("shanxi")
DAY = pd.Timestamp("2024-01-02").date()
INDEX = trading_day_index(MARKET, DAY)
EARLY = pd.Timestamp("2024-01-01 09:00", tz="Asia/Shanghai")
LATE = pd.Timestamp("2024-01-01 10:00", tz="Asia/Shanghai")


def bid(prices=(0.0, 300.0, 600.0), nets=(-2.0, 0.5, 3.0)) -> PriceQuantityBid:
    rows = [(ts, k + 1, p, q) for ts in INDEX for k, (p, q) in enumerate(zip(prices, nets, strict=True))]
    frame = pd.DataFrame(rows, columns=["timestamp", "segment", "price_yuan_per_mwh", "net_mw"])
    return PriceQuantityBid("shanxi", DAY, frame)


def test_a_valid_bid_passes_and_clears_by_the_last_accepted_segment():
    b = bid()
    assert validate_price_quantity_bid(b, MARKET, now=EARLY) is None
    clearing = np.array([0.0, 299.99, 300.0, 1500.0] * 24)
    np.testing.assert_allclose(b.cleared_net_mw(clearing).to_numpy(), [-2.0, -2.0, 0.5, 3.0] * 24)


@pytest.mark.parametrize(
    ("prices", "nets", "field"),
    [
        ((0.0, 300.0, 1600.0), (-2.0, 0.5, 3.0), "price_yuan_per_mwh"),  # above the cap
        ((10.0, 300.0, 600.0), (-2.0, 0.5, 3.0), "price_yuan_per_mwh"),  # not from the floor
        ((0.0, 300.0, 300.0), (-2.0, 0.5, 3.0), "price_yuan_per_mwh"),  # prices not increasing
        ((0.0, 300.0, 600.0), (-2.0, 0.5, 0.4), "net_mw"),  # selling less at a higher price
        ((0.0, 300.0, 600.0), (-1.0, -2.0, 3.0), "net_mw"),  # buying more at a higher price
        ((0.0, 300.0, 600.0), (-2.0, np.nan, 3.0), "net_mw"),
    ],
)
def test_broken_rules_are_refused_naming_the_field(prices, nets, field):
    with pytest.raises(InputError) as err:
        validate_price_quantity_bid(bid(prices, nets), MARKET, now=EARLY)
    assert err.value.field == field


def test_segment_count_and_periods_are_checked():
    eleven = bid(tuple(float(p) for p in range(0, 1100, 100)), tuple(float(q) for q in range(11)))
    with pytest.raises(InputError, match="allows 1 to 10"):
        validate_price_quantity_bid(eleven, MARKET, now=EARLY)
    short = bid()
    short = PriceQuantityBid("shanxi", DAY, short.segments[short.segments["timestamp"] != INDEX[5]])
    with pytest.raises(InputError, match="missing"):
        validate_price_quantity_bid(short, MARKET, now=EARLY)


def test_gate_closure_warns_or_refuses():
    with pytest.raises(InputError, match="after closure"):
        validate_price_quantity_bid(bid(), MARKET, now=LATE)
    warning = validate_price_quantity_bid(bid(), MARKET, now=LATE, allow_late=True)
    assert warning is not None and "late bid accepted" in warning


def test_csv_and_json_files(tmp_path):
    b = bid()
    csv = pd.read_csv(write_price_quantity_csv(b, tmp_path / "bid.csv"))
    columns = ["timestamp", "segment", "price_yuan_per_mwh", "net_mw", "side", "quantity_mw"]
    assert list(csv.columns) == columns
    assert len(csv) == 96 * 3
    assert csv["timestamp"].iloc[0] == "2024-01-02T00:00:00+08:00"
    assert list(csv["side"].iloc[:3]) == ["buy", "sell", "sell"]
    doc = json.loads(write_price_quantity_json(b, tmp_path / "bid.json").read_text())
    assert doc["bid_mode"] == "price_quantity" and len(doc["periods"]) == 96
    assert doc["periods"][0]["segments"][2] == {"price_yuan_per_mwh": 600.0, "net_mw": 3.0}
