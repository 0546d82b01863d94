"""The portfolio's revenue_share is used (issue 16 item 4): a backtest splits the headline
strategy's result between the operator and its users (MARKET_RULES 4.3), in summary.json and the
report, reconciling to the settlement to the fen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from market.prices import read_prices
from simulator.backtest import run_backtest
from simulator.report import render_report
from vpp.examples_paths import DEFAULT_PRICES
from vpp.portfolio_io import load_portfolio

DAY = dt.date(2024, 4, 16)
PORTFOLIO = (
    "name: shared\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\n"
    "assets:\n"
    "  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0}\n"
    "  - {id: load-1, type: load, profile: 0.8}\n"
)


@pytest.fixture(scope="module")
def prices():
    return read_prices(DEFAULT_PRICES, "shanxi")


def _backtest(folder: Path, prices, extra: str = ""):
    path = folder / "p.yaml"
    path.write_text(PORTFOLIO + extra, encoding="utf-8")
    loaded = load_portfolio(path)
    return loaded, run_backtest(loaded, prices, [DAY], ["da_only"], progress=False)


def test_the_split_reconciles_to_the_settlement_to_the_fen(tmp_path, prices):
    share = (
        "revenue_share: {retail_price_yuan_per_mwh: 400.0, user_dividend_share: 0.25,"
        " operating_fee_yuan_per_day: 10}\n"
    )
    loaded, result = _backtest(tmp_path, prices, share)
    split = result.summary["revenue_share"]
    settlement = result.settlements["da_only"]
    imported = (-settlement["q_actual_mwh"]).clip(lower=0.0)
    assert split["consumption_mwh"] == pytest.approx(imported.sum(), abs=1e-9)
    # the load's 19.2 MWh, less what the battery can give (1 MWh net of its start and end)
    assert split["consumption_mwh"] >= 0.8 * 24 - 2.0 - 1e-6
    assert split["user_payments"] == pytest.approx(round(400.0 * imported.sum(), 2), abs=0.005)
    assert split["wholesale_revenue"] == pytest.approx(settlement["revenue"].sum(), abs=0.005)
    assert split["days"] == 1 and split["operating_fees"] == 10.0
    dividend = split["user_payments"] + split["wholesale_revenue"] - 10.0
    assert split["dividend"] == pytest.approx(dividend, abs=0.005)
    assert split["user_dividend"] == pytest.approx(round(0.25 * max(dividend, 0.0), 2), abs=0.005)
    assert split["user_dividend"] + split["operator_dividend"] == pytest.approx(split["dividend"], abs=1e-9)
    page = render_report(result, loaded)
    assert "id='revenue-share'" in page and f"{split['user_dividend']:,.0f}" in page
    assert np.isfinite(list(split.values())).all()


def test_no_split_without_a_revenue_share(tmp_path, prices):
    loaded, result = _backtest(tmp_path, prices)
    assert "revenue_share" not in result.summary
    assert "id='revenue-share'" not in render_report(result, loaded)


def test_members_earnings_add_up_to_the_fleet_to_the_fen(tmp_path, prices):
    """members.csv: each asset's attributed revenue (market.attribution); their sum is the fleet's."""
    from market.money import to_fen
    from simulator.backtest import member_earnings, write_backtest

    loaded, result = _backtest(tmp_path, prices)
    record = result.run.records["da_only"]
    settlement = result.settlements["da_only"]
    members = member_earnings(settlement, record.fleet_frame(), record.asset_frame())
    assert members["asset_id"].tolist() == ["bess-1", "load-1"]
    assert to_fen(members["revenue"]).sum() == to_fen(settlement["revenue"]).sum()
    assert members.set_index("asset_id").loc["load-1", "energy_mwh"] == pytest.approx(-0.8 * 24)
    assert members["energy_mwh"].sum() == pytest.approx(settlement["q_actual_mwh"].sum(), abs=1e-6)
    written = write_backtest(result, tmp_path / "out", loaded)
    assert {tmp_path / "out" / "members.csv", tmp_path / "out" / "da_only" / "members.csv"} <= set(written)
