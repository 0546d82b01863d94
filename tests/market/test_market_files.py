"""Issue 13 item 4: bundled market files that exercise the generality - a 5-minute market (NEM), an
hourly US market with daylight saving (CAISO) and a Chinese province with negative prices (Shandong) -
each citing its sources with confidence tags, and a bid on each with a hand-computable optimum."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from market.calendar import format_timestamps, trading_day_index
from market.presets import PRESET_DIR, get_market, has_daylight_saving
from vpp.cli import app

runner = CliRunner()

NEW_MARKETS = ("nem_nsw", "caiso", "shandong")

# 1 MW / 1 MWh lossless battery, empty at the start and (soc_final defaults to soc_initial) at the end:
# its best day is one full cycle, bought in the cheapest hour and sold in the dearest later one.
BATTERY = {
    "id": "bess-1", "type": "battery", "power_mw": 1.0, "energy_mwh": 1.0,
    "charge_efficiency": 1.0, "discharge_efficiency": 1.0, "soc_initial_mwh": 0.0,
}


@pytest.mark.parametrize("name", NEW_MARKETS)
def test_market_file_cites_sources_and_tags_every_rule(name):
    text = (PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    assert "Sources:" in text
    data = yaml.safe_load(text)
    tagged = {line.split(":")[0].strip() for line in text.splitlines() if re.search(r"\[[VPRD]\]", line)}
    for rule in ("period_minutes", "bid_price_floor", "bid_price_cap", "clear_price_floor",
                 "clear_price_cap", "source_period_label"):
        assert rule in data and rule in tagged, f"{name}: {rule} has no confidence tag"


def test_the_new_markets_exercise_what_the_old_ones_do_not():
    nem, caiso, shandong = (get_market(n) for n in NEW_MARKETS)
    assert nem.nominal_periods_per_day == 288 and nem.currency == "AUD" and nem.period_label == "end"
    assert caiso.period_minutes == 60 and has_daylight_saving(caiso) and caiso.currency == "USD"
    assert shandong.currency == "CNY" and shandong.negative_prices and shandong.clear_price_floor < 0
    assert len(trading_day_index(caiso, "2024-03-10")) == 23
    assert len(trading_day_index(caiso, "2024-11-03")) == 25


def _bid(tmp_path: Path, market: str, prices: pd.DataFrame, day: str) -> tuple[pd.DataFrame, dict]:
    portfolio = tmp_path / "portfolio.yaml"
    portfolio.write_text(yaml.safe_dump({
        "name": f"on-{market}", "market": market, "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
        "assets": [BATTERY],
    }), encoding="utf-8")
    price_file = tmp_path / "prices.csv"
    prices.to_csv(price_file, index=False)
    out = tmp_path / "bid.csv"
    result = runner.invoke(app, ["bid", "--portfolio", str(portfolio), "--prices", str(price_file),
                                 "--day", day, "--out", str(out), "--no-plot", "--allow-late"])
    assert result.exit_code == 0, result.output
    assert "yuan" not in result.output or get_market(market).currency == "CNY"
    summary = json.loads(out.with_name("bid_summary.json").read_text(encoding="utf-8"))
    return pd.read_csv(out), summary


def _end_labels(index: pd.DatetimeIndex, period: pd.Timedelta) -> list[str]:
    """Naive local period-end labels as the exchanges publish them: the last one is '24:00'."""
    ends = (index + period).tz_localize(None)
    text = [t.strftime("%Y-%m-%d %H:%M") for t in ends]
    text[-1] = f"{index[0]:%Y-%m-%d} 24:00"
    return text


def test_bid_on_the_5_minute_nem_has_288_periods_and_the_hand_optimum(tmp_path):
    market = get_market("nem_nsw")
    index = trading_day_index(market, "2025-01-15")
    minutes = np.asarray(index.hour * 60 + index.minute)
    price = np.full(288, 100.0)
    price[(minutes >= 60) & (minutes < 120)] = -500.0   # 01:00-02:00: paid to take power
    price[(minutes >= 1080) & (minutes < 1140)] = 1000.0  # 18:00-19:00
    frame = pd.DataFrame({"timestamp": _end_labels(index, market.period), "price": price})
    bid, summary = _bid(tmp_path, "nem_nsw", frame, "2025-01-15")  # AEMO-style, read as period ends
    assert len(bid) == 288 and bid["timestamp"].iloc[0] == "2025-01-15T00:00:00+10:00"
    # 12 periods of 5 minutes at 1 MW = 1 MWh: +500 AUD for taking it, +1000 AUD for selling it
    assert summary["objective_yuan"] == pytest.approx(1500.0, abs=1e-3)
    assert summary["currency"] == "AUD"
    net = bid["net_mw"].to_numpy()
    np.testing.assert_allclose(net[(minutes >= 60) & (minutes < 120)], -1.0, atol=1e-6)
    np.testing.assert_allclose(net[(minutes >= 1080) & (minutes < 1140)], 1.0, atol=1e-6)


@pytest.mark.parametrize(("day", "hours"), [("2024-03-10", 23), ("2024-11-03", 25)])
def test_bid_on_caiso_daylight_saving_days(tmp_path, day, hours):
    market = get_market("caiso")
    index = trading_day_index(market, day)
    assert len(index) == hours
    price = np.full(hours, 30.0)
    price[3], price[hours - 4] = -100.0, 200.0
    frame = pd.DataFrame({"timestamp": format_timestamps(index), "price": price})
    bid, summary = _bid(tmp_path, "caiso", frame, day)
    assert len(bid) == hours
    assert summary["objective_yuan"] == pytest.approx(300.0, abs=1e-3)  # +100 to charge, +200 to sell
    assert summary["currency"] == "USD" and summary["periods"] == hours
    assert bid["net_mw"].iloc[3] == pytest.approx(-1.0)
    assert bid["net_mw"].iloc[hours - 4] == pytest.approx(1.0)


def test_bid_on_shandong_with_negative_prices(tmp_path):
    market = get_market("shandong")
    index = trading_day_index(market, dt.date(2024, 5, 1))
    hour = np.asarray(index.hour)
    price = np.full(96, 300.0)
    price[hour == 11] = -80.0   # 4 quarter-hours at the offer floor
    price[hour == 19] = 900.0
    frame = pd.DataFrame({"timestamp": _end_labels(index, market.period), "price": price})
    bid, summary = _bid(tmp_path, "shandong", frame, "2024-05-01")
    assert len(bid) == 96
    assert summary["objective_yuan"] == pytest.approx(80.0 + 900.0, abs=1e-3)
    np.testing.assert_allclose(bid["net_mw"].to_numpy()[hour == 11], -1.0, atol=1e-6)
