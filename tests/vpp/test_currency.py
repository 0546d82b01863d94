"""Issue 13 item 3: money is shown in the market's currency (EUR and USD markets printed "yuan")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from market.presets import get_market, load_market
from vpp.cli import app
from vpp.errors import InputError

DATA = Path(__file__).resolve().parents[1] / "data"
DE_LU = DATA / "de_lu_2023-03-26_hourly.csv"  # EUR/MWh, 23 hours

runner = CliRunner()

BATTERY = {
    "id": "bess-1", "type": "battery", "power_mw": 1.0, "energy_mwh": 2.0,
    "charge_efficiency": 0.95, "discharge_efficiency": 0.95,
    "soc_initial_mwh": 1.0, "soc_min_mwh": 0.2, "soc_max_mwh": 2.0,
}


def _portfolio(folder: Path, market: str = "generic") -> Path:
    path = folder / "portfolio.yaml"
    path.write_text(yaml.safe_dump({
        "name": "eur", "market": market, "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
        "assets": [BATTERY],
    }), encoding="utf-8")
    return path


def test_units_follow_the_currency():
    assert get_market("shanxi").money_unit == "yuan" and get_market("shanxi").price_unit == "yuan/MWh"
    assert get_market("generic").money_unit == "EUR" and get_market("generic").price_unit == "EUR/MWh"
    with pytest.raises(InputError, match="currency"):
        load_market({**get_market("generic").model_dump(), "currency": "euro"})


def test_bid_summary_of_a_euro_market_prints_euro(tmp_path):
    out = tmp_path / "bid.csv"
    result = runner.invoke(app, ["bid", "--portfolio", str(_portfolio(tmp_path)), "--prices", str(DE_LU),
                                 "--day", "2023-03-26", "--out", str(out), "--no-plot", "--allow-late"])
    assert result.exit_code == 0, result.output
    assert "EUR" in result.output and "yuan" not in result.output


def test_backtest_of_a_euro_market_prints_and_reports_euro(tmp_path):
    out = tmp_path / "bt"
    result = runner.invoke(app, [
        "backtest", "--portfolio", str(_portfolio(tmp_path)), "--prices", str(DE_LU), "--start",
        "2023-03-26", "--end", "2023-03-26", "--strategy", "perfect_foresight", "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "EUR" in result.output and "yuan" not in result.output
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["currency"] == "EUR" and summary["money_unit"] == "EUR"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Money in EUR" in report and " yuan" not in report


def test_every_money_column_of_the_backtest_table_names_the_currency():
    """The console table headed only "revenue" with its unit: "DA", "RT", "over passive", "daily sd"
    and "worst day" were money without one ("DA" could be read as a price or an energy)."""
    from vpp.commands.backtest import summary_table

    block = {
        "total_revenue_yuan": 10.0, "da_revenue_yuan": 8.0, "rt_revenue_yuan": 2.0, "capture_ratio": 0.5,
        "value_over_passive_yuan": 4.0, "yuan_per_mwh": 1.5, "daily_revenue_std_yuan": 1.0,
        "daily_revenue_min_yuan": -3.0, "realtime_solves": 7,
    }
    summary = {"money_unit": "EUR", "portfolio": "eur", "first_day": "2023-03-26", "last_day": "2023-03-26",
               "strategies": {"da_rt": block}}
    _, header, rows = summary_table(summary)
    assert header == ["strategy", "revenue (EUR)", "DA leg (EUR)", "RT leg (EUR)", "over passive (EUR)",
                      "capture", "EUR/MWh", "daily sd (EUR)", "worst day (EUR)", "RT solves"]
    assert rows == [["da_rt", "10.00", "8.00", "2.00", "4.00", "0.500", "1.50", "1.00", "-3.00", "7"]]


def test_every_money_column_of_the_sweep_table_names_the_currency():
    """`vpp sweep`'s table headed "over passive" without a unit, while backtest's reads "(EUR)"."""
    import pandas as pd

    from simulator.sweep import SweepResult
    from vpp.commands.sweep import sweep_table

    table = pd.DataFrame({
        "variant": ["a", "b"], "strategy": ["da_rt", "da_rt"], "total_revenue_yuan": [1234.5, 10.0],
        "value_over_passive_yuan": [-4.0, None], "capture_ratio": [0.5, None], "yuan_per_mwh": [1.5, None],
    })
    title, header, rows = sweep_table(SweepResult(table=table, results={"a": None, "b": None}, seconds=2.04),
                                      money="EUR")
    assert title == "sweep: 2 variants, 2.0 s"
    assert header == ["variant / strategy", "revenue (EUR)", "over passive (EUR)", "capture", "EUR/MWh"]
    assert rows == [["a / da_rt", "1,234.50", "-4.00", "0.500", "1.50"],
                    ["b / da_rt", "10.00", "-", "-", "-"]]
