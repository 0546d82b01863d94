"""`vpp bid` says when its schedule is feasible but not proven optimal (a repaired solve).

The day: a Shandong battery (1 MW / 2 MWh, half full, eta 0.9/0.9) behind a zero export limit, at
50 yuan/MWh until noon and -100 after. A relaxation burns energy in the morning (charging and
discharging at once) to import more after noon; the solve loop's clock is stalled
(tests/optimizer/test_exclusive_repair.py) so the time budget is spent after the first solve and
the burning schedule is repaired by one LP: idle at 50, then the 1 MWh of room filled at -100
(1 / 0.9 MWh imported: 1000 / 9 = 111.11 yuan), as in the optimizer's test.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from market.calendar import trading_day_index
from optimizer.exclusive import SIMULTANEOUS_MW
from tests.optimizer.test_exclusive_repair import stalled_clock
from vpp.cli import app

DAY = "2024-06-05"
runner = CliRunner()


def _inputs(tmp_path) -> tuple[str, str]:
    """Portfolio and five days of identical prices up to DAY (so every scenario is the centre)."""
    portfolio = {
        "name": "burn", "market": "shandong",
        "grid": {"import_limit_mw": 5, "export_limit_mw": 0},
        "assets": [{"id": "bess", "type": "battery", "power_mw": 1.0, "energy_mwh": 2.0,
                    "soc_initial_mwh": 1.0, "charge_efficiency": 0.9, "discharge_efficiency": 0.9}],
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(portfolio))
    index = trading_day_index("shandong", pd.Timestamp(DAY).date())
    stamps = [t - pd.Timedelta(days=d) for d in range(4, -1, -1) for t in index]
    price = np.tile(np.where(np.arange(96) < 48, 50.0, -100.0), 5)
    pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], "da_price": price, "rt_price": price}).to_csv(
        tmp_path / "prices.csv", index=False
    )
    return str(tmp_path / "p.yaml"), str(tmp_path / "prices.csv")


def _bid(tmp_path, *extra: str):
    portfolio, prices = _inputs(tmp_path)
    args = ["bid", "--portfolio", portfolio, "--prices", prices, "--prices-label", "start", "--day", DAY,
            "--allow-late", "--no-plot", "--out", str(tmp_path / "bid.csv"), *extra]
    return runner.invoke(app, args)


def _assert_repaired(solver: dict) -> None:
    assert solver["status"] == "feasible" and solver["termination"].startswith("Repaired")
    assert solver["repaired"] is True and solver["proven_optimal"] is False
    assert solver["mip_gap"] is None  # a repaired schedule has no MIP gap; its bound stays
    assert solver["bound_yuan"] > solver["objective_yuan"]


def test_quantity_bid_says_repaired_in_json_summary_file_and_warning(tmp_path, monkeypatch):
    stalled_clock(monkeypatch)
    result = _bid(tmp_path, "--json")
    assert result.exit_code == 0, result.output  # a feasible schedule is a bid, not an error
    summary = json.loads(result.stdout)
    _assert_repaired(summary["solver"])
    assert summary["expected_revenue_yuan"] == pytest.approx(1000.0 / 9.0, abs=0.01)
    written = json.loads((tmp_path / "bid_summary.json").read_text())
    assert written["solver"] == summary["solver"]
    assert "not proven optimal" in result.stderr and "repaired" in result.stderr
    assets = pd.read_csv(tmp_path / "bid_assets.csv")
    assert np.minimum(assets["charge_mw"], assets["discharge_mw"]).max() <= SIMULTANEOUS_MW


def test_quantity_bid_table_names_the_repair(tmp_path, monkeypatch):
    stalled_clock(monkeypatch)
    result = _bid(tmp_path)
    assert result.exit_code == 0, result.output
    assert "feasible, repaired (Repaired" in result.stdout
    assert "proven bound of the optimum" in result.stdout
    assert "not proven optimal" in result.stderr


def test_optimal_quantity_bid_says_proven_optimal_without_warning(tmp_path):
    result = _bid(tmp_path, "--json")
    assert result.exit_code == 0, result.output
    solver = json.loads(result.stdout)["solver"]
    assert solver["status"] == "optimal" and solver["proven_optimal"] and not solver["repaired"]
    assert solver["mip_gap"] is not None  # exclusivity binaries were added: a MIP
    assert "not proven optimal" not in result.stderr


@pytest.mark.parametrize("as_json", [True, False])
def test_price_quantity_bid_says_repaired(tmp_path, monkeypatch, as_json):
    # Every scenario is the centre (five identical days: no forecast error), so each RT copy
    # fills its 1 MWh of room after noon: expected profit 111.11 yuan, as the quantity bid.
    stalled_clock(monkeypatch)
    result = _bid(tmp_path, "--mode", "price-quantity", "--scenarios", "2", *(["--json"] if as_json else []))
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "bid_summary.json").read_text())
    _assert_repaired(written["solver"])
    assert written["expected_profit_yuan"] == pytest.approx(1000.0 / 9.0, abs=0.01)
    assert "not proven optimal" in result.stderr
    if as_json:
        assert json.loads(result.stdout)["solver"] == written["solver"]
    else:
        assert "feasible, repaired (Repaired" in result.stdout
