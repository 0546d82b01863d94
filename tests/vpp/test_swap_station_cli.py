"""The battery-swap station through the CLI: ``vpp schema``, ``validate``, ``bid`` and ``backtest``.

The family took two files (``vpp/assets/swap_station.py``, ``optimizer/families/swap_station.py``)
and one registry line; nothing in these commands names it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from vpp.cli import app
from vpp.examples_paths import DEFAULT_PRICES

runner = CliRunner()
DAY = "2024-04-16"
SWAP_PERIODS = (28, 29, 72)
"""Periods (15 min) with one swap each: 07:00, 07:15 and 18:00."""


def write_portfolio(tmp_path: Path) -> Path:
    demand = [1.0 if k in SWAP_PERIODS else 0.0 for k in range(96)]
    path = tmp_path / "swap.yaml"
    path.write_text(
        "name: swap\nmarket: shanxi\ngrid: {import_limit_mw: 5, export_limit_mw: 5}\nassets:\n"
        "  - {id: swap-1, type: swap_station, packs: 4, pack_energy_mwh: 0.1, charger_power_mw: 0.2,\n"
        "     charge_efficiency: 0.95, discharge_power_mw: 0.2, discharge_efficiency: 0.95,\n"
        f"     full_packs_initial: 2, swap_demand: {demand}}}\n"
        "  - {id: bess-1, type: battery, power_mw: 1.0, energy_mwh: 2.0, soc_initial_mwh: 1.0}\n",
        encoding="utf-8",
    )
    return path


def test_schema_and_validate_know_the_swap_station(tmp_path: Path) -> None:
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    fields = schema["$defs"]["SwapStationSpec"]["properties"]
    assert {"packs", "pack_energy_mwh", "charger_power_mw", "swap_demand"} <= set(fields)
    result = runner.invoke(app, ["validate", str(write_portfolio(tmp_path)), "--day", DAY, "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["type"]: row for row in json.loads(result.stdout)["assets"]}
    assert rows["swap_station"] == {
        "type": "swap_station",
        "count": 1,
        "power_mw": 0.2,
        "energy_mwh": 0.4,
        "notes": "chargers; MWh in stock; 4 packs, discharge 0.20 MW",
    }


def check_station(station: pd.DataFrame, days: int) -> None:
    """Stock continuity, swaps served from full packs, bounds and no two-way flow (one row a period)."""
    stored = station["stored_mwh"].to_numpy()
    charge, discharge = station["charge_mw"].to_numpy(), station["discharge_mw"].to_numpy()
    demand = np.tile([1.0 if k in SWAP_PERIODS else 0.0 for k in range(96)], days)
    before = np.r_[0.2, stored[:-1]]  # two full packs of 0.1 MWh at the start
    expected = before - 0.1 * demand + 0.25 * (0.95 * charge - discharge / 0.95)
    np.testing.assert_allclose(stored, expected, atol=1e-6)
    assert (before - 0.1 * demand >= -1e-6).all(), "a swap without a full pack"
    assert (stored <= 0.4 + 1e-6).all() and (stored >= -1e-6).all()
    assert (charge <= 0.2 + 1e-6).all() and (discharge <= 0.2 + 1e-6).all()
    assert (np.minimum(charge, discharge) <= 1e-6).all()


def test_bid_meets_every_swap_with_a_full_pack(tmp_path: Path) -> None:
    out = tmp_path / "bid.csv"
    args = ["bid", "--portfolio", str(write_portfolio(tmp_path)), "--prices", str(DEFAULT_PRICES)]
    result = runner.invoke(app, [*args, "--day", DAY, "--allow-late", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assets = pd.read_csv(tmp_path / "bid_assets.csv")
    station = assets[assets["asset_id"] == "swap-1"].reset_index(drop=True)
    assert len(station) == 96
    check_station(station, 1)
    assert station["stored_mwh"].iloc[-1] >= 0.2 - 1e-6  # the day ends with its two full packs
    net = assets.pivot(index="timestamp", columns="asset_id", values="net_mw").sum(axis=1).to_numpy()
    np.testing.assert_allclose(pd.read_csv(out)["net_mw"].to_numpy(), net, atol=1e-6)
    assert (tmp_path / "bid.png").is_file()  # the plot shows the station's stored energy


def test_backtest_carries_the_stock_and_serves_the_swaps(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["backtest", "--portfolio", str(write_portfolio(tmp_path)), "--start", "2024-04-15"]
    args += ["--end", "2024-04-16", "--strategy", "da_rt,da_only", "--out", str(out), "--quiet"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for strategy in ("da_rt", "da_only"):
        assets = pd.read_csv(out / strategy / "assets.csv")
        station = assets[assets["asset_id"] == "swap-1"].reset_index(drop=True)
        assert len(station) == 192
        check_station(station, 2)
