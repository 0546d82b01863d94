"""A backtest counts, per strategy, the solves it followed that were not proven optimal.

The day: tests/service/test_repaired_dispatch.py's battery behind a zero export limit at 50 yuan/MWh
until noon and -100 after (Shandong), every day alike, so the persistence forecast is exact. On a
deadline spent as soon as it is checked, every burning solve is repaired by one LP; day-ahead only
then idles before noon and fills the 1 MWh of room after it: 1 / 0.9 MWh bought at -100, 111.11 yuan.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import optimizer.solver as solver_module
import optimizer.stochastic as stochastic_module
from market.calendar import trading_day_index
from market.prices import parse_prices
from simulator.backtest import run_backtest
from tests.service.test_repaired_dispatch import PORTFOLIO, SpentAfterSolve
from vpp.cli import app
from vpp.portfolio_io import load_portfolio

DAY = dt.date(2024, 6, 5)


def _inputs(tmp_path) -> pd.DataFrame:
    """Writes p.yaml and prices.csv (three alike days up to DAY) in ``tmp_path``; the prices."""
    (tmp_path / "p.yaml").write_text(PORTFOLIO)
    loaded = load_portfolio(tmp_path / "p.yaml")
    stamps = [t for d in (2, 1, 0) for t in trading_day_index(loaded.market, DAY - dt.timedelta(days=d))]
    price = np.tile(np.where(np.arange(96) < 48, 50.0, -100.0), 3)
    frame = pd.DataFrame({"timestamp": [t.isoformat() for t in stamps], "da_price": price, "rt_price": price})
    frame.to_csv(tmp_path / "prices.csv", index=False)
    return parse_prices(frame, loaded.market, period_label="start")


def _backtest(tmp_path, strategy: str = "da_only"):
    prices = _inputs(tmp_path)
    loaded = load_portfolio(tmp_path / "p.yaml")
    return run_backtest(loaded, prices, [DAY], [strategy], forecast="persistence", progress=False).summary


def test_repaired_solves_are_counted_and_the_bound_stays_proven(tmp_path, monkeypatch):
    monkeypatch.setattr(solver_module, "Deadline", SpentAfterSolve)
    summary = _backtest(tmp_path)
    block = summary["strategies"]["da_only"]
    assert block["solves_repaired"] == 1 and block["solves_not_proven_optimal"] == 1  # its one DA solve
    assert block["total_revenue_yuan"] == pytest.approx(1000.0 / 9.0, abs=0.05)
    assert summary["perfect_foresight_bound_yuan"] >= block["total_revenue_yuan"] - 0.05


def test_exact_solves_count_none(tmp_path):
    block = _backtest(tmp_path)["strategies"]["da_only"]
    assert block["solves_repaired"] == 0 and block["solves_not_proven_optimal"] == 0
    assert block["total_revenue_yuan"] == pytest.approx(1000.0 / 9.0, abs=0.05)


def test_backtest_command_warns_of_repaired_solves(tmp_path, monkeypatch):
    monkeypatch.setattr(solver_module, "Deadline", SpentAfterSolve)
    _inputs(tmp_path)
    args = ["backtest", "--portfolio", str(tmp_path / "p.yaml"), "--prices", str(tmp_path / "prices.csv"),
            "--prices-label", "start", "--start", str(DAY), "--end", str(DAY), "--strategy", "da_only",
            "--forecast", "persistence", "--out", str(tmp_path / "out"), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["strategies"]["da_only"]["solves_repaired"] == 1
    assert "da_only: 1 solve(s) not proven optimal (1 repaired" in " ".join(result.stderr.split())


def test_stochastic_plans_are_counted(tmp_path, monkeypatch):
    # The two-stage model's solve (its bid) and the one real-time re-solve (the price curve never
    # changes: RT = DA) are both repaired on the spent deadline.
    monkeypatch.setattr(solver_module, "Deadline", SpentAfterSolve)
    monkeypatch.setattr(stochastic_module, "Deadline", SpentAfterSolve)
    block = _backtest(tmp_path, "stochastic")["strategies"]["stochastic"]
    assert block["solves_repaired"] == 2 and block["solves_not_proven_optimal"] == 2
    assert block["total_revenue_yuan"] == pytest.approx(1000.0 / 9.0, abs=0.05)
