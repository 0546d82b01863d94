"""Dask backtests and sweeps give the figures of a serial run, to the fen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from market.prices import read_prices
from simulator.backtest import run_backtest
from simulator.sweep import load_variant, parse_param, run_sweep, set_value, variant_name, write_sweep
from vpp.cli import app
from vpp.errors import InputError
from vpp.examples_paths import DEFAULT_PRICES

pytest.importorskip("dask.distributed")

PORTFOLIO = """name: tiny
market: shanxi
grid: {import_limit_mw: 5, export_limit_mw: 5}
assets:
  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0, soc_min_mwh: 0.2,
     degradation_cost: 5.0}
  - {id: pv-1, type: pv, capacity_mw: 1.0, profile: 0.3, curtailable: true}
  - {id: load-1, type: load, profile: 0.4, scale_mw: 1.0}
"""


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("p") / "tiny.yaml"
    path.write_text(PORTFOLIO, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    return read_prices(DEFAULT_PRICES, "shanxi")


@pytest.mark.slow  # starts worker processes
def test_sweep_on_two_workers_equals_serial(portfolio, prices, tmp_path):
    days = [dt.date(2024, 4, 16)]
    params = [parse_param("assets[bess-1].energy_mwh=2,4")]
    result = run_sweep(portfolio, params, prices, days, ["da_rt"], workers=2)
    assert list(result.table["variant"]) == ["bess-1.energy_mwh=2", "bess-1.energy_mwh=4"]
    assert list(result.table["strategy"]) == ["da_rt", "da_rt"]
    for energy in (2, 4):
        name = f"bess-1.energy_mwh={energy}"
        serial = run_backtest(load_variant(portfolio, {"assets[bess-1].energy_mwh": energy}), prices, days,
                              ["da_rt"], progress=False)
        for strategy, settlement in serial.settlements.items():
            pd.testing.assert_frame_equal(result.results[name].settlements[strategy], settlement)
        row = result.table[result.table["variant"] == name].iloc[0]
        assert row["total_revenue_yuan"] == serial.summary["total_revenue_yuan"]
        assert row["capture_ratio"] == serial.summary["capture_ratio"]
    # more storage earns at least as much under perfect foresight
    bounds = result.table["perfect_foresight_revenue_yuan"].to_numpy()
    assert bounds[1] >= bounds[0] - 0.01
    written = write_sweep(result, tmp_path / "sweep")
    assert {p.name for p in written} == {"sweep.csv", "sweep.png", "sweep.html"}
    table = pd.read_csv(tmp_path / "sweep" / "sweep.csv")
    for column in ("variant", "strategy", "total_revenue_yuan", "capture_ratio", "yuan_per_mwh"):
        assert column in table.columns


@pytest.mark.slow  # starts worker processes
def test_cli_backtest_workers_same_settlement(portfolio, tmp_path):
    runner = CliRunner()
    common = ["backtest", "--portfolio", str(portfolio), "--start", "2024-04-15", "--end", "2024-04-16",
              "--strategy", "da_rt,da_only,rule_based", "--quiet"]
    serial = runner.invoke(app, [*common, "--out", str(tmp_path / "serial")])
    assert serial.exit_code == 0, serial.output
    dask = runner.invoke(app, [*common, "--out", str(tmp_path / "dask"), "--workers", "2"])
    assert dask.exit_code == 0, dask.output
    names = ("settlement.csv", "da_rt/settlement.csv", "da_only/settlement.csv", "rule_based/settlement.csv",
             "da_rt/assets.csv")
    for name in names:
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "dask" / name).read_bytes(), name


def test_param_paths():
    data = {"grid": {"import_limit_mw": 5}, "assets": [{"id": "a", "x": 1}, {"id": "b", "x": 2}]}
    set_value(data, "assets[b].x", 7)
    set_value(data, "assets[0].x", 3)
    set_value(data, "grid.import_limit_mw", 9)
    assert data["assets"][0]["x"] == 3 and data["assets"][1]["x"] == 7
    assert data["grid"]["import_limit_mw"] == 9
    assert parse_param("grid.export_limit_mw=1, 2.5").values == (1, 2.5)
    assert variant_name({"assets[b].x": 7, "grid.export_limit_mw": 2}) == "b.x=7,grid.export_limit_mw=2"
    with pytest.raises(InputError):
        set_value(data, "assets[zz].x", 1)
    with pytest.raises(InputError):
        parse_param("grid.import_limit_mw")
