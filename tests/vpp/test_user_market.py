"""Issue 13 item 1: a portfolio's market is a preset name, a market YAML file or an inline mapping,
validated by one model, and every command works with a user market file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from market.presets import PRESET_DIR, MarketSpec, available_markets, get_market, load_market
from vpp.cli import app
from vpp.errors import InputError
from vpp.portfolio_io import load_portfolio

DATA = Path(__file__).resolve().parents[1] / "data"
DE_LU_DST = DATA / "de_lu_2023-03-26_hourly.csv"  # 23 hourly prices, EUR/MWh, spring-forward day

runner = CliRunner()

BATTERY = {
    "id": "bess-1", "type": "battery", "power_mw": 1.0, "energy_mwh": 2.0,
    "charge_efficiency": 1.0, "discharge_efficiency": 1.0,
    "soc_initial_mwh": 0.0, "soc_min_mwh": 0.0, "soc_max_mwh": 2.0,
}


def _user_market(**changes) -> dict:
    """A market of the user's own: the generic preset's rules under another name."""
    data = yaml.safe_load((PRESET_DIR / "generic.yaml").read_text(encoding="utf-8"))
    data.update(name="my-epex", description="my own EPEX copy", **changes)
    return data


def _portfolio(folder: Path, market) -> Path:
    path = folder / "portfolio.yaml"
    document = {
        "name": "user-market",
        "market": market,
        "grid": {"import_limit_mw": 5, "export_limit_mw": 5},
        "assets": [BATTERY],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _market_file(folder: Path, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "my-epex.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_market_path_is_relative_to_the_portfolio_file(tmp_path, monkeypatch):
    _market_file(tmp_path / "markets", _user_market())
    portfolio = _portfolio(tmp_path, "markets/my-epex.yaml")
    monkeypatch.chdir(DATA)  # not the portfolio's folder: the path must not follow the cwd
    loaded = load_portfolio(portfolio)
    assert loaded.market.name == "my-epex"
    assert loaded.market.timezone == "Europe/Berlin" and loaded.market.currency == "EUR"


def test_inline_market_is_the_same_model(tmp_path):
    loaded = load_portfolio(_portfolio(tmp_path, _user_market(period_minutes=30)))
    assert isinstance(loaded.market, MarketSpec)
    assert loaded.market.period_minutes == 30 and loaded.market.nominal_periods_per_day == 48


def test_inline_market_errors_name_the_field(tmp_path):
    bad = _user_market(period_minutes=7)
    with pytest.raises(InputError) as err:
        load_portfolio(_portfolio(tmp_path, bad))
    assert "market.period_minutes" in str(err.value) and "does not divide a day" in str(err.value)


def test_bad_market_file_names_the_file_and_field(tmp_path):
    market = _market_file(tmp_path, _user_market(clear_price_floor=5000))
    with pytest.raises(InputError) as err:
        load_portfolio(_portfolio(tmp_path, "my-epex.yaml"))
    assert err.value.file == str(market)
    assert "clear_price_floor 5000.0 is above clear_price_cap 4000.0" in err.value.message
    market.write_text(yaml.safe_dump(_user_market(timezone="Europe/Atlantis")), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_portfolio(_portfolio(tmp_path, "my-epex.yaml"))
    assert err.value.file == str(market) and err.value.field == "timezone"


def test_missing_market_file_and_unknown_preset(tmp_path):
    with pytest.raises(InputError, match="market file not found") as err:
        load_portfolio(_portfolio(tmp_path, "markets/none.yaml"))
    assert err.value.file == str(tmp_path / "markets" / "none.yaml")
    with pytest.raises(InputError, match="unknown market 'atlantis'"):
        load_portfolio(_portfolio(tmp_path, "atlantis"))


def test_every_bundled_preset_loads_by_name_and_by_path():
    for name in available_markets():
        assert load_market(name) == load_market(PRESET_DIR / f"{name}.yaml") == get_market(name)


def test_market_list_and_show_round_trip(tmp_path):
    listed = runner.invoke(app, ["market", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {m["name"] for m in json.loads(listed.output)} == set(available_markets())
    shown = runner.invoke(app, ["market", "show", "shanxi"])
    assert shown.exit_code == 0, shown.output
    copy = tmp_path / "copy.yaml"
    copy.write_text(shown.output, encoding="utf-8")  # what `show` prints is a valid market file
    assert load_market(copy) == get_market("shanxi")
    by_path = runner.invoke(app, ["market", "show", str(copy), "--json"])
    assert json.loads(by_path.output)["derived"]["periods_per_day"] == 96
    bad = runner.invoke(app, ["market", "show", str(tmp_path / "none.yaml")])
    assert bad.exit_code == 1 and "market file not found" in bad.output


def test_schema_market_describes_the_preset_fields():
    result = runner.invoke(app, ["schema", "--market"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    assert schema == MarketSpec.model_json_schema()
    assert schema["additionalProperties"] is False
    preset_keys = set(yaml.safe_load((PRESET_DIR / "shanxi.yaml").read_text(encoding="utf-8")))
    assert preset_keys <= set(schema["properties"])
    portfolio = json.loads(runner.invoke(app, ["schema"]).output)
    assert "MarketSpec" in json.dumps(portfolio["properties"]["market"])


def test_bid_and_backtest_run_on_a_user_market_file(tmp_path):
    """The whole path from a market file the package has never seen to a bid and a backtest."""
    _market_file(tmp_path / "markets", _user_market())
    portfolio = _portfolio(tmp_path, "markets/my-epex.yaml")
    prices = tmp_path / "prices.csv"
    shutil.copy(DE_LU_DST, prices)
    out = tmp_path / "bid.csv"
    result = runner.invoke(app, [
        "bid", "--portfolio", str(portfolio), "--prices", str(prices), "--day", "2023-03-26",
        "--out", str(out), "--no-plot", "--allow-late",
    ])
    assert result.exit_code == 0, result.output
    bid = pd.read_csv(out)
    assert len(bid) == 23  # the spring-forward day of Europe/Berlin
    price = pd.read_csv(prices)["price"].to_numpy()
    # 1 MW / 2 MWh lossless battery, empty at the start: buy 2 MWh in the 2 cheapest hours, sell
    # in the 2 dearest later ones; the bid's energy nets to zero.
    assert bid["net_mw"].sum() == pytest.approx(0.0, abs=1e-6)
    assert bid["net_mw"].to_numpy() @ price > 0
    backtest = runner.invoke(app, [
        "backtest", "--portfolio", str(portfolio), "--prices", str(prices), "--start", "2023-03-26",
        "--end", "2023-03-26", "--strategy", "perfect_foresight", "--out", str(tmp_path / "bt"),
        "--quiet",
    ])
    assert backtest.exit_code == 0, backtest.output
    summary = json.loads((tmp_path / "bt" / "summary.json").read_text(encoding="utf-8"))
    assert summary["market"] == "my-epex"
